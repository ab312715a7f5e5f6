/*
 * handlers.c - the review routes: the merchant's (settings, requests,
 * moderation, statistics) and the customer's (the public API behind the
 * link in the email).
 *
 * The public routes take the customer token in the path (from the email
 * link) and act only on that token's request: a customer can review the
 * products of their request, once each, and nothing else. Approving a
 * review enqueues its publication in WooCommerce and pays the loyalty
 * bonus (when the shop's incentive is points) in the same transaction, so
 * the bonus is paid once per review whatever is clicked twice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/hooks/hooks.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/handlers.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/reviews/handlers.h"
#include "aftersale/returns/returns.h"
#include "aftersale/reviews/reviews.h"
#include "aftersale/shops/shops.h"
#include "aftersale/woo/link.h"


/* ---- settings ------------------------------------------------------------ */

/* What a PUT does to the WordPress credentials, which live beside the
 * settings document (the password sealed in its own column). */
enum wp_change {
    WP_KEEP,     /* "wordpress" absent, or {} */
    WP_SET,      /* username and application_password: replace both */
    WP_USERNAME, /* username only: a new user name, the password kept */
    WP_CLEAR,    /* null, or a null username: remove both */
};

/* Computed by the service, shown by GET, ignored on PUT (jx.h). */
static const char *const settings_read_only[] = {"wordpress.application_password_set", NULL};

struct settings_ctx {
    int64_t shop_id;
    json_t *patch;             /* without the "wordpress" and "contact_policy" keys */
    json_t *contact_policy;    /* deprecated here: forwarded to the messaging settings */
    const char *wp_user, *wp_password;
    enum wp_change wp;
    json_t *out;
};

static int
settings_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct settings_ctx *x = ctx;
    struct reviews_settings cur;
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    if (reviews_settings_load(c, x->shop_id, &cur, e) < 0)
        return -1;
    if (x->patch && (reviews_settings_from_json(&cur, x->patch, e) < 0 ||
                     reviews_settings_save(c, x->shop_id, &cur, e) < 0))
        goto out;
    if (x->contact_policy != NULL) {
        /* Before the outreach layer the contact policy was a review
         * setting; a client that still sends it changes the shop's one
         * policy (GET /v1/messaging/settings), in this transaction. */
        struct outreach_settings os;
        if (outreach_settings_load(c, x->shop_id, &os, e) < 0 ||
            outreach_contact_policy_from_json(&os, x->contact_policy, e) < 0 ||
            outreach_settings_save(c, x->shop_id, &os, e) < 0)
            goto out;
    }
    if (x->wp != WP_KEEP) {
        /* The credentials live beside the settings document: make sure its
         * row exists (saving what is current changes nothing), then set them.
         * A username alone keeps the sealed password ($4 false). */
        char *sealed = x->wp_password ? shops_seal_hex(server_config()->secret_key, "wp_password",
                                                       x->wp_password)
                                      : NULL;
        const char *p[4] = {shop, x->wp == WP_CLEAR ? NULL : x->wp_user, sealed,
                            x->wp == WP_USERNAME ? "f" : "t"};
        long n = -1;

        if (x->patch != NULL || reviews_settings_save(c, x->shop_id, &cur, e) == 0)
            n = db_exec_cmd(c, "reviews_settings_wp",
                            "UPDATE review_settings SET wp_username = $2,"
                            " wp_password_enc = CASE WHEN $4::boolean THEN $3::bytea"
                            "  ELSE wp_password_enc END WHERE shop_id = $1",
                            4, p, e);
        free(sealed);
        if (n < 0)
            goto out;
    }
    x->out = reviews_settings_to_json(&cur);
    res = db_exec(c, "reviews_settings_wp_get",
                  "SELECT wp_username, wp_password_enc IS NOT NULL FROM review_settings"
                  " WHERE shop_id = $1",
                  1, params, e);
    if (res == NULL)
        goto out;
    json_object_set_new(
        x->out, "wordpress",
        json_pack("{s:o, s:b}", "username",
                  PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? json_string(PQgetvalue(res, 0, 0))
                                                                  : json_null(),
                  "application_password_set",
                  PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0));
    PQclear(res);
    rc = 0;
out:
    reviews_settings_free(&cur);
    return rc;
}

void
reviews_handle_settings_get(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};

    reply_tx_json_take(r, settings_fn, &x, &x.out);
}

