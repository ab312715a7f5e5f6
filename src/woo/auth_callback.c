/*
 * auth_callback.c - one-click connection: WooCommerce's app authorisation.
 *
 * Two routes. The plugin (shop API key) asks for a request and gets a
 * one-time state and the callback URL PUBLIC_URL/v1/woocommerce/
 * auth-callback/{state}; it sends the shop's admin to WooCommerce's
 * /wc-auth/v1/authorize with that callback_url. After the admin approves,
 * WooCommerce POSTs {key_id, user_id, consumer_key, consumer_secret,
 * key_permissions} there and insists on a 200 (WooCommerce 7.9 compares
 * the code with 200 exactly, and deletes the new key otherwise).
 *
 * The state is the callback's only credential: 256 random bits, stored as
 * SHA-256 only (a database reader can't replay it), looked up by that hash
 * and compared again in constant time, valid for 15 minutes and once. The
 * row is locked FOR UPDATE so two concurrent callbacks with one state
 * store keys once; the keys go to the shop the state was issued to, which
 * the caller can't choose.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/server.h"
#include "aftersale/shops/shops.h"
#include "aftersale/shops/store.h"
#include "aftersale/woo/auth_callback.h"

bool
woo_auth_state_valid(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    return n == WOO_AUTH_STATE_LEN && s[n] == '\0';
}

/* "\\x<hex>" of a SHA-256, as a bytea parameter. */
static void
hash_param(const uint8_t hash[CRYPTO_SHA256_LEN], char out[2 + 2 * CRYPTO_SHA256_LEN + 1])
{
    out[0] = '\\';
    out[1] = 'x';
    crypto_hex(hash, CRYPTO_SHA256_LEN, out + 2);
}

/* ---- POST /v1/woocommerce/auth-requests ---------------------------------- */

struct request_ctx {
    int64_t shop_id;
    const char *hash;
    char expires_at[32];
};

