/*
 * store.c - the SQL of return requests: create (policy and quantity checks
 * under a lock on the order row), read, list, and every transition with
 * its event row, customer message and job.
 *
 * Invariants kept here:
 *  - the quantity of a line under returns that are not rejected or
 *    cancelled never exceeds what was bought: a request is created while
 *    holding the order row FOR UPDATE, so two requests for the last unit
 *    of a line serialise and the second sees the first;
 *  - a request changes state only along returns_next_state (rules.c), one
 *    event row per change, with the row locked FOR UPDATE;
 *  - resolving writes the returns.resolve job in the same transaction as
 *    the state change (outbox), so the shop is called after the commit.
 * Callers: handlers.c (request threads) and jobs.c (workers). Never calls
 * a shop.
 */
#include <inttypes.h>
#include <stdint.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/hooks/hooks.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/settings.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"
#include "aftersale/woo/products.h"

int
returns_settings_load(struct db_conn *c, int64_t shop_id, json_t **doc, struct err *e)
{
    json_t *stored = NULL, *empty = json_object();
    int rc;

    *doc = NULL;
    if (db_settings_load(c, DB_SETTINGS_RETURNS, shop_id, &stored, e) < 0) {
        json_decref(empty);
        return -1;
    }
    rc = returns_settings_merge(stored, empty, doc, e);
    if (rc < 0) /* a stored document is valid by construction */
        err_set(e, ERR_INTERNAL, NULL, "stored return settings of shop %" PRId64 " are invalid",
                shop_id);
    json_decref(stored);
    json_decref(empty);
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

#define REQUEST_JSON                                                                               \
    "SELECT json_build_object('id', q.id, 'rma', 'R-' || q.number, 'order_id', q.order_id,"        \
    " 'customer_id', q.customer_id, 'email', q.email, 'state', q.state,"                           \
    " 'resolution', q.resolution, 'created_by', q.created_by, 'result', q.result,"                 \
    " 'failure_message', q.failure_message,"                                                       \
    " 'lines', coalesce((SELECT json_agg(json_build_object('line_item_id', l.line_item_id,"        \
    "   'product_id', l.product_id, 'name', coalesce(i.name, ''), 'quantity', l.quantity,"         \
    "   'reason', l.reason, 'note', l.note, 'quantity_received', l.quantity_received,"             \
    "   'condition', l.condition, 'restock', l.restock,"                                           \
    "   'exchange_product_id', l.exchange_product_id,"                                             \
    "   'exchange_variation_id', l.exchange_variation_id) ORDER BY l.line_item_id)"                \
    "   FROM return_lines l LEFT JOIN order_items i ON i.shop_id = l.shop_id"                      \
    "   AND i.order_id = q.order_id AND i.line_item_id = l.line_item_id"                           \
    "   WHERE l.shop_id = q.shop_id AND l.request_id = q.id), '[]'),"                              \
    " 'photos', coalesce((SELECT json_agg(json_build_object('id', p.id,"                           \
    "   'line_item_id', p.line_item_id,"                                                            \
    "   'media_type', p.media_type, 'size', octet_length(p.bytes)) ORDER BY p.id)"                 \
    "   FROM return_photos p WHERE p.shop_id = q.shop_id AND p.request_id = q.id), '[]'),"         \
    " 'history', coalesce((SELECT json_agg(json_build_object('actor', v.actor,"                    \
    "   'from', v.from_state, 'to', v.to_state, 'changes', v.changes,"                             \
    "   'at', " DB_TS(                                                                             \
        "v.created_at") ") ORDER BY v.id)"                                                         \
                        "   FROM return_events v WHERE v.shop_id = q.shop_id AND v.request_id = "  \
                        "q.id), '[]'),"                                                            \
                        " 'created_at', " DB_TS("q.created_at") ", 'updated_at', " DB_TS(          \
                            "q.updated_at") ")::text"

static json_t *
parse_text(const char *text, struct err *e)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);

    if (v == NULL)
        err_set(e, ERR_INTERNAL, NULL, "request JSON does not parse: %s", jerr.text);
    return v;
}

