/*
 * jobs.c - returns.resolve: a request's resolution carried out in
 * WooCommerce, exactly once.
 *
 * The job runs with no database connection held while it talks to the
 * shop. Every shop object it makes carries the RMA number as a tag
 * ("[R-1042]" in a refund's reason or a note, the coupon's code, the
 * exchange order's meta), and before making one the job looks for it
 * first, so a job that timed out after the shop acted, and runs again,
 * finds what it made instead of making a second one:
 *   refund        GET /orders/{id}/refunds, a reason holding the tag?
 *   store credit  the code is fixed when the merchant resolves; "already
 *                 exists" means made, and GET /coupons?code= finds it
 *   exchange      GET /orders?parent={id}, meta _aftersale_rma = RMA?
 *   order note    GET /orders/{id}/notes, a note holding the tag?
 * The refund is computed (rules.c) from the order and its refunds as the
 * shop shows them right now, so refunds made by hand count. A refund the
 * shop refuses (gateway cannot refund, invalid amount) or a replacement
 * out of stock ends in resolution_failed with the shop's message; the
 * merchant may resolve again. Restock is decided per line at inspection;
 * WooCommerce restocks per refund (api_restock), so lines to restock and
 * lines not to restock go in two refunds, tagged "[R-1042 restock]" and
 * "[R-1042 no-restock]".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/returns/jobs.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"
#include "aftersale/woo/client.h"
#include "aftersale/woo/link.h"

struct rline {
    int64_t line_item_id, product_id, xproduct, xvariation;
    int qty; /* received */
    bool restock;
};

struct ctx {
    const struct config *cfg;
    int64_t shop_id, id, order_id, customer_id;
    char state[24], resolution[16], rma[24], email[256], ref[40];
    bool shipping; /* refund what is left of the shipping (once, with the first refund) */
    json_t *settings;
    struct rline lines[RETURNS_MAX_LINES];
    int nlines;
    struct woo_creds cr;
    /* what the job made / why it failed */
    json_t *result;
    char message[200];
};

static void
ctx_clear(struct ctx *x)
{
    json_decref(x->settings);
    x->settings = NULL;
    woo_creds_clear(&x->cr);
    x->nlines = 0;
}

static int
load_fn(struct db_conn *c, void *p, struct err *e)
{
    struct ctx *x = p;
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;
    int n;

    ctx_clear(x);
    x->state[0] = '\0';
    DB_I64(shop, x->shop_id);
    DB_I64(rid, x->id);
    res = db_exec(c, "returns_job_load",
                  "SELECT state, resolution, 'R-' || number, order_id, customer_id, email,"
                  " coalesce(resolution_ref, ''), refund_shipping FROM return_requests"
                  " WHERE shop_id = $1 AND id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        snprintf(x->state, sizeof(x->state), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->resolution, sizeof(x->resolution), "%s", PQgetvalue(res, 0, 1));
        snprintf(x->rma, sizeof(x->rma), "%s", PQgetvalue(res, 0, 2));
        x->order_id = atoll(PQgetvalue(res, 0, 3));
        x->customer_id = atoll(PQgetvalue(res, 0, 4));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 5));
        snprintf(x->ref, sizeof(x->ref), "%s", PQgetvalue(res, 0, 6));
        x->shipping = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
    }
    PQclear(res);
    if (x->state[0] == '\0')
        return 0;
    res = db_exec(c, "returns_job_lines",
                  "SELECT line_item_id, product_id, coalesce(quantity_received, 0),"
                  " coalesce(restock, false), coalesce(exchange_product_id, 0),"
                  " coalesce(exchange_variation_id, 0) FROM return_lines"
                  " WHERE shop_id = $1 AND request_id = $2 AND coalesce(quantity_received, 0) > 0"
                  " ORDER BY line_item_id",
                  2, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    for (int i = 0; i < n && i < RETURNS_MAX_LINES; i++) {
        struct rline *l = &x->lines[x->nlines++];
        l->line_item_id = atoll(PQgetvalue(res, i, 0));
        l->product_id = atoll(PQgetvalue(res, i, 1));
        l->qty = atoi(PQgetvalue(res, i, 2));
        l->restock = strcmp(PQgetvalue(res, i, 3), "t") == 0;
        l->xproduct = atoll(PQgetvalue(res, i, 4));
        l->xvariation = atoll(PQgetvalue(res, i, 5));
    }
    PQclear(res);
    if (returns_settings_load(c, x->shop_id, &x->settings, e) < 0)
        return -1;
    return woo_creds_load(c, x->shop_id, x->cfg->secret_key, &x->cr, e);
}

