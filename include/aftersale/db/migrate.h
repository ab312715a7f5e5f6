/*
 * migrate.h - schema migrations embedded in the binary.
 *
 * sql/NNN_name.sql files are compiled into the binary (scripts/embed-sql),
 * so a binary always carries exactly the schema it was built for. Applied
 * files are recorded in schema_migrations with their SHA-256; a recorded
 * checksum that no longer matches the file is an error, never silently
 * re-applied.
 */
#ifndef AFTERSALE_DB_MIGRATE_H
#define AFTERSALE_DB_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "aftersale/core/err.h"

struct migration {
    int version;
    const char *name;
    const char *sql;
    size_t len;
};

extern const struct migration migrations[];
extern const size_t nmigrations;

/* Apply every pending migration, each in its own transaction, under an
 * advisory lock (two containers starting together take turns). Prints one
 * line per applied file to stdout. 0, or -1 with e (ERR_CONFLICT on a
 * checksum mismatch or an unknown applied version). */
int db_migrate_apply(PGconn *pg, struct err *e);

/* 0 when every embedded migration is applied with the same checksum;
 * -1 with e otherwise (ERR_UNAVAILABLE: "not migrated" or unreachable).
 * *applied gets the number of applied migrations. */
int db_migrate_check(PGconn *pg, int *applied, struct err *e);

#endif
