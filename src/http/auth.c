/*
 * auth.c - checking credentials for the three realms of routes.
 *
 * none: nothing to check. admin: the ADMIN_TOKEN bearer, compared as
 * SHA-256 digests with CRYPTO_memcmp so the comparison takes the same
 * time whatever was sent. shop: an API key, hashed and looked up (one
 * indexed query; the key has 256 bits of entropy, so a plain SHA-256 is
 * the right hash: there is nothing to brute-force), then the stored hash
 * is compared again in constant time. A credential is valid only in its
 * own realm. This file never logs a token: errors say what kind of
 * credential was wrong, not what it was.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <strings.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/shops/shops.h"

static bool admin_enabled;
static uint8_t admin_digest[CRYPTO_SHA256_LEN];

void
auth_init(const char *admin_token)
{
    admin_enabled = admin_token != NULL && *admin_token != '\0';
    if (admin_enabled)
        crypto_sha256(admin_token, strlen(admin_token), admin_digest);
}

const char *
auth_bearer(const char *header)
{
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    header += 7;
    while (*header == ' ')
        header++;
    return *header ? header : NULL;
}

void
auth_key_new(char key[AUTH_KEY_LEN + 1], uint8_t hash[CRYPTO_SHA256_LEN])
{
    uint8_t raw[32];
    char *enc;

    crypto_random(raw, sizeof(raw));
    enc = crypto_base64url(raw, sizeof(raw));
    snprintf(key, AUTH_KEY_LEN + 1, "%s%s", AUTH_KEY_PREFIX, enc);
    free(enc);
    crypto_sha256(key, strlen(key), hash);
}

int
auth_key_hash(const char *key, uint8_t hash[CRYPTO_SHA256_LEN])
{
    if (strlen(key) != AUTH_KEY_LEN || strncmp(key, AUTH_KEY_PREFIX, 4) != 0)
        return -1;
    for (const char *p = key + 4; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return -1;
    crypto_sha256(key, strlen(key), hash);
    return 0;
}

struct lookup {
    const char *hash_param; /* "\x<hex>" */
    const char *hash_hex;
    int64_t shop_id, key_id;
    bool found;
};

static int
lookup_key(struct db_conn *c, void *ctx, struct err *e)
{
    struct lookup *l = ctx;
    const char *params[1] = {l->hash_param};
    PGresult *res = db_exec(c, "auth_lookup_key",
                            "SELECT shop_id, id, encode(key_hash, 'hex') FROM api_keys"
                            " WHERE key_hash = $1::bytea AND revoked_at IS NULL",
                            1, params, e);
    if (res == NULL)
        return -1;
    l->found = false;
    if (PQntuples(res) == 1) {
        const char *stored = PQgetvalue(res, 0, 2);
        l->found = crypto_equal(stored, strlen(stored), l->hash_hex, strlen(l->hash_hex));
        l->shop_id = atoll(PQgetvalue(res, 0, 0));
        l->key_id = atoll(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return 0;
}

static int
check_shop(struct req *r, const char *token, struct err *e)
{
    uint8_t hash[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1], param[2 * CRYPTO_SHA256_LEN + 3];
    struct lookup l = {.hash_param = param, .hash_hex = hex};

    if (auth_key_hash(token, hash) < 0)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "this route needs a shop API key (ask_...)");
    crypto_hex(hash, sizeof(hash), hex);
    snprintf(param, sizeof(param), "\\x%s", hex);
    if (db_run(lookup_key, &l, e) < 0)
        return -1;
    if (!l.found)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "unknown or revoked API key");
    r->shop_id = l.shop_id;
    r->key_id = l.key_id;
    return 0;
}

/* token_secret_fn for customer tokens: the shop's token secret, decrypted. */
struct secret_lookup {
    int64_t shop_id;
    char *secret;
};

static int
token_secret_fn_db(struct db_conn *c, void *ctx, struct err *e)
{
    struct secret_lookup *l = ctx;
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    int rc = 0;

    DB_I64(ids, l->shop_id);
    res = db_exec(c, "auth_token_secret", "SELECT token_secret_enc FROM shops WHERE id = $1", 1,
                  params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        l->secret = shops_secret_open(server_config()->secret_key, "token_secret",
                                      PQgetvalue(res, 0, 0));
        if (l->secret == NULL)
            rc = err_set(e, ERR_INTERNAL, NULL, "cannot decrypt the shop's token secret");
    }
    PQclear(res);
    return rc;
}

static int
token_secret(void *ctx, int64_t shop_id, char **secret, struct err *e)
{
    struct secret_lookup l = {.shop_id = shop_id};

    (void)ctx;
    *secret = NULL;
    if (db_run(token_secret_fn_db, &l, e) < 0)
        return -1;
    *secret = l.secret;
    return 0;
}

/* Unsubscribe links must keep working long after the email was sent (a
 * customer unsubscribes from last season's email); such a token can only
 * add its own address to the shop's unsubscribe list, so it gets this
 * fixed, longer ceiling instead of TOKEN_MAX_LIFETIME_S when that is lower. */
#define UNSUBSCRIBE_MAX_LIFETIME_S (400L * 86400)

int
auth_token_verify(const char *token, const char *scope, struct token_claims *out, struct err *e)
{
    long max = server_config()->token_max_lifetime_s;

    if (strcmp(scope, "unsubscribe") == 0 && max < UNSUBSCRIBE_MAX_LIFETIME_S)
        max = UNSUBSCRIBE_MAX_LIFETIME_S;
    return token_verify(token, scope, time(NULL), max, token_secret, NULL, out, e);
}

static int
check_customer(struct req *r, const char *token, struct err *e)
{
    struct token_claims claims;

    if (auth_token_verify(token, "loyalty", &claims, e) < 0)
        return -1;
    r->shop_id = claims.shop_id;
    r->customer_id = claims.customer_id;
    snprintf(r->customer_email, sizeof(r->customer_email), "%s", claims.email);
    return 0;
}

int
auth_check(struct req *r, enum auth_kind kind, struct err *e)
{
    const char *token;
    uint8_t digest[CRYPTO_SHA256_LEN];

    if (kind == AUTH_NONE)
        return 0;
    if (kind == AUTH_ADMIN && !admin_enabled)
        return err_set(e, ERR_ADMIN_DISABLED, NULL,
                       "the admin API is off: set ADMIN_TOKEN, or use `aftersale shop create`");
    token = auth_bearer(req_header(r, MHD_HTTP_HEADER_AUTHORIZATION));
    if (token == NULL)
        return err_set(e, ERR_UNAUTHORIZED, NULL,
                       "send Authorization: Bearer <%s>",
                       kind == AUTH_ADMIN      ? "admin token"
                       : kind == AUTH_CUSTOMER ? "customer token"
                                               : "shop API key");
    if (kind == AUTH_SHOP)
        return check_shop(r, token, e);
    if (kind == AUTH_CUSTOMER)
        return check_customer(r, token, e);
    crypto_sha256(token, strlen(token), digest);
    if (!crypto_equal(digest, sizeof(digest), admin_digest, sizeof(admin_digest)))
        return err_set(e, ERR_UNAUTHORIZED, NULL, "this route needs the admin token");
    return 0;
}
