/*
 * me.c - a customer's own open review requests: GET /v1/me/review-requests.
 *
 * The shop's My Account page lists what the customer may still review,
 * each request with its products and a link to the review page. The
 * credential is a customer token of scope "reviews" (docs/tokens.md),
 * minted by the plugin for the logged-in customer. Whose requests:
 *
 *   - a token with `sub` sees the requests of that WooCommerce customer id;
 *   - an email-only token (a guest) sees only guest requests (no customer
 *     id) of that email, never a registered customer's: the loyalty rule
 *     of docs/tokens.md, for the same reason (whoever can get a token
 *     minted for an address must not read someone's orders).
 *
 * Open means what the review page still accepts: `scheduled`, or `sent`
 * and not past its `expires_at`. Each link carries a review token of that
 * request (scope "review", rid = the request), expiring with the request
 * but never later than TOKEN_MAX_LIFETIME_S; it is null without PUBLIC_URL.
 * Read-only; newest request first, limit/cursor as every list.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/reviews/handlers.h"
#include "aftersale/shops/shops.h"

struct me_ctx {
    int64_t shop_id, customer_id, after, next_after;
    const char *email;
    int limit;
    char *token_secret; /* the shop's, to sign the review links */
    json_t *items;
};

/* One request as the customer sees it (new reference); `link` may be NULL. */
static json_t *
request_json(const PGresult *res, int i, char *link)
{
    json_error_t jerr;
    json_t *products = json_loads(PQgetvalue(res, i, 7), 0, &jerr);
#define V(j) PQgetvalue(res, i, j)
#define TS(j) (PQgetisnull(res, i, j) ? json_null() : json_string(V(j)))
    json_t *o = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)atoll(V(0)),
                          "order_id", (json_int_t)atoll(V(1)), "status", V(2), "due_at", TS(3),
                          "sent_at", TS(4), "expires_at", TS(5), "review_url",
                          link ? json_string(link) : json_null(), "products",
                          products ? products : json_array());
#undef TS
#undef V
    return o;
}

static int
me_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct me_ctx *x = ctx;
    const struct config *cfg = server_config();
    char shop[24], cust[24], after[24], limit[16];
    const char *params[5] = {shop, cust, x->email, after, limit};
    PGresult *res;
    time_t now = time(NULL);
    int n;

    json_decref(x->items);
    x->items = json_array();
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
        x->token_secret = NULL;
    }
    DB_I64(shop, x->shop_id);
    DB_I64(cust, x->customer_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    {
        const char *p[1] = {shop};
        res = db_exec(c, "reviews_me_secret",
                      "SELECT encode(token_secret_enc, 'hex') FROM shops WHERE id = $1", 1, p, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1) {
            char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 0));
            x->token_secret = shops_secret_open(cfg->secret_key, "token_secret", hex);
            free(hex);
        }
        PQclear(res);
    }
    /* $2 > 0: the customer's requests; else guest requests of the email. */
    res = db_exec(c, "reviews_me_requests",
                  "SELECT rr.id, rr.order_id, rr.status, " DB_TS("rr.due_at") ", "
                  DB_TS("rr.sent_at") ", " DB_TS("rr.expires_at") ", rr.email,"
                  " coalesce((SELECT json_agg(json_build_object('product_id', it.product_id,"
                  "   'name', it.name, 'reviewed', EXISTS (SELECT 1 FROM reviews v"
                  "     WHERE v.shop_id = it.shop_id AND v.request_id = it.request_id"
                  "     AND v.product_id = it.product_id)) ORDER BY it.product_id)"
                  "  FROM review_request_items it WHERE it.shop_id = rr.shop_id"
                  "  AND it.request_id = rr.id), '[]')::text,"
                  " extract(epoch FROM coalesce(rr.expires_at, now() + interval '30 days'))::bigint"
                  " FROM review_requests rr WHERE rr.shop_id = $1"
                  " AND (($2::bigint > 0 AND rr.customer_id = $2::bigint)"
                  "   OR ($2::bigint = 0 AND coalesce(rr.customer_id, 0) = 0 AND $3 <> ''"
                  "       AND lower(rr.email) = lower($3)))"
                  " AND (rr.status = 'scheduled'"
                  "   OR (rr.status = 'sent' AND coalesce(rr.expires_at > now(), true)))"
                  " AND ($4::bigint = 0 OR rr.id < $4::bigint)"
                  " ORDER BY rr.id DESC LIMIT $5::integer",
                  5, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    for (int i = 0; i < n && i < x->limit; i++) {
        char *link = NULL;
        if (cfg->public_url && x->token_secret) {
            struct token_claims claims = {.shop_id = x->shop_id, .scope = "review"};
            time_t exp = (time_t)atoll(PQgetvalue(res, i, 8));
            char *base = xasprintf("%s/review", cfg->public_url);
            claims.rid = atoll(PQgetvalue(res, i, 0));
            snprintf(claims.email, sizeof(claims.email), "%s", PQgetvalue(res, i, 6));
            claims.exp = exp - now < cfg->token_max_lifetime_s ? exp
                                                               : now + cfg->token_max_lifetime_s;
            link = outreach_link(base, x->token_secret, &claims);
            free(base);
        }
        json_array_append_new(x->items, request_json(res, i, link));
        free(link);
    }
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

void
reviews_handle_me_requests(struct req *r)
{
    const char *token = auth_bearer(req_header(r, MHD_HTTP_HEADER_AUTHORIZATION));
    struct token_claims claims;
    struct me_ctx x = {0};
    struct err e = {0};
    char *next = NULL;

    if (token == NULL) {
        reply_problem(r, ERR_UNAUTHORIZED, NULL, "send Authorization: Bearer <customer token>");
        return;
    }
    if (auth_token_verify(token, "reviews", &claims, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    r->shop_id = claims.shop_id;
    if (claims.customer_id <= 0 && claims.email[0] == '\0') {
        reply_problem(r, ERR_FORBIDDEN, NULL, "the token names no customer");
        return;
    }
    if (cursor_limit(req_query(r, "limit"), &x.limit, &e) < 0 ||
        cursor_decode(req_query(r, "cursor"), &x.after, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    x.shop_id = claims.shop_id;
    x.customer_id = claims.customer_id > 0 ? claims.customer_id : 0;
    x.email = claims.email;
    if (db_run(me_fn, &x, &e) < 0) {
        reply_err(r, &e);
        goto out;
    }
    if (x.next_after > 0)
        next = cursor_encode(x.next_after);
    reply_json_take(r, 200, json_pack("{s:O, s:o}", "items", x.items, "next_cursor",
                                      next ? json_string(next) : json_null()));
out:
    free(next);
    json_decref(x.items);
    if (x.token_secret) {
        crypto_wipe(x.token_secret, strlen(x.token_secret));
        free(x.token_secret);
    }
}
