/*
 * handlers.c - the shop API of the WooCommerce link: events, sync, status,
 * settings and webhook set-up.
 *
 * Anything that calls the shop is a job: these handlers only validate,
 * enqueue (202 with the job's Location) and read state, so a slow shop
 * can never hold an HTTP thread. The webhook set-up in particular must be
 * a job: WooCommerce pings our receiver while its create call is still
 * open, and that ping has to find a free HTTP thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/server.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/woo/handlers.h"
#include "aftersale/woo/link.h"


struct list_ctx {
    int64_t shop_id, order_id, after, next_after;
    const char *kind;
    int limit;
    json_t *items;
};

static int
events_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct list_ctx *l = ctx;
    return woo_events_list(c, l->shop_id, l->kind, l->order_id, l->after, l->limit, &l->items,
                           &l->next_after, e);
}

static void
reply_list(struct req *r, struct list_ctx *l)
{
    reply_page_take(r, l->items, l->next_after);
}

/* Common query parsing of list routes; replies on error. */
static int
list_args_or_reply(struct req *r, struct list_ctx *l)
{
    const char *order = req_query(r, "order_id");

    l->shop_id = r->shop_id;
    l->kind = req_query(r, "kind");
    if (req_page_or_reply(r, &l->limit, &l->after) < 0)
        return -1;
    if (l->kind && (strlen(l->kind) == 0 || strlen(l->kind) > 64)) {
        reply_problem(r, ERR_MALFORMED, "kind", "kind must be 1 to 64 characters");
        return -1;
    }
    if (order && cursor_parse_id(order, &l->order_id) < 0) {
        reply_problem(r, ERR_MALFORMED, "order_id", "order_id must be a positive integer");
        return -1;
    }
    return 0;
}

void
woo_handle_events_list(struct req *r)
{
    struct list_ctx l = {0};
    struct err e = {0};

    if (list_args_or_reply(r, &l) < 0)
        return;
    if (db_run(events_fn, &l, &e) < 0)
        reply_err(r, &e);
    else
        reply_list(r, &l);
}

/* ---- enqueue helpers --------------------------------------------------- */

struct enqueue_ctx {
    int64_t shop_id;
    const char *kind;
    json_t *payload;
    const char *check_from; /* validated as a timestamp in the same transaction */
    int64_t job_id;
};

static int
enqueue_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct enqueue_ctx *q = ctx;

    if (q->check_from) {
        /* The shape is checked in C (PostgreSQL would also take words such
         * as "infinity"); the calendar (February 30th) by PostgreSQL. */
        const char *params[1] = {q->check_from};
        PGresult *res = db_exec(c, "woo_check_from", "SELECT $1::timestamptz", 1, params, e);
        if (res == NULL && strncmp(e->sqlstate, "22", 2) == 0)
            return err_set(e, ERR_INVALID, "from",
                           "from must be an RFC 3339 time such as 2026-11-01T00:00:00Z");
        if (res == NULL)
            return -1;
        PQclear(res);
    }
    return jobs_enqueue(c, q->shop_id, q->kind, q->payload, NULL, 0, 0, &q->job_id, e);
}

static void
enqueue_and_reply(struct req *r, struct enqueue_ctx *q)
{
    struct err e = {0};
    char location[64];

    if (db_tx(enqueue_fn, q, &e) < 0) {
        reply_err(r, &e);
    } else {
        snprintf(location, sizeof(location), "/v1/jobs/%" PRId64, q->job_id);
        req_add_header(r, "Location", location);
        reply_json_take(r, 202, json_pack("{s:I, s:s, s:s}", "job_id", (json_int_t)q->job_id,
                                          "kind", q->kind, "status", "pending"));
    }
    json_decref(q->payload);
}

