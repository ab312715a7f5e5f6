/*
 * preview.c - POST /v1/loyalty/preview: the points a cart would earn.
 *
 * Body: {currency, lines: [{product_id, quantity, total}], total?,
 * customer_id? | email?}. Answer: {points, amount, currency, tier,
 * multiplier, basis}. Read-only and cheap: three indexed reads on one
 * pooled connection in autocommit, no account is created (a customer
 * without an account previews at the base rate, as their first order
 * would earn). Amounts are decimal strings, never floats (rules.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/db/pool.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/loyalty/preview.h"

static const struct jx_field body_fields[] = {
    {"currency", JX_STRING, true, 3, 3},
    {"lines", JX_ARRAY, true, 0, 0},
    {"total", JX_STRING, false, 1, 32},
    {"customer_id", JX_INTEGER, false, 0, 0},
    {"email", JX_STRING, false, 0, 254},
};

static const struct jx_field line_fields[] = {
    {"product_id", JX_INTEGER, false, 0, 0},
    {"variation_id", JX_INTEGER, false, 0, 0},
    {"quantity", JX_INTEGER, false, 0, 0},
    {"total", JX_STRING, true, 1, 32},
};

int
loyalty_preview_points(const struct loyalty_settings *s, const char *shop_currency,
                       const char *currency, const json_t *lines, const char *total,
                       int64_t lifetime, int64_t *amount_milli, int *tier, bool *converted,
                       int64_t *points, struct err *e)
{
    int64_t amount = 0, mult = 1000, conv = 0;
    size_t i;
    json_t *line;

    /* The same basis as the earning job: the lines' totals (after
     * discounts, before tax), or the order total when the shop earns on it. */
    if (s->basis == LOYALTY_BASIS_TOTAL && total != NULL) {
        if (loyalty_milli_parse(total, &amount, e) < 0)
            return err_set(e, ERR_INVALID, "total", "must be a decimal amount such as \"26.00\"");
    } else {
        json_array_foreach(lines, i, line) {
            int64_t v = 0;
            char field[48];
            snprintf(field, sizeof(field), "lines[%zu].total", i);
            if (loyalty_milli_parse(jx_str(line, "total"), &v, e) < 0 || v < 0)
                return err_set(e, ERR_INVALID, field,
                               "must be a decimal amount such as \"26.00\", not negative");
            if (amount > INT64_MAX / 2 - v)
                return err_set(e, ERR_INVALID, field, "the amounts are too large");
            amount += v;
        }
    }
    *amount_milli = amount;
    *tier = lifetime >= 0 ? loyalty_tier_for(s, lifetime) : -1;
    if (*tier >= 0)
        mult = s->tiers[*tier].multiplier_milli;
    *converted = loyalty_convert(s, shop_currency, currency, amount, &conv);
    *points = *converted ? loyalty_points_for(s, conv, mult) : 0;
    return 0;
}

struct preview_ctx {
    int64_t shop_id, customer_id;
    const char *email;
    struct loyalty_settings s;
    char shop_currency[4];
    int64_t lifetime; /* -1: no account */
};

/* The account's lifetime points, read without the merge or creation that
 * loyalty_account_resolve may do: by customer id, else a guest by email. */
static int
preview_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct preview_ctx *p = ctx;
    char shop[24], cust[24], email[256];
    const char *params[3] = {shop, cust, email};
    PGresult *res;

    DB_I64(shop, p->shop_id);
    DB_I64(cust, p->customer_id);
    loyalty_email_normalise(p->email ? p->email : "", email);
    if (loyalty_settings_load(c, p->shop_id, &p->s, e) < 0)
        return -1;
    res = db_exec(c, "loyalty_preview_lookup",
                  "SELECT s.currency,"
                  " (SELECT a.lifetime FROM loyalty_accounts a WHERE a.shop_id = s.id"
                  "   AND a.merged_into IS NULL AND ((a.customer_id = $2 AND $2 > 0)"
                  "   OR (a.customer_id IS NULL AND $3 <> '' AND a.email = $3))"
                  "   ORDER BY a.customer_id IS NULL LIMIT 1)"
                  " FROM shops s WHERE s.id = $1",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no such shop");
    }
    snprintf(p->shop_currency, sizeof(p->shop_currency), "%s", PQgetvalue(res, 0, 0));
    p->lifetime = PQgetisnull(res, 0, 1) ? -1 : atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static int
check_body(const json_t *body, struct err *e)
{
    const json_t *lines = json_object_get(body, "lines"), *line, *cid;
    const char *cur = jx_str(body, "currency");
    char field[64];
    size_t i;

    if (jx_check(body, body_fields, sizeof(body_fields) / sizeof(body_fields[0]), NULL, e) < 0)
        return -1;
    for (i = 0; i < 3; i++)
        if (cur[i] < 'A' || cur[i] > 'Z')
            return err_set(e, ERR_INVALID, "currency", "must be an ISO 4217 code such as EUR");
    if (json_array_size(lines) > LOYALTY_PREVIEW_MAX_LINES)
        return err_set(e, ERR_INVALID, "lines", "at most %d lines", LOYALTY_PREVIEW_MAX_LINES);
    json_array_foreach(lines, i, line) {
        snprintf(field, sizeof(field), "lines[%zu].", i);
        if (!json_is_object(line))
            return err_set(e, ERR_INVALID, "lines", "every line must be an object");
        if (jx_check(line, line_fields, sizeof(line_fields) / sizeof(line_fields[0]), field, e) < 0)
            return -1;
    }
    cid = json_object_get(body, "customer_id");
    if (cid && json_integer_value(cid) < 0)
        return err_set(e, ERR_INVALID, "customer_id", "must be 0 (a guest) or a customer id");
    return 0;
}

void
loyalty_handle_preview(struct req *r)
{
    struct preview_ctx p = {.shop_id = r->shop_id};
    struct err e = {0};
    int64_t amount = 0, points = 0;
    int tier = -1;
    bool converted = false;
    char amount_s[32], mult_s[32];

    if (check_body(r->json, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    p.customer_id = json_integer_value(json_object_get(r->json, "customer_id"));
    p.email = jx_str(r->json, "email");
    if (db_run(preview_fn, &p, &e) < 0 ||
        loyalty_preview_points(&p.s, p.shop_currency, jx_str(r->json, "currency"),
                               json_object_get(r->json, "lines"), jx_str(r->json, "total"),
                               p.lifetime, &amount, &tier, &converted, &points, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    loyalty_milli_format(amount, amount_s);
    loyalty_milli_format(tier >= 0 ? p.s.tiers[tier].multiplier_milli : 1000, mult_s);
    reply_json_take(r, 200,
                    json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:b}", "points", (json_int_t)points,
                              "amount", amount_s, "currency", jx_str(r->json, "currency"), "tier",
                              tier >= 0 ? json_string(p.s.tiers[tier].name) : json_null(),
                              "multiplier", mult_s, "basis",
                              p.s.basis == LOYALTY_BASIS_TOTAL ? "total" : "subtotal",
                              "currency_earns", converted));
}
