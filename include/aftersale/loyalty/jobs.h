/*
 * jobs.h - the loyalty job kinds (registered in jobs/worker.c).
 *
 * loyalty.order    (internal) order.paid / order.completed / order.refunded /
 *                  order.cancelled -> reconcile the order's entries (order.h):
 *                  earn, then take back per refund and on cancellation;
 *                  reschedules itself while another run holds the order
 * loyalty.earn     (internal, legacy) rows enqueued by earlier versions: the
 * loyalty.reverse  same as loyalty.order for their event's order
 * loyalty.signup   (internal) customer.created -> signup bonus (and guest merge)
 * loyalty.daily    (internal, hourly per shop) birthdays, anniversaries, expiry
 * loyalty.coupon   (outbound) create the WooCommerce coupon of a redemption;
 *                  when it goes dead the points come back (on_dead)
 */
#ifndef AFTERSALE_LOYALTY_JOBS_H
#define AFTERSALE_LOYALTY_JOBS_H

#include "aftersale/jobs/worker.h"

int loyalty_job_order(struct db_conn *c, struct job_env *env, const struct job *job,
                      struct job_outcome *out, struct err *e);
int loyalty_job_earn(struct db_conn *c, struct job_env *env, const struct job *job,
                     struct job_outcome *out, struct err *e);
int loyalty_job_reverse(struct db_conn *c, struct job_env *env, const struct job *job,
                        struct job_outcome *out, struct err *e);
int loyalty_job_signup(struct db_conn *c, struct job_env *env, const struct job *job,
                       struct job_outcome *out, struct err *e);
int loyalty_job_daily(struct db_conn *c, struct job_env *env, const struct job *job,
                      struct job_outcome *out, struct err *e);
void loyalty_job_coupon(struct job_env *env, const struct job *job, struct job_outcome *out);
int loyalty_job_coupon_dead(struct db_conn *c, const struct job *job, struct err *e);

/* A new shop's hourly loyalty job. */
int loyalty_shop_init(struct db_conn *c, int64_t shop_id, struct err *e);

#endif
