/*
 * worker.c - worker threads, the LISTEN thread and the table of job kinds.
 *
 * Each worker owns its WooCommerce client (a CURL handle) and borrows a
 * database connection only for claiming and finishing; an outbound call
 * never holds one. Internal jobs run in batches: one transaction claims up
 * to BATCH due jobs with SKIP LOCKED, runs each under a savepoint, records
 * each outcome and commits once, so a thousand no-op jobs cost a few
 * commits, not a thousand. Workers sleep on a condition variable that the
 * LISTEN thread signals on every NOTIFY, with JOB_POLL_MS as a fallback
 * (a lost notification or a job whose run_at arrives only delays work by
 * one poll). Stopping: a flag, a broadcast, and a join; the job in hand
 * finishes first.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aftersale/core/log.h"
#include "aftersale/core/mem.h"
#include "aftersale/jobs/worker.h"
#include "aftersale/woo/client.h"
#include "aftersale/loyalty/jobs.h"
#include "aftersale/reviews/jobs.h"
#include "aftersale/surveys/jobs.h"
#include "aftersale/woo/jobs.h"

#define BATCH 128

/* ---- the kinds ------------------------------------------------------- */

static int
noop_tx(struct db_conn *c, struct job_env *env, const struct job *job, struct job_outcome *out,
        struct err *e)
{
    (void)c;
    (void)env;
    (void)job;
    (void)e;
    out->status = JOB_DONE;
    return 0;
}

static const struct job_kind kinds[] = {
    {"noop", noop_tx, NULL, NULL},
    {"woo.delivery", woo_job_delivery, NULL, NULL},
    {"woo.order_fetch", NULL, woo_job_order_fetch, NULL},
    {"woo.sync", NULL, woo_job_sync, NULL},
    {"woo.webhooks_setup", NULL, woo_job_webhooks_setup, NULL},
    {"loyalty.earn", loyalty_job_earn, NULL, NULL},
    {"loyalty.reverse", loyalty_job_reverse, NULL, NULL},
    {"loyalty.signup", loyalty_job_signup, NULL, NULL},
    {"loyalty.daily", loyalty_job_daily, NULL, NULL},
    {"loyalty.coupon", NULL, loyalty_job_coupon, loyalty_job_coupon_dead},
    {"reviews.schedule", reviews_job_schedule, NULL, NULL},
    {"reviews.cancel", reviews_job_cancel, NULL, NULL},
    {"reviews.expire", reviews_job_expire, NULL, NULL},
    {"reviews.send", NULL, reviews_job_send, NULL},
    {"reviews.publish", NULL, reviews_job_publish, NULL},
    {"reviews.reply", NULL, reviews_job_reply, NULL},
    {"reviews.coupon", NULL, reviews_job_coupon, NULL},
    {"surveys.schedule", surveys_job_schedule, NULL, NULL},
    {"surveys.cancel", surveys_job_cancel, NULL, NULL},
};

/* Record an outcome and, when the job died, run its compensation in the
 * same transaction. 0 recorded, 1 dropped (lease lost), -1 with e. */
static int
finish(struct db_conn *c, const struct job *job, const struct job_outcome *out, bool leased,
       const struct config *cfg, bool *dead, struct err *e)
{
    const struct job_kind *kind;
    int rc = jobs_finish(c, job, out, leased, cfg->job_backoff_ms, cfg->job_backoff_max_ms, dead, e);

    if (rc < 0)
        return -1;
    if (rc == 0) {
        log_take(LOG_WARN, "job outcome dropped: its lease ran out and another attempt owns it",
                 json_pack("{s:I, s:s, s:i}", "job_id", (json_int_t)job->id, "kind", job->kind,
                           "attempt", job->attempts));
        return 1;
    }
    kind = jobs_kind_find(job->kind);
    if (*dead && kind && kind->on_dead)
        return kind->on_dead(c, job, e);
    return 0;
}
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct job_kind *
jobs_kind_find(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

/* ---- shared state ---------------------------------------------------- */

static struct {
    const struct config *cfg;
    pthread_t *threads;
    int nthreads;
    pthread_t listener;
    bool listener_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long wake_seq;
    atomic_bool stop;
    char internal_kinds[512], outbound_kinds[512];
} w = {.mu = PTHREAD_MUTEX_INITIALIZER};

void
jobs_workers_wake(void)
{
    pthread_mutex_lock(&w.mu);
    w.wake_seq++;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
}

static void
sleep_until_woken(unsigned long seen, long ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w.mu);
    while (w.wake_seq == seen && !atomic_load(&w.stop))
        if (pthread_cond_timedwait(&w.cv, &w.mu, &deadline) != 0)
            break;
    pthread_mutex_unlock(&w.mu);
}

