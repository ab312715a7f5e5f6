/*
 * shops.c - what a shop is allowed to be, and how one is created.
 *
 * Validation is pure and table-driven (jx_check) plus the few rules a
 * table can't say: the URL's shape, the ISO 4217 code; the time zone is
 * checked against PostgreSQL's own list inside the transaction, because
 * that list is what later queries will use. Secrets are sealed here, before
 * they reach the store, so plaintext never enters SQL. shops_create() is
 * shared by the admin route and the CLI.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/money.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/auth.h"
#include "aftersale/shops/shops.h"
#include "aftersale/shops/store.h"
#include "aftersale/loyalty/jobs.h"
#include "aftersale/woo/link.h"

#define WEBHOOK_SECRET_LEN 40
#define TOKEN_SECRET_LEN 64

static const struct jx_field create_fields[] = {
    {"name", JX_STRING, true, 1, 200},
    {"url", JX_STRING, true, 1, 2048},
    {"consumer_key", JX_STRING, true, 1, 200},
    {"consumer_secret", JX_STRING, true, 1, 200},
    {"currency", JX_STRING, true, 3, 3},
    {"timezone", JX_STRING, true, 1, 64},
};
#define NFIELDS (sizeof(create_fields) / sizeof(create_fields[0]))

/* IANA names: "Area/Location[/More]" or one word ("UTC"). This rules out
 * POSIX zone strings ("UTC+3", "<-03>3") that PostgreSQL would also take. */
static bool
timezone_shape_ok(const char *tz)
{
    bool slash = strchr(tz, '/') != NULL;

    if (!isalpha((unsigned char)tz[0]))
        return false;
    for (const char *p = tz; *p; p++) {
        if (isalpha((unsigned char)*p) || *p == '/' || *p == '_')
            continue;
        if (slash && (isdigit((unsigned char)*p) || *p == '+' || *p == '-'))
            continue;
        return false;
    }
    return tz[strlen(tz) - 1] != '/' && strstr(tz, "//") == NULL;
}

bool
shops_url_valid(const char *url)
{
    const char *host, *end;

    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' ||
            *p == '\\')
            return false;
    end = host + strcspn(host, "/?#");
    if (end == host || memchr(host, '@', (size_t)(end - host)) != NULL)
        return false;
    return *host != ':' && *host != '.';
}

int
shops_validate(const json_t *body, bool create, struct shop_input *in, struct err *e)
{
    struct jx_field fields[NFIELDS];

    memcpy(fields, create_fields, sizeof(fields));
    for (size_t i = 0; i < NFIELDS; i++)
        fields[i].required = create;
    if (jx_check(body, fields, NFIELDS, NULL, e) < 0)
        return -1;
    if (!create && json_object_size(body) == 0)
        return err_set(e, ERR_INVALID, "name", "send at least one field to change");
    memset(in, 0, sizeof(*in));
    in->name = jx_str(body, "name");
    in->url = jx_str(body, "url");
    in->consumer_key = jx_str(body, "consumer_key");
    in->consumer_secret = jx_str(body, "consumer_secret");
    in->currency = jx_str(body, "currency");
    in->timezone = jx_str(body, "timezone");
    /* The name is the From display name and may be in subjects: a CR or LF
     * would be a header injection, and any control character would make
     * every email of the shop fail at sending; refuse them here, once. */
    if (in->name && !jx_one_line(in->name))
        return err_set(e, ERR_INVALID, "name",
                       "name must be one line without control characters (CR, LF, tab...)");
    if (in->url) {
        size_t n = strlen(in->url);
        if (!shops_url_valid(in->url))
            return err_set(e, ERR_INVALID, "url",
                           "url must be an http:// or https:// URL with a host and no user info");
        while (n > 0 && in->url[n - 1] == '/')
            n--;
        snprintf(in->url_norm, sizeof(in->url_norm), "%.*s", (int)n, in->url);
    }
    if (in->currency && !money_currency_valid(in->currency))
        return err_set(e, ERR_INVALID, "currency",
                       "currency must be an ISO 4217 code in upper case, such as EUR");
    if (in->timezone && !timezone_shape_ok(in->timezone))
        return err_set(e, ERR_INVALID, "timezone",
                       "timezone must be an IANA name such as Europe/Bratislava");
    return 0;
}

