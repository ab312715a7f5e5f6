/*
 * orders.c - order and customer snapshots, and the events they imply.
 *
 * Every order that reaches aftersale (webhook, action fetch, reconciliation)
 * comes through woo_orders_apply, so there is one definition of "what
 * happened". Invariants:
 *   - date_modified_gmt orders snapshots: an older version never replaces
 *     a newer one (the upsert's WHERE), so reordered deliveries are harmless;
 *   - events are derived from the state, not from the delivery, and each
 *     has a dedupe key naming the transition ("order.completed:727",
 *     "order.refunded:<refund id>", "order.cancelled:727"), so replays,
 *     reordering and the same order arriving by webhook and by sync all
 *     produce each event exactly once;
 *   - checkout-draft orders (block checkout in progress) are ignored;
 *   - order.delivered ("order.delivered:727") comes from the shop's
 *     delivered_status (WooCommerce settings) here, or from a caller
 *     (POST /v1/orders/{id}/delivered): both go through
 *     woo_orders_delivered, so the two sources together give one event.
 *     A snapshot in that status counts even when it arrives stale (after a
 *     newer one): the order did reach the status, and WooCommerce keeps no
 *     date of it to find out otherwise; unless the order is gone since
 *     (cancelled, refunded, failed, trashed, deleted).
 * Money stays decimal text into numeric; dates are WooCommerce's *_gmt
 * strings read as UTC by PostgreSQL. Every value is checked (validate.c)
 * before the first statement runs, so bad data never aborts the caller's
 * transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/money.h"
#include "aftersale/woo/link.h"
#include "aftersale/woo/products.h"
#include "aftersale/woo/validate.h"

#define UTC(n) "$" #n "::timestamp AT TIME ZONE 'UTC'"

static const char *
str_or(const json_t *obj, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : def;
}

static json_int_t
int_or(const json_t *obj, const char *key, json_int_t def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

/* A *_gmt date: valid string, or NULL when absent/null/empty. -1 when malformed. */
static int
date_field(const json_t *obj, const char *key, const char **out, struct err *e)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return 0;
    if (!json_is_string(v) || !woo_date_valid(json_string_value(v)))
        return err_set(e, ERR_INVALID, key, "%s is not a WooCommerce GMT date", key);
    *out = json_string_value(v);
    return 0;
}

static int
money_field(const json_t *obj, const char *key, const char **out, struct err *e)
{
    *out = str_or(obj, key, "0");
    if (*out[0] == '\0')
        *out = "0";
    if (!money_decimal_valid(*out))
        return err_set(e, ERR_INVALID, key, "%s is not a decimal amount", key);
    return 0;
}

static int
apply_items(struct db_conn *c, const char *shop, const char *order, const json_t *items,
            struct err *e)
{
    const char *params[2] = {shop, order};
    size_t i;
    json_t *item;

    if (db_exec_cmd(c, "woo_orders_items_clear",
                    "DELETE FROM order_items WHERE shop_id = $1 AND order_id = $2", 2, params,
                    e) < 0)
        return -1;
    json_array_foreach(items, i, item) {
        char line[24], product[24], variation[24], qty[24];
        const char *subtotal, *total, *tax;
        const char *p[10] = {shop, order, line, product, variation, str_or(item, "name", ""), qty};

        if (!json_is_integer(json_object_get(item, "id")))
            return err_set(e, ERR_INVALID, "line_items", "line item without an integer id");
        if (money_field(item, "subtotal", &subtotal, e) < 0 ||
            money_field(item, "total", &total, e) < 0 ||
            money_field(item, "total_tax", &tax, e) < 0)
            return -1;
        snprintf(line, sizeof(line), "%" JSON_INTEGER_FORMAT, int_or(item, "id", 0));
        snprintf(product, sizeof(product), "%" JSON_INTEGER_FORMAT, int_or(item, "product_id", 0));
        snprintf(variation, sizeof(variation), "%" JSON_INTEGER_FORMAT,
                 int_or(item, "variation_id", 0));
        snprintf(qty, sizeof(qty), "%" JSON_INTEGER_FORMAT, int_or(item, "quantity", 0));
        p[7] = subtotal;
        p[8] = total;
        p[9] = tax;
        if (db_exec_cmd(c, "woo_orders_item_insert",
                        "INSERT INTO order_items (shop_id, order_id, line_item_id, product_id,"
                        " variation_id, name, quantity, subtotal, total, total_tax)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                        " ON CONFLICT DO NOTHING",
                        10, p, e) < 0)
            return -1;
    }
    return 0;
}