int
returns_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out, struct err *e)
{
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    res = db_exec(c, "returns_store_get",
                  REQUEST_JSON " FROM return_requests q WHERE q.shop_id = $1 AND q.id = $2", 2,
                  params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1 && (*out = parse_text(PQgetvalue(res, 0, 0), e)) == NULL) {
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

/* One page of a list query whose rows are (request JSON text, id), with
 * one row more than `limit` asked for: *items the first `limit` requests
 * (new reference), *next the id of the last one shown when there are more
 * (the cursor), else left as it is. Takes res (cleared, even on failure);
 * -1 with e when res is NULL (e already set) or a row does not parse. */
static int
page_take(PGresult *res, int limit, json_t **items, int64_t *next, struct err *e)
{
    int n;

    if (res == NULL)
        return -1;
    *items = json_array();
    n = PQntuples(res);
    for (int i = 0; i < n && i < limit; i++) {
        json_t *v = parse_text(PQgetvalue(res, i, 0), e);
        if (v == NULL) {
            PQclear(res);
            json_decref(*items);
            *items = NULL;
            return -1;
        }
        json_array_append_new(*items, v);
    }
    if (n > limit)
        *next = atoll(PQgetvalue(res, limit - 1, 1));
    PQclear(res);
    return 0;
}

int
returns_store_list(struct db_conn *c, int64_t shop_id, const struct returns_filter *f,
                   int64_t after, int limit, json_t **items, int64_t *next_after, struct err *e)
{
    char shop[24], a[24], l[24], order[24];
    const char *params[9] = {shop,
                             a,
                             l,
                             f->state,
                             f->order_id > 0 ? order : NULL,
                             f->email,
                             f->reason,
                             f->created_after,
                             f->created_before};
    PGresult *res;

    *items = NULL;
    *next_after = 0;
    DB_I64(shop, shop_id);
    DB_I64(a, after);
    DB_I64(l, limit + 1);
    DB_I64(order, f->order_id);
    res = db_exec(c, "returns_store_list",
                  REQUEST_JSON
                  ", q.id FROM return_requests q WHERE q.shop_id = $1 AND q.id > $2"
                  " AND ($4::text IS NULL OR q.state = $4)"
                  " AND ($5::bigint IS NULL OR q.order_id = $5)"
                  " AND ($6::text IS NULL OR lower(q.email) = lower($6))"
                  " AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM return_lines l"
                  "   WHERE l.shop_id = q.shop_id AND l.request_id = q.id AND l.reason = $7))"
                  " AND ($8::timestamptz IS NULL OR q.created_at >= $8)"
                  " AND ($9::timestamptz IS NULL OR q.created_at < $9)"
                  " ORDER BY q.id LIMIT $3",
                  9, params, e);
    return page_take(res, limit, items, next_after, e);
}

int
returns_store_list_customer(struct db_conn *c, int64_t shop_id,
                            const struct returns_customer *cust, int64_t before, int limit,
                            json_t **items, int64_t *next_before, struct err *e)
{
    char shop[24], b[24], l[24], cid[24];
    const char *params[5] = {shop, b, l, cid, cust->email ? cust->email : ""};
    PGresult *res;

    *items = NULL;
    *next_before = 0;
    DB_I64(shop, shop_id);
    DB_I64(b, before);
    DB_I64(l, limit + 1);
    DB_I64(cid, cust->id);
    /* the same ownership as returns_store_owned: the request's customer,
     * or its email or its order's billing email (case-insensitive) */
    res = db_exec(c, "returns_store_list_customer",
                  REQUEST_JSON
                  ", q.id FROM return_requests q JOIN orders o ON o.shop_id = q.shop_id"
                  " AND o.order_id = q.order_id WHERE q.shop_id = $1"
                  " AND ($2::bigint = 0 OR q.id < $2::bigint)"
                  " AND (($4::bigint > 0 AND q.customer_id = $4::bigint) OR ($5 <> ''"
                  "   AND (lower(q.email) = lower($5) OR lower(o.billing_email) = lower($5))))"
                  " ORDER BY q.id DESC LIMIT $3",
                  5, params, e);
    return page_take(res, limit, items, next_before, e);
}

/* ---- events and messages ------------------------------------------------- */

static int
event_add(struct db_conn *c, int64_t shop_id, int64_t id, const char *actor, const char *from,
          const char *to, const json_t *changes, int64_t *event_id, struct err *e)
{
    char shop[24], rid[24];
    char *ch = changes ? jx_dump(changes) : xstrdup("{}");
    const char *params[6] = {shop, rid, actor, from, to, ch};
    PGresult *res;

    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    res = db_exec(c, "returns_event_add",
                  "INSERT INTO return_events (shop_id, request_id, actor, from_state, to_state,"
                  " changes) VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id",
                  6, params, e);
    free(ch);
    if (res == NULL)
        return -1;
    *event_id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (from == NULL && strcmp(to, "requested") == 0 &&
        returns_alert_new_request(c, shop_id, id, e) < 0)
        return -1;
    if (hooks_emit(c, shop_id, from ? "return.state_changed" : "return.created",
                   json_pack("{s:I, s:s?, s:s, s:s}", "return_id", (json_int_t)id, "from_state",
                             from, "to_state", to, "actor", actor),
                   e) < 0)
        return -1;
    return returns_notify_transition(c, shop_id, id, *event_id, to, e);
}

int
returns_notify_transition(struct db_conn *c, int64_t shop_id, int64_t request_id, int64_t event_id,
                          const char *to_state, struct err *e)
{
    /* The states a customer hears about; resolving and resolution_failed
     * are the shop's business until they end in resolved. */
    static const char *const told[] = {"requested", "approved",  "rejected", "received",
                                       "resolved",  "cancelled", NULL};
    char shop[24], rid[24], ev[24];
    const char *params[4] = {shop, rid, ev, to_state};
    bool tell = false;

    for (int i = 0; told[i]; i++)
        tell = tell || strcmp(told[i], to_state) == 0;
    if (!tell)
        return 0;
    DB_I64(shop, shop_id);
    DB_I64(rid, request_id);
    DB_I64(ev, event_id);
    /* Outbox: the row and the job that sends it commit with the
     * transition, or neither does. A request without an email records
     * nothing (the order-note channel needs no address, but the row keeps
     * one for the contact log). */
    {
        PGresult *res =
            db_exec(c, "returns_notify_transition",
                    "INSERT INTO return_outbox (shop_id, request_id, event_id, to_state,"
                    " email) SELECT q.shop_id, q.id, $3, $4, q.email FROM return_requests q"
                    " WHERE q.shop_id = $1 AND q.id = $2 AND q.email <> ''"
                    " ON CONFLICT (shop_id, event_id) DO NOTHING RETURNING id",
                    4, params, e);
        int64_t outbox_id = 0;
        json_t *payload;
        char key[48];
        int rc;
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1)
            outbox_id = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (outbox_id == 0)
            return 0;
        payload = json_pack("{s:I}", "outbox_id", (json_int_t)outbox_id);
        snprintf(key, sizeof(key), "outbox-%" PRId64, outbox_id);
        rc = jobs_enqueue(c, shop_id, "returns.notify", payload, key, 0, 0, NULL, e);
        json_decref(payload);
        return rc < 0 ? -1 : 0;
    }
}

int
returns_alert_new_request(struct db_conn *c, int64_t shop_id, int64_t request_id, struct err *e)
{
    json_t *payload = json_pack("{s:I}", "request_id", (json_int_t)request_id);
    char key[48];
    int rc;

    snprintf(key, sizeof(key), "alert-%" PRId64, request_id);
    rc = jobs_enqueue(c, shop_id, "returns.alert", payload, key, 0, 0, NULL, e);
    json_decref(payload);
    return rc < 0 ? -1 : 0;
}

/* ---- create --------------------------------------------------------------- */

struct order_row {
    char status[40], email[256], total[40];
    int64_t customer_id;
    bool started, open;
};

/* Lock the order row (serialises every request creation on this order)
 * and read what the policy needs: the window is open until the end of the
 * day, in the shop's time zone, `window_days` days after the day the
 * order was completed (or first delivered). */
static int
order_lock(struct db_conn *c, int64_t shop_id, int64_t order_id, const json_t *s,
           struct order_row *o, bool *found, struct err *e)
{
    char shop[24], order[24], days[24];
    const char *params[4] = {shop, order, jx_str(s, "window_start"), days};
    PGresult *res;

    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(days, json_integer_value(json_object_get(s, "window_days")));
    res = db_exec(c, "returns_order_lock",
                  "WITH o AS (SELECT o.status, o.billing_email, o.total::text AS total,"
                  "   o.customer_id, sh.timezone AS tz,"
                  "   CASE WHEN $3 = 'delivered' THEN (SELECT min(v.created_at) FROM events v"
                  "     WHERE v.shop_id = o.shop_id AND v.order_id = o.order_id"
                  "     AND v.kind = 'order.delivered') ELSE o.date_completed_gmt END AS started"
                  "   FROM orders o JOIN shops sh ON sh.id = o.shop_id"
                  "   WHERE o.shop_id = $1 AND o.order_id = $2 AND NOT o.deleted FOR UPDATE OF o)"
                  " SELECT status, billing_email, total, customer_id, started IS NOT NULL,"
                  " started IS NOT NULL AND now() < ((started AT TIME ZONE tz)::date"
                  "   + $4::integer + 1)::timestamp AT TIME ZONE tz"
                  " FROM o",
                  4, params, e);
    if (res == NULL)
        return -1;
    *found = PQntuples(res) == 1;
    if (*found) {
        snprintf(o->status, sizeof(o->status), "%s", PQgetvalue(res, 0, 0));
        snprintf(o->email, sizeof(o->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(o->total, sizeof(o->total), "%s", PQgetvalue(res, 0, 2));
        o->customer_id = atoll(PQgetvalue(res, 0, 3));
        o->started = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
        o->open = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
    }
    PQclear(res);
    return 0;
}

static bool
in_array(const json_t *arr, const char *s, int64_t id)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (s ? (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
              : json_integer_value(v) == id)
            return true;
    }
    return false;
}

/* The policy's excluded_categories on one line's product (a variation's
 * line names its parent product, whose categories it has). The rule must
 * hold, so unknown categories are not "no category" here: the line is
 * refused as not decidable yet (503, retryable; returns_categories_ready
 * asked the shop before this transaction). Cached categories past their
 * TTL are used as they are: the refresh is on its way. */
static int
category_check(struct db_conn *c, int64_t shop_id, const json_t *s, const char *field,
               int64_t line_id, int64_t product_id, struct err *e)
{
    const json_t *excluded = json_object_get(s, "excluded_categories");
    int64_t cats[WOO_PRODUCTS_MAX_CATEGORIES];
    int n;
    bool known;

    if (json_array_size(excluded) == 0 || product_id <= 0)
        return 0;
    if (woo_product_categories_get(c, shop_id, product_id, cats, &n, &known, e) < 0)
        return -1;
    if (!known)
        return err_set(e, ERR_UNAVAILABLE, field,
                       "line item %" PRId64 ": the categories of product %" PRId64
                       " are not known yet (asked from the shop); try again in a minute",
                       line_id, product_id);
    for (int k = 0; k < n; k++)
        if (in_array(excluded, NULL, cats[k]))
            return err_set(e, ERR_INVALID, field,
                           "line item %" PRId64 " cannot be returned: product %" PRId64
                           " is in category %" PRId64 ", which the shop does not take back",
                           line_id, product_id, cats[k]);
    return 0;
}

/* One line: it is in the order, its product may be returned, and the
 * quantity fits what is left of it (bought minus every open or finished
 * return; rejected and cancelled ones give their units back). */
static int
line_check(struct db_conn *c, int64_t shop_id, int64_t order_id, const json_t *s, int i,
           const json_t *line, int64_t *product_id, struct err *e)
{
    char shop[24], order[24], item[24], f[48];
    const char *params[3] = {shop, order, item};
    int64_t line_id = json_integer_value(json_object_get(line, "line_item_id"));
    int64_t qty = json_integer_value(json_object_get(line, "quantity"));
    int64_t bought, taken;
    PGresult *res;

    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(item, line_id);
    res = db_exec(c, "returns_line_check",
                  "SELECT i.quantity, i.product_id, coalesce((SELECT sum(coalesce("
                  "   l.quantity_received, l.quantity)) FROM return_lines l"
                  "   JOIN return_requests q ON q.shop_id = l.shop_id AND q.id = l.request_id"
                  "   WHERE l.shop_id = i.shop_id AND q.order_id = i.order_id"
                  "   AND l.line_item_id = i.line_item_id"
                  "   AND q.state NOT IN ('rejected', 'cancelled')), 0)"
                  " FROM order_items i WHERE i.shop_id = $1 AND i.order_id = $2"
                  " AND i.line_item_id = $3",
                  3, params, e);
    if (res == NULL)
        return -1;
    snprintf(f, sizeof(f), "lines[%d].line_item_id", i);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_INVALID, f, "line item %" PRId64 " is not in order %" PRId64, line_id,
                       order_id);
    }
    bought = atoll(PQgetvalue(res, 0, 0));
    *product_id = atoll(PQgetvalue(res, 0, 1));
    taken = atoll(PQgetvalue(res, 0, 2));
    PQclear(res);
    if (in_array(json_object_get(s, "excluded_products"), NULL, *product_id))
        return err_set(e, ERR_INVALID, f, "product %" PRId64 " cannot be returned", *product_id);
    if (category_check(c, shop_id, s, f, line_id, *product_id, e) < 0)
        return -1;
    snprintf(f, sizeof(f), "lines[%d].quantity", i);
    if (qty > bought - taken)
        return err_set(e, ERR_CONFLICT, f,
                       "%s: %" PRId64 " asked, %" PRId64 " left to return (%" PRId64
                       " bought, %" PRId64 " returned or being returned)",
                       f, qty, bought - taken > 0 ? bought - taken : 0, bought, taken);
    return 0;
}

