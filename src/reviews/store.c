/*
 * store.c - review settings, requests and reviews in PostgreSQL.
 *
 * A request is made once per order (unique shop + order), so the event
 * that triggers it may arrive any number of times. Its products are the
 * order's distinct products, minus the shop's exclusions and minus what
 * this customer (by email) has already reviewed: nobody is asked twice
 * about the same mug. The sending job is enqueued in the same transaction
 * (outbox), due when the request is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/db/settings.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/reviews/reviews.h"


int
reviews_settings_load(struct db_conn *c, int64_t shop_id, struct reviews_settings *s,
                      struct err *e)
{
    json_t *stored = NULL;
    int rc = 0;

    reviews_settings_default(s);
    if (db_settings_load(c, DB_SETTINGS_REVIEWS, shop_id, &stored, e) < 0)
        return -1;
    if (stored && reviews_settings_from_json(s, stored, e) < 0)
        rc = err_set(e, ERR_INTERNAL, NULL, "stored review settings do not parse");
    json_decref(stored);
    return rc;
}

int
reviews_settings_save(struct db_conn *c, int64_t shop_id, const struct reviews_settings *s,
                      struct err *e)
{
    json_t *j = reviews_settings_to_json(s);
    int rc = db_settings_save(c, DB_SETTINGS_REVIEWS, shop_id, j, e);

    json_decref(j);
    return rc;
}

static const char *
str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

int
reviews_request_create(struct db_conn *c, int64_t shop_id, const json_t *order,
                       const struct reviews_settings *s, time_t due, int64_t *request_id,
                       const char **outcome, struct err *e)
{
    char shop[24], order_id[24], customer[24], email[256], due_s[32], delay[24];
    json_int_t oid = json_integer_value(json_object_get(order, "order_id"));
    json_int_t cid = json_integer_value(json_object_get(order, "customer_id"));
    json_t *item, *products = json_array();
    size_t i;
    PGresult *res;
    int rc = -1;

    *request_id = 0;
    *outcome = "created";
    loyalty_email_normalise(str(order, "email"), email);
    DB_I64(shop, shop_id);
    DB_I64(order_id, oid);
    DB_I64(customer, cid);
    if (email[0] == '\0') {
        *outcome = "skipped: the order has no email";
        rc = 0;
        goto out;
    }
    /* Distinct products, minus exclusions; the name of the first line wins. */
    json_array_foreach(json_object_get(order, "items"), i, item) {
        json_int_t pid = json_integer_value(json_object_get(item, "product_id"));
        bool seen = false;
        json_t *p;
        size_t j;
        if (pid <= 0 || reviews_product_excluded(s, pid, NULL, 0))
            continue;
        json_array_foreach(products, j, p) seen = seen || json_integer_value(json_object_get(p, "id")) == pid;
        if (!seen)
            json_array_append_new(products, json_pack("{s:I, s:s}", "id", pid, "name",
                                                      str(item, "name")));
    }
    if (json_array_size(products) == 0) {
        *outcome = "skipped: no product to review";
        rc = 0;
        goto out;
    }
    {
        char *list = jx_dump(products);
        const char *country = str(order, "shipping_country");
        /* The customer's locale, when the order says it (as a catalogue
         * locale: "de-AT" is stored "de"; one we lack is not stored). */
        /* From an order.delivered event, the delay counts from the delivery. */
        const char *p[11] = {shop, order_id, cid > 0 ? customer : NULL, email,
                             str(order, "first_name"), country, due_s, delay, list,
                             outreach_locale_match(jx_str(order, "locale")),
                             jx_str(order, "delivered_at")};
        if (due > 0)
            snprintf(due_s, sizeof(due_s), "%lld", (long long)due);
        else
            due_s[0] = '\0';
        DB_I64(delay, reviews_delay_for(s, country));
        /* One statement: the request (once per order) and its products, minus
         * what this email already reviewed. Due at completion + delay, or at
         * the given time. */
        res = db_exec(
            c, "reviews_request_create",
            "WITH req AS (INSERT INTO review_requests (shop_id, order_id, customer_id, email,"
            "  first_name, country, due_at, locale)"
            "  VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 <> '' THEN to_timestamp($7::bigint)"
            "   ELSE coalesce($11::timestamptz, (SELECT date_completed_gmt FROM orders"
            "     WHERE shop_id = $1 AND order_id = $2), now())"
            "    + $8::bigint * interval '1 second' END, $10)"
            "  ON CONFLICT (shop_id, order_id) DO NOTHING RETURNING id, due_at),"
            " items AS (INSERT INTO review_request_items (shop_id, request_id, product_id, name)"
            "  SELECT $1, req.id, (p->>'id')::bigint, p->>'name'"
            "  FROM req, jsonb_array_elements($9::jsonb) p"
            "  WHERE NOT EXISTS (SELECT 1 FROM reviews r WHERE r.shop_id = $1"
            "    AND r.reviewer_email = $4 AND r.product_id = (p->>'id')::bigint)"
            "  RETURNING product_id)"
            " SELECT req.id, ceil(extract(epoch FROM req.due_at - now()))::bigint,"
            "  (SELECT count(*) FROM items) FROM req",
            11, p, e);
        free(list);
    }
    if (res == NULL)
        goto out;
    if (PQntuples(res) == 0) {
        *outcome = "skipped: the order already has a review request";
        PQclear(res);
        rc = 0;
        goto out;
    }
    *request_id = atoll(PQgetvalue(res, 0, 0));
    {
        long long wait_s = atoll(PQgetvalue(res, 0, 1));
        long nitems = atol(PQgetvalue(res, 0, 2));
        char key[40];
        json_t *payload;
        PQclear(res);
        if (nitems == 0) {
            /* Everything was reviewed before: keep the request, cancelled. */
            char rid[24];
            const char *q[2] = {shop, rid};
            DB_I64(rid, *request_id);
            *outcome = "cancelled: every product was already reviewed";
            rc = db_exec_cmd(c, "reviews_request_nothing",
                             "UPDATE review_requests SET status = 'cancelled',"
                             " cancel_reason = 'already reviewed', updated_at = now()"
                             " WHERE shop_id = $1 AND id = $2",
                             2, q, e) < 0
                     ? -1
                     : 0;
            goto out;
        }
        snprintf(key, sizeof(key), "send:%" PRId64, *request_id);
        payload = json_pack("{s:I, s:i}", "request_id", (json_int_t)*request_id, "reminder", 0);
        rc = jobs_enqueue(c, shop_id, "reviews.send", payload, key,
                          wait_s > 0 ? wait_s * 1000 : 0, 0, NULL, e);
        json_decref(payload);
    }
