/*
 * handlers.c - the privacy routes of the shop API: export everything
 * aftersale holds about a customer, and erase it (the WordPress plugin's
 * personal-data exporter and eraser call these; docs/privacy.md).
 *
 * A customer is an email (case-insensitive) and/or a WooCommerce customer
 * id. Erasing runs in one transaction with its record in
 * customer_erasures, and logs one line naming the customer only by the
 * tombstone of the address, never the address itself.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/log.h"
#include "aftersale/customers/privacy.h"
#include "aftersale/hooks/hooks.h"

/* Trim and lower-case an address into out[256]; -1 when it is not one. */
static int
email_normalise(const char *in, char out[256])
{
    size_t n;

    while (*in == ' ' || *in == '\t')
        in++;
    n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n < 3 || n > 254 || memchr(in, '@', n) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[n] = '\0';
    return 0;
}

/* The customer of a request from an email and a customer id (either may
 * be absent, not both); replies 422 and returns -1 when neither works. */
static int
who_or_reply(struct req *r, const char *email, int64_t customer_id, char buf[256],
             struct customer_ref *who)
{
    who->shop_id = r->shop_id;
    who->email = NULL;
    who->customer_id = customer_id;
    if (customer_id < 0) {
        reply_problem(r, ERR_INVALID, "customer_id", "customer_id must be a positive integer");
        return -1;
    }
    if (email != NULL) {
        if (email_normalise(email, buf) < 0) {
            reply_problem(r, ERR_INVALID, "email",
                          "email must be an address of 3 to 254 characters");
            return -1;
        }
        who->email = buf;
    }
    if (who->email == NULL && who->customer_id == 0) {
        reply_problem(r, ERR_INVALID, "email", "email or customer_id is required");
        return -1;
    }
    return 0;
}

static json_t *
who_json(const struct customer_ref *who)
{
    return json_pack("{s:o, s:o}", "email", who->email ? json_string(who->email) : json_null(),
                     "customer_id",
                     who->customer_id ? json_integer(who->customer_id) : json_null());
}

struct export_ctx {
    struct customer_ref who;
    json_t *out;
};

static int
export_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct export_ctx *x = ctx;
    json_decref(x->out);
    x->out = NULL;
    return customers_store_export(c, &x->who, &x->out, e);
}

void
customers_handle_export(struct req *r)
{
    struct export_ctx x = {0};
    struct err e = {0};
    char email[256];
    const char *cid = req_query(r, "customer_id");
    int64_t customer_id = 0;

    if (cid != NULL) {
        char *end = NULL;
        long long v = strtoll(cid, &end, 10);
        if (*cid == '\0' || *end != '\0' || v <= 0) {
            reply_problem(r, ERR_INVALID, "customer_id", "customer_id must be a positive integer");
            return;
        }
        customer_id = v;
    }
    if (who_or_reply(r, req_query(r, "email"), customer_id, email, &x.who) < 0)
        return;
    /* One snapshot: REPEATABLE READ is not needed, the transaction's
     * single statement already sees one. */
    if (db_run(export_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    json_object_set_new(x.out, "customer", who_json(&x.who));
    reply_json_take(r, 200, x.out);
}

struct erase_ctx {
    struct customer_ref who;
    char actor[48];
    json_t *counts;
};

/* The first 32 hex digits of sha256(email) (email normalised): the hash
 * in customer_tombstone() (sql/015_privacy.sql) and in the log line. */
static void
email_hash(const char *email, char hex[2 * CRYPTO_SHA256_LEN + 1])
{
    uint8_t h[CRYPTO_SHA256_LEN];

    crypto_sha256(email, strlen(email), h);
    crypto_hex(h, CRYPTO_SHA256_LEN, hex);
    hex[32] = '\0';
}

/* customer_tombstone(email) of the SQL, in C. */
static void
tombstone(const char *email, char out[80])
{
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    email_hash(email, hex);
    snprintf(out, 80, "erased-%.32s@erased.invalid", hex);
}

static int
erase_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct erase_ctx *x = ctx;
    json_t *data;

    json_decref(x->counts);
    x->counts = NULL;
    if (customers_store_erase(c, &x->who, x->actor, &x->counts, e) < 0)
        return -1;
    /* The outbound customer.erased event, in the erasure's transaction
     * (outbox): the customer only as the tombstone and the customer id,
     * never the address, which is what was just erased. */
    data = json_pack("{s:o, s:o, s:O}", "customer_id",
                     x->who.customer_id ? json_integer(x->who.customer_id) : json_null(),
                     "email_tombstone", json_null(), "erased", x->counts);
    if (x->who.email) {
        char tomb[80];
        tombstone(x->who.email, tomb);
        json_object_set_new(data, "email_tombstone", json_string(tomb));
    }
    return hooks_emit(c, x->who.shop_id, "customer.erased", data, e);
}

/* The line in the log: who asked and what changed, the customer only as
 * the tombstone's hash (the same one customer_erasures keeps). */
static void
log_erasure(const struct erase_ctx *x, const struct req *r)
{
    json_t *f = json_pack("{s:I, s:s, s:O}", "shop_id", (json_int_t)x->who.shop_id, "actor",
                          x->actor, "counts", x->counts);
    if (x->who.customer_id)
        json_object_set_new(f, "customer_id", json_integer(x->who.customer_id));
    if (x->who.email) {
        char hex[2 * CRYPTO_SHA256_LEN + 1];
        email_hash(x->who.email, hex);
        json_object_set_new(f, "email_hash", json_string(hex));
    }
    json_object_set_new(f, "request_id", json_string(r->id));
    log_take(LOG_INFO, "customer erased", f);
}

void
customers_handle_erase(struct req *r)
{
    struct erase_ctx x = {0};
    struct err e = {0};
    char email[256];
    json_int_t customer_id = 0;
    const char *addr = NULL;

    static const char *const keys[] = {"email", "customer_id", NULL};
    const json_t *v;

    if (jx_known_keys(r->json, keys, "", &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if ((v = json_object_get(r->json, "email")) != NULL) {
        if (!json_is_string(v)) {
            reply_problem(r, ERR_INVALID, "email", "email must be a string");
            return;
        }
        addr = json_string_value(v);
    }
    if ((v = json_object_get(r->json, "customer_id")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            reply_problem(r, ERR_INVALID, "customer_id", "customer_id must be a positive integer");
            return;
        }
        customer_id = json_integer_value(v);
    }
    if (who_or_reply(r, addr, (int64_t)customer_id, email, &x.who) < 0)
        return;
    snprintf(x.actor, sizeof(x.actor), "api_key:%" PRId64, r->key_id);
    if (db_tx(erase_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    log_erasure(&x, r);
    reply_json_take(r, 200,
                    json_pack("{s:o, s:o}", "customer", who_json(&x.who), "erased", x.counts));
}
