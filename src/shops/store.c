/*
 * store.c - the SQL of shops and API keys.
 *
 * Every statement is prepared under the name of the function that runs
 * it and takes its values as parameters. Timestamps are formatted by
 * PostgreSQL as RFC 3339 UTC so C never parses dates. Optional fields of a
 * patch are NULL parameters under COALESCE, which keeps one static
 * statement per operation instead of SQL built at run time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/mem.h"
#include "aftersale/shops/store.h"

#define SHOP_COLS                                                                                  \
    "id, name, url, consumer_key, currency, timezone, " DB_TS("created_at") ", " DB_TS("updated_at")
#define KEY_COLS "id, prefix, " DB_TS("created_at") ", " DB_TS("revoked_at")

static json_t *
shop_json(const PGresult *res, int row)
{
    const char *ck = PQgetvalue(res, row, 3);
    size_t n = strlen(ck);
    char hint[16];

    /* The consumer key is half a credential: show its tail, as WooCommerce does. */
    snprintf(hint, sizeof(hint), "\xe2\x80\xa6%s", n > 4 ? ck + n - 4 : ck);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                     (json_int_t)atoll(PQgetvalue(res, row, 0)), "name", PQgetvalue(res, row, 1),
                     "url", PQgetvalue(res, row, 2), "consumer_key_hint", hint, "currency",
                     PQgetvalue(res, row, 4), "timezone", PQgetvalue(res, row, 5), "created_at",
                     PQgetvalue(res, row, 6), "updated_at", PQgetvalue(res, row, 7));
}

static json_t *
key_json(const PGresult *res, int row)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)atoll(PQgetvalue(res, row, 0)),
                     "prefix", PQgetvalue(res, row, 1), "created_at", PQgetvalue(res, row, 2),
                     "revoked_at",
                     PQgetisnull(res, row, 3) ? json_null() : json_string(PQgetvalue(res, row, 3)));
}

/*
 * pg_timezone_names reads every zone file on each call (about a second);
 * AT TIME ZONE looks one name up. It raises 22023 for an unknown zone,
 * which aborts the surrounding transaction: callers check the time zone
 * first and give up at once when it is not valid.
 */
int
shops_store_timezone_valid(struct db_conn *c, const char *tz, bool *ok, struct err *e)
{
    const char *params[1] = {tz};
    PGresult *res = db_exec(c, "shops_store_timezone_valid", "SELECT now() AT TIME ZONE $1", 1,
                            params, e);
    if (res == NULL) {
        if (strcmp(e->sqlstate, "22023") != 0)
            return -1;
        err_clear(e);
        *ok = false;
        return 0;
    }
    *ok = true;
    PQclear(res);
    return 0;
}

int
shops_store_insert(struct db_conn *c, const struct shop_input *in,
                   const struct shop_sealed *sealed, json_t **shop, struct err *e)
{
    const char *params[8] = {in->name,
                             in->url_norm,
                             in->consumer_key,
                             sealed->consumer_secret,
                             sealed->webhook_secret,
                             sealed->token_secret,
                             in->currency,
                             in->timezone};
    PGresult *res = db_exec(
        c, "shops_store_insert",
        "INSERT INTO shops (name, url, consumer_key, consumer_secret_enc, webhook_secret_enc,"
        " token_secret_enc, currency, timezone)"
        " VALUES ($1, $2, $3, $4::bytea, $5::bytea, $6::bytea, $7, $8) RETURNING " SHOP_COLS,
        8, params, e);
    if (res == NULL)
        return -1;
    *shop = shop_json(res, 0);
    PQclear(res);
    return 0;
}

int
shops_store_get(struct db_conn *c, int64_t id, json_t **shop, struct err *e)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;

    DB_I64(ids, id);
    res = db_exec(c, "shops_store_get", "SELECT " SHOP_COLS " FROM shops WHERE id = $1", 1, params,
                  e);
    if (res == NULL)
        return -1;
    *shop = PQntuples(res) == 1 ? shop_json(res, 0) : NULL;
    PQclear(res);
    return 0;
}

