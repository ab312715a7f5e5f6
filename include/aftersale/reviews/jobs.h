/*
 * jobs.h - the review job kinds (registered in jobs/worker.c).
 *
 * reviews.schedule (internal) order.completed -> a review request, due later
 * reviews.cancel   (internal) order.refunded (full) / order.cancelled -> cancel
 *                  a request not sent yet
 * reviews.send     (outbound) the request or a reminder: email (SMTP) or a
 *                  customer note on the order; honours unsubscribes and the
 *                  contact policy (a capped message is postponed, not lost)
 * reviews.expire   (internal) a request nobody answered expires
 * reviews.publish  (outbound) an approved review -> WooCommerce products/reviews
 * reviews.reply    (outbound) the merchant's reply -> a WordPress comment
 * reviews.coupon   (outbound) the incentive coupon of an approved review, and
 *                  a customer note on the order telling its code (WooCommerce
 *                  emails customer notes)
 */
#ifndef AFTERSALE_REVIEWS_JOBS_H
#define AFTERSALE_REVIEWS_JOBS_H

#include "aftersale/jobs/worker.h"

int reviews_job_schedule(struct db_conn *c, struct job_env *env, const struct job *job,
                         struct job_outcome *out, struct err *e);
int reviews_job_cancel(struct db_conn *c, struct job_env *env, const struct job *job,
                       struct job_outcome *out, struct err *e);
int reviews_job_expire(struct db_conn *c, struct job_env *env, const struct job *job,
                       struct job_outcome *out, struct err *e);
void reviews_job_send(struct job_env *env, const struct job *job, struct job_outcome *out);
void reviews_job_publish(struct job_env *env, const struct job *job, struct job_outcome *out);
void reviews_job_reply(struct job_env *env, const struct job *job, struct job_outcome *out);
void reviews_job_coupon(struct job_env *env, const struct job *job, struct job_outcome *out);

#endif
