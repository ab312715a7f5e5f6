/*
 * preview.c - GET /v1/returns/{id}/resolution-preview: the figures a
 * resolution would have, shown to the merchant before they confirm it.
 *
 * The figures come from returns_refund_compute() (rules.c), the very
 * function the returns.resolve job runs, fed with the service's copy of
 * the order instead of the shop's: a request thread never calls the shop
 * (only jobs do), so the order is rebuilt in WooCommerce's shape from the
 * snapshot tables (orders, order_items, order_refunds). What the snapshot
 * does not hold makes the preview an estimate in two known ways, said in
 * the answer's `basis`:
 *   - tax is one figure per line (order_items.total_tax), not per rate;
 *     the sum is the same, the split per rate is not shown;
 *   - refunds are known by amount only, not per line: a refund made by
 *     hand on these lines lowers the job's figure, and the preview only
 *     through the order cap (never more than the order total minus every
 *     refund). Shipping tax is the order's tax minus its lines' tax.
 * The job recomputes from the shop when it runs, so what is refunded is
 * always what the shop says; the preview never writes anything.
 *
 * Units: the received quantity of each line once inspected, else the
 * quantity asked for (a preview before inspection).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/db/pool.h"
#include "aftersale/returns/handlers.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"

struct preview_ctx {
    int64_t shop_id, id;
    /* loaded */
    bool found;
    char state[24], resolution[16], currency[8];
    json_t *order, *refunds, *settings;
    struct returns_refund_line lines[RETURNS_MAX_LINES];
    int nlines;
};

static void
preview_clear(struct preview_ctx *x)
{
    json_decref(x->order);
    json_decref(x->refunds);
    json_decref(x->settings);
    x->order = x->refunds = x->settings = NULL;
    x->nlines = 0;
    x->found = false;
}

/* The request, its units, and the order rebuilt in WooCommerce's shape. */
static int
load_fn(struct db_conn *c, void *p, struct err *e)
{
    struct preview_ctx *x = p;
    char shop[24], rid[24], oid[24];
    const char *params[2] = {shop, rid};
    const char *oparams[2] = {shop, oid};
    PGresult *res = NULL;
    json_t *items, *ship;
    int rc = -1;

    preview_clear(x);
    DB_I64(shop, x->shop_id);
    DB_I64(rid, x->id);
    res = db_exec(c, "returns_preview_load",
                  "SELECT r.state, r.resolution, o.currency, o.total::text, o.shipping_total::text,"
                  " greatest(o.total_tax - coalesce((SELECT sum(i.total_tax) FROM order_items i"
                  "   WHERE i.shop_id = o.shop_id AND i.order_id = o.order_id), 0), 0)::text,"
                  " r.order_id"
                  " FROM return_requests r JOIN orders o"
                  "   ON o.shop_id = r.shop_id AND o.order_id = r.order_id"
                  " WHERE r.shop_id = $1 AND r.id = $2",
                  2, params, e);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        rc = 0;
        goto out;
    }
    x->found = true;
    snprintf(x->state, sizeof(x->state), "%s", PQgetvalue(res, 0, 0));
    snprintf(x->resolution, sizeof(x->resolution), "%s", PQgetvalue(res, 0, 1));
    snprintf(x->currency, sizeof(x->currency), "%s", PQgetvalue(res, 0, 2));
    snprintf(oid, sizeof(oid), "%s", PQgetvalue(res, 0, 6));
    /* One shipping line (id 0) holding the order's shipping and its tax. */
    ship = json_pack("[{s:i, s:s, s:[{s:i, s:s}]}]", "id", 0, "total", PQgetvalue(res, 0, 4),
                     "taxes", "id", 0, "total", PQgetvalue(res, 0, 5));
    x->order = json_pack("{s:s, s:[], s:o}", "total", PQgetvalue(res, 0, 3), "line_items",
                         "shipping_lines", ship);
    PQclear(res);

    res = db_exec(c, "returns_preview_items",
                  "SELECT line_item_id, quantity, total::text, total_tax::text FROM order_items"
                  " WHERE shop_id = $1 AND order_id = $2 ORDER BY line_item_id",
                  2, oparams, e);
    if (res == NULL)
        goto out;
    items = json_object_get(x->order, "line_items");
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(items, json_pack("{s:I, s:I, s:s, s:[{s:i, s:s}]}", "id",
                                               (json_int_t)atoll(PQgetvalue(res, i, 0)), "quantity",
                                               (json_int_t)atoll(PQgetvalue(res, i, 1)), "total",
                                               PQgetvalue(res, i, 2), "taxes", "id", 0, "total",
                                               PQgetvalue(res, i, 3)));
    PQclear(res);

    res = db_exec(c, "returns_preview_refunds",
                  "SELECT amount::text FROM order_refunds WHERE shop_id = $1 AND order_id = $2"
                  " ORDER BY refund_id",
                  2, oparams, e);
    if (res == NULL)
        goto out;
    x->refunds = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(x->refunds, json_pack("{s:s}", "amount", PQgetvalue(res, i, 0)));
    PQclear(res);

    res = db_exec(c, "returns_preview_lines",
                  "SELECT line_item_id, coalesce(quantity_received, quantity) FROM return_lines"
                  " WHERE shop_id = $1 AND request_id = $2"
                  " AND coalesce(quantity_received, quantity) > 0 ORDER BY line_item_id",
                  2, params, e);
    if (res == NULL)
        goto out;
    for (int i = 0; i < PQntuples(res) && i < RETURNS_MAX_LINES; i++)
        x->lines[x->nlines++] =
            (struct returns_refund_line){atoll(PQgetvalue(res, i, 0)), atoi(PQgetvalue(res, i, 1))};
    if (returns_settings_load(c, x->shop_id, &x->settings, e) < 0)
        goto out;
    rc = 0;
