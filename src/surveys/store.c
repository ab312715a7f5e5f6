/*
 * store.c - surveys and invitations as the API shows them (SQL shared by
 * the handlers and the jobs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/returns/returns.h"
#include "aftersale/core/jx.h"
#include "aftersale/surveys/surveys.h"

static json_t *
load_json(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    return v ? v : json_null();
}

int
surveys_json(struct db_conn *c, int64_t shop_id, int64_t id, int version, json_t **out,
             struct err *e)
{
    char shop[24], sid[24], ver[16];
    const char *params[3] = {shop, sid, version > 0 ? ver : NULL};
    PGresult *res;
    json_t *s, *settings;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(sid, id);
    snprintf(ver, sizeof(ver), "%d", version);
    res = db_exec(c, "surveys_json",
                  "SELECT s.id, s.name, s.status, v.version, s.version, v.questions::text,"
                  " s.settings::text, " DB_TS("s.created_at") ", " DB_TS("s.updated_at")
                  " FROM surveys s JOIN survey_versions v ON v.shop_id = s.shop_id"
                  "  AND v.survey_id = s.id AND v.version = coalesce($3::integer, s.version)"
                  " WHERE s.shop_id = $1 AND s.id = $2",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        s = json_pack("{s:I, s:s, s:s, s:i, s:i, s:o}", "id", (json_int_t)atoll(PQgetvalue(res, 0, 0)),
                      "name", PQgetvalue(res, 0, 1), "status", PQgetvalue(res, 0, 2), "version",
                      atoi(PQgetvalue(res, 0, 3)), "current_version", atoi(PQgetvalue(res, 0, 4)),
                      "questions", load_json(PQgetvalue(res, 0, 5)));
        settings = load_json(PQgetvalue(res, 0, 6));
        json_object_update(s, settings);
        json_decref(settings);
        json_object_set_new(s, "created_at", json_string(PQgetvalue(res, 0, 7)));
        json_object_set_new(s, "updated_at", json_string(PQgetvalue(res, 0, 8)));
        *out = s;
    }
    PQclear(res);
    return 0;
}

int
surveys_questions_load(struct db_conn *c, int64_t shop_id, int64_t survey_id, int version,
                       json_t **out, struct err *e)
{
    char shop[24], sid[24], ver[16];
    const char *params[3] = {shop, sid, ver};
    PGresult *res;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(sid, survey_id);
    snprintf(ver, sizeof(ver), "%d", version);
    res = db_exec(c, "surveys_questions_load",
                  "SELECT questions::text FROM survey_versions WHERE shop_id = $1"
                  " AND survey_id = $2 AND version = $3",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        *out = load_json(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int
surveys_invitation_json(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out,
                        struct err *e)
{
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(iid, id);
    res = db_exec(c, "surveys_invitation_json",
                  "SELECT json_build_object('id', i.id, 'survey_id', i.survey_id,"
                  " 'version', i.version, 'order_id', i.order_id, 'customer_id', i.customer_id,"
                  " 'email', i.email, 'first_name', i.first_name, 'country', i.country,"
                  " 'first_order', i.first_order, 'channel', i.channel,"
                  " 'status', CASE WHEN i.status = 'sent' AND i.expires_at <= now()"
                  "   THEN 'expired' ELSE i.status END,"
                  " 'cancel_reason', i.cancel_reason,"
                  " 'due_at', " DB_TS("i.due_at") ", 'sent_at', " DB_TS("i.sent_at") ","
                  " 'expires_at', " DB_TS("i.expires_at") ","
                  " 'locale', i.locale,"
                  " 'response_id', (SELECT r.id FROM survey_responses r WHERE r.shop_id = i.shop_id"
                  "   AND r.invitation_id = i.id),"
                  " 'created_at', " DB_TS("i.created_at") ")::text"
                  " FROM survey_invitations i WHERE i.shop_id = $1 AND i.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        *out = load_json(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* The order as the snapshot knows it. A customer's first order: no other
 * order of the same billing email (or customer id) with a smaller id that
 * was paid (WooCommerce numbers orders in creation order). Earlier orders
 * reach aftersale by webhook or by sync. */
