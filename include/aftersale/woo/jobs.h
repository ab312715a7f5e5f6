/*
 * jobs.h - the WooCommerce job kinds (registered in jobs/worker.c).
 *
 * woo.delivery (internal): process one stored webhook delivery.
 * woo.order_fetch (outbound): GET an order and apply it (action topics).
 * woo.sync (outbound): reconciliation pull of orders modified since the
 *   watermark; periodic per shop (dedupe key "periodic") or one-off.
 * woo.webhooks_setup (outbound): create the webhooks aftersale needs.
 */
#ifndef AFTERSALE_WOO_JOBS_H
#define AFTERSALE_WOO_JOBS_H

#include "aftersale/jobs/worker.h"

int woo_job_delivery(struct db_conn *c, struct job_env *env, const struct job *job,
                     struct job_outcome *out, struct err *e);
void woo_job_order_fetch(struct job_env *env, const struct job *job, struct job_outcome *out);
void woo_job_sync(struct job_env *env, const struct job *job, struct job_outcome *out);
void woo_job_webhooks_setup(struct job_env *env, const struct job *job, struct job_outcome *out);

#endif
