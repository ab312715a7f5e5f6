/*
 * pool.c - a fixed set of PostgreSQL connections shared by all threads.
 *
 * Invariants: a slot is either on the free list or borrowed by exactly one
 * thread; connections open lazily and are checked each time they are lent
 * out, so a server restart is noticed before a query is sent on a dead
 * socket, and the connection is reopened then. The check is one poll(2)
 * with a zero timeout: an idle connection has nothing to read, so any
 * input, hang-up or error means the server closed it (a restart sends a
 * FATAL 57P01 and then closes). It runs on every lending: the old code
 * skipped it for connections used within the last second, and those were
 * exactly the connections lent out dead right after a restart. When a
 * connection dies anyway between the check and the first statement, that
 * statement is retried once on a fresh connection if it certainly did not
 * run (BEGIN, or the server's own "terminating connection" error). While
 * PostgreSQL is away every acquisition fails fast with ERR_UNAVAILABLE
 * (503) and the service recovers by itself once it is back. Connecting
 * happens outside the pool lock.
 *
 * Every pooled connection gets statement_timeout and lock_timeout
 * (DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS) when it opens, so no
 * request or job waits forever on a lock or a runaway query; the errors
 * (57014, 55P03) are ERR_UNAVAILABLE (503 with Retry-After).
 *
 * Prepared statements are remembered per connection in a short list of
 * names (a linear scan over a few dozen short strings costs less than the
 * round trip it saves) and the list is cleared when the connection is
 * replaced. This file never logs: callers decide what an error means.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/mem.h"
#include "aftersale/core/metrics.h"
#include "aftersale/db/pool.h"

struct db_conn {
    PGconn *pg;
    char **prepared;
    size_t nprepared, cap;
    int index;
    int statements; /* statements sent since it was lent out */
    bool reused;    /* lent out open, not opened by this acquisition */
    long st_ms, lk_ms; /* statement_timeout, lock_timeout set on it (0: server's) */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a connection went back to the free list */
    struct db_conn *conns;
    int *free_list; /* stack of free slot indices */
    int nfree, size;
    long acquire_ms;
    long statement_timeout_ms, lock_timeout_ms; /* 0: the server's setting */
    char *conninfo;
    long waits, timeouts, reconnects;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
pool_figures(struct metrics_pool *out)
{
    pthread_mutex_lock(&pool.mu);
    out->size = pool.size;
    out->idle = pool.nfree;
    out->in_use = pool.size - pool.nfree;
    out->waits = pool.waits;
    out->timeouts = pool.timeouts;
    out->reconnects = pool.reconnects;
    pthread_mutex_unlock(&pool.mu);
}

void
db_pool_init(const char *conninfo, int size, long acquire_ms)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool.cv, &attr);
    pthread_condattr_destroy(&attr);
    pool.conninfo = xstrdup(conninfo);
    pool.size = size;
    pool.acquire_ms = acquire_ms;
    pool.conns = xcalloc((size_t)size, sizeof(*pool.conns));
    pool.free_list = xcalloc((size_t)size, sizeof(*pool.free_list));
    for (int i = 0; i < size; i++) {
        pool.conns[i].index = i;
        pool.free_list[i] = size - 1 - i;
    }
    pool.nfree = size;
    metrics_set_pool_source(pool_figures);
}

void
db_pool_set_timeouts(long statement_timeout_ms, long lock_timeout_ms)
{
    pool.statement_timeout_ms = statement_timeout_ms;
    pool.lock_timeout_ms = lock_timeout_ms;
}

static void
forget(struct db_conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    for (size_t i = 0; i < c->nprepared; i++)
        free(c->prepared[i]);
    c->nprepared = 0;
}

void
db_pool_shutdown(void)
{
    for (int i = 0; i < pool.size; i++) {
        forget(&pool.conns[i]);
        free(pool.conns[i].prepared);
    }
    free(pool.conns);
    free(pool.free_list);
    free(pool.conninfo);
    pool.conns = NULL;
    pool.size = pool.nfree = 0;
}