/* The shape and the policy's rules on the body, before any lock. */
static int
body_check(const json_t *body, const json_t *s, struct err *e)
{
    static const struct jx_field top[] = {
        {"order_id", JX_INTEGER, true, 0, 0},
        {"resolution", JX_STRING, true, 1, 20},
        {"lines", JX_ARRAY, true, 0, 0},
        {"email", JX_STRING, false, 0, 254},
        /* the customer's locale (their messages and page), checked and
         * stored by the handler */
        {"locale", JX_STRING, false, 0, 35},
    };
    static const struct jx_field fields[] = {
        {"line_item_id", JX_INTEGER, true, 0, 0},
        {"quantity", JX_INTEGER, true, 0, 0},
        {"reason", JX_STRING, true, 1, 40},
        {"note", JX_STRING, false, 0, 2000},
        {"exchange_product_id", JX_INTEGER, false, 0, 0},
        {"exchange_variation_id", JX_INTEGER, false, 0, 0},
    };
    static const char *const kinds[] = {"refund", "store_credit", "exchange"};
    const json_t *lines = json_object_get(body, "lines"), *line;
    const char *res = jx_str(body, "resolution");
    int k;
    size_t i, j;
    char f[48];

    if (jx_check(body, top, sizeof(top) / sizeof(top[0]), NULL, e) < 0)
        return -1;
    if (json_integer_value(json_object_get(body, "order_id")) <= 0)
        return err_set(e, ERR_INVALID, "order_id", "order_id must be a positive integer");
    if (jx_choice(json_object_get(body, "resolution"), "resolution", kinds, 3, &k, e) < 0)
        return -1;
    if (!json_is_true(json_object_get(json_object_get(s, "resolutions"), res)))
        return err_set(e, ERR_INVALID, "resolution", "the shop does not offer %s", res);
    if (json_array_size(lines) < 1 || json_array_size(lines) > RETURNS_MAX_LINES)
        return err_set(e, ERR_INVALID, "lines", "lines must hold 1 to %d lines", RETURNS_MAX_LINES);
    json_array_foreach(lines, i, line)
    {
        const json_t *reason;
        snprintf(f, sizeof(f), "lines[%zu]", i);
        if (!json_is_object(line))
            return err_set(e, ERR_INVALID, f, "%s must be an object", f);
        snprintf(f, sizeof(f), "lines[%zu].", i);
        if (jx_check(line, fields, 6, f, e) < 0)
            return -1;
        snprintf(f, sizeof(f), "lines[%zu].quantity", i);
        if (json_integer_value(json_object_get(line, "quantity")) < 1 ||
            json_integer_value(json_object_get(line, "quantity")) > 100000)
            return err_set(e, ERR_INVALID, f, "%s must be a positive integer", f);
        for (j = 0; j < i; j++)
            if (json_integer_value(json_object_get(json_array_get(lines, j), "line_item_id")) ==
                json_integer_value(json_object_get(line, "line_item_id"))) {
                snprintf(f, sizeof(f), "lines[%zu].line_item_id", i);
                return err_set(e, ERR_INVALID, f, "%s appears twice", f);
            }
        snprintf(f, sizeof(f), "lines[%zu].reason", i);
        reason = returns_reason_find(s, jx_str(line, "reason"));
        if (reason == NULL)
            return err_set(e, ERR_INVALID, f, "%s is not one of the shop's reason codes", f);
        snprintf(f, sizeof(f), "lines[%zu].note", i);
        if (json_is_true(json_object_get(reason, "note_required")) &&
            (jx_str(line, "note") == NULL || jx_str(line, "note")[0] == '\0'))
            return err_set(e, ERR_INVALID, f, "the reason %s needs a note", jx_str(line, "reason"));
        snprintf(f, sizeof(f), "lines[%zu].exchange_product_id", i);
        if (strcmp(res, "exchange") == 0 &&
            json_integer_value(json_object_get(line, "exchange_product_id")) <= 0)
            return err_set(e, ERR_INVALID, f, "an exchange names the replacement product");
    }
    return 0;
}