int
surveys_order_load(struct db_conn *c, int64_t shop_id, int64_t order_id, struct surveys_order_facts *o,
           bool *found, struct err *e)
{
    char shop[24], order[24];
    const char *params[2] = {shop, order};
    PGresult *res;

    *found = false;
    memset(o, 0, sizeof(*o));
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    res = db_exec(c, "surveys_order_load",
                  "SELECT o.customer_id, lower(o.billing_email), o.billing_first_name,"
                  " upper(o.billing_country), o.total::text,"
                  " NOT EXISTS (SELECT 1 FROM orders p WHERE p.shop_id = o.shop_id"
                  "   AND p.order_id < o.order_id AND NOT p.deleted"
                  "   AND p.status IN ('processing', 'completed', 'refunded')"
                  "   AND ((o.billing_email <> '' AND lower(p.billing_email) = lower(o.billing_email))"
                  "        OR (o.customer_id > 0 AND p.customer_id = o.customer_id)))"
                  " FROM orders o WHERE o.shop_id = $1 AND o.order_id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        *found = true;
        o->order_id = order_id;
        o->customer_id = atoll(PQgetvalue(res, 0, 0));
        snprintf(o->email, sizeof(o->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(o->first_name, sizeof(o->first_name), "%s", PQgetvalue(res, 0, 2));
        snprintf(o->country, sizeof(o->country), "%s", PQgetvalue(res, 0, 3));
        snprintf(o->total, sizeof(o->total), "%s", PQgetvalue(res, 0, 4));
        o->first_order = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
    }
    PQclear(res);
    if (!*found)
        return 0;
    res = db_exec(c, "surveys_order_products",
                  "SELECT DISTINCT product_id FROM order_items WHERE shop_id = $1"
                  " AND order_id = $2 AND product_id > 0 ORDER BY product_id LIMIT 200",
                  2, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res) && i < SURVEYS_ORDER_MAX_PRODUCTS; i++)
        o->products[o->nproducts++] = atoll(PQgetvalue(res, i, 0));
    PQclear(res);
    return woo_order_categories(c, shop_id, order_id, o->categories, WOO_PRODUCTS_MAX_CATEGORIES,
                                &o->ncategories, &o->nunknown_categories, e);
}

int
surveys_order_returned(struct db_conn *c, int64_t shop_id, int64_t order_id, bool *all,
                       struct err *e)
{
    char shop[24], order[24];
    const char *params[2] = {shop, order};
    PGresult *res;
    int n, rc = 0;

    *all = false;
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    res = db_exec(c, "surveys_order_lines",
                  "SELECT line_item_id FROM order_items WHERE shop_id = $1 AND order_id = $2"
                  " ORDER BY line_item_id LIMIT 500",
                  2, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    /* An order without lines in the snapshot has nothing returned. */
    *all = n > 0;
    for (int i = 0; i < n && *all; i++) {
        bool blocked = false;
        if (returns_line_blocked(c, shop_id, order_id, atoll(PQgetvalue(res, i, 0)), 0, &blocked,
                                 e) < 0) {
            rc = -1;
            break;
        }
        *all = blocked;
    }
    PQclear(res);
    if (rc < 0)
        *all = false;
    return rc;
}

json_t *
surveys_response_json(const PGresult *res, int row)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:i, s:o, s:o, s:b, s:o, s:s, s:b, s:s, s:s, s:o, s:s, s:s}", "id",
        (json_int_t)atoll(PQgetvalue(res, row, 0)), "survey_id",
        (json_int_t)atoll(PQgetvalue(res, row, 1)), "invitation_id",
        (json_int_t)atoll(PQgetvalue(res, row, 2)), "order_id",
        (json_int_t)atoll(PQgetvalue(res, row, 3)), "version", atoi(PQgetvalue(res, row, 4)),
        "answers", load_json(PQgetvalue(res, row, 5)), "other", load_json(PQgetvalue(res, row, 6)),
        "complete", strcmp(PQgetvalue(res, row, 7), "t") == 0, "score",
        PQgetisnull(res, row, 8) ? json_null() : json_integer(atoi(PQgetvalue(res, row, 8))),
        "country", PQgetvalue(res, row, 9), "first_order",
        strcmp(PQgetvalue(res, row, 10), "t") == 0, "email", PQgetvalue(res, row, 11),
        "follow_up", PQgetvalue(res, row, 12), "note",
        PQgetisnull(res, row, 13) ? json_null() : json_string(PQgetvalue(res, row, 13)),
        "created_at", PQgetvalue(res, row, 14), "updated_at", PQgetvalue(res, row, 15));
}