out:
    json_decref(products);
    return rc;
}

int
reviews_request_json(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out, struct err *e)
{
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(rid, id);
    res = db_exec(c, "reviews_request_get",
                  "SELECT r.id, r.order_id, r.email, r.first_name,"
                  /* expired as soon as the time has passed, not when the job runs */
                  " CASE WHEN r.status = 'sent' AND r.expires_at <= now() THEN 'expired'"
                  "  ELSE r.status END, " DB_TS("r.due_at")
                  ", " DB_TS("r.sent_at") ", r.reminders_sent, " DB_TS("r.expires_at") ", "
                  DB_TS("r.answered_at") ", r.cancel_reason, " DB_TS("r.created_at") ","
                  " (SELECT coalesce(json_agg(json_build_object('product_id', i.product_id,"
                  "   'name', i.name, 'reviewed', EXISTS (SELECT 1 FROM reviews v"
                  "     WHERE v.shop_id = i.shop_id AND v.request_id = i.request_id"
                  "     AND v.product_id = i.product_id)) ORDER BY i.product_id), '[]')::text"
                  "  FROM review_request_items i WHERE i.shop_id = r.shop_id"
                  "  AND i.request_id = r.id), r.locale"
                  " FROM review_requests r WHERE r.shop_id = $1 AND r.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        json_error_t jerr;
#define NUL(i) (PQgetisnull(res, 0, i) ? json_null() : json_string(PQgetvalue(res, 0, i)))
        json_t *products = json_loads(PQgetvalue(res, 0, 12), 0, &jerr);
        *out = json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:i, s:o, s:o, s:o, s:s, s:o, s:o}",
                         "id", (json_int_t)atoll(PQgetvalue(res, 0, 0)), "order_id",
                         (json_int_t)atoll(PQgetvalue(res, 0, 1)), "email", PQgetvalue(res, 0, 2),
                         "first_name", PQgetvalue(res, 0, 3), "status", PQgetvalue(res, 0, 4),
                         "due_at", NUL(5), "sent_at", NUL(6), "reminders_sent",
                         atoi(PQgetvalue(res, 0, 7)), "expires_at", NUL(8), "answered_at", NUL(9),
                         "cancel_reason", NUL(10), "created_at", PQgetvalue(res, 0, 11),
                         "products", products ? products : json_array(), "locale", NUL(13));
#undef NUL
    }
    PQclear(res);
    return 0;
}

json_t *
reviews_review_json(const PGresult *res, int row)
{
#define V(i) PQgetvalue(res, row, i)
#define NUL_S(i) (PQgetisnull(res, row, i) ? json_null() : json_string(V(i)))
#define NUL_I(i) (PQgetisnull(res, row, i) ? json_null() : json_integer(atoll(V(i))))
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
        "id", (json_int_t)atoll(V(0)), "request_id", (json_int_t)atoll(V(1)), "order_id",
        (json_int_t)atoll(V(2)), "product_id", (json_int_t)atoll(V(3)), "rating", atoi(V(4)),
        "title", V(5), "body", V(6), "reviewer_name", V(7), "reviewer_email", V(8), "status", V(9),
        "woo_review_id", NUL_I(10), "verified",
        PQgetisnull(res, row, 11) ? json_null() : json_boolean(strcmp(V(11), "t") == 0),
        "published_at", NUL_S(12), "reply", NUL_S(13), "replied_at", NUL_S(14), "created_at", V(15),
        "moderated_at", NUL_S(16));
#undef V
#undef NUL_S
#undef NUL_I
}