char *
shops_seal_hex(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const char *plain)
{
    size_t n = 0;
    uint8_t *sealed = crypto_seal(key, aad, plain, strlen(plain), &n);
    char *out = xmalloc(2 * n + 3);

    out[0] = '\\';
    out[1] = 'x';
    crypto_hex(sealed, n, out + 2);
    free(sealed);
    return out;
}

char *
shops_secret_open(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const char *hex)
{
    size_t len = strlen(hex), n;
    uint8_t *raw;
    char *plain = NULL;

    if (len < 2 || strncmp(hex, "\\x", 2) != 0 || len % 2 != 0)
        return NULL;
    n = (len - 2) / 2;
    raw = xmalloc(n + 1);
    if (crypto_unhex(hex + 2, raw, n) == 0)
        plain = crypto_open(key, aad, raw, n);
    free(raw);
    return plain;
}

struct create {
    const struct shop_input *in;
    const struct shop_sealed *sealed;
    const char *key_hash_param, *key_prefix;
    json_t *shop, *key;
};

static int
create_tx(struct db_conn *c, void *ctx, struct err *e)
{
    struct create *cr = ctx;
    bool tz_ok = false;

    json_decref(cr->shop);
    json_decref(cr->key);
    cr->shop = cr->key = NULL;
    if (shops_store_timezone_valid(c, cr->in->timezone, &tz_ok, e) < 0)
        return -1;
    if (!tz_ok)
        return err_set(e, ERR_INVALID, "timezone",
                       "timezone must be an IANA name such as Europe/Bratislava");
    if (shops_store_insert(c, cr->in, cr->sealed, &cr->shop, e) < 0)
        return -1;
    if (shops_store_key_insert(c, json_integer_value(json_object_get(cr->shop, "id")),
                               cr->key_hash_param, cr->key_prefix, &cr->key, e) < 0)
        return -1;
    /* Every shop has its WooCommerce sync state and periodic jobs from birth. */
    if (woo_shop_init(c, json_integer_value(json_object_get(cr->shop, "id")), e) < 0)
        return -1;
    return loyalty_shop_init(c, json_integer_value(json_object_get(cr->shop, "id")), e);
}

json_t *
shops_create(const json_t *body, const uint8_t key[CRYPTO_KEY_LEN], struct err *e)
{
    struct shop_input in;
    struct shop_sealed sealed = {0};
    char api_key[AUTH_KEY_LEN + 1], hash_hex[2 * CRYPTO_SHA256_LEN + 1];
    char hash_param[2 * CRYPTO_SHA256_LEN + 3], prefix[9];
    char webhook_secret[WEBHOOK_SECRET_LEN + 1], token_secret[TOKEN_SECRET_LEN + 1];
    uint8_t hash[CRYPTO_SHA256_LEN];
    struct create cr = {.in = &in, .sealed = &sealed, .key_hash_param = hash_param,
                        .key_prefix = prefix};
    json_t *out = NULL;

    if (shops_validate(body, true, &in, e) < 0)
        return NULL;
    auth_key_new(api_key, hash);
    crypto_hex(hash, sizeof(hash), hash_hex);
    snprintf(hash_param, sizeof(hash_param), "\\x%s", hash_hex);
    snprintf(prefix, sizeof(prefix), "%.8s", api_key);
    crypto_random_alnum(webhook_secret, WEBHOOK_SECRET_LEN);
    crypto_random_alnum(token_secret, TOKEN_SECRET_LEN);
    sealed.consumer_secret = shops_seal_hex(key, "consumer_secret", in.consumer_secret);
    sealed.webhook_secret = shops_seal_hex(key, "webhook_secret", webhook_secret);
    sealed.token_secret = shops_seal_hex(key, "token_secret", token_secret);

    if (db_tx(create_tx, &cr, e) == 0) {
        out = cr.shop;
        cr.shop = NULL;
        json_object_set_new(out, "api_key", json_string(api_key));
        json_object_set(out, "api_key_id", json_object_get(cr.key, "id"));
        json_object_set_new(out, "webhook_secret", json_string(webhook_secret));
        json_object_set_new(out, "token_secret", json_string(token_secret));
    }
    json_decref(cr.shop);
    json_decref(cr.key);
    free(sealed.consumer_secret);
    free(sealed.webhook_secret);
    free(sealed.token_secret);
    crypto_wipe(api_key, sizeof(api_key));
    crypto_wipe(webhook_secret, sizeof(webhook_secret));
    crypto_wipe(token_secret, sizeof(token_secret));
    return out;
}
