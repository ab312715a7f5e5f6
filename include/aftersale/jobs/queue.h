/*
 * queue.h - the durable job queue in PostgreSQL (table `jobs`).
 *
 * Enqueue happens inside the caller's transaction (the outbox rule: the
 * state change and the work it implies commit together or not at all).
 * Jobs are either internal (database work, run in batches inside one
 * transaction; a job that fails rolls back alone, to its savepoint) or
 * outbound (calls to a shop or a mail server: claimed with a lease that
 * is renewed while the job runs, run with no database connection held,
 * finished in a second short transaction). Every job kind must be
 * idempotent: after a crash a job may run again.
 */
#ifndef AFTERSALE_JOBS_QUEUE_H
#define AFTERSALE_JOBS_QUEUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"

#define JOBS_CHANNEL "aftersale_jobs"
#define JOBS_MAX_ATTEMPTS_DEFAULT 8

struct job {
    int64_t shop_id, id;
    char kind[64];
    json_t *payload; /* owned */
    int attempts;    /* including the current one */
    int max_attempts;
};

enum job_status {
    JOB_DONE,       /* finished; result kept */
    JOB_RETRY,      /* failed, may succeed later: backoff, or dead after the last attempt */
    JOB_FAIL,       /* failed for good: dead now */
    JOB_RESCHEDULE, /* recurring job: run again after delay_ms, attempts reset */
};

struct job_outcome {
    enum job_status status;
    json_t *result; /* owned; stored in jobs.result (may be NULL) */
    long delay_ms;  /* JOB_RESCHEDULE only */
    struct err err; /* JOB_RETRY / JOB_FAIL: becomes last_error */
};

/*
 * Insert a job in the caller's transaction. `payload` is borrowed (NULL =
 * {}); `dedupe_key` (may be NULL) makes the call idempotent per shop and
 * kind: *job_id is then 0 when such a job already exists. A job due now
 * also NOTIFYs the workers (delivered at commit).
 */
int jobs_enqueue(struct db_conn *c, int64_t shop_id, const char *kind, const json_t *payload,
                 const char *dedupe_key, long delay_ms, int max_attempts, int64_t *job_id,
                 struct err *e);

/* Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^(attempts-1))]
 * from the 64 random bits `rnd`. Pure. */
long jobs_backoff_ms(int attempts, long base_ms, long cap_ms, uint64_t rnd);

/* Release what a job owns. */
void jobs_job_clear(struct job *job);

/* Store functions for the API (jobs/handlers.c). Filters may be NULL. */
int jobs_store_list(struct db_conn *c, int64_t shop_id, const char *status, const char *kind,
                    int64_t after, int limit, json_t **items, int64_t *next_after,
                    struct err *e);
int jobs_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **job, struct err *e);
/* Dead job -> pending now, attempts reset. *job NULL when not found; ERR_CONFLICT when not dead. */
int jobs_store_retry(struct db_conn *c, int64_t shop_id, int64_t id, json_t **job, struct err *e);

/* Worker side (worker.c). */
int jobs_claim_internal(struct db_conn *c, const char *kinds_array, int limit, struct job *jobs,
                        int *n, struct err *e);
/* Claim one due outbound job among `kinds_array` for the lane `lane`
 * ("shop" or "webhooks"): none while the job's shop has a job running in
 * that lane (at most one per shop and lane, sql/020). */
int jobs_claim_outbound(struct db_conn *c, const char *kinds_array, const char *lane,
                        long lease_s, bool *found, struct job *job, struct err *e);
/* Mark n claimed internal jobs done with their results (borrowed, may be
 * NULL) in one statement. */
int jobs_finish_done_many(struct db_conn *c, const struct job *const *jobs, json_t *const *results,
                          int n, struct err *e);
/* Lock a pending job row (SKIP LOCKED): *locked false when it is not
 * pending any more or another transaction holds it. */
int jobs_lock(struct db_conn *c, const struct job *job, bool *locked, struct err *e);
/* Record an outcome. `leased`: the job was claimed as outbound (status running).
 * Returns 1 when recorded, 0 when fenced out (the lease was lost and a newer
 * attempt owns the job: the outcome is dropped), -1 with e. */
int jobs_finish(struct db_conn *c, const struct job *job, const struct job_outcome *out,
                bool leased, long backoff_base_ms, long backoff_cap_ms, bool *dead,
                struct err *e);

#endif