/* The "wordpress" member of a PUT: null or an object with a username
 * (string, or null to remove the credentials) and an application
 * password (which needs a username beside it). */
static int
wordpress_from_json(struct settings_ctx *x, const json_t *wp, struct err *e)
{
    static const char *const keys[] = {"username", "application_password", NULL};
    const json_t *user, *pass;
    size_t n;

    if (wp == NULL)
        return 0;
    if (json_is_null(wp)) {
        x->wp = WP_CLEAR;
        return 0;
    }
    if (!json_is_object(wp))
        return err_set(e, ERR_INVALID, "wordpress", "wordpress must be an object or null");
    if (jx_known_keys(wp, keys, "wordpress.", e) < 0)
        return -1;
    user = json_object_get(wp, "username");
    pass = json_object_get(wp, "application_password");
    if (user != NULL && !json_is_null(user)) {
        n = json_is_string(user) ? jx_utf8_len(json_string_value(user)) : 0;
        if (n < 1 || n > 200)
            return err_set(e, ERR_INVALID, "wordpress.username",
                           "wordpress.username must be a string of 1 to 200 characters, or null "
                           "to remove the credentials");
        x->wp_user = json_string_value(user);
    }
    if (pass != NULL) {
        n = json_is_string(pass) ? jx_utf8_len(json_string_value(pass)) : 0;
        if (n < 1 || n > 200)
            return err_set(e, ERR_INVALID, "wordpress.application_password",
                           "wordpress.application_password must be a string of 1 to 200 "
                           "characters");
        if (x->wp_user == NULL)
            return err_set(e, ERR_INVALID, "wordpress.username",
                           "wordpress.username is required with wordpress.application_password");
        x->wp_password = json_string_value(pass);
        x->wp = WP_SET;
    } else if (x->wp_user != NULL) {
        x->wp = WP_USERNAME;
    } else if (user != NULL) {
        x->wp = WP_CLEAR;
    }
    return 0;
}

void
reviews_handle_settings_put(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    json_t *body = jx_without_read_only(r->json, settings_read_only);

    /* The WordPress credentials are a secret: sealed in their own column,
     * never part of the settings document, never shown (only whether the
     * password is set), and kept when a PUT leaves the password out. */
    if (wordpress_from_json(&x, json_object_get(body, "wordpress"), &e) < 0) {
        reply_err(r, &e);
        json_decref(body);
        return;
    }
    x.patch = json_deep_copy(body);
    json_object_del(x.patch, "wordpress");
    x.contact_policy = json_incref(json_object_get(x.patch, "contact_policy"));
    json_object_del(x.patch, "contact_policy");
    reply_tx_json_take(r, settings_fn, &x, &x.out);
    json_decref(x.patch);
    json_decref(x.contact_policy);
    json_decref(body);
}

/* ---- requests ------------------------------------------------------------ */

struct request_ctx {
    int64_t shop_id, order_id, id;
    bool send_now;
    const char *locale; /* the customer's, or NULL */
    const char *outcome;
    json_t *out;
};

static int
request_create_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct request_ctx *x = ctx;
    struct reviews_settings s;
    char shop[24], order[24];
    const char *params[2] = {shop, order};
    PGresult *res;
    json_t *summary = NULL;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    DB_I64(order, x->order_id);
    /* The order as the snapshot knows it, in the event payload's shape. */
    res = db_exec(c, "reviews_order_summary",
                  "SELECT json_build_object('order_id', o.order_id, 'customer_id', o.customer_id,"
                  " 'email', o.billing_email, 'first_name', o.billing_first_name,"
                  " 'shipping_country', o.shipping_country, 'status', o.status,"
                  " 'items', coalesce((SELECT json_agg(json_build_object('product_id', i.product_id,"
                  "   'name', i.name) ORDER BY i.line_item_id) FROM order_items i"
                  "   WHERE i.shop_id = o.shop_id AND i.order_id = o.order_id), '[]'))::text"
                  " FROM orders o WHERE o.shop_id = $1 AND o.order_id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_INVALID, "order_id",
                       "aftersale has no order %" PRId64 " for this shop (webhook or sync first)",
                       x->order_id);
    }
    {
        json_error_t jerr;
        summary = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
    }
    PQclear(res);
    if (summary != NULL && x->locale != NULL)
        json_object_set_new(summary, "locale", json_string(x->locale));
    if (reviews_settings_load(c, x->shop_id, &s, e) < 0)
        goto out;
    if (reviews_request_create(c, x->shop_id, summary, &s, x->send_now ? time(NULL) : 0, &x->id,
                               &x->outcome, e) < 0)
        goto done;
    if (x->id == 0) {
        err_set(e, strstr(x->outcome, "already") ? ERR_CONFLICT : ERR_INVALID, "order_id", "%s",
                x->outcome);
        goto done;
    }
    rc = reviews_request_json(c, x->shop_id, x->id, &x->out, e);