static unsigned long
wake_seq_now(void)
{
    unsigned long seq;
    pthread_mutex_lock(&w.mu);
    seq = w.wake_seq;
    pthread_mutex_unlock(&w.mu);
    return seq;
}

static void
log_outcome(const struct job *job, const struct job_outcome *out, bool dead)
{
    if (out->status == JOB_DONE || out->status == JOB_RESCHEDULE) {
        if (log_enabled(LOG_DEBUG))
            log_take(LOG_DEBUG, "job done",
                     json_pack("{s:I, s:I, s:s}", "shop_id", (json_int_t)job->shop_id, "job_id",
                               (json_int_t)job->id, "kind", job->kind));
        return;
    }
    log_take(dead ? LOG_ERROR : LOG_WARN, dead ? "job dead" : "job failed, will retry",
             json_pack("{s:I, s:I, s:s, s:i, s:i, s:s}", "shop_id", (json_int_t)job->shop_id,
                       "job_id", (json_int_t)job->id, "kind", job->kind, "attempt", job->attempts,
                       "max_attempts", job->max_attempts, "error", out->err.detail));
}

/* ---- internal batch -------------------------------------------------- */

/*
 * A batch runs its jobs back to back in one transaction and marks all the
 * finished ones in one UPDATE: a no-op job then costs a fraction of a
 * round trip instead of three (savepoint, release, update). Measured on
 * the 2-core box: ~1,500 no-op jobs/s with a savepoint per job, see
 * bench/README.md for the batched figure. The price: a job whose database
 * work fails aborts the whole transaction. The batch is then rolled back
 * and the next claims run one job per transaction ("single" mode), where a
 * failure costs only that job an attempt.
 */
struct batch {
    struct job_env *env;
    struct job jobs[BATCH];
    int n, limit;
    int failed; /* index of the job whose database work failed, or -1 */
    struct err failed_err;
};

static void
batch_clear(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        jobs_job_clear(&b->jobs[i]);
    b->n = 0;
}

static int
batch_tx(struct db_conn *c, void *ctx, struct err *e)
{
    struct batch *b = ctx;
    const struct config *cfg = b->env->cfg;
    struct job_outcome outs[BATCH];
    int rc = -1, ndone = 0;
    const struct job *done[BATCH];
    json_t *results[BATCH];

    batch_clear(b);
    b->failed = -1;
    if (jobs_claim_internal(c, w.internal_kinds, b->limit, b->jobs, &b->n, e) < 0)
        return -1;
    memset(outs, 0, sizeof(outs));
    for (int i = 0; i < b->n; i++) {
        const struct job_kind *kind = jobs_kind_find(b->jobs[i].kind);
        struct err je = {0};

        if (kind->run_tx(c, b->env, &b->jobs[i], &outs[i], &je) < 0) {
            b->failed = i;
            b->failed_err = je;
            *e = je;
            goto out;
        }
    }
    for (int i = 0; i < b->n; i++) {
        bool dead = false;
        if (outs[i].status == JOB_DONE) {
            done[ndone] = &b->jobs[i];
            results[ndone++] = outs[i].result;
            continue;
        }
        int fr = finish(c, &b->jobs[i], &outs[i], false, cfg, &dead, e);
        if (fr < 0)
            goto out;
        if (fr == 0)
            log_outcome(&b->jobs[i], &outs[i], dead);
    }
    if (ndone > 0 && jobs_finish_done_many(c, done, results, ndone, e) < 0)
        goto out;
    rc = 0;
out:
    for (int i = 0; i < b->n; i++)
        json_decref(outs[i].result);
    return rc;
}