struct finish {
    struct ctx *x;
    const char *action;
};

static int
finish_fn(struct db_conn *c, void *p, struct err *e)
{
    struct finish *f = p;
    json_t *body, *out = NULL;
    int rc;

    body = strcmp(f->action, "resolved") == 0 ? json_pack("{s:O}", "result", f->x->result)
                                              : json_pack("{s:s}", "message", f->x->message);
    rc = returns_store_transition(c, f->x->shop_id, f->x->id, f->action, body, "job", &out, e);
    json_decref(body);
    json_decref(out);
    /* Not resolving any more (cancelled meanwhile is impossible, but a
     * second job for the same request may have finished first). */
    if (rc < 0 && e->kind == ERR_CONFLICT)
        return 0;
    return rc;
}

/* ---- shop calls ---------------------------------------------------------- */

enum step { STEP_OK, STEP_RETRY, STEP_FAILED };

/* GET a JSON value. */
static enum step
get_json(struct ctx *x, struct job_env *env, const char *path, const struct woo_param *q, size_t nq,
         json_t **out, struct err *e)
{
    struct woo_reply reply = {0};
    enum woo_result r = woo_request(env->woo, &x->cr.shop, "GET", path, q, nq, NULL, &reply, e);

    *out = NULL;
    if (r == WOO_OK && reply.body != NULL) {
        *out = reply.body;
        reply.body = NULL;
    }
    woo_reply_clear(&reply);
    if (r == WOO_OK && *out == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "GET %s: no JSON", path);
        return STEP_RETRY;
    }
    return r == WOO_OK ? STEP_OK : STEP_RETRY;
}

/* POST; a refusal by the shop (any 4xx, or WooCommerce's refund and order
 * errors that come as HTTP 500) is final and its message kept. */
static enum step
post_json(struct ctx *x, struct job_env *env, const char *path, const json_t *body, json_t **out,
          struct err *e)
{
    struct woo_reply reply = {0};
    enum woo_result r = woo_request(env->woo, &x->cr.shop, "POST", path, NULL, 0, body, &reply, e);
    enum step s = STEP_OK;

    *out = NULL;
    if (r == WOO_OK) {
        *out = reply.body;
        reply.body = NULL;
    } else if (r == WOO_FAIL || strncmp(reply.code, "woocommerce_rest_", 17) == 0) {
        const char *msg = jx_str(reply.body, "message");
        snprintf(x->message, sizeof(x->message), "%s", msg ? msg : e->detail);
        s = STEP_FAILED;
    } else {
        s = STEP_RETRY;
    }
    woo_reply_clear(&reply);
    return s;
}

static bool
contains(const json_t *obj, const char *key, const char *tag)
{
    const char *s = jx_str(obj, key);
    return s != NULL && strstr(s, tag) != NULL;
}

/* ---- refund --------------------------------------------------------------- */