static int
request_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct request_ctx *q = ctx;
    char shop[24], ttl[16];
    const char *params[3] = {shop, q->hash, ttl};
    PGresult *res;

    DB_I64(shop, q->shop_id);
    snprintf(ttl, sizeof(ttl), "%d", WOO_AUTH_STATE_TTL_S);
    /* Old requests of this shop are of no use any more: keep the table small. */
    if (db_exec_cmd(c, "woo_auth_request_prune",
                    "DELETE FROM woo_auth_requests WHERE shop_id = $1"
                    " AND expires_at < now() - interval '1 day'",
                    1, params, e) < 0)
        return -1;
    res = db_exec(c, "woo_auth_request_insert",
                  "INSERT INTO woo_auth_requests (shop_id, state_hash, expires_at)"
                  " VALUES ($1, $2::bytea, now() + $3::integer * interval '1 second')"
                  " RETURNING " DB_TS("expires_at"),
                  3, params, e);
    if (res == NULL)
        return -1;
    snprintf(q->expires_at, sizeof(q->expires_at), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

void
woo_handle_auth_request(struct req *r)
{
    const char *base = server_config()->public_url;
    uint8_t raw[32], hash[CRYPTO_SHA256_LEN];
    char hex[2 + 2 * CRYPTO_SHA256_LEN + 1], *state = NULL, *url = NULL;
    struct request_ctx q = {.shop_id = r->shop_id, .hash = hex};
    struct err e = {0};
    size_t n;

    if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (base == NULL) {
        reply_problem(r, ERR_CONFLICT, NULL,
                      "PUBLIC_URL is not set: WooCommerce needs an address to post the keys to");
        return;
    }
    crypto_random(raw, sizeof(raw));
    state = crypto_base64url(raw, sizeof(raw));
    crypto_wipe(raw, sizeof(raw));
    crypto_sha256(state, strlen(state), hash);
    hash_param(hash, hex);
    if (db_tx(request_fn, &q, &e) < 0) {
        reply_err(r, &e);
        goto out;
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    url = xasprintf("%.*s/v1/woocommerce/auth-callback/%s", (int)n, base, state);
    reply_json_take(r, 201,
                    json_pack("{s:s, s:s, s:s, s:b}", "state", state, "callback_url", url,
                              "expires_at", q.expires_at, "callback_https",
                              strncmp(url, "https://", 8) == 0));
out:
    if (state)
        crypto_wipe(state, strlen(state));
    free(state);
    free(url);
}

/* ---- POST /v1/woocommerce/auth-callback/{state} -------------------------- */

struct callback_ctx {
    const uint8_t *hash;
    const struct shop_input *in;
    char *sealed_secret;
    const char *key_id;
    int64_t shop_id; /* out */
};

static int
callback_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct callback_ctx *cb = ctx;
    char hex[2 + 2 * CRYPTO_SHA256_LEN + 1], shop[24], id[24];
    const char *params[1] = {hex};
    struct shop_sealed sealed = {.consumer_secret = cb->sealed_secret};
    uint8_t stored[CRYPTO_SHA256_LEN];
    json_t *updated = NULL;
    PGresult *res;
    int rc = -1;

    hash_param(cb->hash, hex);
    res = db_exec(c, "woo_auth_callback_find",
                  "SELECT shop_id, id, encode(state_hash, 'hex'), used_at IS NOT NULL,"
                  " expires_at <= now() FROM woo_auth_requests WHERE state_hash = $1::bytea"
                  " FOR UPDATE",
                  1, params, e);
    if (res == NULL)
        return -1;
    /* The index found the row by hash; compare the hashes again in constant
     * time, as auth.c does for API keys. */
    if (PQntuples(res) != 1 || crypto_unhex(PQgetvalue(res, 0, 2), stored, sizeof(stored)) < 0 ||
        !crypto_equal(stored, sizeof(stored), cb->hash, CRYPTO_SHA256_LEN) ||
        strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
        err_set(e, ERR_NOT_FOUND, NULL, "no such authorisation request, or it has expired");
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
        err_set(e, ERR_CONFLICT, NULL, "this authorisation request was already used");
        goto out;
    }
    cb->shop_id = atoll(PQgetvalue(res, 0, 0));
    snprintf(shop, sizeof(shop), "%s", PQgetvalue(res, 0, 0));
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 1));
    if (shops_store_update(c, cb->shop_id, cb->in, &sealed, &updated, e) < 0)
        goto out;
    if (updated == NULL) {
        err_set(e, ERR_NOT_FOUND, NULL, "no such authorisation request, or it has expired");
        goto out;
    }
    {
        const char *p[3] = {shop, id, cb->key_id};
        if (db_exec_cmd(c, "woo_auth_callback_use",
                        "UPDATE woo_auth_requests SET used_at = now(), woo_key_id = $3::bigint"
                        " WHERE shop_id = $1 AND id = $2",
                        3, p, e) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(updated);
    PQclear(res);
    crypto_wipe(stored, sizeof(stored));
    return rc;
}

/* WooCommerce's body: consumer_key "ck_...", consumer_secret "cs_...",
 * key_permissions "read_write" (aftersale writes coupons and webhooks).
 * Other keys are WooCommerce's business and are ignored. */
static int
check_body(const json_t *body, const char **ck, const char **cs, char key_id[24], struct err *e)
{
    const json_t *kid = json_object_get(body, "key_id");
    const char *perm = jx_str(body, "key_permissions");

    *ck = jx_str(body, "consumer_key");
    *cs = jx_str(body, "consumer_secret");
    if (*ck == NULL || strlen(*ck) < 4 || strlen(*ck) > 200 || strncmp(*ck, "ck_", 3) != 0)
        return err_set(e, ERR_INVALID, "consumer_key", "must be a WooCommerce key (ck_...)");
    if (*cs == NULL || strlen(*cs) < 4 || strlen(*cs) > 200 || strncmp(*cs, "cs_", 3) != 0)
        return err_set(e, ERR_INVALID, "consumer_secret", "must be a WooCommerce secret (cs_...)");
    if (perm == NULL || strcmp(perm, "read_write") != 0)
        return err_set(e, ERR_INVALID, "key_permissions",
                       "must be read_write: aftersale creates coupons and webhooks");
    if (json_is_integer(kid) && json_integer_value(kid) > 0)
        snprintf(key_id, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(kid));
    else
        key_id[0] = '\0';
    return 0;
}

void
woo_handle_auth_callback(struct req *r)
{
    const char *state = req_param(r, "state"), *ck, *cs;
    uint8_t hash[CRYPTO_SHA256_LEN];
    char key_id[24];
    struct shop_input in = {0};
    struct callback_ctx cb = {.hash = hash, .in = &in};
    char *sealed = NULL;
    struct err e = {0};

    if (!woo_auth_state_valid(state)) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no such authorisation request, or it has expired");
        return;
    }
    if (check_body(r->json, &ck, &cs, key_id, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    crypto_sha256(state, strlen(state), hash);
    in.consumer_key = ck;
    sealed = shops_seal_hex(server_config()->secret_key, "consumer_secret", cs);
    cb.sealed_secret = sealed;
    cb.key_id = key_id[0] ? key_id : NULL;
    if (db_tx(callback_fn, &cb, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200,
                        json_pack("{s:s, s:I}", "status", "connected", "shop_id",
                                  (json_int_t)cb.shop_id));
    free(sealed);
}
