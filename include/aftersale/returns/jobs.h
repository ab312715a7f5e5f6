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

#endif