static int
insert_line(struct db_conn *c, int64_t shop_id, int64_t id, int64_t product_id, const json_t *line,
            struct err *e)
{
    char shop[24], rid[24], item[24], prod[24], qty[24], xp[24], xv[24];
    const json_t *xpv = json_object_get(line, "exchange_product_id");
    const json_t *xvv = json_object_get(line, "exchange_variation_id");
    const char *note = jx_str(line, "note");
    const char *params[9] = {shop,
                             rid,
                             item,
                             prod,
                             qty,
                             jx_str(line, "reason"),
                             note ? note : "",
                             xpv ? xp : NULL,
                             xvv ? xv : NULL};

    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    DB_I64(item, json_integer_value(json_object_get(line, "line_item_id")));
    DB_I64(prod, product_id);
    DB_I64(qty, json_integer_value(json_object_get(line, "quantity")));
    DB_I64(xp, json_integer_value(xpv));
    DB_I64(xv, json_integer_value(xvv));
    return db_exec_cmd(c, "returns_insert_line",
                       "INSERT INTO return_lines (shop_id, request_id, line_item_id, product_id,"
                       " quantity, reason, note, exchange_product_id, exchange_variation_id)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                       9, params, e) < 0
               ? -1
               : 0;
}

/* Whether the order is this customer's: the same WooCommerce customer, or
 * the same billing email. */
static bool
customer_owns(const struct returns_customer *cust, int64_t customer_id, const char *email)
{
    if (cust->id > 0 && cust->id == customer_id)
        return true;
    return cust->email && cust->email[0] && strcasecmp(cust->email, email) == 0;
}

struct ready_ctx {
    int64_t shop_id;
    const json_t *body;
    const struct returns_customer *cust;
    int line;                           /* first line whose categories are unknown, -1: none */
    int64_t line_item_id, product_id;
};

static int
ready_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct ready_ctx *x = ctx;
    json_t *s = NULL, *line;
    int64_t order_id = jx_int(x->body, "order_id");
    char shop[24], order[24], item[24], key[64];
    const char *params[3] = {shop, order, item};
    size_t i;
    int rc = -1;

