/*
 * jobs.h - the outreach layer's job kind (registered in jobs/worker.c),
 * and the steps every programme's sending job shares (below).
 *
 * outreach.test_email (outbound) a test email to an address the merchant
 *                     names (POST /v1/messaging/test-email), in the shop's
 *                     sender and brand: a transactional message, so it goes
 *                     out past the contact policy and an unsubscribe, is
 *                     logged as transactional and counts against no cap.
 */
#ifndef AFTERSALE_OUTREACH_JOBS_H
#define AFTERSALE_OUTREACH_JOBS_H

#include <stdbool.h>
#include <time.h>

#include "aftersale/jobs/worker.h"
#include "aftersale/outreach/outreach.h"

void outreach_job_test_email(struct job_env *env, const struct job *job, struct job_outcome *out);

/* ---- what every programme's sending job shares ---- */

/* Run a programme's one-row state change `sql` (prepared as `name`) with
 * $1 = shop_id and $2 = id, e.g. cancelling the request or invitation a
 * job was about to send. 0/-1 with e, in the caller's transaction. */
int outreach_job_mark(struct db_conn *c, const char *name, const char *sql, int64_t shop_id,
                      int64_t id, struct err *e);

/* The message will not go (the customer unsubscribed, the items were
 * returned): run `mark` (may be NULL: nothing to change) in a transaction
 * and record {"skipped": why} as the job's result. A failed mark makes
 * the job retry; out->status is left alone otherwise (the caller's
 * JOB_DONE). */
void outreach_job_skip(db_fn mark, void *ctx, const char *why, struct job_outcome *out);

/* The contact policy's verdict in a sending job: SUPPRESSED skips the
 * message "unsubscribed" through `suppressed` (outreach_job_skip); WAIT,
 * over the shop's contact cap, reschedules the job one second after
 * `slot`, never drops it. true when the job ends here (out filled), false
 * for SEND: the caller sends. */
/* An order refunded in full or cancelled (woo_events_order_gone on the
 * event of `job`) stops the messages of that order not sent yet: run the
 * programme's `sql` (prepared as `name`) with $1 = shop, $2 = order id,
 * $3 = the reason. *n the rows it changed, 0 when the order is not gone
 * (a partial refund keeps them: the customer kept the rest). 0/-1 with e,
 * in the caller's transaction. */
int outreach_job_cancel_order(struct db_conn *c, const struct job *job, const char *name,
                              const char *sql, long *n, struct err *e);

bool outreach_job_verdict(enum outreach_verdict v, time_t now, time_t slot, db_fn suppressed,
                          void *ctx, struct job_outcome *out);

#endif