static enum step
refund_group(struct ctx *x, struct job_env *env, const json_t *order, json_t *refunds, bool restock,
             const char *tag, json_t *ids, json_t *amounts, struct err *e)
{
    struct returns_refund_line rl[RETURNS_MAX_LINES];
    int n = 0;
    int64_t fee_bp = 0;
    size_t i;
    json_t *rf, *lines = NULL, *body = NULL, *made = NULL;
    char amount[32], path[64], *reason = NULL;
    enum step s = STEP_OK;

    for (int k = 0; k < x->nlines; k++)
        if (x->lines[k].restock == restock)
            rl[n++] = (struct returns_refund_line){x->lines[k].line_item_id, x->lines[k].qty};
    if (n == 0)
        return STEP_OK;
    json_array_foreach(refunds, i, rf)
    {
        if (contains(rf, "reason", tag)) { /* made by an earlier attempt, shipping with it */
            x->shipping = false;
            json_array_append_new(ids, json_integer(json_integer_value(json_object_get(rf, "id"))));
            json_array_append(amounts, json_object_get(rf, "amount"));
            return STEP_OK;
        }
    }
    (void)returns_percent_parse(jx_str(x->settings, "restocking_fee_percent"), &fee_bp);
    lines = json_array();
    if (returns_refund_compute(order, refunds, rl, n, fee_bp, x->shipping, lines, amount, e) < 0) {
        snprintf(x->message, sizeof(x->message), "%s", e->detail);
        s = STEP_FAILED;
        goto out;
    }
    if (strcmp(amount, "0.00") == 0) {
        snprintf(x->message, sizeof(x->message), "nothing is left to refund on these lines");
        s = STEP_FAILED;
        goto out;
    }
    reason = xasprintf("%s Return %s: %d line(s)", tag, x->rma, n);
    body = json_pack("{s:s, s:s, s:O, s:b, s:b}", "amount", amount, "reason", reason, "line_items",
                     lines, "api_refund",
                     strcmp(jx_str(x->settings, "refund_method"), "api_refund") == 0, "api_restock",
                     restock);
    snprintf(path, sizeof(path), "/orders/%" PRId64 "/refunds", x->order_id);
    s = post_json(x, env, path, body, &made, e);
    if (s == STEP_OK) {
        json_array_append_new(ids, json_integer(json_integer_value(json_object_get(made, "id"))));
        json_array_append_new(amounts, json_string(amount));
        /* the next group's caps see this refund; shipping went with it */
        json_array_append(refunds, made);
        x->shipping = false;
    }
out:
    free(reason);
    json_decref(lines);
    json_decref(body);
    json_decref(made);
    return s;
}

static enum step
do_refund(struct ctx *x, struct job_env *env, json_t **note, struct err *e)
{
    json_t *order = NULL, *refunds = NULL, *ids = json_array(), *amounts = json_array();
    bool any_restock = false, any_keep = false;
    char path[64], tag_a[48], tag_b[48];
    struct woo_param q[1] = {{"per_page", "100"}};
    enum step s;

    for (int k = 0; k < x->nlines; k++) {
        any_restock = any_restock || x->lines[k].restock;
        any_keep = any_keep || !x->lines[k].restock;
    }
    snprintf(path, sizeof(path), "/orders/%" PRId64, x->order_id);
    if ((s = get_json(x, env, path, NULL, 0, &order, e)) != STEP_OK)
        goto out;
    snprintf(path, sizeof(path), "/orders/%" PRId64 "/refunds", x->order_id);
    if ((s = get_json(x, env, path, q, 1, &refunds, e)) != STEP_OK)
        goto out;
    if (!json_is_array(refunds)) {
        s = STEP_RETRY;
        err_set(e, ERR_INTERNAL, NULL, "the refunds of order %" PRId64 " are not a list",
                x->order_id);
        goto out;
    }
    if (any_restock && any_keep) {
        snprintf(tag_a, sizeof(tag_a), "[%s restock]", x->rma);
        snprintf(tag_b, sizeof(tag_b), "[%s no-restock]", x->rma);
    } else {
        snprintf(tag_a, sizeof(tag_a), "[%s]", x->rma);
        snprintf(tag_b, sizeof(tag_b), "[%s]", x->rma);
    }
    s = refund_group(x, env, order, refunds, true, tag_a, ids, amounts, e);
    if (s == STEP_OK)
        s = refund_group(x, env, order, refunds, false, tag_b, ids, amounts, e);
    if (s == STEP_OK) {
        char *list = jx_dump(ids);
        x->result = json_pack("{s:s, s:O, s:O, s:s}", "kind", "refund", "refund_ids", ids,
                              "amounts", amounts, "method", jx_str(x->settings, "refund_method"));
        {
            char *text = xasprintf("[%s] Return %s resolved: refund %s (%s).", x->rma, x->rma, list,
                                   strcmp(jx_str(x->settings, "refund_method"), "api_refund") == 0
                                       ? "through the payment gateway"
                                       : "recorded as manual: pay the customer back by hand");
            *note = json_string(text);
            free(text);
        }
        free(list);
    }
out:
    json_decref(order);
    json_decref(refunds);
    json_decref(ids);
    json_decref(amounts);
    return s;
}

/* ---- store credit ------------------------------------------------------------ */

