/*
 * worker.c - worker threads, the LISTEN thread and the table of job kinds.
 *
 * Each worker owns its WooCommerce client (a CURL handle) and borrows a
 * database connection only for claiming and finishing; an outbound call
 * never holds one. Internal jobs run in batches: one transaction claims up
 * to BATCH due jobs with SKIP LOCKED, runs them (a job that fails rolls
 * back alone, under a savepoint: see "internal batch"), records each
 * outcome and commits once, so a thousand no-op jobs cost a few commits,
 * not a thousand. Workers sleep on a condition variable that the LISTEN
 * thread signals on every NOTIFY, with JOB_POLL_MS as a fallback (a lost
 * notification or a job whose run_at arrives only delays work by one
 * poll), and back off while the database is away. The LISTEN thread also
 * renews the leases of the outbound jobs the workers run. Stopping: a
 * flag, a broadcast, and a join; the job in hand finishes first.
 *
 * Threads and lanes: thread 0 runs database-only jobs; threads 1..WORKERS
 * also run outbound jobs of the lane "shop" (WooCommerce calls, mails);
 * WEBHOOK_WORKERS more threads run only webhook deliveries, the lane
 * "webhooks". A shop has at most one running job per lane (sql/020), so
 * an endpoint that answers after WEBHOOK_TIMEOUT_MS holds neither the
 * shop's other outbound jobs nor the threads they run on. With
 * WEBHOOK_WORKERS=0 the shop lane's threads run the deliveries too, in
 * the lane "shop" (one lane, as before lanes existed).
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/log.h"
#include "aftersale/core/mem.h"
#include "aftersale/jobs/worker.h"
#include "aftersale/woo/client.h"
#include "aftersale/hooks/jobs.h"
#include "aftersale/loyalty/jobs.h"
#include "aftersale/outreach/jobs.h"
#include "aftersale/returns/jobs.h"
#include "aftersale/reviews/jobs.h"
#include "aftersale/surveys/jobs.h"
#include "aftersale/woo/jobs.h"
#include "aftersale/woo/products.h"

#define BATCH 128
#define BATCH_CAREFUL 64 /* see "internal batch" below */

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
    {"woo.product_categories", NULL, woo_job_product_categories, NULL},
    {"loyalty.order", loyalty_job_order, NULL, NULL},
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
    {"outreach.test_email", NULL, outreach_job_test_email, NULL},
    {"returns.resolve", NULL, returns_job_resolve, returns_job_resolve_dead},
    {"surveys.schedule", surveys_job_schedule, NULL, NULL},
    {"surveys.cancel", surveys_job_cancel, NULL, NULL},
    {"returns.notify", NULL, returns_job_notify, NULL},
    {"returns.alert", NULL, returns_job_alert, NULL},
    {"hooks.deliver", NULL, hooks_job_deliver, NULL},
    {"hooks.alert", NULL, hooks_job_alert, NULL},
    {"surveys.send", NULL, surveys_job_send, NULL},
    {"surveys.expire", surveys_job_expire, NULL, NULL},
    {"surveys.alert", NULL, surveys_job_alert, NULL},
    {"surveys.alert_note", NULL, surveys_job_alert_note, NULL},
};

/*
 * Test-only kinds, registered when JOB_TEST_KINDS=1 (integration tests;
 * a production process never claims them). "test.db_work" writes an
 * event named after itself, then, when its payload has "fail": true,
 * runs a statement PostgreSQL refuses (22012), so a test can prove that a
 * job failing inside a batch rolls back its own work and nothing else.
 */
static int
test_db_work_tx(struct db_conn *c, struct job_env *env, const struct job *job,
                struct job_outcome *out, struct err *e)
{
    char shop[24], key[40];
    const char *params[2] = {shop, key};
    PGresult *res;

    (void)env;
    DB_I64(shop, job->shop_id);
    snprintf(key, sizeof(key), "test.db_work:%" PRId64, job->id);
    if (db_exec_cmd(c, "test_db_work",
                    "INSERT INTO events (shop_id, kind, dedupe_key) VALUES ($1, 'test.db_work', $2)",
                    2, params, e) < 0)
        return -1;
    if (json_is_true(json_object_get(job->payload, "fail"))) {
        res = db_exec(c, NULL, "SELECT 1 / 0", 0, NULL, e);
        PQclear(res);
        if (res == NULL)
            return -1;
    }
    out->status = JOB_DONE;
    return 0;
}

