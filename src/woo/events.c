/*
 * events.c - internal events: one row per real transition, and their
 * subscribers.
 *
 * An event is inserted with a dedupe key that names the transition; the
 * unique (shop_id, dedupe_key) makes emitting idempotent, and only a newly
 * inserted event enqueues its subscriber jobs (in the same transaction, so
 * an event and the work it causes commit together). The subscriber table
 * below is how later modules (loyalty, reviews, surveys) hook in: one row
 * per (event kind, job kind).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/woo/link.h"

static const struct {
    const char *event;
    const char *job;
} subscribers[] = {
    /* Every order event reconciles the order's points (loyalty/order.c). */
    {"order.completed", "loyalty.order"},
    {"order.paid", "loyalty.order"},
    {"order.refunded", "loyalty.order"},
    {"order.cancelled", "loyalty.order"},
    {"customer.created", "loyalty.signup"},
    {"order.completed", "reviews.schedule"},
    {"order.delivered", "reviews.schedule"}, /* the review setting `trigger` picks one */
    {"order.refunded", "reviews.cancel"},
    {"order.cancelled", "reviews.cancel"},
    {"order.completed", "surveys.schedule"},
    {"order.delivered", "surveys.schedule"},
    {"order.refunded", "surveys.cancel"},
    {"order.cancelled", "surveys.cancel"},
    {NULL, NULL},
};


int
woo_events_emit(struct db_conn *c, int64_t shop_id, const char *kind, int64_t order_id,
                int64_t customer_id, const json_t *payload, const char *dedupe_key,
                bool *emitted, struct err *e)
{
    char shop[24], order[24], customer[24];
    char *body = jx_dump(payload);
    const char *params[6] = {shop, kind, order_id > 0 ? order : NULL,
                             customer_id > 0 ? customer : NULL, body, dedupe_key};
    PGresult *res;
    int64_t event_id;

    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(customer, customer_id);
    res = db_exec(c, "woo_events_emit",
                  "INSERT INTO events (shop_id, kind, order_id, customer_id, payload, dedupe_key)"
                  " VALUES ($1, $2, $3, $4, $5::jsonb, $6)"
                  " ON CONFLICT (shop_id, dedupe_key) DO NOTHING RETURNING id",
                  6, params, e);
    free(body);
    if (res == NULL)
        return -1;
    *emitted = PQntuples(res) == 1;
    event_id = *emitted ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    if (!*emitted)
        return 0;
    for (size_t i = 0; subscribers[i].event != NULL; i++) {
        char key[32];
        json_t *p;
        int rc;

        if (strcmp(subscribers[i].event, kind) != 0)
            continue;
        snprintf(key, sizeof(key), "event:%" PRId64, event_id);
        p = json_pack("{s:I, s:s}", "event_id", (json_int_t)event_id, "kind", kind);
        rc = jobs_enqueue(c, shop_id, subscribers[i].job, p, key, 0, 0, NULL, e);
        json_decref(p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
woo_events_list(struct db_conn *c, int64_t shop_id, const char *kind, int64_t order_id,
                int64_t after, int limit, json_t **items, int64_t *next_after, struct err *e)
{
    char shop[24], order[24], a[24], l[16];
    const char *params[5] = {shop, kind, order_id > 0 ? order : NULL, a, l};
    PGresult *res;
    int n;

    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(a, after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    res = db_exec(c, "woo_events_list",
                  "SELECT id, kind, order_id, customer_id, payload::text, " DB_TS("created_at")
                  " FROM events WHERE shop_id = $1 AND ($2::text IS NULL OR kind = $2)"
                  " AND ($3::bigint IS NULL OR order_id = $3) AND id > $4 ORDER BY id LIMIT $5",
                  5, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    *items = json_array();
    *next_after = 0;
    for (int i = 0; i < n && i < limit; i++) {
        json_error_t jerr;
        json_t *payload = json_loads(PQgetvalue(res, i, 4), 0, &jerr);
        json_array_append_new(
            *items,
            json_pack("{s:I, s:s, s:o, s:o, s:o, s:s}", "id", (json_int_t)atoll(PQgetvalue(res, i, 0)),
                      "kind", PQgetvalue(res, i, 1), "order_id",
                      PQgetisnull(res, i, 2) ? json_null()
                                             : json_integer(atoll(PQgetvalue(res, i, 2))),
                      "customer_id",
                      PQgetisnull(res, i, 3) ? json_null()
                                             : json_integer(atoll(PQgetvalue(res, i, 3))),
                      "payload", payload ? payload : json_object(), "created_at",
                      PQgetvalue(res, i, 5)));
    }
    if (n > limit)
        *next_after = atoll(PQgetvalue(res, limit - 1, 0));
    PQclear(res);
    return 0;
}

int
woo_events_load(struct db_conn *c, int64_t shop_id, int64_t event_id, char kind[64],
                json_t **payload, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;
    json_error_t jerr;

    *payload = NULL;
    kind[0] = '\0';
    DB_I64(shop, shop_id);
    DB_I64(id, event_id);
    res = db_exec(c, "woo_events_load",
                  "SELECT kind, payload::text FROM events WHERE shop_id = $1 AND id = $2", 2,
                  params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        snprintf(kind, 64, "%s", PQgetvalue(res, 0, 0));
        *payload = json_loads(PQgetvalue(res, 0, 1), 0, &jerr);
    }
    PQclear(res);
    return 0;
}

int
woo_events_order_gone(struct db_conn *c, const struct job *job, int64_t *order_id,
                      const char **reason, struct err *e)
{
    char kind[64];
    json_t *ev = NULL;

    *order_id = 0;
    *reason = NULL;
    if (woo_events_load(c, job->shop_id, jx_int(job->payload, "event_id"), kind, &ev, e) < 0)
        return -1;
    if (ev == NULL)
        return 0;
    /* A partial refund leaves the customer the rest of the order. */
    if (strcmp(kind, "order.cancelled") == 0 || json_is_true(json_object_get(ev, "full"))) {
        *order_id = jx_int(ev, "order_id");
        *reason = strcmp(kind, "order.cancelled") == 0 ? "order cancelled" : "order refunded";
    }
    json_decref(ev);
    return 0;
}
