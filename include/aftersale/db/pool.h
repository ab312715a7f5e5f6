/*
 * pool.h - the PostgreSQL connection pool and the way every query runs.
 *
 * Threads borrow a connection with db_acquire() (checked with a poll(2)
 * first, reopened when the server closed it) and give it back with
 * db_release() in the same function; nobody holds one across an outbound
 * call. Most code does not even do that: db_tx() runs a callback inside
 * BEGIN/COMMIT on a borrowed connection and retries serialization failures
 * and deadlocks (SQLSTATE 40001/40P01) up to three times, as pgbench does.
 *
 * Statements are prepared lazily per connection under the name of the C
 * function that uses them, and forgotten when a connection is replaced.
 * Parameters are always passed separately (text format), never spliced
 * into SQL.
 *
 * Errors: SQLSTATE 23505 -> ERR_CONFLICT; 23503, 23514 and class 22 ->
 * ERR_INVALID; class 08, 57P0x or a broken connection -> ERR_UNAVAILABLE
 * (503), and the connection is reopened on its next use; 57014 (statement
 * timeout) and 55P03 (lock timeout) -> ERR_UNAVAILABLE with a detail
 * naming DB_STATEMENT_TIMEOUT_MS / DB_LOCK_TIMEOUT_MS; anything else
 * ERR_INTERNAL with the server's message in e->detail (logged, not shown).
 * A pool wait longer than DB_ACQUIRE_MS is ERR_UNAVAILABLE too.
 *
 * All functions are thread-safe; a struct db_conn is used by one thread
 * at a time.
 */
#ifndef AFTERSALE_DB_POOL_H
#define AFTERSALE_DB_POOL_H

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdbool.h>

#include "aftersale/core/err.h"

struct db_conn;

/* SQL text of a timestamptz column as RFC 3339 UTC ("2026-11-22T06:26:33Z"),
 * the one format the API uses, formatted by PostgreSQL so C never parses dates. */
/* A 64-bit integer as the text of a statement parameter (buf: char[24]). */
#define DB_I64(buf, v) snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)(v))

#define DB_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Create the pool; connections open lazily. `conninfo` is copied. */
void db_pool_init(const char *conninfo, int size, long acquire_ms);
void db_pool_shutdown(void);
/* statement_timeout and lock_timeout (ms) of every connection the pool
 * opens from now on; 0 leaves the server's setting. Call before use. */
void db_pool_set_timeouts(long statement_timeout_ms, long lock_timeout_ms);

int db_acquire(struct db_conn **out, struct err *e);
void db_release(struct db_conn *c);
/* As db_acquire, for a connection kept beyond the handler (streaming): it is
 * never the request-scoped connection, so db_request_end() does not take it. */
int db_acquire_own(struct db_conn **out, struct err *e);

/* Request scope (http/server.c, on the request's thread): between the two
 * calls the first connection the thread acquires stays with it and is lent
 * again to its next acquisition when that one is free, instead of going
 * back to the pool each time. db_request_end() gives it back; calling it
 * without a scope does nothing. */
void db_request_begin(void);
void db_request_end(void);

/* For the rest of this request (until db_request_end), wait up to `ms` for
 * a connection, a lock and a statement where the pool's DB_ACQUIRE_MS,
 * DB_LOCK_TIMEOUT_MS and DB_STATEMENT_TIMEOUT_MS are shorter: for a route
 * whose 503 loses data (WooCommerce never resends a webhook delivery).
 * Only ever longer than the pool's; a timeout the pool leaves off stays
 * off. */
void db_request_wait_ms(long ms);

/* Run a statement. `name` non-NULL: prepared once per connection under
 * that name (the caller's function name); NULL: one-off PQexecParams.
 * The first statement on a pooled connection that turns out dead is sent
 * once more on a new connection when it certainly did not run (BEGIN, or
 * the server's 57P0x "terminating connection").
 * Returns: the PGresult (caller PQclears) when the status is TUPLES_OK or
 * COMMAND_OK; NULL with `e` filled otherwise. */
PGresult *db_exec(struct db_conn *c, const char *name, const char *sql, int nparams,
                  const char *const *params, struct err *e);

/* As db_exec for statements without a result set: returns the number of
 * rows affected, or -1. */
long db_exec_cmd(struct db_conn *c, const char *name, const char *sql, int nparams,
                 const char *const *params, struct err *e);

/* A report's `from` and `to` (each may be NULL), already of RFC 3339
 * shape, as PostgreSQL's calendar takes them ("2026-02-30T00:00:00Z" is
 * refused there): -1 with e ERR_MALFORMED naming the bad bound, or any
 * other error of the query. Run it outside a transaction or first in
 * one: a refused cast aborts the transaction it runs in. */
int db_time_range_check(struct db_conn *c, const char *from, const char *to, struct err *e);

typedef int (*db_fn)(struct db_conn *c, void *ctx, struct err *e);

/* Acquire, BEGIN, fn, COMMIT (ROLLBACK when fn fails), release. Retries
 * the whole transaction on 40001/40P01; fn must therefore be safe to run
 * again (keep results in ctx and overwrite them). */
int db_tx(db_fn fn, void *ctx, struct err *e);
/* Acquire, fn in autocommit mode, release. */
int db_run(db_fn fn, void *ctx, struct err *e);

/* Map a failed result or connection to `e` (used by db_exec and migrate). */
int db_error(PGconn *pg, const PGresult *res, struct err *e);

/* Open a standalone connection (CLI, migrations); NULL with e on failure. */
PGconn *db_connect(const char *conninfo, struct err *e);

/* Borrow the libpq handle of a pooled connection. */
PGconn *db_pg(struct db_conn *c);

#endif