static const struct job_kind test_kinds[] = {
    {"test.db_work", test_db_work_tx, NULL, NULL},
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

#define NTEST_KINDS (sizeof(test_kinds) / sizeof(test_kinds[0]))

static atomic_bool test_kinds_on;

const struct job_kind *
jobs_kind_find(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    for (size_t i = 0; atomic_load(&test_kinds_on) && i < NTEST_KINDS; i++)
        if (strcmp(test_kinds[i].name, name) == 0)
            return &test_kinds[i];
    return NULL;
}

/* ---- shared state ---------------------------------------------------- */

/* The attempt of an outbound job a worker is running, for lease renewal. */
struct running {
    bool on;
    int64_t shop_id, id;
    int attempts;
};

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
    char internal_kinds[512], outbound_kinds[512], webhook_kinds[128];
    int first_webhook_thread; /* threads from here on serve the lane "webhooks" */
    struct running *running; /* [nthreads], under mu: the outbound job each worker runs */
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
 * finished ones in one UPDATE, so a no-op job costs a fraction of a round
 * trip. A job whose database work fails must roll back alone, with its
 * retry recorded beside the other jobs' outcomes: that takes a savepoint
 * before it. A savepoint costs a round trip per job ("RELEASE ...;
 * SAVEPOINT ..." in one simple query): with one per job the no-op rate
 * fell to about 0.45x (bench/link.sh's noop method, 4 alternating rounds
 * of 30,000 jobs on the shared 2-core box: median 3,400/s against
 * 7,800/s), so a batch takes them only where they are needed:
 *   - a job already retried (attempt > 1) runs under its savepoint: it is
 *     the likeliest to fail again;
 *   - any other job runs without; if its database work fails, the batch is
 *     rolled back and run again at once in "careful" mode, a savepoint per
 *     job, where the failing job rolls back alone and gets its retry in the
 *     same transaction as the others' outcomes. The others' rolled-back work
 *     is simply done again (internal jobs are database work only, and
 *     idempotent by contract), and none of them is charged an attempt.
 * A job's non-done outcome is recorded under its savepoint too, so a
 * failing compensation (on_dead) is also its own.
 *
 * A careful batch claims at most BATCH_CAREFUL = 64 jobs, PostgreSQL's
 * cache of subtransaction ids per backend (PGPROC_MAX_CACHED_SUBXIDS): one
 * whose every job writes does not overflow it, which would slow every
 * other session's snapshots while it runs.
 *
 * Left over from before savepoints, for the one case they do not cover (a
 * job's retry cannot be recorded even after its rollback, or the final
 * UPDATE fails): the batch is rolled back and the next claims run one job
 * per transaction ("single" mode) to find the job at fault.
 */
struct batch {
    struct job_env *env;
    struct job jobs[BATCH];
    int n, limit;
    bool careful;  /* a savepoint before every job */
    bool savepoint; /* a savepoint "job" is open in this transaction */
    int failed;     /* index of the job whose database work failed, or -1 */
    struct err failed_err;
};

static void
batch_clear(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        jobs_job_clear(&b->jobs[i]);
    b->n = 0;
}

/* Simple-query protocol, so that RELEASE and SAVEPOINT share a round trip. */
static int
exec_simple(struct db_conn *c, const char *sql, struct err *e)
{
    PGresult *res = PQexec(db_pg(c), sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : db_error(db_pg(c), res, e);

    PQclear(res);
    return rc;
}

/* Run job i, under a savepoint when the batch is careful or the job is a
 * retry. 0: *out holds the outcome (recorded unless done). -1 with e: the
 * job failed; *guarded tells whether its savepoint was rolled back (the
 * batch goes on) or there was none (the transaction is lost). */
static int
run_one(struct db_conn *c, struct batch *b, int i, struct job_outcome *out, bool *dead,
        bool *guarded, struct err *e)
{
    const struct job_kind *kind = jobs_kind_find(b->jobs[i].kind);
    const struct config *cfg = b->env->cfg;

    *guarded = b->careful || b->jobs[i].attempts > 1;
    if (*guarded) {
        if (exec_simple(c, b->savepoint ? "RELEASE SAVEPOINT job; SAVEPOINT job" : "SAVEPOINT job",
                        e) < 0) {
            *guarded = false;
            return -1;
        }
        b->savepoint = true;
    }
    if (kind->run_tx(c, b->env, &b->jobs[i], out, e) == 0 &&
        (out->status == JOB_DONE || finish(c, &b->jobs[i], out, false, cfg, dead, e) >= 0))
        return 0;
    json_decref(out->result);
    out->result = NULL;
    if (e->kind == ERR_UNAVAILABLE)
        *guarded = false;
    if (*guarded) {
        struct err re = {0};
        if (exec_simple(c, "ROLLBACK TO SAVEPOINT job", &re) < 0) {
            *e = re;
            *guarded = false;
        }
    }
    return -1;
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
    b->savepoint = false;
    if (jobs_claim_internal(c, w.internal_kinds, b->limit, b->jobs, &b->n, e) < 0)
        return -1;
    memset(outs, 0, sizeof(outs));
    for (int i = 0; i < b->n; i++) {
        struct err je = {0};
        bool dead = false, guarded;

        if (run_one(c, b, i, &outs[i], &dead, &guarded, &je) < 0) {
            if (!guarded) {
                /* No savepoint to go back to: the transaction is lost.
                 * Unavailable: the caller backs off; else it runs the
                 * batch again carefully. */
                if (je.kind != ERR_UNAVAILABLE) {
                    b->failed = i;
                    b->failed_err = je;
                }
                *e = je;
                goto out;
            }
            /* Rolled back to its savepoint: record its retry right here. */
            outs[i] = (struct job_outcome){.status = JOB_RETRY, .err = je};
            dead = false;
            if (finish(c, &b->jobs[i], &outs[i], false, cfg, &dead, e) < 0) {
                b->failed = i;
                b->failed_err = je;
                goto out;
            }
        }
        if (outs[i].status == JOB_DONE) {
            done[ndone] = &b->jobs[i];
            results[ndone++] = outs[i].result;
        } else {
            log_outcome(&b->jobs[i], &outs[i], dead);
        }
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

/* Jobs run (0 when none were due). *single > 0: that many more claims run
 * one job per transaction. *unavailable filled: the database is away
 * (nothing ran); the caller backs off. */
static int
run_internal(struct job_env *env, int *single, struct err *unavailable)
{
    struct batch *b = xcalloc(1, sizeof(*b));
    struct err e = {0};
    int n = 0, rc;

    b->env = env;
    b->failed = -1; /* db_tx may fail before batch_tx runs: no job is at fault then */
    b->limit = *single > 0 ? 1 : BATCH;
    if (*single > 0)
        (*single)--;
    rc = db_tx(batch_tx, b, &e);
    if (rc < 0 && b->failed >= 0 && !b->careful) {
        /* A job without a savepoint failed: again, with one per job. */
        b->careful = true;
        if (b->limit > BATCH_CAREFUL)
            b->limit = BATCH_CAREFUL;
        rc = db_tx(batch_tx, b, &e);
    }
    if (rc == 0) {
        n = b->n;
        if (n == 0)
            *single = 0; /* drained: back to batches */
    } else if (e.kind == ERR_UNAVAILABLE) {
        *unavailable = e;
    } else if (b->failed >= 0) {
        n = 1;
        if (b->limit == 1) {
            struct err fe = {0};
            if (db_tx(failed_tx, b, &fe) < 0) {
                if (fe.kind == ERR_UNAVAILABLE)
                    *unavailable = fe;
                else
                    log_take(LOG_ERROR, "job retry not recorded",
                             json_pack("{s:I, s:s}", "job_id", (json_int_t)b->jobs[b->failed].id,
                                       "error", fe.detail));
            }
        } else {
            *single = BATCH; /* find the failing job one transaction at a time */
        }
    } else {
        log_take(LOG_ERROR, "job batch failed",
                 json_pack("{s:s, s:s}", "error", e.detail, "sqlstate", e.sqlstate));
    }
    batch_clear(b);
    free(b);
    return n;
}

/* ---- outbound -------------------------------------------------------- */

/*
 * Leases. An outbound job is claimed with a lease of JOB_LEASE_S (default
 * 20 s) and, while its worker runs it, the LISTEN thread renews the leases
 * of every job this process runs each JOB_LEASE_S/4 (renew_leases below):
 * a job may run as long as it needs, yet when its process dies (kill -9,
 * a lost host) its lease lapses within JOB_LEASE_S, and the job and the
 * rest of its shop's outbound work (the claim skips a shop with a live
 * lease) resume then, instead of after a lease long enough for the
 * slowest job. Renewal is fenced like finishing: only the attempt that
 * holds the job (status running, same attempts) is renewed, so a process
 * that was frozen past its lease cannot take a job back from the attempt
 * that replaced it; its late outcome is dropped (finish).
 */
static void
running_set(int worker, const struct job *job)
{
    pthread_mutex_lock(&w.mu);
    w.running[worker] = job ? (struct running){.on = true, .shop_id = job->shop_id,
                                               .id = job->id, .attempts = job->attempts}
                            : (struct running){0};
    pthread_mutex_unlock(&w.mu);
}

/* One statement for all of this process's running jobs, on the LISTEN
 * connection. Errors are not logged: a broken connection is replaced by
 * the LISTEN loop and the database's absence is logged by the workers. */
static void
renew_leases(PGconn *pg)
{
    struct buf shops = {0}, ids = {0}, attempts = {0};
    char lease[24];
    const char *params[4];
    int n = 0;

    buf_puts(&shops, "{");
    buf_puts(&ids, "{");
    buf_puts(&attempts, "{");
    pthread_mutex_lock(&w.mu);
    for (int i = 0; i < w.nthreads; i++) {
        const struct running *r = &w.running[i];
        if (!r->on)
            continue;
        buf_printf(&shops, "%s%" PRId64, n ? "," : "", r->shop_id);
        buf_printf(&ids, "%s%" PRId64, n ? "," : "", r->id);
        buf_printf(&attempts, "%s%d", n ? "," : "", r->attempts);
        n++;
    }
    pthread_mutex_unlock(&w.mu);
    buf_puts(&shops, "}");
    buf_puts(&ids, "}");
    buf_puts(&attempts, "}");
    if (n > 0) {
        snprintf(lease, sizeof(lease), "%ld", w.cfg->job_lease_s);
        params[0] = shops.data;
        params[1] = ids.data;
        params[2] = attempts.data;
        params[3] = lease;
        PQclear(PQexecParams(
            pg,
            "UPDATE jobs j SET lease_until = now() + $4::bigint * interval '1 second'"
            " FROM unnest($1::bigint[], $2::bigint[], $3::integer[]) AS r(shop_id, id, attempts)"
            " WHERE j.shop_id = r.shop_id AND j.id = r.id AND j.status = 'running'"
            " AND j.attempts = r.attempts",
            4, NULL, params, NULL, NULL, 0));
    }
    buf_free(&shops);
    buf_free(&ids);
    buf_free(&attempts);
}

struct claim {
    long lease_s;
    bool webhooks; /* the claimer serves the lane "webhooks" */
    bool found;
    struct job job;
};

static int
claim_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct claim *cl = ctx;
    return jobs_claim_outbound(c, cl->webhooks ? w.webhook_kinds : w.outbound_kinds,
                               cl->webhooks ? "webhooks" : "shop", cl->lease_s, &cl->found,
                               &cl->job, e);
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
run_outbound(struct job_env *env, struct err *unavailable)
{
    struct claim cl = {.lease_s = env->cfg->job_lease_s,
                       .webhooks = env->worker >= w.first_webhook_thread};
    struct job_outcome out = {0};
    struct finish f = {.out = &out, .cfg = env->cfg};
    struct err e = {0};
    const struct job_kind *kind;

    if (db_run(claim_fn, &cl, &e) < 0) {
        if (e.kind == ERR_UNAVAILABLE)
            *unavailable = e;
        return 0;
    }
    if (!cl.found)
        return 0;
    kind = jobs_kind_find(cl.job.kind);
    running_set(env->worker, &cl.job);
    kind->run(env, &cl.job, &out);
    f.job = &cl.job;
    if (db_tx(finish_fn, &f, &e) < 0)
        log_take(LOG_ERROR, "job outcome not recorded; it runs again after its lease",
                 json_pack("{s:I, s:s}", "job_id", (json_int_t)cl.job.id, "error", e.detail));
    else if (!f.dropped)
        log_outcome(&cl.job, &out, f.dead);
    running_set(env->worker, NULL); /* after the finish: unrecorded, the lease now lapses */
    json_decref(out.result);
    jobs_job_clear(&cl.job);
    return 1;
}

/* ---- database outages ------------------------------------------------ */

/*
 * While PostgreSQL is away every claim fails at once (the pool answers
 * ERR_UNAVAILABLE without waiting), so a worker that treated that like an
 * idle queue or a failed job would spin. Instead each worker backs off,
 * 100 ms doubling to 5 s with equal jitter (so the threads of many
 * processes do not knock in step), and is woken early when the LISTEN
 * thread gets its connection back. The first worker to notice logs one
 * line for the outage and the first to get through logs its end.
 */
#define OUTAGE_BACKOFF_MIN_MS 100
#define OUTAGE_BACKOFF_MAX_MS 5000
/* A database coming back may fail a few more claims (a stale connection,
 * "starting up"): an outage that follows the last announced one within
 * this gap is announced only if it lasts past it, so a flapping database
 * does not write a pair of lines per flap. */
#define OUTAGE_LOG_GAP_MS 10000

static struct {
    pthread_mutex_t mu;
    atomic_bool down; /* read without the lock on every loop */
    bool announced, ever_announced;
    long long since_ms, announced_ms; /* CLOCK_MONOTONIC ms */
} outage = {.mu = PTHREAD_MUTEX_INITIALIZER};

static long long
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
outage_seen(const struct err *e)
{
    long long now = mono_ms();
    bool say = false;

    pthread_mutex_lock(&outage.mu);
    if (!atomic_load(&outage.down)) {
        atomic_store(&outage.down, true);
        outage.since_ms = now;
        outage.announced = false;
    }
    if (!outage.announced &&
        (!outage.ever_announced || now - outage.announced_ms >= OUTAGE_LOG_GAP_MS)) {
        outage.announced = outage.ever_announced = true;
        outage.announced_ms = now;
        say = true;
    }
    pthread_mutex_unlock(&outage.mu);
    if (say)
        log_take(LOG_WARN, "database unavailable, workers backing off",
                 json_pack("{s:s, s:i}", "error", e->detail, "max_backoff_ms",
                           OUTAGE_BACKOFF_MAX_MS));
}

static void
outage_over(void)
{
    long long took;
    bool say;

    if (!atomic_load(&outage.down))
        return;
    pthread_mutex_lock(&outage.mu);
    say = atomic_load(&outage.down) && outage.announced;
    took = mono_ms() - outage.since_ms;
    atomic_store(&outage.down, false);
    outage.announced = false;
    pthread_mutex_unlock(&outage.mu);
    if (say)
        log_take(LOG_INFO, "database available again, workers resume",
                 json_pack("{s:I}", "outage_ms", (json_int_t)took));
}

/* The next pause of a worker that found the database away; *ceiling is
 * its own state (0 after a success). */
static long
outage_pause_ms(long *ceiling)
{
    uint64_t rnd = 0;

    *ceiling = *ceiling == 0 ? OUTAGE_BACKOFF_MIN_MS : *ceiling * 2;
    if (*ceiling > OUTAGE_BACKOFF_MAX_MS)
        *ceiling = OUTAGE_BACKOFF_MAX_MS;
    crypto_random_u64(&rnd);
    return *ceiling / 2 + (long)(rnd % (uint64_t)(*ceiling / 2 + 1));
}

/* ---- threads --------------------------------------------------------- */

static void *
worker_main(void *arg)
{
    struct job_env env = {.cfg = w.cfg, .worker = (int)(intptr_t)arg};
    bool internal_only = env.worker == 0, webhooks = env.worker >= w.first_webhook_thread;
    int single = 0;
    long ceiling = 0;

    env.woo = woo_client_new(w.cfg->woo_connect_timeout_ms, w.cfg->woo_timeout_ms);
    while (!atomic_load(&w.stop)) {
        unsigned long seen = wake_seq_now();
        struct err unavailable = {0}; /* kind ERR_UNAVAILABLE: the database is away */
        int did = webhooks ? 0 : run_internal(&env, &single, &unavailable);
        if (unavailable.kind == ERR_NONE && !internal_only && !atomic_load(&w.stop))
            did += run_outbound(&env, &unavailable);
        if (unavailable.kind != ERR_NONE) {
            outage_seen(&unavailable);
            sleep_until_woken(seen, outage_pause_ms(&ceiling));
            continue;
        }
        ceiling = 0;
        outage_over();
        if (did == 0)
            sleep_until_woken(seen, w.cfg->job_poll_ms);
    }
    woo_client_free(env.woo);
    return NULL;
}

/* The LISTEN thread: wakes the workers on NOTIFY, and renews the leases
 * of the outbound jobs they run every JOB_LEASE_S/4. */
static void *
listener_main(void *arg)
{
    PGconn *pg = NULL;
    long long renew_every = w.cfg->job_lease_s * 1000 / 4, next_renewal = 0;

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
        if (mono_ms() >= next_renewal) {
            renew_leases(pg);
            next_renewal = mono_ms() + renew_every;
        }
    }
    PQfinish(pg);
    return NULL;
}

/* The kinds of the lane "webhooks": outbound calls to the merchant's own
 * endpoints, whose answer may take WEBHOOK_TIMEOUT_MS. */
static bool
webhook_lane(const char *kind)
{
    return strcmp(kind, "hooks.deliver") == 0;
}

/* The JSON-ish text array of the internal kinds, or of the outbound kinds
 * of the lane "shop" (without the webhook lane's when `split`), or (lane
 * "webhooks") of the webhook lane's. */
enum kinds_of { KINDS_INTERNAL, KINDS_SHOP, KINDS_WEBHOOKS };

static void
kinds_array(enum kinds_of which, bool split, char *out, size_t len)
{
    bool outbound = which != KINDS_INTERNAL;
    size_t used = (size_t)snprintf(out, len, "{");
    for (size_t i = 0; i < NKINDS; i++)
        if ((kinds[i].run != NULL) == outbound && used < len &&
            (which == KINDS_INTERNAL ||
             (which == KINDS_WEBHOOKS ? webhook_lane(kinds[i].name)
                                      : !(split && webhook_lane(kinds[i].name)))))
            used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", used > 1 ? "," : "",
                                     kinds[i].name);
    for (size_t i = 0; atomic_load(&test_kinds_on) && which != KINDS_WEBHOOKS && i < NTEST_KINDS;
         i++)
        if ((test_kinds[i].run != NULL) == outbound && used < len)
            used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", used > 1 ? "," : "",
                                     test_kinds[i].name);
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
    atomic_store(&test_kinds_on, cfg->job_test_kinds == 1);
    kinds_array(KINDS_INTERNAL, false, w.internal_kinds, sizeof(w.internal_kinds));
    kinds_array(KINDS_SHOP, cfg->webhook_workers > 0, w.outbound_kinds, sizeof(w.outbound_kinds));
    kinds_array(KINDS_WEBHOOKS, true, w.webhook_kinds, sizeof(w.webhook_kinds));
    if (cfg->workers == 0)
        return 0; /* no workers: this process only serves HTTP */
    w.first_webhook_thread = (int)cfg->workers + 1;
    w.nthreads = w.first_webhook_thread + (int)cfg->webhook_workers;
    w.threads = xcalloc((size_t)w.nthreads, sizeof(*w.threads));
    w.running = xcalloc((size_t)w.nthreads, sizeof(*w.running));
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
    free(w.running);
    w.threads = NULL;
    w.running = NULL;
    w.nthreads = 0;
    w.listener_started = false;
}