/* The event payload shared by order events: who, how much, what. */
static json_t *
order_summary(const json_t *order, const char *modified)
{
    json_t *billing = json_object_get(order, "billing");
    json_t *items = json_array(), *item;
    size_t i;

    json_array_foreach(json_object_get(order, "line_items"), i, item)
        json_array_append_new(items,
                              json_pack("{s:I, s:I, s:I, s:s, s:I, s:s, s:s}", "line_item_id",
                                        int_or(item, "id", 0), "product_id",
                                        int_or(item, "product_id", 0), "variation_id",
                                        int_or(item, "variation_id", 0), "name",
                                        str_or(item, "name", ""), "quantity",
                                        int_or(item, "quantity", 0), "subtotal",
                                        str_or(item, "subtotal", "0"), "total",
                                        str_or(item, "total", "0")));
    return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "order_id",
                     int_or(order, "id", 0), "status", str_or(order, "status", ""), "customer_id",
                     int_or(order, "customer_id", 0), "email", str_or(billing, "email", ""),
                     "first_name", str_or(billing, "first_name", ""), "currency",
                     str_or(order, "currency", ""), "total", str_or(order, "total", "0"),
                     "shipping_country", str_or(json_object_get(order, "shipping"), "country", ""),
                     "date_modified_gmt", modified, "items", items);
}

static int
emit_refunds(struct db_conn *c, int64_t shop_id, const char *shop, const char *order,
             const json_t *o, const char *modified, struct err *e)
{
    json_t *refund;
    size_t i;
    bool any = false;
    PGresult *res;
    const char *params[2] = {shop, order};

    json_array_foreach(json_object_get(o, "refunds"), i, refund) {
        char rid[24];
        const char *total;
        const char *p[5] = {shop, order, rid, NULL, str_or(refund, "reason", "")};
        long n;

        if (!json_is_integer(json_object_get(refund, "id")))
            return err_set(e, ERR_INVALID, "refunds", "refund without an integer id");
        if (money_field(refund, "total", &total, e) < 0)
            return -1;
        snprintf(rid, sizeof(rid), "%" JSON_INTEGER_FORMAT, int_or(refund, "id", 0));
        p[3] = total;
        /* WooCommerce lists refunds with negative totals; we keep amounts. */
        n = db_exec_cmd(c, "woo_orders_refund_insert",
                        "INSERT INTO order_refunds (shop_id, order_id, refund_id, amount, reason)"
                        " VALUES ($1, $2, $3, abs($4::numeric), $5) ON CONFLICT DO NOTHING",
                        5, p, e);
        if (n < 0)
            return -1;
        any = any || n > 0;
    }
    if (!any)
        return 0;
    /* Emit for every refund that has no event yet, with the running total
     * at that refund, in refund id order. */
    res = db_exec(c, "woo_orders_refund_totals",
                  "WITH t AS (UPDATE orders SET refunded_total ="
                  "   (SELECT coalesce(sum(amount), 0) FROM order_refunds"
                  "    WHERE shop_id = $1 AND order_id = $2)"
                  "  WHERE shop_id = $1 AND order_id = $2 RETURNING total, status)"
                  " SELECT r.refund_id, r.amount::text, r.reason, r.running::text, t.total::text,"
                  "  (r.running >= t.total OR (t.status = 'refunded' AND r.last))"
                  " FROM (SELECT refund_id, amount, reason,"
                  "        sum(amount) OVER (ORDER BY refund_id) AS running,"
                  "        refund_id = max(refund_id) OVER () AS last"
                  "       FROM order_refunds WHERE shop_id = $1 AND order_id = $2) r, t"
                  " ORDER BY r.refund_id",
                  2, params, e);
    if (res == NULL)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        char key[64];
        bool emitted;
        json_t *payload = order_summary(o, modified);
        int rc;

        snprintf(key, sizeof(key), "order.refunded:%s", PQgetvalue(res, row, 0));
        json_object_set_new(payload, "refund_id", json_integer(atoll(PQgetvalue(res, row, 0))));
        json_object_set_new(payload, "amount", json_string(PQgetvalue(res, row, 1)));
        json_object_set_new(payload, "reason", json_string(PQgetvalue(res, row, 2)));
        json_object_set_new(payload, "refunded_total", json_string(PQgetvalue(res, row, 3)));
        json_object_set_new(payload, "order_total", json_string(PQgetvalue(res, row, 4)));
        json_object_set_new(payload, "full",
                            json_boolean(strcmp(PQgetvalue(res, row, 5), "t") == 0));
        rc = woo_events_emit(c, shop_id, "order.refunded", atoll(order),
                             int_or(o, "customer_id", 0), payload, key, &emitted, e);
        json_decref(payload);
        if (rc < 0) {
            PQclear(res);
            return -1;
        }
    }
    PQclear(res);
    return 0;
}