static enum step
do_credit(struct ctx *x, struct job_env *env, json_t **note, struct err *e)
{
    json_t *order = NULL, *refunds = NULL, *lines = json_array(), *coupon = NULL, *made = NULL;
    struct returns_refund_line rl[RETURNS_MAX_LINES];
    struct woo_param q[1] = {{"per_page", "100"}};
    char path[64], amount[32], credit[32], code[64], *desc = NULL;
    int64_t fee_bp = 0, bonus_bp = 0, m;
    enum step s;

    for (int k = 0; k < x->nlines; k++)
        rl[k] = (struct returns_refund_line){x->lines[k].line_item_id, x->lines[k].qty};
    snprintf(path, sizeof(path), "/orders/%" PRId64, x->order_id);
    if ((s = get_json(x, env, path, NULL, 0, &order, e)) != STEP_OK)
        goto out;
    snprintf(path, sizeof(path), "/orders/%" PRId64 "/refunds", x->order_id);
    if ((s = get_json(x, env, path, q, 1, &refunds, e)) != STEP_OK)
        goto out;
    (void)returns_percent_parse(jx_str(x->settings, "restocking_fee_percent"), &fee_bp);
    (void)returns_percent_parse(
        jx_str(json_object_get(x->settings, "resolutions"), "store_credit_bonus_percent"),
        &bonus_bp);
    if (returns_refund_compute(order, refunds, rl, x->nlines, fee_bp, x->shipping, lines, amount,
                               e) < 0) {
        snprintf(x->message, sizeof(x->message), "%s", e->detail);
        s = STEP_FAILED;
        goto out;
    }
    /* credit = what a refund would pay, plus the bonus, to the cent */
    (void)returns_money_parse(amount, &m);
    returns_money_format(m + (m * bonus_bp + 5000) / 10000, credit);
    snprintf(code, sizeof(code), "%s-%s", x->rma, x->ref);
    for (char *p = code; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    desc =
        xasprintf("aftersale store credit for return %s (order #%" PRId64 ")", x->rma, x->order_id);
    coupon = json_pack("{s:s, s:s, s:s, s:i, s:i, s:[s], s:s}", "code", code, "discount_type",
                       "fixed_cart", "amount", credit, "usage_limit", 1, "usage_limit_per_user", 1,
                       "email_restrictions", x->email, "description", desc);
    s = post_json(x, env, "/coupons", coupon, &made, e);
    if (s == STEP_FAILED && strstr(x->message, "already exists") != NULL) {
        /* made by an earlier attempt whose answer was lost */
        struct woo_param cq[1] = {{"code", code}};
        json_t *found = NULL;
        x->message[0] = '\0';
        if ((s = get_json(x, env, "/coupons", cq, 1, &found, e)) != STEP_OK)
            goto out;
        made = json_incref(json_array_get(found, 0));
        json_decref(found);
        if (made == NULL) {
            s = STEP_RETRY;
            err_set(e, ERR_INTERNAL, NULL, "coupon %s exists but was not found", code);
            goto out;
        }
    }
    if (s != STEP_OK)
        goto out;
    x->result = json_pack("{s:s, s:I, s:s, s:s}", "kind", "store_credit", "coupon_id",
                          (json_int_t)json_integer_value(json_object_get(made, "id")), "code", code,
                          "amount", credit);
    {
        char *text = xasprintf("[%s] Return %s resolved: store credit %s, coupon %s for %s; no "
                               "money refunded.",
                               x->rma, x->rma, credit, code, x->email);
        *note = json_string(text);
        free(text);
    }
out:
    free(desc);
    json_decref(order);
    json_decref(refunds);
    json_decref(lines);
    json_decref(coupon);
    json_decref(made);
    return s;
}

/* ---- exchange ------------------------------------------------------------------ */

static const char *
meta_value(const json_t *obj, const char *key)
{
    size_t i;
    json_t *m;

    json_array_foreach(json_object_get(obj, "meta_data"), i, m)
    {
        if (contains(m, "key", key) && strcmp(jx_str(m, "key"), key) == 0)
            return jx_str(m, "value");
    }
    return NULL;
}

static enum step
do_exchange(struct ctx *x, struct job_env *env, json_t **note, struct err *e)
{
    json_t *order = NULL, *existing = NULL, *body = NULL, *items = json_array(), *made = NULL;
    json_t *empty = json_object();
    char path[96], parent[24], orig[24];
    struct woo_param q[2] = {{"parent", parent}, {"per_page", "100"}};
    enum step s;
    size_t i;
    json_t *o;
    int64_t made_id = 0, diff = 0;
    char diff_s[32] = "0.00";
    bool refund_diff =
        strcmp(jx_str(json_object_get(x->settings, "resolutions"), "exchange_price_difference"),
               "refund_difference") == 0;

    snprintf(parent, sizeof(parent), "%" PRId64, x->order_id);
    if ((s = get_json(x, env, "/orders", q, 2, &existing, e)) != STEP_OK)
        goto out;
    json_array_foreach(existing, i, o)
    {
        const char *rma = meta_value(o, "_aftersale_rma");
        if (rma && strcmp(rma, x->rma) == 0) {
            const char *d = meta_value(o, "_aftersale_difference");
            made_id = json_integer_value(json_object_get(o, "id"));
            snprintf(diff_s, sizeof(diff_s), "%s", d ? d : "0.00");
        }
    }
    if (made_id == 0) {
        snprintf(path, sizeof(path), "/orders/%" PRId64, x->order_id);
        if ((s = get_json(x, env, path, NULL, 0, &order, e)) != STEP_OK)
            goto out;
        for (int k = 0; k < x->nlines; k++) {
            struct rline *l = &x->lines[k];
            json_t *prod = NULL, *li;
            int64_t price, paid = 0;
            size_t j;
            if (l->xvariation > 0)
                snprintf(path, sizeof(path), "/products/%" PRId64 "/variations/%" PRId64,
                         l->xproduct, l->xvariation);
            else
                snprintf(path, sizeof(path), "/products/%" PRId64, l->xproduct);
            if ((s = get_json(x, env, path, NULL, 0, &prod, e)) != STEP_OK)
                goto out;
            /* stock first: an exchange never promises what the shop lacks */
            if (!contains(prod, "stock_status", "instock") ||
                (json_is_true(json_object_get(prod, "manage_stock")) &&
                 json_integer_value(json_object_get(prod, "stock_quantity")) < l->qty)) {
                snprintf(x->message, sizeof(x->message),
                         "the replacement product %" PRId64 " is out of stock", l->xproduct);
                json_decref(prod);
                s = STEP_FAILED;
                goto out;
            }
            /* the price rule: a dearer replacement is refused (the customer
             * is never charged by a return); a cheaper one is exchanged and
             * the difference is not refunded unless the policy says
             * refund_difference (docs/returns.md) */
            (void)returns_money_parse(jx_str(prod, "price") ? jx_str(prod, "price") : "0", &price);
            json_array_foreach(json_object_get(order, "line_items"), j, li)
            {
                if (json_integer_value(json_object_get(li, "id")) == l->line_item_id) {
                    int64_t t = 0;
                    (void)returns_money_parse(jx_str(li, "total"), &t);
                    int64_t bought = json_integer_value(json_object_get(li, "quantity"));
                    paid = t * l->qty / (bought > 0 ? bought : 1);
                }
            }
            json_decref(prod);
            if (price * l->qty > paid + 5000) {
                snprintf(x->message, sizeof(x->message),
                         "the replacement product %" PRId64 " costs more than was paid",
                         l->xproduct);
                s = STEP_FAILED;
                goto out;
            }
            if (paid > price * l->qty)
                diff += paid - price * l->qty;
            json_array_append_new(items, json_pack("{s:I, s:I, s:i, s:s, s:s}", "product_id",
                                                   (json_int_t)l->xproduct, "variation_id",
                                                   (json_int_t)l->xvariation, "quantity", l->qty,
                                                   "subtotal", "0.00", "total", "0.00"));
        }
        snprintf(orig, sizeof(orig), "%" PRId64, x->order_id);
        returns_money_format(diff, diff_s);
        body = json_pack(
            "{s:s, s:I, s:I, s:O, s:O, s:O, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "status",
            "processing", "parent_id", (json_int_t)x->order_id, "customer_id",
            (json_int_t)x->customer_id, "billing",
            json_is_object(json_object_get(order, "billing")) ? json_object_get(order, "billing")
                                                              : empty,
            "shipping",
            json_is_object(json_object_get(order, "shipping")) ? json_object_get(order, "shipping")
                                                               : empty,
            "line_items", items, "meta_data", "key", "_aftersale_rma", "value", x->rma, "key",
            "_aftersale_exchange_for", "value", orig, "key", "_aftersale_difference", "value",
            diff_s);
        if ((s = post_json(x, env, "/orders", body, &made, e)) != STEP_OK)
            goto out;
        made_id = json_integer_value(json_object_get(made, "id"));
        {
            char *text =
                xasprintf("[%s] Exchange for order #%" PRId64 " (return %s), at no charge.", x->rma,
                          x->order_id, x->rma);
            json_t *n_out = NULL, *nb;
            snprintf(path, sizeof(path), "/orders/%" PRId64 "/notes", made_id);
            nb = json_pack("{s:s, s:b}", "note", text, "customer_note", 0);
            s = post_json(x, env, path, nb, &n_out, e);
            json_decref(nb);
            json_decref(n_out);
            free(text);
            if (s == STEP_FAILED) { /* the order exists: the note is not worth failing for */
                s = STEP_OK;
                x->message[0] = '\0';
            }
            if (s != STEP_OK)
                goto out;
        }
    }
    /* A cheaper replacement: the difference (net of tax, what the lines
     * paid minus the replacement's price) refunded when the policy says so,
     * once (tag "[R-1042 difference]"). */
    if (refund_diff && strcmp(diff_s, "0.00") != 0) {
        json_t *refunds = NULL, *rf, *rb, *rmade = NULL;
        char tag[48], *reason;
        struct woo_param rq[1] = {{"per_page", "100"}};
        bool found = false;
        snprintf(tag, sizeof(tag), "[%s difference]", x->rma);
        snprintf(path, sizeof(path), "/orders/%" PRId64 "/refunds", x->order_id);
        if ((s = get_json(x, env, path, rq, 1, &refunds, e)) != STEP_OK)
            goto out;
        json_array_foreach(refunds, i, rf)
        {
            found = found || contains(rf, "reason", tag);
        }
        json_decref(refunds);
        if (!found) {
            reason = xasprintf("%s Return %s: price difference of the exchange", tag, x->rma);
            rb = json_pack("{s:s, s:s, s:[], s:b, s:b}", "amount", diff_s, "reason", reason,
                           "line_items", "api_refund",
                           strcmp(jx_str(x->settings, "refund_method"), "api_refund") == 0,
                           "api_restock", 0);
            s = post_json(x, env, path, rb, &rmade, e);
            json_decref(rb);
            json_decref(rmade);
            free(reason);
            if (s != STEP_OK)
                goto out;
        }
    } else {
        snprintf(diff_s, sizeof(diff_s), "0.00");
    }
    x->result = json_pack("{s:s, s:I, s:s}", "kind", "exchange", "order_id", (json_int_t)made_id,
                          "difference_refunded", diff_s);
    {
        char *text = xasprintf("[%s] Return %s resolved: exchange order #%" PRId64 ".", x->rma,
                               x->rma, made_id);
        *note = json_string(text);
        free(text);
    }
out:
    json_decref(order);
    json_decref(existing);
    json_decref(body);
    json_decref(items);
    json_decref(made);
    json_decref(empty);
    return s;
}

/*
 * Store credit and exchanges move no money, but the inspection may have
 * decided to restock: WooCommerce restocks through a refund's lines, so a
 * refund of 0.00 with the restocked lines (api_refund false, api_restock
 * true), tagged "[R-1042 restock-only]", puts them back in stock once and
 * records the units as returned on the order, as wp-admin's "restock only"
 * does.
 */
static enum step
restock_only(struct ctx *x, struct job_env *env, struct err *e)
{
    json_t *refunds = NULL, *lines = json_array(), *body = NULL, *made = NULL, *rf;
    struct woo_param q[1] = {{"per_page", "100"}};
    char path[64], tag[48], *reason = NULL;
    enum step s = STEP_OK;
    size_t i;

    for (int k = 0; k < x->nlines; k++)
        if (x->lines[k].restock)
            json_array_append_new(lines, json_pack("{s:I, s:i, s:s}", "id",
                                                   (json_int_t)x->lines[k].line_item_id, "quantity",
                                                   x->lines[k].qty, "refund_total", "0.00"));
    if (json_array_size(lines) == 0)
        goto out;
    snprintf(tag, sizeof(tag), "[%s restock-only]", x->rma);
    snprintf(path, sizeof(path), "/orders/%" PRId64 "/refunds", x->order_id);
    if ((s = get_json(x, env, path, q, 1, &refunds, e)) != STEP_OK)
        goto out;
    json_array_foreach(refunds, i, rf)
    {
        if (contains(rf, "reason", tag))
            goto out;
    }
    reason = xasprintf("%s Return %s: restocked, no money refunded", tag, x->rma);
    body = json_pack("{s:s, s:s, s:O, s:b, s:b}", "amount", "0.00", "reason", reason, "line_items",
                     lines, "api_refund", 0, "api_restock", 1);
    s = post_json(x, env, path, body, &made, e);
out:
    free(reason);
    json_decref(refunds);
    json_decref(lines);
    json_decref(body);
    json_decref(made);
    return s;
}

/* The private note on the original order, once (a note with the tag is
 * not added again). */
static enum step
add_note(struct ctx *x, struct job_env *env, const char *text, struct err *e)
{
    json_t *notes = NULL, *body = NULL, *made = NULL, *n;
    char path[96], tag[48];
    struct woo_param q[1] = {{"type", "internal"}};
    enum step s;
    size_t i;

    snprintf(path, sizeof(path), "/orders/%" PRId64 "/notes", x->order_id);
    snprintf(tag, sizeof(tag), "[%s] Return", x->rma);
    if ((s = get_json(x, env, path, q, 1, &notes, e)) != STEP_OK)
        goto out;
    json_array_foreach(notes, i, n)
    {
        if (contains(n, "note", tag))
            goto out;
    }
    body = json_pack("{s:s, s:b}", "note", text, "customer_note", 0);
    s = post_json(x, env, path, body, &made, e);
out:
    json_decref(notes);
    json_decref(body);
    json_decref(made);
    return s;
}

void
returns_job_resolve(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct ctx x = {.cfg = env->cfg, .shop_id = job->shop_id};
    struct finish f = {.x = &x};
    struct err e = {0};
    json_t *note = NULL;
    enum step s;

    x.id = json_integer_value(json_object_get(job->payload, "request_id"));
    out->status = JOB_DONE;
    if (db_run(load_fn, &x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (strcmp(x.state, "resolving") != 0) /* done already, or not asked */
        goto out;
    if (x.nlines == 0) {
        snprintf(x.message, sizeof(x.message), "no line was received");
        s = STEP_FAILED;
    } else if (strcmp(x.resolution, "refund") == 0) {
        s = do_refund(&x, env, &note, &e);
    } else if (strcmp(x.resolution, "store_credit") == 0) {
        s = do_credit(&x, env, &note, &e);
        if (s == STEP_OK)
            s = restock_only(&x, env, &e);
    } else {
        s = do_exchange(&x, env, &note, &e);
        if (s == STEP_OK)
            s = restock_only(&x, env, &e);
    }
    if (s == STEP_OK)
        s = add_note(&x, env, json_string_value(note), &e);
    if (s == STEP_FAILED && x.message[0] == '\0')
        snprintf(x.message, sizeof(x.message), "%s", e.detail);
    if (s == STEP_RETRY) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    f.action = s == STEP_OK ? "resolved" : "failed";
    if (db_tx(finish_fn, &f, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->result = json_pack("{s:s, s:s}", "rma", x.rma, "outcome", f.action);
out:
    json_decref(note);
    json_decref(x.result);
    ctx_clear(&x);
}

int
returns_job_resolve_dead(struct db_conn *c, const struct job *job, struct err *e)
{
    int64_t id = json_integer_value(json_object_get(job->payload, "request_id"));
    json_t *body = json_pack("{s:s}", "message", "the shop did not answer; resolve again to retry"),
           *out = NULL;
    int rc = returns_store_transition(c, job->shop_id, id, "failed", body, "job", &out, e);

    json_decref(body);
    json_decref(out);
    if (rc < 0 && (e->kind == ERR_CONFLICT || e->kind == ERR_NOT_FOUND))
        return 0; /* not resolving any more */
    return rc;
}