void
woo_handle_sync(struct req *r)
{
    /* "modified_after" asks for a back-fill from that time, also from before
     * the shop was created (which a scheduled sync never reaches); "from" is
     * its older name, still accepted. */
    static const struct jx_field fields[] = {{"modified_after", JX_STRING, false, 1, 40},
                                             {"from", JX_STRING, false, 1, 40}};
    struct enqueue_ctx q = {.shop_id = r->shop_id, .kind = "woo.sync"};
    const char *field = "modified_after";
    struct err e = {0};

    if (r->json && jx_check(r->json, fields, 2, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    q.check_from = r->json ? jx_str(r->json, "modified_after") : NULL;
    if (r->json && jx_str(r->json, "from") != NULL) {
        if (q.check_from != NULL) {
            reply_problem(r, ERR_INVALID, "from",
                          "from is the old name of modified_after: send only one of them");
            return;
        }
        q.check_from = jx_str(r->json, "from");
        field = "from";
    }
    if (q.check_from && !woo_rfc3339_valid(q.check_from)) {
        reply_problem(r, ERR_INVALID, field,
                      "%s must be an RFC 3339 time such as 2026-11-01T00:00:00Z", field);
        return;
    }
    q.payload = json_pack("{s:b}", "manual", 1);
    if (q.check_from)
        json_object_set_new(q.payload, "from", json_string(q.check_from));
    enqueue_and_reply(r, &q);
}

void
woo_handle_webhooks_setup(struct req *r)
{
    const char *base = server_config()->public_url;
    struct enqueue_ctx q = {.shop_id = r->shop_id, .kind = "woo.webhooks_setup"};
    struct err e = {0};
    char *url;
    size_t n;

    if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (base == NULL) {
        reply_problem(r, ERR_CONFLICT, NULL,
                      "PUBLIC_URL is not set: the shop needs an address to deliver webhooks to");
        return;
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    url = xasprintf("%.*s/v1/webhooks/woocommerce/%" PRId64, (int)n, base, r->shop_id);
    q.payload = json_pack("{s:s}", "delivery_url", url);
    free(url);
    enqueue_and_reply(r, &q);
}

/* ---- status and settings ------------------------------------------------ */

struct status_ctx {
    int64_t shop_id;
    json_t *out;
    long interval_s; /* PATCH: new value, 0 = read only */
};

#define NULLABLE(res, i) (PQgetisnull(res, 0, i) ? json_null() : json_string(PQgetvalue(res, 0, i)))

static int
status_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct status_ctx *s = ctx;
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;

    DB_I64(shop, s->shop_id);
    res = db_exec(
        c, "woo_status",
        "SELECT w.interval_s, " DB_TS("w.watermark") ", " DB_TS("w.last_started_at") ", "
        DB_TS("w.last_finished_at") ", w.last_error, w.last_orders,"
        " (SELECT " DB_TS("d.received_at") " FROM webhook_deliveries d WHERE d.shop_id = w.shop_id"
        "   ORDER BY d.id DESC LIMIT 1),"
        " (SELECT count(*) FROM webhook_deliveries d WHERE d.shop_id = w.shop_id),"
        " (SELECT count(*) FROM webhook_deliveries d WHERE d.shop_id = w.shop_id"
        "   AND d.status = 'ignored'),"
        " (SELECT count(*) FROM webhook_deliveries d WHERE d.shop_id = w.shop_id"
        "   AND d.status = 'failed'),"
        " (SELECT count(*) FROM jobs j WHERE j.shop_id = w.shop_id AND j.status = 'pending'),"
        " (SELECT count(*) FROM jobs j WHERE j.shop_id = w.shop_id AND j.status = 'dead'),"
        " (SELECT j.last_error FROM jobs j WHERE j.shop_id = w.shop_id AND j.last_error IS NOT NULL"
        "   AND kind LIKE 'woo.%' ORDER BY j.updated_at DESC LIMIT 1)"
        " FROM woo_sync w WHERE w.shop_id = $1",
        1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no WooCommerce link state for this shop");
    }
    s->out = json_pack(
        "{s:{s:i, s:s, s:o, s:o, s:o, s:i}, s:{s:o, s:I, s:I, s:I}, s:{s:I, s:I, s:o}}", "sync",
        "interval_s", atoi(PQgetvalue(res, 0, 0)), "watermark", PQgetvalue(res, 0, 1),
        "last_started_at", NULLABLE(res, 2), "last_finished_at", NULLABLE(res, 3), "last_error",
        NULLABLE(res, 4), "last_orders", atoi(PQgetvalue(res, 0, 5)), "deliveries",
        "last_received_at", NULLABLE(res, 6), "received", (json_int_t)atoll(PQgetvalue(res, 0, 7)),
        "ignored", (json_int_t)atoll(PQgetvalue(res, 0, 8)), "failed",
        (json_int_t)atoll(PQgetvalue(res, 0, 9)), "jobs", "pending",
        (json_int_t)atoll(PQgetvalue(res, 0, 10)), "dead",
        (json_int_t)atoll(PQgetvalue(res, 0, 11)), "last_error", NULLABLE(res, 12));
    PQclear(res);
    return 0;
}

void
woo_handle_status(struct req *r)
{
    struct status_ctx s = {.shop_id = r->shop_id};
    struct err e = {0};

    if (db_run(status_fn, &s, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, s.out);
}

/* The WooCommerce settings document: the sync interval, and the order
 * status that means "delivered" (null: none; orders.c emits order.delivered
 * when an order reaches it). */
struct settings_ctx {
    int64_t shop_id;
    json_t *out;
    long interval_s;           /* PATCH: new value, 0 = unchanged */
    bool set_delivered;        /* PATCH: delivered_status given */
    const char *delivered;     /* its value (NULL = none) */
};

static int
settings_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct settings_ctx *s = ctx;
    char shop[24], interval[24];
    const char *params[4] = {shop, s->interval_s > 0 ? interval : NULL,
                             s->set_delivered ? "t" : "f", s->delivered};
    PGresult *res;

    DB_I64(shop, s->shop_id);
    snprintf(interval, sizeof(interval), "%ld", s->interval_s);
    res = db_exec(c, "woo_settings",
                  "UPDATE woo_sync SET interval_s = coalesce($2::integer, interval_s),"
                  " delivered_status = CASE WHEN $3::boolean THEN $4 ELSE delivered_status END"
                  " WHERE shop_id = $1 RETURNING interval_s, delivered_status",
                  4, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no WooCommerce link state for this shop");
    }
    s->out = json_pack("{s:i, s:o}", "sync_interval_s", atoi(PQgetvalue(res, 0, 0)),
                       "delivered_status",
                       PQgetisnull(res, 0, 1) ? json_null() : json_string(PQgetvalue(res, 0, 1)));
    PQclear(res);
    if (s->interval_s > 0) {
        /* Bring the next periodic run within the new interval. */
        const char *p[2] = {shop, interval};
        if (db_exec_cmd(c, "woo_settings_reschedule",
                        "UPDATE jobs SET run_at = least(run_at,"
                        "  now() + $2::integer * interval '1 second')"
                        " WHERE shop_id = $1 AND kind = 'woo.sync' AND dedupe_key = 'periodic'"
                        " AND status = 'pending'",
                        2, p, e) < 0)
            return -1;
    }
    return 0;
}

void
woo_handle_settings_get(struct req *r)
{
    struct settings_ctx s = {.shop_id = r->shop_id};
    struct err e = {0};

    if (db_run(settings_fn, &s, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, s.out);
}

/* A status that can never mean "the order reached the customer". */
static bool
delivered_status_refused(const char *v)
{
    static const char *const no[] = {"pending",  "failed",         "cancelled",
                                      "refunded", "checkout-draft", "trash"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(v, no[i]) == 0)
            return true;
    return false;
}

/* delivered_status: null, or a status slug ("wc-" is accepted and dropped:
 * the REST API names statuses without it). 0, or -1 after a 422. */
static int
delivered_or_reply(struct req *r, const json_t *v, struct settings_ctx *s)
{
    const char *t;
    size_t n;

    s->set_delivered = v != NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    t = json_string_value(v);
    if (t != NULL && strncmp(t, "wc-", 3) == 0)
        t += 3;
    n = t ? strlen(t) : 0;
    if (n < 1 || n > 17 || strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
        reply_problem(r, ERR_INVALID, "delivered_status",
                      "delivered_status must be an order status slug such as \"delivered\" (1 "
                      "to 17 of a-z 0-9 _ -, without \"wc-\"), or null for none");
        return -1;
    }
    if (delivered_status_refused(t)) {
        reply_problem(r, ERR_INVALID, "delivered_status",
                      "an order in status \"%s\" has not reached the customer", t);
        return -1;
    }
    s->delivered = t;
    return 0;
}

void
woo_handle_settings_patch(struct req *r)
{
    static const char *const keys[] = {"sync_interval_s", "delivered_status", NULL};
    struct settings_ctx s = {.shop_id = r->shop_id};
    struct err e = {0};
    const json_t *v;

    if (jx_known_keys(r->json, keys, "", &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if ((v = json_object_get(r->json, "sync_interval_s")) != NULL) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
        if (n < 10 || n > 86400) {
            reply_problem(r, ERR_INVALID, "sync_interval_s",
                          "sync_interval_s must be an integer from 10 to 86400 seconds");
            return;
        }
        s.interval_s = (long)n;
    }
    if (delivered_or_reply(r, json_object_get(r->json, "delivered_status"), &s) < 0)
        return;
    if (db_tx(settings_fn, &s, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, s.out);
}