out:
    PQclear(res);
    return rc;
}

void
returns_handle_preview(struct req *r)
{
    struct preview_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    const char *type = req_query(r, "resolution"), *ship = req_query(r, "refund_shipping");
    bool shipping = false;
    json_t *lines = NULL, *out = NULL;
    char amount[32], credit[32];
    int64_t fee_bp = 0, bonus_bp = 0, m = 0;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (type && strcmp(type, "refund") != 0 && strcmp(type, "store_credit") != 0 &&
        strcmp(type, "exchange") != 0) {
        reply_problem(r, ERR_MALFORMED, "resolution",
                      "resolution is refund, store_credit or exchange");
        return;
    }
    if (ship && strcmp(ship, "true") != 0 && strcmp(ship, "false") != 0) {
        reply_problem(r, ERR_MALFORMED, "refund_shipping", "refund_shipping is true or false");
        return;
    }
    shipping = ship && strcmp(ship, "true") == 0;
    if (db_run(load_fn, &x, &e) < 0) {
        reply_err(r, &e);
        goto out;
    }
    if (!x.found) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no return request %" PRId64, x.id);
        goto out;
    }
    if (type == NULL)
        type = x.resolution;
    (void)returns_percent_parse(jx_str(x.settings, "restocking_fee_percent"), &fee_bp);
    (void)returns_percent_parse(
        jx_str(json_object_get(x.settings, "resolutions"), "store_credit_bonus_percent"),
        &bonus_bp);
    lines = json_array();
    if (x.nlines == 0) {
        snprintf(amount, sizeof(amount), "0.00");
    } else if (returns_refund_compute(x.order, x.refunds, x.lines, x.nlines, fee_bp, shipping,
                                      lines, amount, &e) < 0) {
        /* the request's units no longer fit the order as the service knows it */
        e.kind = ERR_CONFLICT;
        reply_err(r, &e);
        goto out;
    }
    out = json_pack("{s:I, s:s, s:s, s:b, s:s, s:s, s:O, s:n, s:s}", "return_id", (json_int_t)x.id,
                    "state", x.state, "resolution", type, "refund_shipping", shipping, "currency",
                    x.currency, "amount", amount, "lines", lines, "credit", "basis", "snapshot");
    if (strcmp(type, "store_credit") == 0) {
        /* as the job: what a refund would pay, plus the bonus, to the cent */
        (void)returns_money_parse(amount, &m);
        returns_money_format(m + (m * bonus_bp + 5000) / 10000, credit);
        json_object_set_new(out, "credit", json_string(credit));
    }
    reply_json_take(r, 200, out);
out:
    json_decref(lines);
    preview_clear(&x);
}