    x->line = -1;
    if (returns_settings_load(c, x->shop_id, &s, e) < 0)
        return -1;
    if (json_array_size(json_object_get(s, "excluded_categories")) == 0 || order_id <= 0) {
        json_decref(s);
        return 0;
    }
    DB_I64(shop, x->shop_id);
    DB_I64(order, order_id);
    json_array_foreach(json_object_get(x->body, "lines"), i, line) {
        PGresult *res;
        int64_t cats[WOO_PRODUCTS_MAX_CATEGORIES];
        int n;
        bool known, owned;

        DB_I64(item, jx_int(line, "line_item_id"));
        res = db_exec(c, "returns_ready_line",
                      "SELECT i.product_id, o.customer_id, o.billing_email FROM order_items i"
                      " JOIN orders o ON o.shop_id = i.shop_id AND o.order_id = i.order_id"
                      " WHERE i.shop_id = $1 AND i.order_id = $2 AND i.line_item_id = $3",
                      3, params, e);
        if (res == NULL)
            goto out;
        if (PQntuples(res) != 1) { /* the creation names it */
            PQclear(res);
            continue;
        }
        x->product_id = atoll(PQgetvalue(res, 0, 0));
        /* Another customer's order: say nothing here (the creation answers
         * as for an unknown order). */
        owned = x->cust == NULL ||
                customer_owns(x->cust, atoll(PQgetvalue(res, 0, 1)), PQgetvalue(res, 0, 2));
        PQclear(res);
        if (!owned)
            break;
        if (x->product_id <= 0)
            continue;
        if (woo_product_categories_get(c, x->shop_id, x->product_id, cats, &n, &known, e) < 0)
            goto out;
        if (!known) {
            x->line = (int)i;
            x->line_item_id = jx_int(line, "line_item_id");
            break;
        }
    }
    if (x->line >= 0) {
        /* Ask the shop now (at most one new job a minute per order). */
        snprintf(key, sizeof(key), "return:%s:%lld", order, (long long)(time(NULL) / 60));
        if (woo_products_want(c, x->shop_id, order_id, key, NULL, e) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(s);
    return rc;
}

int
returns_categories_ready(int64_t shop_id, const json_t *body, const struct returns_customer *cust,
                         struct err *e)
{
    struct ready_ctx x = {.shop_id = shop_id, .body = body, .cust = cust};
    char f[48];

    if (db_tx(ready_fn, &x, e) < 0)
        return -1;
    if (x.line < 0)
        return 0;
    snprintf(f, sizeof(f), "lines[%d].line_item_id", x.line);
    return err_set(e, ERR_UNAVAILABLE, f,
                   "line item %" PRId64 ": the categories of product %" PRId64
                   " are not known yet (asked from the shop just now); try again in a minute",
                   x.line_item_id, x.product_id);
}

int
returns_store_create(struct db_conn *c, int64_t shop_id, const json_t *body,
                     const struct returns_customer *cust, const char *actor, json_t **out,
                     struct err *e)
{
    json_t *s = NULL;
    struct order_row o = {0};
    const json_t *lines = json_object_get(body, "lines"), *line;
    int64_t order_id = json_integer_value(json_object_get(body, "order_id")), id, ev;
    const char *reasons[RETURNS_MAX_LINES];
    char shop[24], order[24], custid[24];
    const char *email;
    PGresult *res = NULL;
    bool found;
    size_t i;
    int rc = -1;

    *out = NULL;
    if (returns_settings_load(c, shop_id, &s, e) < 0 || body_check(body, s, e) < 0)
        goto out;
    if (order_lock(c, shop_id, order_id, s, &o, &found, e) < 0)
        goto out;
    if (!found) {
        err_set(e, ERR_INVALID, "order_id", "aftersale has no order %" PRId64 " for this shop",
                order_id);
        goto out;
    }
    /* A customer may return only their own order, and learns nothing about
     * another's (the same answer as an unknown order). */
    if (cust && !customer_owns(cust, o.customer_id, o.email)) {
        err_set(e, ERR_INVALID, "order_id", "aftersale has no order %" PRId64 " for this shop",
                order_id);
        goto out;
    }
    if (!in_array(json_object_get(s, "eligible_statuses"), o.status, 0)) {
        err_set(e, ERR_INVALID, "order_id", "an order in status %s cannot be returned", o.status);
        goto out;
    }
    if (!o.started || !o.open) {
        err_set(e, ERR_INVALID, "order_id",
                o.started ? "the return window of this order has closed"
                          : "the return window has not started (the order is not %s yet)",
                jx_str(s, "window_start"));
        goto out;
    }
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(custid, o.customer_id);
    email = cust ? NULL : jx_str(body, "email");
    if (email == NULL || email[0] == '\0')
        email = o.email;
    {
        const char *params[7] = {shop, order, custid, email, jx_str(body, "resolution"), actor};
        res = db_exec(c, "returns_create",
                      "WITH n AS (INSERT INTO return_counters (shop_id, last_number)"
                      "   VALUES ($1, 1001) ON CONFLICT (shop_id) DO UPDATE"
                      "   SET last_number = return_counters.last_number + 1 RETURNING last_number)"
                      " INSERT INTO return_requests (shop_id, number, order_id, customer_id, email,"
                      " resolution, created_by) SELECT $1, n.last_number, $2, $3, $4, $5, $6"
                      " FROM n RETURNING id",
                      6, params, e);
    }
    if (res == NULL)
        goto out;
    id = atoll(PQgetvalue(res, 0, 0));
    json_array_foreach(lines, i, line)
    {
        int64_t product_id = 0;
        if (line_check(c, shop_id, order_id, s, (int)i, line, &product_id, e) < 0 ||
            insert_line(c, shop_id, id, product_id, line, e) < 0)
            goto out;
        reasons[i] = jx_str(line, "reason");
    }
    if (event_add(c, shop_id, id, actor, NULL, "requested", NULL, &ev, e) < 0)
        goto out;
    /* Auto-approve: photos come later (POST .../photos), so a reason that
     * needs one is never auto-approved. */
    if (returns_auto_approve(s, o.total, reasons, (int)json_array_size(lines))) {
        bool photo = false;
        for (i = 0; i < json_array_size(lines); i++)
            photo = photo || json_is_true(json_object_get(returns_reason_find(s, reasons[i]),
                                                          "photo_required"));
        if (!photo) {
            char rid[24];
            const char *p2[2] = {shop, rid};
            DB_I64(rid, id);
            if (db_exec_cmd(c, "returns_auto_approve",
                            "UPDATE return_requests SET state = 'approved', updated_at = now()"
                            " WHERE shop_id = $1 AND id = $2",
                            2, p2, e) < 0 ||
                event_add(c, shop_id, id, "auto_approve", "requested", "approved", NULL, &ev, e) <
                    0)
                goto out;
        }
    }
    if (returns_store_get(c, shop_id, id, out, e) < 0)
        goto out;
    rc = 0;
out:
    PQclear(res);
    json_decref(s);
    return rc;
}

/* ---- transitions --------------------------------------------------------- */

struct current {
    char state[24], resolution[16];
    int64_t order_id;
};

static int
lock_request(struct db_conn *c, int64_t shop_id, int64_t id, struct current *cur, bool *found,
             struct err *e)
{
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;

    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    res = db_exec(c, "returns_lock_request",
                  "SELECT state, resolution, order_id FROM return_requests"
                  " WHERE shop_id = $1 AND id = $2 FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    *found = PQntuples(res) == 1;
    if (*found) {
        snprintf(cur->state, sizeof(cur->state), "%s", PQgetvalue(res, 0, 0));
        snprintf(cur->resolution, sizeof(cur->resolution), "%s", PQgetvalue(res, 0, 1));
        cur->order_id = atoll(PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return 0;
}

/* Approve: every line whose reason needs a photo has one: its own (the
 * portal's per-line photos) or one of the whole request (the photo API). */
static int
photos_present(struct db_conn *c, int64_t shop_id, int64_t id, struct err *e)
{
    json_t *s = NULL;
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res = NULL;
    int rc = -1, n, photos;

    if (returns_settings_load(c, shop_id, &s, e) < 0)
        return -1;
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    res = db_exec(c, "returns_photos_present",
                  "SELECT l.reason, (SELECT count(*) FROM return_photos p WHERE p.shop_id = $1"
                  " AND p.request_id = $2 AND (p.line_item_id IS NULL"
                  " OR p.line_item_id = l.line_item_id)) FROM return_lines l WHERE l.shop_id = $1"
                  " AND l.request_id = $2",
                  2, params, e);
    if (res == NULL)
        goto out;
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        photos = atoi(PQgetvalue(res, i, 1));
        if (photos == 0 && json_is_true(json_object_get(
                               returns_reason_find(s, PQgetvalue(res, i, 0)), "photo_required"))) {
            err_set(e, ERR_INVALID, "photos", "the reason %s needs a photo before approval",
                    PQgetvalue(res, i, 0));
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(res);
    json_decref(s);
    return rc;
}

/* Receive: the inspection of every line (quantity received, condition,
 * restock), recorded on the lines. */
static int
receive_lines(struct db_conn *c, int64_t shop_id, int64_t id, const json_t *body, json_t *changes,
              struct err *e)
{
    static const struct jx_field fields[] = {
        {"line_item_id", JX_INTEGER, true, 0, 0},
        {"quantity_received", JX_INTEGER, true, 0, 0},
        {"condition", JX_STRING, true, 1, 20},
        {"restock", JX_BOOLEAN, true, 0, 0},
    };
    static const char *const conds[] = {"resellable", "damaged"};
    const json_t *lines = json_object_get(body, "lines"), *line;
    char shop[24], rid[24], item[24], qty[24], f[48];
    const char *params[6] = {shop, rid, item, qty, NULL, NULL};
    PGresult *res;
    size_t i;
    int k;
    long n, total;

    if (!json_is_array(lines) || json_array_size(lines) < 1)
        return err_set(e, ERR_INVALID, "lines",
                       "lines must list each line's quantity_received, condition and restock");
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    json_array_foreach(lines, i, line)
    {
        snprintf(f, sizeof(f), "lines[%zu].", i);
        if (!json_is_object(line) || jx_check(line, fields, 4, f, e) < 0)
            return json_is_object(line) ? -1 : err_set(e, ERR_INVALID, "lines", "bad line");
        snprintf(f, sizeof(f), "lines[%zu].condition", i);
        if (jx_choice(json_object_get(line, "condition"), f, conds, 2, &k, e) < 0)
            return -1;
        DB_I64(item, json_integer_value(json_object_get(line, "line_item_id")));
        DB_I64(qty, json_integer_value(json_object_get(line, "quantity_received")));
        params[4] = jx_str(line, "condition");
        params[5] = json_is_true(json_object_get(line, "restock")) ? "true" : "false";
        n = db_exec_cmd(c, "returns_receive_line",
                        "UPDATE return_lines SET quantity_received = $4::integer, condition = $5,"
                        " restock = $6::boolean WHERE shop_id = $1 AND request_id = $2"
                        " AND line_item_id = $3 AND $4::integer <= quantity",
                        6, params, e);
        if (n < 0)
            return -1;
        if (n == 0) {
            snprintf(f, sizeof(f), "lines[%zu].quantity_received", i);
            return err_set(e, ERR_INVALID, f,
                           "%s: the line is not in this request or more than was asked", f);
        }
    }
    res = db_exec(c, "returns_receive_missing",
                  "SELECT count(*) FILTER (WHERE condition IS NULL),"
                  " coalesce(sum(quantity_received), 0) FROM return_lines"
                  " WHERE shop_id = $1 AND request_id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    n = atol(PQgetvalue(res, 0, 0));
    total = atol(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (n > 0)
        return err_set(e, ERR_INVALID, "lines", "every line of the request must be inspected");
    if (total == 0)
        return err_set(e, ERR_INVALID, "lines",
                       "nothing was received: reject or cancel the request instead");
    json_object_set(changes, "lines", (json_t *)(uintptr_t)lines);
    return 0;
}

/* Resolve: the resolution (the merchant may change the customer's wish),
 * a coupon code chosen once, and the job that calls the shop. */
static int
resolve_prepare(struct db_conn *c, int64_t shop_id, int64_t id, const json_t *body,
                struct current *cur, json_t *changes, struct err *e)
{
    static const char *const kinds[] = {"refund", "store_credit", "exchange"};
    const json_t *res = json_object_get(body, "resolution");
    const json_t *ship = json_object_get(body, "refund_shipping");
    char shop[24], rid[24], ref[40];
    uint8_t rnd[5];
    const char *params[5] = {shop, rid, cur->resolution, ref,
                             json_is_true(ship) ? "true" : "false"};
    json_t *payload;
    int k, rc;

    if (ship != NULL && !json_is_boolean(ship))
        return err_set(e, ERR_INVALID, "refund_shipping", "refund_shipping must be true or false");
    if (ship != NULL)
        json_object_set_new(changes, "refund_shipping", json_boolean(json_is_true(ship)));
    if (res != NULL) {
        if (jx_choice(res, "resolution", kinds, 3, &k, e) < 0)
            return -1;
        snprintf(cur->resolution, sizeof(cur->resolution), "%s", kinds[k]);
        json_object_set_new(changes, "resolution", json_string(kinds[k]));
    }
    if (strcmp(cur->resolution, "exchange") == 0) {
        PGresult *r2;
        DB_I64(shop, shop_id);
        DB_I64(rid, id);
        r2 = db_exec(c, "returns_exchange_named",
                     "SELECT count(*) FROM return_lines WHERE shop_id = $1 AND request_id = $2"
                     " AND exchange_product_id IS NULL AND quantity_received > 0",
                     2, params, e);
        if (r2 == NULL)
            return -1;
        k = atoi(PQgetvalue(r2, 0, 0));
        PQclear(r2);
        if (k > 0)
            return err_set(e, ERR_INVALID, "resolution",
                           "an exchange needs a replacement product on every line received");
    }
    crypto_random(rnd, sizeof(rnd));
    crypto_hex(rnd, sizeof(rnd), ref);
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    if (db_exec_cmd(c, "returns_resolve_prepare",
                    "UPDATE return_requests SET resolution = $3, failure_message = NULL,"
                    " resolution_ref = coalesce(resolution_ref, $4), refund_shipping = $5::boolean"
                    " WHERE shop_id = $1 AND id = $2",
                    5, params, e) < 0)
        return -1;
    payload = json_pack("{s:I}", "request_id", (json_int_t)id);
    rc = jobs_enqueue(c, shop_id, "returns.resolve", payload, NULL, 0, 0, NULL, e);
    json_decref(payload);
    return rc;
}

int
returns_store_transition(struct db_conn *c, int64_t shop_id, int64_t id, const char *action,
                         const json_t *body, const char *actor, json_t **out, struct err *e)
{
    struct current cur = {0};
    const char *to, *note = jx_str(body, "note");
    json_t *changes = json_object();
    char shop[24], rid[24];
    bool found;
    int64_t ev;
    int rc = -1;

    *out = NULL;
    if (lock_request(c, shop_id, id, &cur, &found, e) < 0)
        goto out;
    if (!found) {
        err_set(e, ERR_NOT_FOUND, NULL, "no return request %" PRId64, id);
        goto out;
    }
    to = returns_next_state(cur.state, action);
    if (to == NULL) {
        err_set(e, ERR_CONFLICT, "state", "cannot %s a return request in state %s", action,
                cur.state);
        goto out;
    }
    if (note != NULL)
        json_object_set_new(changes, "note", json_string(note));
    if (strcmp(action, "approve") == 0 && photos_present(c, shop_id, id, e) < 0)
        goto out;
    if (strcmp(action, "receive") == 0 && receive_lines(c, shop_id, id, body, changes, e) < 0)
        goto out;
    if (strcmp(action, "resolve") == 0 &&
        resolve_prepare(c, shop_id, id, body, &cur, changes, e) < 0)
        goto out;
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    {
        char *result = NULL;
        const char *msg = strcmp(action, "failed") == 0 ? jx_str(body, "message") : NULL;
        const json_t *rv = strcmp(action, "resolved") == 0 ? json_object_get(body, "result") : NULL;
        const char *params[5] = {shop, rid, to, NULL, msg};
        long n;
        if (rv) {
            result = jx_dump(rv);
            params[3] = result;
            json_object_set(changes, "result", (json_t *)(uintptr_t)rv);
        }
        if (msg)
            json_object_set_new(changes, "message", json_string(msg));
        n = db_exec_cmd(c, "returns_set_state",
                        "UPDATE return_requests SET state = $3, updated_at = now(),"
                        " result = coalesce($4::jsonb, result),"
                        " failure_message = coalesce($5, failure_message)"
                        " WHERE shop_id = $1 AND id = $2",
                        5, params, e);
        free(result);
        if (n < 0)
            goto out;
    }
    if (event_add(c, shop_id, id, actor, cur.state, to, changes, &ev, e) < 0 ||
        returns_store_get(c, shop_id, id, out, e) < 0)
        goto out;
    rc = 0;
out:
    json_decref(changes);
    return rc;
}

/* ---- ownership and photos --------------------------------------------------- */

int
returns_store_owned(struct db_conn *c, int64_t shop_id, int64_t id,
                    const struct returns_customer *cust, bool *owned, struct err *e)
{
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;

    *owned = false;
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    res = db_exec(c, "returns_store_owned",
                  "SELECT q.customer_id, q.email, o.billing_email FROM return_requests q"
                  " JOIN orders o ON o.shop_id = q.shop_id AND o.order_id = q.order_id"
                  " WHERE q.shop_id = $1 AND q.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        *owned = cust == NULL ||
                 customer_owns(cust, atoll(PQgetvalue(res, 0, 0)), PQgetvalue(res, 0, 2)) ||
                 customer_owns(cust, atoll(PQgetvalue(res, 0, 0)), PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

int
returns_store_photo_add(struct db_conn *c, int64_t shop_id, int64_t id, int64_t line_item_id,
                        const char *type, const unsigned char *bytes, size_t len,
                        int64_t *photo_id, struct err *e)
{
    struct current cur = {0};
    char shop[24], rid[24], line[24];
    char *hex = NULL;
    const char *params[5] = {shop, rid, type, NULL, line_item_id > 0 ? line : NULL};
    PGresult *res = NULL;
    bool found;
    int rc = -1;

    if (lock_request(c, shop_id, id, &cur, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, NULL, "no return request %" PRId64, id);
    /* Photos document the request before the merchant decides. */
    if (strcmp(cur.state, "requested") != 0 && strcmp(cur.state, "approved") != 0)
        return err_set(e, ERR_CONFLICT, "state",
                       "cannot add a photo to a return request in state %s", cur.state);
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    DB_I64(line, line_item_id);
    hex = xmalloc(2 * len + 3);
    hex[0] = '\\';
    hex[1] = 'x';
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", bytes[i]);
    hex[2 + 2 * len] = '\0';
    params[3] = hex;
    res = db_exec(
        c, "returns_photo_add",
        "INSERT INTO return_photos (shop_id, request_id, media_type, bytes, line_item_id)"
        " SELECT $1, $2, $3, $4::bytea, $5::bigint WHERE (SELECT count(*) FROM return_photos"
        " WHERE shop_id = $1 AND request_id = $2 AND line_item_id IS NOT DISTINCT FROM"
        " $5::bigint) < 5 RETURNING id", /* RETURNS_PHOTOS_MAX */
        5, params, e);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        if (line_item_id > 0)
            err_set(e, ERR_INVALID, "photos", "a line of a return request holds at most %d photos",
                    RETURNS_PHOTOS_MAX);
        else
            err_set(e, ERR_INVALID, "photos", "a return request holds at most %d photos",
                    RETURNS_PHOTOS_MAX);
        goto out;
    }
    *photo_id = atoll(PQgetvalue(res, 0, 0));
    rc = 0;
out:
    PQclear(res);
    free(hex);
    return rc;
}

int
returns_store_photo_get(struct db_conn *c, int64_t shop_id, int64_t id, int64_t photo_id,
                        char type[32], unsigned char **bytes, size_t *len, struct err *e)
{
    char shop[24], rid[24], pid[24];
    const char *params[3] = {shop, rid, pid};
    PGresult *res;

    *bytes = NULL;
    *len = 0;
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    DB_I64(pid, photo_id);
    res = db_exec(c, "returns_photo_get",
                  "SELECT media_type, bytes FROM return_photos WHERE shop_id = $1"
                  " AND request_id = $2 AND id = $3",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &n);
        if (raw == NULL) {
            PQclear(res);
            return err_set(e, ERR_INTERNAL, NULL, "photo %" PRId64 " does not decode", photo_id);
        }
        *bytes = xmalloc(n ? n : 1);
        memcpy(*bytes, raw, n);
        *len = n;
        PQfreemem(raw);
        snprintf(type, 32, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return 0;
}

/* ---- report ------------------------------------------------------------------ */

/*
 * Return rate per category: of the items sold in the period (paid orders,
 * processing/completed/refunded, created in [from, to)), how many came or
 * are coming back (lines of requests on those orders that are not rejected
 * or cancelled; after inspection, what was received). A line counts in
 * every category of its product; a product whose categories the service
 * does not know (yet) is in none. Adds `by_category` to `out`.
 */
static int
report_categories(struct db_conn *c, const char *const *params, json_t *out, struct err *e)
{
    PGresult *res =
        db_exec(c, "returns_report_categories",
                "WITH o AS (SELECT order_id FROM orders WHERE shop_id = $1 AND NOT deleted"
                "   AND status IN ('processing', 'completed', 'refunded')"
                "   AND ($2::timestamptz IS NULL OR date_created_gmt >= $2)"
                "   AND ($3::timestamptz IS NULL OR date_created_gmt < $3)),"
                " ret AS (SELECT q.order_id, l.line_item_id,"
                "   sum(coalesce(l.quantity_received, l.quantity)) AS units"
                "   FROM return_requests q JOIN return_lines l"
                "   ON l.shop_id = q.shop_id AND l.request_id = q.id"
                "   WHERE q.shop_id = $1 AND q.state NOT IN ('rejected', 'cancelled')"
                "   AND q.order_id IN (SELECT order_id FROM o) GROUP BY 1, 2),"
                " li AS (SELECT cat, oi.quantity, coalesce(ret.units, 0) AS units"
                "   FROM order_items oi JOIN o ON o.order_id = oi.order_id"
                "   JOIN product_categories pc ON pc.shop_id = oi.shop_id"
                "    AND pc.product_id = oi.product_id"
                "   CROSS JOIN LATERAL unnest(pc.category_ids) AS cat"
                "   LEFT JOIN ret ON ret.order_id = oi.order_id"
                "    AND ret.line_item_id = oi.line_item_id"
                "   WHERE oi.shop_id = $1)"
                " SELECT coalesce(json_agg(json_build_object('category_id', g.cat,"
                "   'category_name', coalesce(sc.name, ''), 'items_sold', g.sold,"
                "   'items_returned', g.returned, 'return_rate', CASE WHEN g.sold > 0"
                "   THEN round(g.returned::numeric / g.sold, 4)::float8 END)"
                "   ORDER BY g.returned DESC, g.cat), '[]')::text"
                " FROM (SELECT cat, sum(quantity) AS sold, sum(units) AS returned FROM li"
                "   GROUP BY cat) g"
                " LEFT JOIN shop_categories sc ON sc.shop_id = $1 AND sc.category_id = g.cat",
                3, params, e);
    json_t *v;

    if (res == NULL)
        return -1;
    v = parse_text(PQgetvalue(res, 0, 0), e);
    PQclear(res);
    if (v == NULL)
        return -1;
    json_object_set_new(out, "by_category", v);
    return 0;
}

int
returns_store_report(struct db_conn *c, int64_t shop_id, const char *from, const char *to,
                     json_t **out, struct err *e)
{
    char shop[24];
    const char *params[3] = {shop, from, to};
    PGresult *res;

    *out = NULL;
    DB_I64(shop, shop_id);
    /* Money: refunds sum result.amounts, credits the coupon amounts; both
     * as numeric, then text, never through a double. */
    res =
        db_exec(c, "returns_store_report",
                "WITH q AS (SELECT * FROM return_requests WHERE shop_id = $1"
                "   AND ($2::timestamptz IS NULL OR created_at >= $2)"
                "   AND ($3::timestamptz IS NULL OR created_at < $3)),"
                " done AS (SELECT q.id, min(v.created_at) - q.created_at AS took"
                "   FROM q JOIN return_events v ON v.shop_id = q.shop_id AND v.request_id = q.id"
                "   AND v.to_state = 'resolved' GROUP BY q.id, q.created_at)"
                " SELECT json_build_object("
                " 'requests', (SELECT count(*) FROM q),"
                " 'by_state', coalesce((SELECT json_object_agg(state, n) FROM (SELECT state,"
                "   count(*) AS n FROM q GROUP BY state) s), '{}'),"
                " 'by_resolution', coalesce((SELECT json_object_agg(resolution, n) FROM"
                "   (SELECT resolution, count(*) AS n FROM q GROUP BY resolution) s), '{}'),"
                " 'by_reason', coalesce((SELECT json_agg(json_build_object('reason', reason,"
                "   'lines', n, 'units', u) ORDER BY u DESC, reason) FROM (SELECT l.reason,"
                "   count(*) AS n, sum(l.quantity) AS u FROM q JOIN return_lines l"
                "   ON l.shop_id = q.shop_id AND l.request_id = q.id GROUP BY l.reason) s), '[]'),"
                " 'refunded', (SELECT coalesce(sum(a::numeric), 0)::text FROM q,"
                "   jsonb_array_elements_text(coalesce(q.result->'amounts', '[]')) a"
                "   WHERE q.result->>'kind' = 'refund'),"
                " 'credited', (SELECT coalesce(sum((q.result->>'amount')::numeric), 0)::text"
                "   FROM q WHERE q.result->>'kind' = 'store_credit'),"
                " 'exchanges', (SELECT count(*) FROM q WHERE q.result->>'kind' = 'exchange'),"
                " 'median_hours_to_resolve', (SELECT round((percentile_cont(0.5) WITHIN GROUP"
                "   (ORDER BY extract(epoch FROM took)) / 3600)::numeric, 2)::float8 FROM done),"
                /* The return rate: requests kept (not rejected or cancelled) per
                 * order the shop took in the same period, as the service knows
                 * its orders (webhooks and reconciliation). */
                " 'orders', (SELECT count(*) FROM orders o WHERE o.shop_id = $1 AND NOT o.deleted"
                "   AND ($2::timestamptz IS NULL OR o.date_created_gmt >= $2)"
                "   AND ($3::timestamptz IS NULL OR o.date_created_gmt < $3)),"
                " 'return_rate', (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE round((SELECT"
                "   count(*) FROM q WHERE q.state NOT IN ('rejected', 'cancelled'))::numeric"
                "   / count(*), 4)::float8 END FROM orders o WHERE o.shop_id = $1 AND NOT o.deleted"
                "   AND ($2::timestamptz IS NULL OR o.date_created_gmt >= $2)"
                "   AND ($3::timestamptz IS NULL OR o.date_created_gmt < $3))"
                ")::text",
                3, params, e);
    if (res == NULL)
        return -1;
    *out = parse_text(PQgetvalue(res, 0, 0), e);
    PQclear(res);
    if (*out == NULL)
        return -1;
    if (report_categories(c, params, *out, e) < 0) {
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* ---- items under a return (reviews, surveys) ---------------------------------- */

int
returns_line_blocked(struct db_conn *c, int64_t shop_id, int64_t order_id, int64_t line_item_id,
                     int64_t product_id, bool *blocked, struct err *e)
{
    char shop[24], order[24], line[24], product[24];
    const char *params[4] = {shop, order, line, product};
    PGresult *res;

    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(line, line_item_id);
    DB_I64(product, product_id);
    /* rejected and cancelled requests give the item back to the customer:
     * it may be reviewed again. */
    res = db_exec(c, "returns_line_blocked",
                  "SELECT EXISTS (SELECT 1 FROM return_requests q JOIN return_lines l"
                  " ON l.shop_id = q.shop_id AND l.request_id = q.id"
                  " WHERE q.shop_id = $1 AND q.order_id = $2"
                  " AND q.state NOT IN ('rejected', 'cancelled')"
                  " AND (($3::bigint > 0 AND l.line_item_id = $3)"
                  "   OR ($3::bigint = 0 AND l.product_id = $4)))",
                  4, params, e);
    if (res == NULL)
        return -1;
    *blocked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

int
returns_store_set_locale(struct db_conn *c, int64_t shop_id, int64_t id, const char *locale,
                         struct err *e)
{
    char shop[24], rid[24];
    const char *params[3] = {shop, rid, locale};

    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    return db_exec_cmd(c, "returns_set_locale",
                       "UPDATE return_requests SET locale = $3 WHERE shop_id = $1 AND id = $2", 3,
                       params, e) < 0
               ? -1
               : 0;
}