PGconn *
db_connect(const char *conninfo, struct err *e)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, "3", "aftersale", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    if (pg == NULL) {
        err_set(e, ERR_UNAVAILABLE, NULL, "database unreachable: out of memory");
        return NULL;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(pg);
        size_t n = strcspn(msg, "\n");
        err_set(e, ERR_UNAVAILABLE, NULL, "database unreachable: %.*s", (int)(n > 150 ? 150 : n),
                msg);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* Apply timeouts to a connection (set_config with parameters rather than
 * connection options, so DATABASE_URL's own `options` stay as they are).
 * A 0 leaves that one as it is: the server's setting. */
static int
set_timeouts(struct db_conn *c, long st_ms, long lk_ms, struct err *e)
{
    char st[24], lk[24];
    const char *params[2] = {st, lk};
    PGresult *res;
    int rc = 0;

    if (st_ms == 0 && lk_ms == 0)
        return 0;
    DB_I64(st, st_ms);
    DB_I64(lk, lk_ms);
    res = PQexecParams(c->pg,
                       "SELECT CASE WHEN $1::text <> '0' THEN set_config('statement_timeout', $1::text, false) END,"
                       " CASE WHEN $2::text <> '0' THEN set_config('lock_timeout', $2::text, false) END",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = db_error(c->pg, res, e);
    PQclear(res);
    if (rc == 0) {
        c->st_ms = st_ms;
        c->lk_ms = lk_ms;
    }
    return rc;
}

static int
reconnect(struct db_conn *c, struct err *e)
{
    forget(c);
    c->pg = db_connect(pool.conninfo, e);
    if (c->pg == NULL)
        return -1;
    c->st_ms = c->lk_ms = 0;
    if (set_timeouts(c, pool.statement_timeout_ms, pool.lock_timeout_ms, e) < 0) {
        forget(c);
        return err_set(e, ERR_UNAVAILABLE, NULL, "database unavailable: cannot set timeouts");
    }
    c->reused = false;
    pthread_mutex_lock(&pool.mu);
    pool.reconnects++;
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

/* An idle connection has nothing to say: anything readable (the server's
 * FATAL before it closes, or EOF), a hang-up or an error means it is dead.
 * A zero-timeout poll(2) costs about a microsecond and reads nothing. */
static bool
idle_socket_quiet(PGconn *pg)
{
    struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};

    if (p.fd < 0)
        return false;
    return poll(&p, 1, 0) == 0;
}

/* Make sure the slot holds a live connection; called without the lock. */
static int
ensure_live(struct db_conn *c, struct err *e)
{
    c->statements = 0;
    if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK &&
        PQtransactionStatus(c->pg) == PQTRANS_IDLE && idle_socket_quiet(c->pg)) {
        c->reused = true;
        return 0;
    }
    return reconnect(c, e);
}

/*
 * Request scope: an HTTP request takes a connection for its key lookup and
 * again for its handler. Inside db_request_begin()/db_request_end() (one
 * thread: the request's), the first connection the thread gets stays with
 * it and is lent again to the next acquisition, as long as nothing else on
 * the thread uses it at that moment: one trip through the pool per
 * request instead of two, and a request never queues twice for a
 * connection under load. Jobs never open a scope.
 */
static __thread bool scoped;
static __thread struct db_conn *held;
static __thread bool held_busy;
static __thread long request_wait_ms; /* db_request_wait_ms(); 0: the pool's */

/* The timeouts the calling thread wants on its connection: the pool's, or
 * for a request that asked for a longer wait (db_request_wait_ms) the
 * longer of the two. A timeout the pool leaves off (0) stays off. */
static long
wanted(long pool_ms)
{
    return pool_ms == 0 || request_wait_ms <= pool_ms ? pool_ms : request_wait_ms;
}

/* Give a lent connection the timeouts its borrower wants: a statement only
 * when they differ from what the connection has (a connection goes back
 * to the pool with a request's longer timeouts and the next borrower
 * that wants the pool's sets them back here). */
static int
fit_timeouts(struct db_conn *c, struct err *e)
{
    long st = wanted(pool.statement_timeout_ms), lk = wanted(pool.lock_timeout_ms);

    if (c->st_ms == st && c->lk_ms == lk)
        return 0;
    if (set_timeouts(c, st, lk, e) < 0) {
        forget(c); /* unknown state: ensure_live() opens a fresh one next time */
        return -1;
    }
    return 0;
}

void
db_request_wait_ms(long ms)
{
    request_wait_ms = ms > 0 ? ms : 0;
}

/* Back to the free list. A waiter is woken, but a running thread that
 * asks first may take the connection: handing it to the oldest waiter
 * (tried, with a queue of waiters) forced a context switch per hand-over
 * and measured more CPU per request and no better p99 (bench/README.md). */
static void
give_back(struct db_conn *c)
{
    /* A connection left inside a transaction (a failed ROLLBACK) is not
     * lent again as it is: ensure_live() replaces it on its next use. */
    pthread_mutex_lock(&pool.mu);
    pool.free_list[pool.nfree++] = c->index;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

void
db_request_begin(void)
{
    scoped = true;
}

void
db_request_end(void)
{
    struct db_conn *c = held;

    scoped = false;
    held = NULL;
    held_busy = false;
    request_wait_ms = 0;
    if (c != NULL)
        give_back(c);
}

/* The connection this request already holds, when it is free and sound. */
static struct db_conn *
take_held(void)
{
    if (held == NULL || held_busy)
        return NULL;
    if (PQstatus(held->pg) != CONNECTION_OK || PQtransactionStatus(held->pg) != PQTRANS_IDLE) {
        give_back(held); /* ensure_live() reopens it for whoever is next */
        held = NULL;
        return NULL;
    }
    held_busy = true;
    held->statements = 0;
    held->reused = true;
    return held;
}

int
db_acquire(struct db_conn **out, struct err *e)
{
    struct timespec deadline;
    struct db_conn *c;
    bool waited = false;

    long acquire_ms = pool.acquire_ms > request_wait_ms ? pool.acquire_ms : request_wait_ms;

    if (scoped && (c = take_held()) != NULL) {
        if (fit_timeouts(c, e) < 0) {
            held_busy = false;
            return -1;
        }
        *out = c;
        return 0;
    }

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += acquire_ms / 1000;
    deadline.tv_nsec += (acquire_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&pool.mu);
    while (pool.nfree == 0) {
        if (!waited) {
            pool.waits++;
            waited = true;
        }
        if (pthread_cond_timedwait(&pool.cv, &pool.mu, &deadline) != 0 && pool.nfree == 0) {
            pool.timeouts++;
            pthread_mutex_unlock(&pool.mu);
            return err_set(e, ERR_UNAVAILABLE, NULL,
                           "no database connection free within %ld ms", acquire_ms);
        }
    }
    c = &pool.conns[pool.free_list[--pool.nfree]];
    pthread_mutex_unlock(&pool.mu);
    if (ensure_live(c, e) < 0 || fit_timeouts(c, e) < 0) {
        give_back(c);
        return -1;
    }
    if (scoped && held == NULL) {
        held = c;
        held_busy = true;
    }
    *out = c;
    return 0;
}

/* A connection that outlives the request's handler (a streamed response
 * reads from it in later callbacks): never the request's held one, and
 * db_request_end() leaves it alone; db_release() gives it back. */
int
db_acquire_own(struct db_conn **out, struct err *e)
{
    bool was = scoped;
    int rc;

    scoped = false;
    rc = db_acquire(out, e);
    scoped = was;
    return rc;
}

void
db_release(struct db_conn *c)
{
    if (c == NULL)
        return;
    if (c == held) {
        held_busy = false; /* stays with the request until db_request_end() */
        return;
    }
    give_back(c);
}

PGconn *
db_pg(struct db_conn *c)
{
    return c->pg;
}

static bool
starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
db_error(PGconn *pg, const PGresult *res, struct err *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = NULL; /* set for the ERR_UNAVAILABLE cases */
    enum err_kind kind = ERR_INTERNAL;

    if (msg == NULL)
        msg = pg ? PQerrorMessage(pg) : "no result";
    if (state == NULL)
        state = "";
    if (strcmp(state, "57014") == 0) /* statement_timeout: nobody else cancels ours */
        detail = "a database statement ran longer than DB_STATEMENT_TIMEOUT_MS; try again";
    else if (strcmp(state, "55P03") == 0)
        detail = "a row this request needs stayed locked by another request longer than "
                 "DB_LOCK_TIMEOUT_MS; try again";
    else if ((pg && PQstatus(pg) == CONNECTION_BAD) || starts(state, "08") || starts(state, "57P"))
        detail = "database unavailable";
    if (detail != NULL)
        kind = ERR_UNAVAILABLE;
    else if (strcmp(state, "23505") == 0 || strcmp(state, "40001") == 0 ||
             strcmp(state, "40P01") == 0)
        kind = ERR_CONFLICT;
    else if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 || starts(state, "22"))
        kind = ERR_INVALID;
    err_set(e, kind, NULL, "%s", detail ? detail : msg);
    if (e)
        snprintf(e->sqlstate, sizeof(e->sqlstate), "%.5s", state);
    return -1;
}

static int
prepare(struct db_conn *c, const char *name, const char *sql, int nparams, struct err *e)
{
    PGresult *res;

    for (size_t i = 0; i < c->nprepared; i++)
        if (strcmp(c->prepared[i], name) == 0)
            return 0;
    res = PQprepare(c->pg, name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        db_error(c->pg, res, e);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (c->nprepared == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->prepared = xrealloc(c->prepared, c->cap * sizeof(*c->prepared));
    }
    c->prepared[c->nprepared++] = xstrdup(name);
    return 0;
}

static PGresult *
exec_once(struct db_conn *c, const char *name, const char *sql, int nparams,
          const char *const *params, struct err *e)
{
    PGresult *res;
    ExecStatusType st;

    c->statements++;
    if (name != NULL) {
        if (prepare(c, name, sql, nparams, e) < 0)
            return NULL;
        res = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    } else {
        res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    db_error(c->pg, res, e);
    PQclear(res);
    return NULL;
}

/* The first statement on a connection that sat in the pool failed because
 * the connection is gone (it died after ensure_live looked at it). Safe to
 * send again on a new connection only if it certainly did not run: BEGIN
 * changes nothing, and a server that answers "terminating connection"
 * (57P01-57P03) aborted whatever it was running. A plain EOF is not
 * retried: an autocommit statement may have committed before it. */
static bool
retry_on_fresh(const struct db_conn *c, const char *name, const struct err *e)
{
    if (!c->reused || c->statements != 1 || PQstatus(c->pg) != CONNECTION_BAD)
        return false;
    return (name != NULL && strcmp(name, "db_tx_begin") == 0) || starts(e->sqlstate, "57P");
}

PGresult *
db_exec(struct db_conn *c, const char *name, const char *sql, int nparams,
        const char *const *params, struct err *e)
{
    struct err local = {0};
    PGresult *res;

    if (e == NULL)
        e = &local;
    res = exec_once(c, name, sql, nparams, params, e);
    if (res != NULL || !retry_on_fresh(c, name, e))
        return res;
    if (reconnect(c, e) < 0)
        return NULL;
    err_clear(e);
    c->statements = 0;
    return exec_once(c, name, sql, nparams, params, e);
}

long
db_exec_cmd(struct db_conn *c, const char *name, const char *sql, int nparams,
            const char *const *params, struct err *e)
{
    PGresult *res = db_exec(c, name, sql, nparams, params, e);
    long n;

    if (res == NULL)
        return -1;
    n = atol(PQcmdTuples(res));
    PQclear(res);
    return n;
}

int
db_time_range_check(struct db_conn *c, const char *from, const char *to, struct err *e)
{
    for (int i = 0; i < 2; i++) {
        const char *p[1] = {i == 0 ? from : to};
        PGresult *res;

        if (p[0] == NULL)
            continue;
        res = db_exec(c, "db_time_range_check", "SELECT $1::timestamptz", 1, p, e);
        if (res == NULL)
            /* class 22, data exception: the value, not the server */
            return strncmp(e->sqlstate, "22", 2) == 0
                       ? err_set(e, ERR_MALFORMED, i == 0 ? "from" : "to",
                                 "%s is not a valid time", i == 0 ? "from" : "to")
                       : -1;
        PQclear(res);
    }
    return 0;
}

static bool
retryable(const struct err *e)
{
    return strcmp(e->sqlstate, "40001") == 0 || strcmp(e->sqlstate, "40P01") == 0;
}

int
db_tx(db_fn fn, void *ctx, struct err *e)
{
    for (int attempt = 0;; attempt++) {
        struct db_conn *c = NULL;
        int rc = -1;

        err_clear(e);
        if (db_acquire(&c, e) < 0)
            return -1;
        if (db_exec_cmd(c, "db_tx_begin", "BEGIN", 0, NULL, e) < 0)
            goto done;
        if (fn(c, ctx, e) < 0) {
            PQclear(PQexec(c->pg, "ROLLBACK"));
            goto done;
        }
        if (db_exec_cmd(c, "db_tx_commit", "COMMIT", 0, NULL, e) < 0)
            goto done;
        rc = 0;
    done:
        db_release(c);
        if (rc == 0 || attempt >= 2 || !retryable(e))
            return rc;
    }
}

int
db_run(db_fn fn, void *ctx, struct err *e)
{
    struct db_conn *c = NULL;
    int rc;

    if (db_acquire(&c, e) < 0)
        return -1;
    rc = fn(c, ctx, e);
    db_release(c);
    return rc;
}