int
shops_store_update(struct db_conn *c, int64_t id, const struct shop_input *in,
                   const struct shop_sealed *sealed, json_t **shop, struct err *e)
{
    char ids[24];
    const char *params[7] = {ids,
                             in->name,
                             in->url ? in->url_norm : NULL,
                             in->consumer_key,
                             sealed->consumer_secret,
                             in->currency,
                             in->timezone};
    PGresult *res;

    DB_I64(ids, id);
    res = db_exec(c, "shops_store_update",
                  "UPDATE shops SET name = COALESCE($2, name), url = COALESCE($3, url),"
                  " consumer_key = COALESCE($4, consumer_key),"
                  " consumer_secret_enc = COALESCE($5::bytea, consumer_secret_enc),"
                  " currency = COALESCE($6, currency), timezone = COALESCE($7, timezone),"
                  " updated_at = now() WHERE id = $1 RETURNING " SHOP_COLS,
                  7, params, e);
    if (res == NULL)
        return -1;
    *shop = PQntuples(res) == 1 ? shop_json(res, 0) : NULL;
    PQclear(res);
    return 0;
}

/* Shared page logic: fetch limit + 1 rows to learn whether more remain. */
static int
page(PGresult *res, int limit, json_t *(*row_json)(const PGresult *, int), json_t **items,
     int64_t *next_after)
{
    int n = PQntuples(res);

    *items = json_array();
    *next_after = 0;
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(*items, row_json(res, i));
    if (n > limit)
        *next_after = atoll(PQgetvalue(res, limit - 1, 0));
    return 0;
}

int
shops_store_list(struct db_conn *c, int64_t after, int limit, json_t **items, int64_t *next_after,
                 struct err *e)
{
    char a[24], l[16];
    const char *params[2] = {a, l};
    PGresult *res;

    DB_I64(a, after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    res = db_exec(c, "shops_store_list",
                  "SELECT " SHOP_COLS " FROM shops WHERE id > $1 ORDER BY id LIMIT $2", 2, params,
                  e);
    if (res == NULL)
        return -1;
    page(res, limit, shop_json, items, next_after);
    PQclear(res);
    return 0;
}

int
shops_store_key_insert(struct db_conn *c, int64_t shop_id, const char *hash_param,
                       const char *prefix, json_t **key, struct err *e)
{
    char ids[24];
    const char *params[3] = {ids, hash_param, prefix};
    PGresult *res;

    DB_I64(ids, shop_id);
    res = db_exec(c, "shops_store_key_insert",
                  "INSERT INTO api_keys (shop_id, key_hash, prefix)"
                  " SELECT id, $2::bytea, $3 FROM shops WHERE id = $1 RETURNING " KEY_COLS,
                  3, params, e);
    if (res == NULL)
        return -1;
    *key = PQntuples(res) == 1 ? key_json(res, 0) : NULL;
    PQclear(res);
    return 0;
}

int
shops_store_key_list(struct db_conn *c, int64_t shop_id, int64_t after, int limit, json_t **items,
                     int64_t *next_after, struct err *e)
{
    char ids[24], a[24], l[16];
    const char *params[3] = {ids, a, l};
    PGresult *res;

    DB_I64(ids, shop_id);
    DB_I64(a, after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    res = db_exec(c, "shops_store_key_list",
                  "SELECT " KEY_COLS " FROM api_keys WHERE shop_id = $1 AND id > $2"
                  " ORDER BY id LIMIT $3",
                  3, params, e);
    if (res == NULL)
        return -1;
    page(res, limit, key_json, items, next_after);
    PQclear(res);
    return 0;
}

int
shops_store_key_revoke(struct db_conn *c, int64_t shop_id, int64_t key_id, bool *found,
                       struct err *e)
{
    char s[24], k[24];
    const char *params[2] = {s, k};
    long n;

    DB_I64(s, shop_id);
    DB_I64(k, key_id);
    n = db_exec_cmd(c, "shops_store_key_revoke",
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())"
                    " WHERE shop_id = $1 AND id = $2",
                    2, params, e);
    if (n < 0)
        return -1;
    *found = n > 0;
    return 0;
}
