/*
 * worker.h - worker threads that run due jobs, and the table of job kinds.
 *
 * WORKERS threads loop: run a batch of due internal jobs, claim one
 * outbound job (at most one running per shop, so a shop that does not
 * answer ties up one worker at most), and sleep until a NOTIFY on the jobs
 * channel or the poll interval; while the database is unreachable they
 * back off (100 ms doubling to 5 s, jittered) and log the outage once. The
 * LISTEN thread renews the leases of the outbound jobs they run every
 * JOB_LEASE_S/4. One more thread runs only internal jobs,
 * so database work never waits behind a shop's timeout. WORKERS=0 starts
 * no job threads at all (an HTTP-only process).
 */
#ifndef AFTERSALE_JOBS_WORKER_H
#define AFTERSALE_JOBS_WORKER_H

#include <stdbool.h>

#include "aftersale/core/config.h"
#include "aftersale/db/pool.h"
#include "aftersale/jobs/queue.h"

struct woo_client;

/* What a running job may use; owned by its worker thread. */
struct job_env {
    const struct config *cfg;
    struct woo_client *woo;
    int worker;
};

/* Internal kinds run inside the batch transaction on `c`: 0 with out
 * filled, or -1 with e for a database error (the job's savepoint is rolled
 * back and it is retried). Outbound kinds run with no connection held. */
typedef int (*job_tx_fn)(struct db_conn *c, struct job_env *env, const struct job *job,
                         struct job_outcome *out, struct err *e);
typedef void (*job_run_fn)(struct job_env *env, const struct job *job, struct job_outcome *out);

/* Runs in the transaction that marks a job dead (compensation, e.g. give
 * redeemed points back when the coupon could not be made). */
typedef int (*job_dead_fn)(struct db_conn *c, const struct job *job, struct err *e);

struct job_kind {
    const char *name;
    job_tx_fn run_tx;    /* internal, or NULL */
    job_run_fn run;      /* outbound, or NULL */
    job_dead_fn on_dead; /* may be NULL */
};

/* Start WORKERS threads and the LISTEN thread. */
int jobs_workers_start(const struct config *cfg);
/* Ask them to stop after their current job; join them. */
void jobs_workers_stop(void);
/* Wake the workers now (e.g. after an enqueue in this process). */
void jobs_workers_wake(void);

/* Find a kind by name (NULL when unknown). */
const struct job_kind *jobs_kind_find(const char *name);

#endif