done:
    reviews_settings_free(&s);
out:
    json_decref(summary);
    return rc;
}

void
reviews_handle_request_create(struct req *r)
{
    static const struct jx_field fields[] = {
        {"order_id", JX_INTEGER, true, 0, 0},
        {"send_now", JX_BOOLEAN, false, 0, 0},
        {"locale", JX_STRING, false, 0, 35},
    };
    struct request_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    char location[64];

    if (jx_check(r->json, fields, 3, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (outreach_order_locale_or_reply(r, &x.order_id, &x.locale) < 0)
        return;
    x.send_now = json_is_true(json_object_get(r->json, "send_now"));
    if (db_tx(request_create_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    snprintf(location, sizeof(location), "/v1/review-requests/%" PRId64, x.id);
    req_add_header(r, "Location", location);
    reply_json_take(r, 201, x.out);
}

static int
request_get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct request_ctx *x = ctx;
    return reviews_request_json(c, x->shop_id, x->id, &x->out, e);
}

void
reviews_handle_request_get(struct req *r)
{
    struct request_ctx x = {.shop_id = r->shop_id};

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    reply_run_json_take(r, request_get_fn, &x, &x.out, "review request", x.id);
}

/* ---- an order's requests (the order screen's box) --------------------------- */

struct order_requests_ctx {
    int64_t shop_id, order_id, after, next_after;
    int limit;
    json_t *out;
};

/* The reviews made from one request, oldest first (new reference). */
static json_t *
request_reviews(struct db_conn *c, int64_t shop_id, int64_t request_id, struct err *e)
{
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;
    json_t *out;

    DB_I64(shop, shop_id);
    DB_I64(rid, request_id);
    res = db_exec(c, "reviews_of_request",
                  "SELECT " REVIEW_COLS " FROM reviews WHERE shop_id = $1 AND request_id = $2"
                  " ORDER BY id",
                  2, params, e);
    if (res == NULL)
        return NULL;
    out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(out, reviews_review_json(res, i));
    PQclear(res);
    return out;
}

/* An order has one request at most (UNIQUE (shop_id, order_id)), but the
 * route is a list like every other, so a later change to that rule does
 * not change the API. Each request carries the reviews made from it. */
static int
order_requests_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct order_requests_ctx *x = ctx;
    char shop[24], order[24], after[24], limit[16];
    const char *params[4] = {shop, order, after, limit};
    PGresult *res;
    int n;

    json_decref(x->out);
    x->out = json_array();
    DB_I64(shop, x->shop_id);
    DB_I64(order, x->order_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    res = db_exec(c, "reviews_requests_of_order",
                  "SELECT id FROM review_requests WHERE shop_id = $1 AND order_id = $2"
                  " AND id > $3 ORDER BY id LIMIT $4",
                  4, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    for (int i = 0; i < n && i < x->limit; i++) {
        json_t *one = NULL, *reviews;
        if (reviews_request_json(c, x->shop_id, atoll(PQgetvalue(res, i, 0)), &one, e) < 0 ||
            (one != NULL &&
             (reviews = request_reviews(c, x->shop_id, atoll(PQgetvalue(res, i, 0)), e)) == NULL)) {
            json_decref(one);
            PQclear(res);
            return -1;
        }
        if (one == NULL)
            continue;
        json_object_set_new(one, "reviews", reviews);
        json_array_append_new(x->out, one);
    }
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

void
reviews_handle_requests_list(struct req *r)
{
    struct order_requests_ctx x = {.shop_id = r->shop_id};

    if (req_order_page_or_reply(r, &x.order_id, &x.limit, &x.after) < 0)
        return;
    reply_run_page_take(r, order_requests_fn, &x, &x.out, &x.next_after);
}

/* ---- moderation ------------------------------------------------------------ */

struct list_ctx {
    int64_t shop_id, product_id, after, next_after;
    const char *status;
    int rating, limit;
    json_t *out;
};

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct list_ctx *x = ctx;
    char shop[24], product[24], rating[8], after[24], limit[16];
    const char *params[6] = {shop, x->status, x->product_id > 0 ? product : NULL,
                             x->rating > 0 ? rating : NULL, after, limit};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(product, x->product_id);
    snprintf(rating, sizeof(rating), "%d", x->rating);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    res = db_exec(c, "reviews_list",
                  "SELECT " REVIEW_COLS " FROM reviews WHERE shop_id = $1"
                  " AND ($2::text IS NULL OR status = $2)"
                  " AND ($3::bigint IS NULL OR product_id = $3)"
                  " AND ($4::integer IS NULL OR rating = $4) AND id > $5 ORDER BY id LIMIT $6",
                  6, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    x->out = json_array();
    for (int i = 0; i < n && i < x->limit; i++)
        json_array_append_new(x->out, reviews_review_json(res, i));
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

void
reviews_handle_list(struct req *r)
{
    struct list_ctx x = {.shop_id = r->shop_id, .status = req_query(r, "status")};
    const char *product = req_query(r, "product_id"), *rating = req_query(r, "rating");

    if (req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    if (x.status && strcmp(x.status, "pending") != 0 && strcmp(x.status, "approved") != 0 &&
        strcmp(x.status, "rejected") != 0) {
        reply_problem(r, ERR_MALFORMED, "status", "status must be pending, approved or rejected");
        return;
    }
    if (product && cursor_parse_id(product, &x.product_id) < 0) {
        reply_problem(r, ERR_MALFORMED, "product_id", "product_id must be a positive integer");
        return;
    }
    if (rating) {
        if (strlen(rating) != 1 || rating[0] < '1' || rating[0] > '5') {
            reply_problem(r, ERR_MALFORMED, "rating", "rating must be 1 to 5");
            return;
        }
        x.rating = rating[0] - '0';
    }
    reply_run_page_take(r, list_fn, &x, &x.out, &x.next_after);
}

struct moderate_ctx {
    int64_t shop_id, id, key_id;
    const char *action; /* approve, reject, reply */
    const char *reply;
    json_t *out;
};

/* Approval side effects: publication job and, when the shop rewards
 * reviews with points, the loyalty bonus (once per review: its source). */
static int
approved(struct db_conn *c, int64_t shop_id, const PGresult *res, struct err *e)
{
    struct reviews_settings s;
    char key[48], src[32];
    json_t *payload;
    int64_t id = atoll(PQgetvalue(res, 0, 0));
    int rc;

    snprintf(key, sizeof(key), "publish:%" PRId64, id);
    payload = json_pack("{s:I}", "review_id", (json_int_t)id);
    rc = jobs_enqueue(c, shop_id, "reviews.publish", payload, key, 0, 0, NULL, e);
    json_decref(payload);
    if (rc < 0 || reviews_settings_load(c, shop_id, &s, e) < 0)
        return -1;
    {
        /* No incentive for an item under a return (open or resolved). */
        bool returned;
        if (returns_line_blocked(c, shop_id, atoll(PQgetvalue(res, 0, 2)), 0,
                                 atoll(PQgetvalue(res, 0, 3)), &returned, e) < 0) {
            reviews_settings_free(&s);
            return -1;
        }
        if (returned)
            s.incentive = REVIEWS_INCENTIVE_NONE;
    }
    if (s.incentive == REVIEWS_INCENTIVE_POINTS) {
        DB_I64(src, id);
        rc = loyalty_grant(c, shop_id, 0, PQgetvalue(res, 0, 8), "review", src, "review", e);
    } else if (s.incentive == REVIEWS_INCENTIVE_COUPON) {
        /* The code is fixed now, so the coupon job creates this one code
         * however often it runs. */
        char code[16], rnd[11], shop[24], rid[24];
        const char *p[3] = {shop, rid, code};
        crypto_random_alnum(rnd, 10);
        for (char *q = rnd; *q; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char)(*q - 'a' + 'A');
        snprintf(code, sizeof(code), "RV-%s", rnd);
        DB_I64(shop, shop_id);
        DB_I64(rid, id);
        snprintf(key, sizeof(key), "coupon:%" PRId64, id);
        payload = json_pack("{s:I}", "review_id", (json_int_t)id);
        rc = db_exec_cmd(c, "reviews_coupon_code",
                         "UPDATE reviews SET coupon_code = $3 WHERE shop_id = $1 AND id = $2"
                         " AND coupon_code IS NULL",
                         3, p, e) < 0
                 ? -1
                 : jobs_enqueue(c, shop_id, "reviews.coupon", payload, key, 0, 0, NULL, e);
        json_decref(payload);
    }
    reviews_settings_free(&s);
    return rc;
}

static int
moderate_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct moderate_ctx *x = ctx;
    char shop[24], id[24];
    const char *params[3] = {shop, id, x->reply};
    PGresult *res;
    const char *status;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    DB_I64(id, x->id);
    res = db_exec(c, "reviews_moderate_lock",
                  "SELECT status, reply IS NOT NULL FROM reviews WHERE shop_id = $1 AND id = $2"
                  " FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no review %" PRId64, x->id);
    }
    status = PQgetvalue(res, 0, 0);
    if (strcmp(x->action, "reply") == 0 && strcmp(status, "approved") != 0) {
        PQclear(res);
        return err_set(e, ERR_CONFLICT, NULL, "only an approved review can be answered publicly");
    }
    if (strcmp(x->action, "reply") == 0 && strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        PQclear(res);
        return err_set(e, ERR_CONFLICT, NULL, "this review already has a reply");
    }
    if (strcmp(x->action, "reply") != 0 && strcmp(status, "pending") != 0) {
        err_set(e, ERR_CONFLICT, NULL, "review %" PRId64 " is %s, not pending", x->id, status);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (strcmp(x->action, "reply") == 0)
        res = db_exec(c, "reviews_reply_set",
                      "UPDATE reviews SET reply = $3, replied_at = now() WHERE shop_id = $1"
                      " AND id = $2 RETURNING " REVIEW_COLS,
                      3, params, e);
    else
        res = db_exec(c, strcmp(x->action, "approve") == 0 ? "reviews_approve" : "reviews_reject",
                      strcmp(x->action, "approve") == 0
                          ? "UPDATE reviews SET status = 'approved', moderated_at = now()"
                            " WHERE shop_id = $1 AND id = $2 RETURNING " REVIEW_COLS
                          : "UPDATE reviews SET status = 'rejected', moderated_at = now()"
                            " WHERE shop_id = $1 AND id = $2 RETURNING " REVIEW_COLS,
                      2, params, e);
    if (res == NULL)
        return -1;
    x->out = reviews_review_json(res, 0);
    if (strcmp(x->action, "approve") == 0 && approved(c, x->shop_id, res, e) < 0) {
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (strcmp(x->action, "reply") == 0) {
        char key[48];
        json_t *payload = json_pack("{s:I}", "review_id", (json_int_t)x->id);
        int rc;
        snprintf(key, sizeof(key), "reply:%" PRId64, x->id);
        rc = jobs_enqueue(c, x->shop_id, "reviews.reply", payload, key, 0, 0, NULL, e);
        json_decref(payload);
        return rc;
    }
    return 0;
}

static void
moderate(struct req *r, const char *action)
{
    struct moderate_ctx x = {.shop_id = r->shop_id, .action = action};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (strcmp(action, "reply") == 0) {
        static const struct jx_field fields[] = {{"body", JX_STRING, true, 1, 5000}};
        if (jx_check(r->json, fields, 1, NULL, &e) < 0) {
            reply_err(r, &e);
            return;
        }
        x.reply = jx_str(r->json, "body");
    } else if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (db_tx(moderate_fn, &x, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, x.out);
}

void
reviews_handle_approve(struct req *r)
{
    moderate(r, "approve");
}

void
reviews_handle_reject(struct req *r)
{
    moderate(r, "reject");
}

void
reviews_handle_reply(struct req *r)
{
    moderate(r, "reply");
}

/* ---- statistics ------------------------------------------------------------- */

struct stats_ctx {
    int64_t shop_id;
    const char *from, *to;
    json_t *out;
};

static int
stats_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct stats_ctx *x = ctx;
    char shop[24];
    const char *params[3] = {shop, x->from, x->to};
    PGresult *res;
    json_error_t jerr;

    DB_I64(shop, x->shop_id);
    /* Name the bad bound: RFC 3339 shape was checked, the calendar is PostgreSQL's. */
    if (db_time_range_check(c, x->from, x->to, e) < 0)
        return -1;
    res = db_exec(
        c, "reviews_stats",
        "WITH span AS (SELECT coalesce($2::timestamptz, now() - interval '30 days') AS f,"
        "                     coalesce($3::timestamptz, now()) AS t),"
        " rq AS (SELECT r.* FROM review_requests r, span WHERE r.shop_id = $1"
        "        AND r.sent_at >= span.f AND r.sent_at < span.t),"
        " rv AS (SELECT v.* FROM reviews v, span WHERE v.shop_id = $1"
        "        AND v.created_at >= span.f AND v.created_at < span.t),"
        " per AS (SELECT product_id, count(*) AS n, round(avg(rating), 2) AS a,"
        "   json_build_object('1', count(*) FILTER (WHERE rating = 1),"
        "    '2', count(*) FILTER (WHERE rating = 2), '3', count(*) FILTER (WHERE rating = 3),"
        "    '4', count(*) FILTER (WHERE rating = 4), '5', count(*) FILTER (WHERE rating = 5)) AS d"
        "   FROM rv GROUP BY product_id)"
        " SELECT json_build_object("
        "  'from', to_char((SELECT f FROM span) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        "  'to', to_char((SELECT t FROM span) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        "  'requests_sent', (SELECT count(*) FROM rq),"
        "  'reminders_sent', (SELECT count(*) FROM contact_log l, span WHERE l.shop_id = $1"
        "     AND l.kind = 'review_reminder' AND l.sent_at >= span.f AND l.sent_at < span.t),"
        "  'reviews_received', (SELECT count(*) FROM rv),"
        "  'requests_answered', (SELECT count(*) FROM rq WHERE EXISTS (SELECT 1 FROM reviews v"
        "     WHERE v.shop_id = rq.shop_id AND v.request_id = rq.id)),"
        "  'conversion_rate', (SELECT CASE WHEN count(*) = 0 THEN 0 ELSE round(count(*) FILTER"
        "     (WHERE EXISTS (SELECT 1 FROM reviews v WHERE v.shop_id = rq.shop_id"
        "      AND v.request_id = rq.id))::numeric / count(*), 4) END FROM rq),"
        "  'average_rating', (SELECT round(avg(rating), 2) FROM rv),"
        "  'distribution', (SELECT json_build_object('1', count(*) FILTER (WHERE rating = 1),"
        "    '2', count(*) FILTER (WHERE rating = 2), '3', count(*) FILTER (WHERE rating = 3),"
        "    '4', count(*) FILTER (WHERE rating = 4), '5', count(*) FILTER (WHERE rating = 5))"
        "    FROM rv),"
        "  'products', coalesce((SELECT json_agg(json_build_object('product_id', product_id,"
        "    'reviews', n, 'average_rating', a, 'distribution', d) ORDER BY product_id) FROM per),"
        "    '[]'))::text",
        3, params, e);
    if (res == NULL)
        return -1;
    x->out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
    PQclear(res);
    return 0;
}

void
reviews_handle_stats(struct req *r)
{
    struct stats_ctx x = {.shop_id = r->shop_id};

    if (req_time_range_or_reply(r, &x.from, &x.to) < 0)
        return;
    reply_run_json_take(r, stats_fn, &x, &x.out, NULL, 0);
}

/* ---- the public API ---------------------------------------------------------- */

/* The request a customer token names; -1 after replying. */
static int
token_or_reply(struct req *r, const char *token, const char *scope, struct token_claims *claims)
{
    struct err e = {0};

    if (token == NULL || auth_token_verify(token, scope, claims, &e) < 0) {
        if (token == NULL)
            err_set(&e, ERR_UNAUTHORIZED, NULL, "the link has no token");
        reply_err(r, &e);
        return -1;
    }
    if (claims->rid <= 0) {
        reply_problem(r, ERR_UNAUTHORIZED, NULL, "the token names no review request");
        return -1;
    }
    r->shop_id = claims->shop_id;
    return 0;
}

struct public_ctx {
    struct token_claims claims;
    const json_t *items;
    json_t *out;
};

static int
public_get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct public_ctx *x = ctx;
    json_t *req = NULL;
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;

    if (reviews_request_json(c, x->claims.shop_id, x->claims.rid, &req, e) < 0)
        return -1;
    if (req == NULL)
        return err_set(e, ERR_NOT_FOUND, NULL, "this review request no longer exists");
    DB_I64(shop, x->claims.shop_id);
    res = db_exec(c, "reviews_public_shop", "SELECT name FROM shops WHERE id = $1", 1, params, e);
    if (res == NULL) {
        json_decref(req);
        return -1;
    }
    x->out = json_pack("{s:O, s:s, s:O, s:O, s:O, s:O}", "request_id", json_object_get(req, "id"),
                       "shop_name", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "",
                       "first_name", json_object_get(req, "first_name"), "status",
                       json_object_get(req, "status"), "expires_at",
                       json_object_get(req, "expires_at"), "products",
                       json_object_get(req, "products"));
    PQclear(res);
    json_decref(req);
    return 0;
}

void
reviews_handle_public_get(struct req *r)
{
    struct public_ctx x = {0};

    if (token_or_reply(r, req_param(r, "token"), "review", &x.claims) < 0)
        return;
    reply_run_json_take(r, public_get_fn, &x, &x.out, NULL, 0);
}

static int
submit_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct public_ctx *x = ctx;
    struct reviews_settings s;
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;
    char status[16], name[256], email[256], order[24];
    json_t *item;
    size_t i;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->claims.shop_id);
    DB_I64(rid, x->claims.rid);
    res = db_exec(c, "reviews_submit_lock",
                  "SELECT status, first_name, email, order_id, expires_at < now()"
                  " FROM review_requests WHERE shop_id = $1 AND id = $2 FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "this review request no longer exists");
    }
    snprintf(status, sizeof(status), "%s", PQgetvalue(res, 0, 0));
    snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 1)[0] ? PQgetvalue(res, 0, 1) : "Customer");
    snprintf(email, sizeof(email), "%s", PQgetvalue(res, 0, 2));
    snprintf(order, sizeof(order), "%s", PQgetvalue(res, 0, 3));
    if (strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0 ||
        strcmp(status, "unsubscribed") == 0 || strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
        PQclear(res);
        return err_set(e, ERR_CONFLICT, NULL, "this review request is %s",
                       strcmp(status, "sent") == 0 ? "expired" : status);
    }
    PQclear(res);
    if (reviews_settings_load(c, x->claims.shop_id, &s, e) < 0)
        return -1;
    x->out = json_array();
    json_array_foreach(x->items, i, item) {
        char product[24], rating[8], field[48];
        json_int_t pid = json_integer_value(json_object_get(item, "product_id"));
        int rt = (int)json_integer_value(json_object_get(item, "rating"));
        const char *p[10] = {shop, rid, order, product, rating, jx_str(item, "title"),
                             jx_str(item, "body"), name, email,
                             rt >= s.auto_approve_min ? "approved" : "pending"};
        DB_I64(product, pid);
        snprintf(rating, sizeof(rating), "%d", rt);
        if (p[5] == NULL)
            p[5] = "";
        if (p[6] == NULL)
            p[6] = "";
        res = db_exec(c, "reviews_submit_insert",
                      "INSERT INTO reviews (shop_id, request_id, order_id, product_id, rating,"
                      " title, body, reviewer_name, reviewer_email, status, moderated_at)"
                      " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                      "  CASE WHEN $10 = 'approved' THEN now() END"
                      " WHERE EXISTS (SELECT 1 FROM review_request_items WHERE shop_id = $1"
                      "   AND request_id = $2 AND product_id = $4)"
                      " ON CONFLICT (shop_id, request_id, product_id) DO NOTHING"
                      " RETURNING " REVIEW_COLS ", (SELECT count(*) FROM review_request_items"
                      "   WHERE shop_id = $1 AND request_id = $2 AND product_id = $4)",
                      10, p, e);
        if (res == NULL)
            goto out;
        if (PQntuples(res) == 0) {
            /* Not in the request (checked first by the caller), so: reviewed. */
            PQclear(res);
            snprintf(field, sizeof(field), "[%zu].product_id", i);
            err_set(e, ERR_CONFLICT, field, "product %" JSON_INTEGER_FORMAT
                    " of this order was already reviewed", pid);
            goto out;
        }
        json_array_append_new(x->out, reviews_review_json(res, 0));
        if (hooks_emit(c, x->claims.shop_id, "review.created", reviews_review_json(res, 0), e) <
            0) {
            PQclear(res);
            goto out;
        }
        if (rt >= s.auto_approve_min && approved(c, x->claims.shop_id, res, e) < 0) {
            PQclear(res);
            goto out;
        }
        PQclear(res);
    }
    if (db_exec_cmd(c, "reviews_answered",
                    "UPDATE review_requests SET status = 'answered', answered_at = now(),"
                    " updated_at = now() WHERE shop_id = $1 AND id = $2"
                    " AND status IN ('scheduled', 'sent')",
                    2, params, e) < 0)
        goto out;
    rc = 0;
out:
    reviews_settings_free(&s);
    return rc;
}

static int
products_of_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct public_ctx *x = ctx;
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;

    DB_I64(shop, x->claims.shop_id);
    DB_I64(rid, x->claims.rid);
    res = db_exec(c, "reviews_request_products",
                  "SELECT i.product_id FROM review_requests r LEFT JOIN review_request_items i"
                  " ON i.shop_id = r.shop_id AND i.request_id = r.id"
                  " WHERE r.shop_id = $1 AND r.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "this review request no longer exists");
    }
    x->out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 0))
            json_array_append_new(x->out, json_integer(atoll(PQgetvalue(res, i, 0))));
    PQclear(res);
    return 0;
}