/* Record a retry for a job whose database work failed (its own transaction). */
static int
failed_tx(struct db_conn *c, void *ctx, struct err *e)
{
    struct batch *b = ctx;
    const struct job *job = &b->jobs[b->failed];
    struct job_outcome out = {.status = JOB_RETRY, .err = b->failed_err};
    bool dead = false, locked = false;

    if (jobs_lock(c, job, &locked, e) < 0)
        return -1;
    if (!locked)
        return 0; /* someone else has it now */
    int fr = finish(c, job, &out, false, b->env->cfg, &dead, e);
    if (fr < 0)
        return -1;
    if (fr == 0)
        log_outcome(job, &out, dead);
    return 0;
}

/* *single > 0: that many more claims run one job per transaction. */
static int
run_internal(struct job_env *env, int *single)
{
    struct batch *b = xcalloc(1, sizeof(*b));
    struct err e = {0};
    int n = 0;

    b->env = env;
    b->limit = *single > 0 ? 1 : BATCH;
    if (*single > 0)
        (*single)--;
    if (db_tx(batch_tx, b, &e) == 0) {
        n = b->n;
        if (n == 0)
            *single = 0; /* drained: back to batches */
    } else if (b->failed >= 0) {
        n = 1;
        if (b->limit == 1) {
            struct err fe = {0};
            if (db_tx(failed_tx, b, &fe) < 0)
                log_take(LOG_ERROR, "job retry not recorded",
                         json_pack("{s:I, s:s}", "job_id", (json_int_t)b->jobs[b->failed].id,
                                   "error", fe.detail));
        } else {
            *single = BATCH; /* find the failing job one transaction at a time */
        }
    } else if (e.kind != ERR_UNAVAILABLE) {
        log_take(LOG_ERROR, "job batch failed",
                 json_pack("{s:s, s:s}", "error", e.detail, "sqlstate", e.sqlstate));
    }
    batch_clear(b);
    free(b);
    return n;
}

/* ---- outbound -------------------------------------------------------- */

struct claim {
    long lease_s;
    bool found;
    struct job job;
};

static int
claim_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct claim *cl = ctx;
    return jobs_claim_outbound(c, w.outbound_kinds, cl->lease_s, &cl->found, &cl->job, e);
}

struct finish {
    const struct job *job;
    const struct job_outcome *out;
    const struct config *cfg;
    bool dead, dropped;
};

static int
finish_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct finish *f = ctx;
    int rc = finish(c, f->job, f->out, true, f->cfg, &f->dead, e);
    f->dropped = rc == 1;
    return rc < 0 ? -1 : 0;
}

static int
run_outbound(struct job_env *env)
{
    struct claim cl = {.lease_s = env->cfg->job_lease_s};
    struct job_outcome out = {0};
    struct finish f = {.out = &out, .cfg = env->cfg};
    struct err e = {0};
    const struct job_kind *kind;

    if (db_run(claim_fn, &cl, &e) < 0 || !cl.found)
        return 0;
    kind = jobs_kind_find(cl.job.kind);
    kind->run(env, &cl.job, &out);
    f.job = &cl.job;
    if (db_tx(finish_fn, &f, &e) < 0)
        log_take(LOG_ERROR, "job outcome not recorded; it runs again after its lease",
                 json_pack("{s:I, s:s}", "job_id", (json_int_t)cl.job.id, "error", e.detail));
    else if (!f.dropped)
        log_outcome(&cl.job, &out, f.dead);
    json_decref(out.result);
    jobs_job_clear(&cl.job);
    return 1;
}

