/*
 * handlers.c - HTTP glue of the shops module.
 *
 * Each handler reads its path, query and body, calls shops.c or the store
 * inside one db_run/db_tx, and ends in exactly one reply. No SQL here; the
 * admin routes (/v1/shops...) and the shop's own routes (/v1/shop) share
 * the same functions and differ only in where the shop id comes from:
 * the path for the admin, the API key for the shop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/shops/handlers.h"
#include "aftersale/shops/store.h"

/* ---- helpers ---------------------------------------------------------- */

struct page_args {
    int64_t shop_id, after;
    int limit;
    json_t *items;
    int64_t next_after;
};

static int
page_args_or_reply(struct req *r, struct page_args *p)
{
    return req_page_or_reply(r, &p->limit, &p->after);
}

static void
reply_page(struct req *r, struct page_args *p)
{
    reply_page_take(r, p->items, p->next_after);
    p->items = NULL;
}

struct one {
    int64_t id, key_id;
    struct shop_input in;
    struct shop_sealed sealed;
    json_t *out;
    bool found;
};

/* ---- shops ------------------------------------------------------------ */

void
shops_handle_create(struct req *r)
{
    struct err e = {0};
    json_t *shop = shops_create(r->json, server_config()->secret_key, &e);
    char location[64];

    if (shop == NULL) {
        reply_err(r, &e);
        return;
    }
    snprintf(location, sizeof(location), "/v1/shops/%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(shop, "id")));
    req_add_header(r, "Location", location);
    reply_json_take(r, 201, shop);
}

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_args *p = ctx;
    return shops_store_list(c, p->after, p->limit, &p->items, &p->next_after, e);
}

void
shops_handle_list(struct req *r)
{
    struct page_args p = {0};
    struct err e = {0};

    if (page_args_or_reply(r, &p) < 0)
        return;
    if (db_run(list_fn, &p, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_page(r, &p);
}

static int
get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct one *o = ctx;
    return shops_store_get(c, o->id, &o->out, e);
}

static void
get_shop(struct req *r, int64_t id)
{
    struct one o = {.id = id};
    struct err e = {0};

    if (db_run(get_fn, &o, &e) < 0)
        reply_err(r, &e);
    else if (o.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no shop %" PRId64, id);
    else
        reply_json_take(r, 200, o.out);
}

void
shops_handle_get(struct req *r)
{
    int64_t id;

    if (req_param_id_or_reply(r, "id", &id) == 0)
        get_shop(r, id);
}

void
shops_handle_self_get(struct req *r)
{
    get_shop(r, r->shop_id);
}

static int
patch_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct one *o = ctx;

    json_decref(o->out);
    o->out = NULL;
    if (o->in.timezone) {
        bool ok = false;
        if (shops_store_timezone_valid(c, o->in.timezone, &ok, e) < 0)
            return -1;
        if (!ok)
            return err_set(e, ERR_INVALID, "timezone",
                           "timezone must be an IANA name such as Europe/Bratislava");
    }
    return shops_store_update(c, o->id, &o->in, &o->sealed, &o->out, e);
}

static void
patch_shop(struct req *r, int64_t id)
{
    struct one o = {.id = id};
    struct err e = {0};

    if (shops_validate(r->json, false, &o.in, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (o.in.consumer_secret)
        o.sealed.consumer_secret =
            shops_seal_hex(server_config()->secret_key, "consumer_secret", o.in.consumer_secret);
    if (db_tx(patch_fn, &o, &e) < 0)
        reply_err(r, &e);
    else if (o.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no shop %" PRId64, id);
    else
        reply_json_take(r, 200, o.out);
    free(o.sealed.consumer_secret);
}

void
shops_handle_patch(struct req *r)
{
    int64_t id;

    if (req_param_id_or_reply(r, "id", &id) == 0)
        patch_shop(r, id);
}

void
shops_handle_self_patch(struct req *r)
{
    patch_shop(r, r->shop_id);
}

/* ---- API keys --------------------------------------------------------- */

struct key_create {
    int64_t shop_id;
    const char *hash_param, *prefix;
    json_t *out;
};

static int
key_create_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct key_create *k = ctx;
    return shops_store_key_insert(c, k->shop_id, k->hash_param, k->prefix, &k->out, e);
}

void
shops_handle_key_create(struct req *r)
{
    char key[AUTH_KEY_LEN + 1], hex[2 * CRYPTO_SHA256_LEN + 1], param[2 * CRYPTO_SHA256_LEN + 3];
    char prefix[9], location[96];
    uint8_t hash[CRYPTO_SHA256_LEN];
    struct key_create k = {.hash_param = param, .prefix = prefix};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &k.shop_id) < 0)
        return;
    /* The body is optional and has no fields yet: anything in it is a typo. */
    if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    auth_key_new(key, hash);
    crypto_hex(hash, sizeof(hash), hex);
    snprintf(param, sizeof(param), "\\x%s", hex);
    snprintf(prefix, sizeof(prefix), "%.8s", key);
    if (db_run(key_create_fn, &k, &e) < 0) {
        reply_err(r, &e);
    } else if (k.out == NULL) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no shop %" PRId64, k.shop_id);
    } else {
        json_object_set_new(k.out, "api_key", json_string(key));
        snprintf(location, sizeof(location), "/v1/shops/%" PRId64 "/api-keys/%" JSON_INTEGER_FORMAT,
                 k.shop_id, json_integer_value(json_object_get(k.out, "id")));
        req_add_header(r, "Location", location);
        reply_json_take(r, 201, k.out);
    }
    crypto_wipe(key, sizeof(key));
}

static int
key_list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_args *p = ctx;
    json_t *shop = NULL;

    if (shops_store_get(c, p->shop_id, &shop, e) < 0)
        return -1;
    if (shop == NULL)
        return err_set(e, ERR_NOT_FOUND, NULL, "no shop %" PRId64, p->shop_id);
    json_decref(shop);
    return shops_store_key_list(c, p->shop_id, p->after, p->limit, &p->items, &p->next_after, e);
}

void
shops_handle_key_list(struct req *r)
{
    struct page_args p = {0};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &p.shop_id) < 0 || page_args_or_reply(r, &p) < 0)
        return;
    if (db_run(key_list_fn, &p, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_page(r, &p);
}

static int
key_revoke_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct one *o = ctx;
    return shops_store_key_revoke(c, o->id, o->key_id, &o->found, e);
}

void
shops_handle_key_revoke(struct req *r)
{
    struct one o = {0};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &o.id) < 0 ||
        req_param_id_or_reply(r, "key_id", &o.key_id) < 0)
        return;
    if (db_run(key_revoke_fn, &o, &e) < 0)
        reply_err(r, &e);
    else if (!o.found)
        reply_problem(r, ERR_NOT_FOUND, NULL, "shop %" PRId64 " has no API key %" PRId64, o.id,
                      o.key_id);
    else
        reply_empty(r, 204);
}