void
reviews_handle_public_submit(struct req *r)
{
    static const struct jx_field fields[] = {
        {"product_id", JX_INTEGER, true, 0, 0},
        {"rating", JX_INTEGER, true, 0, 0},
        {"title", JX_STRING, false, 0, 200},
        {"body", JX_STRING, false, 0, 5000},
    };
    struct public_ctx x = {0};
    struct err e = {0};
    json_t *item, *allowed;
    size_t i, j;

    if (token_or_reply(r, req_param(r, "token"), "review", &x.claims) < 0)
        return;
    if (!json_is_array(r->json) || json_array_size(r->json) == 0 ||
        json_array_size(r->json) > 50) {
        reply_problem(r, ERR_INVALID, "reviews",
                      "send an array of 1 to 50 reviews: [{product_id, rating, title, body}]");
        return;
    }
    if (db_run(products_of_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    allowed = x.out;
    x.out = NULL;
    json_array_foreach(r->json, i, item) {
        char prefix[48];
        json_int_t pid, rt;
        bool in = false;
        json_t *a;
        size_t k;

        snprintf(prefix, sizeof(prefix), "[%zu]", i);
        if (!json_is_object(item)) {
            err_set(&e, ERR_INVALID, prefix, "each review must be an object");
            goto bad;
        }
        snprintf(prefix, sizeof(prefix), "[%zu].", i);
        if (jx_check(item, fields, 4, prefix, &e) < 0)
            goto bad;
        pid = json_integer_value(json_object_get(item, "product_id"));
        rt = json_integer_value(json_object_get(item, "rating"));
        snprintf(prefix, sizeof(prefix), "[%zu].rating", i);
        if (rt < 1 || rt > 5) {
            err_set(&e, ERR_INVALID, prefix, "rating must be from 1 to 5");
            goto bad;
        }
        json_array_foreach(allowed, k, a) in = in || json_integer_value(a) == pid;
        snprintf(prefix, sizeof(prefix), "[%zu].product_id", i);
        if (!in) {
            err_set(&e, ERR_INVALID, prefix, "product %" JSON_INTEGER_FORMAT
                    " is not part of this review request", pid);
            goto bad;
        }
        for (j = 0; j < i; j++)
            if (json_integer_value(json_object_get(json_array_get(r->json, j), "product_id")) ==
                pid) {
                err_set(&e, ERR_INVALID, prefix, "product %" JSON_INTEGER_FORMAT
                        " appears twice", pid);
                goto bad;
            }
    }
    json_decref(allowed);
    x.items = r->json;
    if (db_tx(submit_fn, &x, &e) < 0) {
        json_decref(x.out);
        reply_err(r, &e);
        return;
    }
    reply_json_take(r, 201, json_pack("{s:o}", "reviews", x.out));
    return;
bad:
    json_decref(allowed);
    reply_err(r, &e);
}