static int
completed_before(struct db_conn *c, const char *shop, const char *order, bool *yes, struct err *e)
{
    char key[64];
    const char *params[2] = {shop, key};
    PGresult *res;

    snprintf(key, sizeof(key), "order.completed:%s", order);
    res = db_exec(c, "woo_orders_completed_before",
                  "SELECT 1 FROM events WHERE shop_id = $1 AND dedupe_key = $2", 2, params, e);
    if (res == NULL)
        return -1;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

/* One order event, named "<kind>:<order id>" so it happens once per order,
 * with the order summary as payload plus `extra` (stolen, may be NULL). */
static int
emit_order_event(struct db_conn *c, int64_t shop_id, const char *kind, const json_t *o,
                 const char *order, const char *modified, json_t *extra, struct err *e)
{
    char key[64];
    json_t *payload = order_summary(o, modified);
    bool emitted;
    int rc;

    if (extra)
        json_object_update(payload, extra);
    json_decref(extra);
    snprintf(key, sizeof(key), "%s:%s", kind, order);
    rc = woo_events_emit(c, shop_id, kind, atoll(order), int_or(o, "customer_id", 0), payload, key,
                         &emitted, e);
    json_decref(payload);
    return rc;
}

int
woo_orders_delivered(struct db_conn *c, int64_t shop_id, int64_t order_id, const char *at,
                     const char *source, bool *found, bool *emitted, struct err *e)
{
    char shop[24], order[24], key[64];
    const char *params[4] = {shop, order, at, source};
    PGresult *res;
    json_error_t jerr;
    json_t *payload;
    int rc;

    *found = *emitted = false;
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    /* The order as the snapshot knows it, in the shape of the other order
     * events' payload (what reviews and surveys read). */
    res = db_exec(c, "woo_orders_delivered",
                  "SELECT json_build_object('order_id', o.order_id, 'status', o.status,"
                  " 'customer_id', o.customer_id, 'email', o.billing_email,"
                  " 'first_name', o.billing_first_name, 'currency', o.currency,"
                  " 'total', o.total::text, 'shipping_country', o.shipping_country,"
                  " 'items', coalesce((SELECT json_agg(json_build_object('line_item_id',"
                  "   i.line_item_id, 'product_id', i.product_id, 'variation_id', i.variation_id,"
                  "   'name', i.name, 'quantity', i.quantity, 'subtotal', i.subtotal::text,"
                  "   'total', i.total::text) ORDER BY i.line_item_id) FROM order_items i"
                  "   WHERE i.shop_id = o.shop_id AND i.order_id = o.order_id), '[]'),"
                  " 'source', $4::text, 'delivered_at', to_char(coalesce(" UTC(3) ", now())"
                  "   AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text"
                  " FROM orders o WHERE o.shop_id = $1 AND o.order_id = $2 AND NOT o.deleted",
                  4, params, e);
    if (res == NULL)
        return -1;
    *found = PQntuples(res) == 1;
    payload = *found ? json_loads(PQgetvalue(res, 0, 0), 0, &jerr) : NULL;
    PQclear(res);
    if (!*found)
        return 0;
    if (payload == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "order summary is not JSON");
    snprintf(key, sizeof(key), "order.delivered:%s", order);
    rc = woo_events_emit(c, shop_id, "order.delivered", order_id,
                         json_integer_value(json_object_get(payload, "customer_id")), payload,
                         key, emitted, e);
    json_decref(payload);
    return rc;
}

/* The shop's delivered status (NULL-terminated copy in out[24], "" = none). */
static int
delivered_status(struct db_conn *c, const char *shop, char out[24], struct err *e)
{
    const char *params[1] = {shop};
    PGresult *res = db_exec(c, "woo_orders_delivered_status",
                            "SELECT coalesce(delivered_status, '') FROM woo_sync"
                            " WHERE shop_id = $1",
                            1, params, e);

    if (res == NULL)
        return -1;
    snprintf(out, 24, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

/* order.delivered when this snapshot shows the shop's delivered status. A
 * stale snapshot counts while the order is still the customer's. */
static int
maybe_delivered(struct db_conn *c, int64_t shop_id, const char *shop, const char *order,
                const char *status, const char *modified, bool stale, struct err *e)
{
    static const char *const never[] = {"pending", "failed",         "cancelled",
                                        "refunded", "checkout-draft", "trash"};
    char wanted[24];
    bool found, emitted;

    /* The statuses a delivered_status may not be: no look-up for them. */
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        if (strcmp(status, never[i]) == 0)
            return 0;
    if (delivered_status(c, shop, wanted, e) < 0)
        return -1;
    if (wanted[0] == '\0' || strcmp(wanted, status) != 0)
        return 0;
    if (stale) {
        const char *params[2] = {shop, order};
        PGresult *res = db_exec(c, "woo_orders_still_held",
                                "SELECT 1 FROM orders WHERE shop_id = $1 AND order_id = $2"
                                " AND NOT deleted AND status NOT IN ('cancelled', 'refunded',"
                                " 'failed', 'trash')",
                                2, params, e);
        bool held;
        if (res == NULL)
            return -1;
        held = PQntuples(res) == 1;
        PQclear(res);
        if (!held)
            return 0;
    }
    return woo_orders_delivered(c, shop_id, atoll(order), modified, "woocommerce", &found,
                                &emitted, e);
}

int
woo_orders_apply(struct db_conn *c, int64_t shop_id, const json_t *o, const char **outcome,
                 char *modified_gmt, struct err *e)
{
    char shop[24], order[24], customer[24];
    const char *status, *currency, *modified, *created, *paid, *completed;
    const char *total, *tax, *shipping, *discount;
    json_t *billing = json_object_get(o, "billing");
    json_t *items = json_object_get(o, "line_items");
    PGresult *res;
    bool was_completed = false;
    json_int_t id = int_or(o, "id", 0);

    *outcome = "applied";
    status = str_or(o, "status", NULL);
    currency = str_or(o, "currency", "");
    if (!json_is_object(o) || id <= 0 || status == NULL || strlen(status) > 40)
        return err_set(e, ERR_INVALID, "order", "not a WooCommerce order (id, status)");
    if (strcmp(status, "checkout-draft") == 0) {
        *outcome = "ignored: checkout-draft";
        return 0;
    }
    /* Every value, before the first statement: a value PostgreSQL refuses
     * would abort the caller's transaction (validate.h). */
    if (woo_validate_order(o, e) < 0)
        return -1;
    if (json_is_null(items))
        items = NULL;
    if (date_field(o, "date_modified_gmt", &modified, e) < 0 ||
        date_field(o, "date_created_gmt", &created, e) < 0 ||
        date_field(o, "date_paid_gmt", &paid, e) < 0 ||
        date_field(o, "date_completed_gmt", &completed, e) < 0 ||
        money_field(o, "total", &total, e) < 0 || money_field(o, "total_tax", &tax, e) < 0 ||
        money_field(o, "shipping_total", &shipping, e) < 0 ||
        money_field(o, "discount_total", &discount, e) < 0)
        return -1;
    if (modified == NULL)
        return err_set(e, ERR_INVALID, "date_modified_gmt", "order has no date_modified_gmt");
    if (strlen(currency) != 3)
        return err_set(e, ERR_INVALID, "currency", "order has no currency");
    if (items != NULL && !json_is_array(items))
        return err_set(e, ERR_INVALID, "line_items", "line_items is not an array");
    if (modified_gmt)
        snprintf(modified_gmt, 20, "%s", modified);

    DB_I64(shop, shop_id);
    snprintf(order, sizeof(order), "%" JSON_INTEGER_FORMAT, id);
    snprintf(customer, sizeof(customer), "%" JSON_INTEGER_FORMAT, int_or(o, "customer_id", 0));
    {
        const char *p[18] = {shop,
                             order,
                             status,
                             customer,
                             str_or(billing, "email", ""),
                             str_or(billing, "first_name", ""),
                             str_or(billing, "last_name", ""),
                             str_or(billing, "country", ""),
                             str_or(json_object_get(o, "shipping"), "country", ""),
                             currency,
                             total,
                             tax,
                             shipping,
                             discount,
                             created,
                             paid,
                             completed,
                             modified};
        res = db_exec(
            c, "woo_orders_upsert",
            "INSERT INTO orders (shop_id, order_id, status, customer_id, billing_email,"
            " billing_first_name, billing_last_name, billing_country, shipping_country, currency,"
            " total, total_tax, shipping_total, discount_total, date_created_gmt, date_paid_gmt,"
            " date_completed_gmt, date_modified_gmt)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, " UTC(15) ", "
            UTC(16) ", " UTC(17) ", " UTC(18) ")"
            " ON CONFLICT (shop_id, order_id) DO UPDATE SET status = EXCLUDED.status,"
            " customer_id = EXCLUDED.customer_id, billing_email = EXCLUDED.billing_email,"
            " billing_first_name = EXCLUDED.billing_first_name,"
            " billing_last_name = EXCLUDED.billing_last_name,"
            " billing_country = EXCLUDED.billing_country,"
            " shipping_country = EXCLUDED.shipping_country, currency = EXCLUDED.currency,"
            " total = EXCLUDED.total, total_tax = EXCLUDED.total_tax,"
            " shipping_total = EXCLUDED.shipping_total, discount_total = EXCLUDED.discount_total,"
            " date_created_gmt = EXCLUDED.date_created_gmt,"
            " date_paid_gmt = EXCLUDED.date_paid_gmt,"
            " date_completed_gmt = coalesce(EXCLUDED.date_completed_gmt, orders.date_completed_gmt),"
            " date_modified_gmt = EXCLUDED.date_modified_gmt, deleted = false, updated_at = now()"
            " WHERE orders.date_modified_gmt <= EXCLUDED.date_modified_gmt"
            " RETURNING 1",
            18, p, e);
    }
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        *outcome = "stale";
        return maybe_delivered(c, shop_id, shop, order, status, modified, true, e);
    }
    PQclear(res);
    if (items && apply_items(c, shop, order, items, e) < 0)
        return -1;
    if (items) {
        /* Line items carry no categories: ask the shop for those not known
         * (or stale) in a job, so nothing here waits for it (products.c).
         * Keyed by the order's version: a replayed delivery asks once. */
        char key[64];
        snprintf(key, sizeof(key), "order:%s:%s", order, modified);
        if (woo_products_want(c, shop_id, id, key, NULL, e) < 0)
            return -1;
    }

    /* Paid: processing or completed (WooCommerce's paid statuses), or a
     * payment date on an order that has moved on since. */
    if (strcmp(status, "processing") == 0 || strcmp(status, "completed") == 0 ||
        (paid != NULL && strcmp(status, "pending") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "on-hold") != 0)) {
        if (emit_order_event(c, shop_id, "order.paid", o, order, modified, NULL, e) < 0)
            return -1;
    }
    /* Completed: WooCommerce sets date_completed only on entering
     * completed, so it also tells us about a completion we never saw
     * (merged or lost deliveries). */
    if ((completed != NULL || strcmp(status, "completed") == 0) &&
        emit_order_event(c, shop_id, "order.completed", o, order, modified,
                         json_pack("{s:o}", "date_completed_gmt",
                                   completed ? json_string(completed) : json_null()),
                         e) < 0)
        return -1;
    if (emit_refunds(c, shop_id, shop, order, o, modified, e) < 0)
        return -1;
    if (strcmp(status, "cancelled") == 0 || strcmp(status, "failed") == 0) {
        if (completed_before(c, shop, order, &was_completed, e) < 0)
            return -1;
        if (was_completed &&
            emit_order_event(c, shop_id, "order.cancelled", o, order, modified, NULL, e) < 0)
            return -1;
    }
    return maybe_delivered(c, shop_id, shop, order, status, modified, false, e);
}

int
woo_orders_mark_deleted(struct db_conn *c, int64_t shop_id, int64_t order_id, struct err *e)
{
    char shop[24], order[24];
    const char *params[2] = {shop, order};

    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    return db_exec_cmd(c, "woo_orders_mark_deleted",
                       "UPDATE orders SET deleted = true, updated_at = now()"
                       " WHERE shop_id = $1 AND order_id = $2",
                       2, params, e) < 0
               ? -1
               : 0;
}

int
woo_customers_apply(struct db_conn *c, int64_t shop_id, const json_t *cu, bool created,
                    const char **outcome, struct err *e)
{
    char shop[24], id[24], key[64];
    const char *created_gmt, *modified_gmt;
    json_int_t cid = int_or(cu, "id", 0);
    PGresult *res;
    bool emitted;

    *outcome = "applied";
    if (woo_validate_customer(cu, e) < 0)
        return -1;
    if (date_field(cu, "date_created_gmt", &created_gmt, e) < 0 ||
        date_field(cu, "date_modified_gmt", &modified_gmt, e) < 0)
        return -1;
    DB_I64(shop, shop_id);
    snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, cid);
    {
        const char *p[7] = {shop, id, str_or(cu, "email", ""), str_or(cu, "first_name", ""),
                            str_or(cu, "last_name", ""), created_gmt, modified_gmt};
        res = db_exec(c, "woo_customers_upsert",
                      "INSERT INTO customers (shop_id, customer_id, email, first_name, last_name,"
                      " date_created_gmt, date_modified_gmt)"
                      " VALUES ($1, $2, $3, $4, $5, " UTC(6) ", " UTC(7) ")"
                      " ON CONFLICT (shop_id, customer_id) DO UPDATE SET email = EXCLUDED.email,"
                      " first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,"
                      " date_created_gmt = EXCLUDED.date_created_gmt,"
                      " date_modified_gmt = EXCLUDED.date_modified_gmt, deleted = false,"
                      " updated_at = now()"
                      " WHERE customers.date_modified_gmt IS NULL"
                      "    OR EXCLUDED.date_modified_gmt IS NULL"
                      "    OR customers.date_modified_gmt <= EXCLUDED.date_modified_gmt"
                      " RETURNING 1",
                      7, p, e);
    }
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0)
        *outcome = "stale";
    PQclear(res);
    if (created) {
        json_t *payload = json_pack("{s:I, s:s, s:s, s:s}", "customer_id", cid, "email",
                                    str_or(cu, "email", ""), "first_name",
                                    str_or(cu, "first_name", ""), "last_name",
                                    str_or(cu, "last_name", ""));
        int rc;
        snprintf(key, sizeof(key), "customer.created:%s", id);
        rc = woo_events_emit(c, shop_id, "customer.created", 0, cid, payload, key, &emitted, e);
        json_decref(payload);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
woo_customers_mark_deleted(struct db_conn *c, int64_t shop_id, int64_t customer_id, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};

    DB_I64(shop, shop_id);
    DB_I64(id, customer_id);
    return db_exec_cmd(c, "woo_customers_mark_deleted",
                       "UPDATE customers SET deleted = true, updated_at = now()"
                       " WHERE shop_id = $1 AND customer_id = $2",
                       2, params, e) < 0
               ? -1
               : 0;
}