/* ---- threads --------------------------------------------------------- */

static void *
worker_main(void *arg)
{
    struct job_env env = {.cfg = w.cfg, .worker = (int)(intptr_t)arg};
    bool internal_only = env.worker == 0;
    int single = 0;

    env.woo = woo_client_new(w.cfg->woo_connect_timeout_ms, w.cfg->woo_timeout_ms);
    while (!atomic_load(&w.stop)) {
        unsigned long seen = wake_seq_now();
        int did = run_internal(&env, &single);
        if (!internal_only && !atomic_load(&w.stop))
            did += run_outbound(&env);
        if (did == 0)
            sleep_until_woken(seen, w.cfg->job_poll_ms);
    }
    woo_client_free(env.woo);
    return NULL;
}

static void *
listener_main(void *arg)
{
    PGconn *pg = NULL;

    (void)arg;
    while (!atomic_load(&w.stop)) {
        struct err e = {0};
        struct pollfd pfd;
        PGnotify *n;

        if (pg == NULL) {
            pg = db_connect(w.cfg->database_url, &e);
            if (pg != NULL) {
                PGresult *res = PQexec(pg, "LISTEN " JOBS_CHANNEL);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                    PQfinish(pg);
                    pg = NULL;
                }
                PQclear(res);
            }
            if (pg == NULL) {
                sleep_until_woken(wake_seq_now(), 1000);
                continue;
            }
            jobs_workers_wake(); /* anything missed while away */
        }
        pfd = (struct pollfd){.fd = PQsocket(pg), .events = POLLIN};
        if (poll(&pfd, 1, 250) < 0)
            continue;
        if (PQconsumeInput(pg) == 0) {
            PQfinish(pg);
            pg = NULL;
            continue;
        }
        while ((n = PQnotifies(pg)) != NULL) {
            PQfreemem(n);
            jobs_workers_wake();
        }
    }
    PQfinish(pg);
    return NULL;
}

static void
kinds_array(bool outbound, char *out, size_t len)
{
    size_t used = (size_t)snprintf(out, len, "{");
    for (size_t i = 0; i < NKINDS; i++)
        if ((kinds[i].run != NULL) == outbound && used < len)
            used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", used > 1 ? "," : "",
                                     kinds[i].name);
    if (used < len)
        snprintf(out + used, len - used, "}");
}

int
jobs_workers_start(const struct config *cfg)
{
    pthread_condattr_t attr;

    w.cfg = cfg;
    atomic_store(&w.stop, false);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cv, &attr);
    pthread_condattr_destroy(&attr);
    kinds_array(false, w.internal_kinds, sizeof(w.internal_kinds));
    kinds_array(true, w.outbound_kinds, sizeof(w.outbound_kinds));
    if (cfg->workers == 0)
        return 0; /* no workers: this process only serves HTTP */
    w.nthreads = (int)cfg->workers + 1;
    w.threads = xcalloc((size_t)w.nthreads, sizeof(*w.threads));
    for (int i = 0; i < w.nthreads; i++)
        if (pthread_create(&w.threads[i], NULL, worker_main, (void *)(intptr_t)i) != 0)
            abort();
    if (pthread_create(&w.listener, NULL, listener_main, NULL) != 0)
        abort();
    w.listener_started = true;
    return 0;
}

void
jobs_workers_stop(void)
{
    atomic_store(&w.stop, true);
    woo_client_abort_all();
    jobs_workers_wake();
    for (int i = 0; i < w.nthreads; i++)
        pthread_join(w.threads[i], NULL);
    if (w.listener_started)
        pthread_join(w.listener, NULL);
    free(w.threads);
    w.threads = NULL;
    w.nthreads = 0;
    w.listener_started = false;
}
