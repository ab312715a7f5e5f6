/*
 * idempotency.c - stored answers for Idempotency-Key.
 *
 * A request is identified by the hash of its route and raw body bytes, so
 * a client retrying exactly what it sent gets exactly what it got, and a
 * client reusing a key for something else is told so (409) instead of
 * silently receiving an unrelated answer. Keys live per shop and scope: the
 * shop's routes share one scope, each customer of the customer routes has
 * their own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/idempotency.h"

bool
db_idempotency_key_valid(const char *key)
{
    size_t n = 0;

    for (; key && key[n]; n++)
        if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7e)
            return false;
    return n >= 1 && n <= 255;
}

void
db_idempotency_init(struct idempotency *i, const char *key, const char *route, const char *body,
                    size_t len)
{
    uint8_t sum[CRYPTO_SHA256_LEN];
    size_t rlen = strlen(route);
    char *buf = xmalloc(rlen + 1 + len);

    memset(i, 0, sizeof(*i));
    i->key = key;
    memcpy(buf, route, rlen);
    buf[rlen] = '\n';
    if (len > 0)
        memcpy(buf + rlen + 1, body, len);
    crypto_sha256(buf, rlen + 1 + len, sum);
    crypto_hex(sum, sizeof(sum), i->hash);
    free(buf);
}

int
db_idempotency_begin(struct db_conn *c, int64_t shop_id, struct idempotency *i, const char *route,
                     struct err *e)
{
    char shop[24];
    const char *params[3] = {shop, i->key, i->scope};
    PGresult *res;

    if (i->key == NULL)
        return 0;
    DB_I64(shop, shop_id);
    if (db_exec_cmd(c, "db_idempotency_lock",
                    "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $3 || ':' || $2,"
                    " 7311))",
                    3, params, e) < 0)
        return -1;
    res = db_exec(c, "db_idempotency_begin",
                  "SELECT request_hash, status, body, route FROM idempotency_keys"
                  " WHERE shop_id = $1 AND scope = $3 AND key = $2",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), i->hash) != 0 || strcmp(PQgetvalue(res, 0, 3), route) != 0) {
            PQclear(res);
            return err_set(e, ERR_CONFLICT, NULL,
                           "Idempotency-Key was already used for a different request");
        }
        i->replay = true;
        i->status = atoi(PQgetvalue(res, 0, 1));
        i->body = xstrdup(PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return 0;
}

int
db_idempotency_save(struct db_conn *c, int64_t shop_id, const struct idempotency *i,
                    const char *route, int status, const char *body, struct err *e)
{
    char shop[24], st[16];
    const char *params[7] = {shop, i->key, route, i->hash, st, body, i->scope};

    if (i->key == NULL)
        return 0;
    DB_I64(shop, shop_id);
    snprintf(st, sizeof(st), "%d", status);
    return db_exec_cmd(c, "db_idempotency_save",
                       "INSERT INTO idempotency_keys (shop_id, key, route, request_hash, status,"
                       " body, scope) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       7, params, e) < 0
               ? -1
               : 0;
}

void
db_idempotency_clear(struct idempotency *i)
{
    free(i->body);
    i->body = NULL;
    i->replay = false;
}
