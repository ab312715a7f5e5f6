/*
 * jobs.h - the returns job kinds (jobs/worker.c's table names these).
 *
 * returns.resolve (outbound): carries out a request's resolution in
 * WooCommerce exactly once (refund, store-credit coupon or exchange
 * order, then a private order note) and moves the request to resolved or
 * resolution_failed.
 */
#ifndef AFTERSALE_RETURNS_JOBS_H
#define AFTERSALE_RETURNS_JOBS_H

#include "aftersale/jobs/worker.h"

void returns_job_resolve(struct job_env *env, const struct job *job, struct job_outcome *out);
/* The job died (the shop never answered): the request goes to
 * resolution_failed so the merchant sees it and can retry. */
int returns_job_resolve_dead(struct db_conn *c, const struct job *job, struct err *e);

/* returns.notify (outbound): one customer message of return_outbox
 * (payload {outbox_id}), by email or order note, sent once (notify.c). */
void returns_job_notify(struct job_env *env, const struct job *job, struct job_outcome *out);
/* returns.alert (outbound): the merchant's email for a new request
 * (payload {request_id}) to the messaging settings' alert_email. */
void returns_job_alert(struct job_env *env, const struct job *job, struct job_outcome *out);

#endif
