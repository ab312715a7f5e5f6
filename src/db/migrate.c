/*
 * migrate.c - apply and verify the embedded schema migrations.
 *
 * Invariants: migrations apply in version order, each inside its own
 * transaction together with its schema_migrations row, so a failure leaves
 * the database at the previous version, never half-way. A session-level
 * advisory lock serialises concurrent migrators. The checksum of every
 * applied file is compared with the embedded one on each run and when the
 * server starts, so an edited migration is caught instead of diverging.
 * Only `aftersale migrate` and `serve` call this; it prints progress on
 * stdout because it runs as a command, not inside a request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/db/migrate.h"
#include "aftersale/db/pool.h"

#define LOCK_KEY "7311450912" /* arbitrary, constant: "aftersale migrations" */

static void
checksum(const struct migration *m, char hex[2 * CRYPTO_SHA256_LEN + 1])
{
    uint8_t sum[CRYPTO_SHA256_LEN];
    crypto_sha256(m->sql, m->len, sum);
    crypto_hex(sum, sizeof(sum), hex);
}

static int
exec_simple(PGconn *pg, const char *sql, struct err *e)
{
    PGresult *res = PQexec(pg, sql);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = db_error(pg, res, e);
    PQclear(res);
    return rc;
}

static const struct migration *
find(int version)
{
    for (size_t i = 0; i < nmigrations; i++)
        if (migrations[i].version == version)
            return &migrations[i];
    return NULL;
}

/* Compare what the database recorded with what we carry. *applied counts
 * matches; returns -1 on a mismatch or an unknown version. */
static int
compare_applied(PGconn *pg, int *applied, int *highest, struct err *e)
{
    PGresult *res = PQexec(pg, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    int rc = -1;

    *applied = 0;
    *highest = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error(pg, res, e);
        goto out;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        int version = atoi(PQgetvalue(res, i, 0));
        const struct migration *m = find(version);
        char hex[2 * CRYPTO_SHA256_LEN + 1];

        if (m == NULL) {
            err_set(e, ERR_CONFLICT, NULL,
                    "database has migration %d (%s) that this binary does not know: it is newer "
                    "than this build",
                    version, PQgetvalue(res, i, 1));
            goto out;
        }
        checksum(m, hex);
        if (strcmp(hex, PQgetvalue(res, i, 2)) != 0) {
            err_set(e, ERR_CONFLICT, NULL,
                    "migration %s was changed after it was applied (checksum differs); "
                    "migrations are never edited once applied",
                    m->name);
            goto out;
        }
        (*applied)++;
        if (version > *highest)
            *highest = version;
    }
    rc = 0;
out:
    PQclear(res);
    return rc;
}

static int
table_exists(PGconn *pg, bool *exists, struct err *e)
{
    PGresult *res = PQexec(pg, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error(pg, res, e);
        PQclear(res);
        return -1;
    }
    *exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

int
db_migrate_check(PGconn *pg, int *applied, struct err *e)
{
    bool exists = false;
    int highest = 0;

    *applied = 0;
    if (table_exists(pg, &exists, e) < 0)
        return -1;
    if (!exists)
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "database is not migrated (no schema_migrations table): run `aftersale migrate`");
    if (compare_applied(pg, applied, &highest, e) < 0)
        return -1;
    if ((size_t)*applied != nmigrations)
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "database is not fully migrated (%d of %zu applied): run `aftersale migrate`",
                       *applied, nmigrations);
    return 0;
}

static int
apply_one(PGconn *pg, const struct migration *m, struct err *e)
{
    char hex[2 * CRYPTO_SHA256_LEN + 1], version[16];
    const char *params[3] = {version, m->name, hex};
    PGresult *res;

    checksum(m, hex);
    snprintf(version, sizeof(version), "%d", m->version);
    if (exec_simple(pg, "BEGIN", e) < 0)
        return -1;
    if (exec_simple(pg, m->sql, e) < 0)
        goto fail;
    res = PQexecParams(pg, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                       3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        db_error(pg, res, e);
        PQclear(res);
        goto fail;
    }
    PQclear(res);
    if (exec_simple(pg, "COMMIT", e) < 0)
        goto fail;
    printf("{\"msg\":\"migration applied\",\"name\":\"%s\"}\n", m->name);
    return 0;
fail:
    PQclear(PQexec(pg, "ROLLBACK"));
    {
        char detail[sizeof(e->detail)];
        snprintf(detail, sizeof(detail), "%s", e->detail);
        snprintf(e->detail, sizeof(e->detail), "%s: %.150s", m->name, detail);
    }
    return -1;
}

int
db_migrate_apply(PGconn *pg, struct err *e)
{
    int applied = 0, highest = 0, rc = -1;

    if (exec_simple(pg, "SET client_min_messages = warning", e) < 0 ||
        exec_simple(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", e) < 0)
        return -1;
    if (exec_simple(pg,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())",
                    e) < 0)
        goto out;
    if (compare_applied(pg, &applied, &highest, e) < 0)
        goto out;
    for (size_t i = 0; i < nmigrations; i++) {
        const struct migration *m = &migrations[i];
        PGresult *res;
        char version[16];
        const char *params[1] = {version};
        bool done;

        snprintf(version, sizeof(version), "%d", m->version);
        res = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, NULL,
                           params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            db_error(pg, res, e);
            PQclear(res);
            goto out;
        }
        done = PQntuples(res) > 0;
        PQclear(res);
        if (!done && apply_one(pg, m, e) < 0)
            goto out;
    }
    rc = 0;
out:
    PQclear(PQexec(pg, "SELECT pg_advisory_unlock(" LOCK_KEY ")"));
    return rc;
}
