/*
 * webhooks.c - WooCommerce webhook deliveries: receive, store, process.
 *
 * Receiving (an HTTP request thread) does as little as it can, because the
 * shop waits for us inside its own request and disables a webhook after
 * seven failures: answer a ping at once; verify the signature over the
 * raw bytes (HMAC-SHA256 with the shop's webhook secret, compared in
 * constant time) or answer 401 and store nothing; store the delivery and
 * enqueue its processing in one transaction; answer 200 only after the
 * commit. A delivery identical in content to one already stored (same
 * topic, resource and body hash) is answered 200 and not stored again:
 * WooCommerce's delivery id is per second, not per delivery.
 *
 * Processing (a worker, woo.delivery) parses the stored body and hands it
 * to the snapshot code in orders.c; the action topic only names an order,
 * so it enqueues a fetch. Nothing here talks to the shop.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/server.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/woo/handlers.h"
#include "aftersale/woo/jobs.h"
#include "aftersale/woo/link.h"
#include "aftersale/woo/validate.h"

/* "webhook_id=12": WooCommerce's ping, form-encoded and unsigned. */
static bool
is_ping(const char *body, size_t len)
{
    static const char prefix[] = "webhook_id=";
    size_t i = sizeof(prefix) - 1;

    if (len <= i || memcmp(body, prefix, i) != 0)
        return false;
    for (; i < len; i++)
        if (!isdigit((unsigned char)body[i]))
            return false;
    return true;
}

struct receipt {
    int64_t shop_id;
    const char *body;
    size_t len;
    const char *topic, *delivery_id, *webhook_id, *signature;
    bool shop_found, signature_ok;
    int64_t resource_id, stored_id;
    const char *status, *note;
};

static int
check_signature_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct receipt *rc = ctx;
    uint8_t mac[CRYPTO_SHA256_LEN];
    char *secret = NULL, *expected;

    if (woo_webhook_secret_load(c, rc->shop_id, server_config()->secret_key, &secret, e) < 0)
        return -1;
    rc->shop_found = secret != NULL;
    if (secret == NULL || rc->signature == NULL)
        goto out;
    crypto_hmac_sha256(secret, strlen(secret), rc->body, rc->len, mac);
    expected = crypto_base64(mac, sizeof(mac));
    rc->signature_ok = crypto_equal(expected, strlen(expected), rc->signature,
                                    strlen(rc->signature));
    free(expected);
out:
    if (secret)
        crypto_wipe(secret, strlen(secret));
    free(secret);
    return 0;
}

/*
 * Store the delivery and enqueue its processing in ONE statement, run on
 * its own (autocommit). Why it is shaped like this (docs/reliability.md):
 *
 * - A replay (same topic, resource and body) must not wait on a job. The
 *   woo.delivery job UPDATEs the delivery's row (status) inside its own
 *   transaction, which also does the whole per-order work; INSERT ... ON
 *   CONFLICT DO NOTHING on a key whose row has an uncommitted UPDATE waits
 *   for that transaction (measured: replays waited seconds, blocked by
 *   job transactions, and past DB_LOCK_TIMEOUT_MS answered 503). So a
 *   committed row with the key, read from the statement's snapshot (a
 *   plain read never waits), answers "duplicate" and nothing is inserted.
 *   ON CONFLICT stays for the only case left: two receipts of one body at
 *   the same moment, where one waits for the other's single statement.
 * - The new row is uncommitted only while PostgreSQL runs this statement,
 *   never across a round trip to this thread (which under load can be off
 *   the CPU for a long time).
 *
 * No other lock is taken here: no order row, no UPDATE of a shared row;
 * the per-order work is the woo.delivery job's.
 */
static int
store_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct receipt *rc = ctx;
    char shop[24], resource[24], max[16], hash_param[2 * CRYPTO_SHA256_LEN + 3];
    char *body_hex = xmalloc(2 * rc->len + 3);
    uint8_t hash[CRYPTO_SHA256_LEN];
    const char *params[9] = {shop, rc->topic, resource, rc->delivery_id, rc->webhook_id,
                             body_hex, hash_param, rc->status, max};
    PGresult *res;
    int ret = -1;

    DB_I64(shop, rc->shop_id);
    DB_I64(resource, rc->resource_id);
    snprintf(max, sizeof(max), "%d", JOBS_MAX_ATTEMPTS_DEFAULT);
    memcpy(body_hex, "\\x", 2);
    crypto_hex((const uint8_t *)rc->body, rc->len, body_hex + 2);
    crypto_sha256(rc->body, rc->len, hash);
    memcpy(hash_param, "\\x", 2);
    crypto_hex(hash, sizeof(hash), hash_param + 2);
    /* The jobs INSERT is jobs_enqueue()'s (queue.c), with the delivery id
     * from the first INSERT; its NOTIFY is delivered at the commit. */
    res = db_exec(c, "woo_webhook_store_enqueue",
                  "WITH d AS (INSERT INTO webhook_deliveries (shop_id, topic, resource_id,"
                  " delivery_id, webhook_id, body, body_sha256, status)"
                  " SELECT $1::bigint, $2, $3::bigint, $4, $5::bigint, $6::bytea, $7::bytea, $8::text"
                  " WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.shop_id = $1::bigint"
                  " AND w.topic = $2 AND w.resource_id = $3::bigint AND w.body_sha256 = $7::bytea)"
                  " ON CONFLICT (shop_id, topic, resource_id, body_sha256) DO NOTHING RETURNING id),"
                  " j AS (INSERT INTO jobs (shop_id, kind, payload, dedupe_key, run_at, max_attempts)"
                  " SELECT $1::bigint, 'woo.delivery', jsonb_build_object('delivery', d.id),"
                  " 'delivery:' || d.id, now(), $9::int FROM d WHERE $8::text = 'received'"
                  " ON CONFLICT (shop_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"
                  " RETURNING id)"
                  " SELECT d.id, CASE WHEN EXISTS (SELECT 1 FROM j)"
                  " THEN pg_notify('" JOBS_CHANNEL "', '') END FROM d",
                  9, params, e);
    if (res == NULL)
        goto out;
    rc->stored_id = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    ret = 0;
out:
    free(body_hex);
    return ret;
}

static void
classify(struct receipt *rc)
{
    json_error_t jerr;
    json_t *root;
    bool action = strncmp(rc->topic, "action.", 7) == 0;

    rc->status = "received";
    rc->resource_id = 0;
    root = json_loadb(rc->body, rc->len, 0, &jerr);
    if (root) {
        json_t *id = json_object_get(root, action ? "arg" : "id");
        if (json_is_integer(id))
            rc->resource_id = json_integer_value(id);
        json_decref(root);
    }
    if (!woo_topic_handled(rc->topic)) {
        rc->status = "ignored";
    } else if (root == NULL || rc->resource_id <= 0) {
        /* Signed by the shop but unusable: keep it for the operator, but
         * never fail the delivery (WooCommerce would count it). */
        rc->status = "failed";
    }
}

void
woo_handle_webhook(struct req *r)
{
    struct receipt rc = {0};
    struct err e = {0};
    const char *delivery = req_header(r, "X-WC-Webhook-Delivery-ID");
    const char *webhook = req_header(r, "X-WC-Webhook-ID");
    int64_t webhook_id = 0;
    char webhook_text[24];

    if (req_param_id_or_reply(r, "shop_id", &rc.shop_id) < 0)
        return;
    /* A 503 here loses the delivery (WooCommerce never resends it) while
     * the shop waits up to 60 s for our answer: wait for a connection or a
     * lock up to WEBHOOK_DB_WAIT_MS, not the general request bounds. */
    db_request_wait_ms(server_config()->webhook_db_wait_ms);
    rc.body = r->body.data ? r->body.data : "";
    rc.len = r->body.len;
    rc.signature = req_header(r, "X-WC-Webhook-Signature");
    if (rc.signature == NULL && !is_ping(rc.body, rc.len)) {
        reply_problem(r, ERR_UNAUTHORIZED, NULL, "missing X-WC-Webhook-Signature");
        return;
    }
    if (db_run(check_signature_fn, &rc, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (!rc.shop_found) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no shop %" PRId64, rc.shop_id);
        return;
    }
    if (rc.signature == NULL) {
        /* WooCommerce's ping: only an exact 200 stops it pinging. */
        reply_json_take(r, 200, json_pack("{s:s}", "status", "pong"));
        return;
    }
    if (!rc.signature_ok) {
        reply_problem(r, ERR_UNAUTHORIZED, NULL,
                      "X-WC-Webhook-Signature does not match the body and this shop's secret");
        return;
    }
    /* Headers are raw bytes: what is not text PostgreSQL takes as it is
     * would fail the INSERT and lose the delivery (validate.h). */
    rc.topic = req_header(r, "X-WC-Webhook-Topic");
    if (!woo_text_valid(rc.topic, 200) || rc.topic[0] == '\0')
        rc.topic = "unknown";
    rc.delivery_id = woo_text_valid(delivery, 64) ? delivery : NULL;
    if (webhook && cursor_parse_id(webhook, &webhook_id) == 0) {
        DB_I64(webhook_text, webhook_id);
        rc.webhook_id = webhook_text;
    }
    classify(&rc);
    if (db_run(store_fn, &rc, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_json_take(r, 200,
                    json_pack("{s:s, s:b, s:o}", "status", rc.status, "duplicate",
                              rc.stored_id == 0, "id",
                              rc.stored_id ? json_integer(rc.stored_id) : json_null()));
}

/* ---- processing ------------------------------------------------------ */

/*
 * Apply an order or customer body under a savepoint. The validators
 * (validate.c) refuse every bad value we know of before any SQL runs; a
 * value they let through and PostgreSQL still refuses (ERR_INVALID with a
 * SQLSTATE: class 22, a CHECK) rolls back only the apply, so the delivery
 * is still recorded as failed, with the reason, in this one attempt
 * instead of aborting the job's transaction and being retried until dead.
 * Returns 0 (applied, or *invalid set with e describing why) or -1.
 */
static int
apply_guarded(struct db_conn *c, const struct job *job, const char *topic, const json_t *body,
              const char **outcome, bool *invalid, struct err *e)
{
    int rc;

    *invalid = false;
    if (db_exec_cmd(c, "woo_delivery_savepoint", "SAVEPOINT delivery", 0, NULL, e) < 0)
        return -1;
    if (strncmp(topic, "order.", 6) == 0)
        rc = woo_orders_apply(c, job->shop_id, body, outcome, NULL, e);
    else
        rc = woo_customers_apply(c, job->shop_id, body, strcmp(topic, "customer.created") == 0,
                                 outcome, e);
    if (rc == 0 || e->kind != ERR_INVALID)
        return rc;
    *invalid = true;
    if (e->sqlstate[0] != '\0') {
        struct err re = {0};
        if (db_exec_cmd(c, "woo_delivery_rollback", "ROLLBACK TO SAVEPOINT delivery", 0, NULL,
                        &re) < 0) {
            *e = re;
            return -1;
        }
    }
    return 0;
}

int
woo_job_delivery(struct db_conn *c, struct job_env *env, const struct job *job,
                 struct job_outcome *out, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    const char *outcome = "processed", *status = "processed", *topic;
    PGresult *res = NULL;
    json_t *body = NULL;
    json_error_t jerr;
    json_int_t delivery = json_integer_value(json_object_get(job->payload, "delivery"));
    int rc = -1;

    (void)env;
    out->status = JOB_DONE;
    DB_I64(shop, job->shop_id);
    snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, delivery);
    res = db_exec(c, "woo_delivery_load",
                  "SELECT topic, convert_from(body, 'UTF8'), status, resource_id FROM webhook_deliveries"
                  " WHERE shop_id = $1 AND id = $2 FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        goto out;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 2), "received") != 0) {
        rc = 0; /* gone, or already processed: nothing to do again */
        goto out;
    }
    topic = PQgetvalue(res, 0, 0);
    body = json_loads(PQgetvalue(res, 0, 1), 0, &jerr);
    if (body == NULL) {
        status = "failed";
        outcome = "body is not JSON";
    } else if ((strncmp(topic, "order.", 6) == 0 && strcmp(topic, "order.deleted") != 0) ||
               (strncmp(topic, "customer.", 9) == 0 && strcmp(topic, "customer.deleted") != 0)) {
        bool invalid;
        if (apply_guarded(c, job, topic, body, &outcome, &invalid, e) < 0)
            goto out;
        if (invalid) {
            status = "failed";
            outcome = e->detail;
        }
    } else if (strcmp(topic, "order.deleted") == 0) {
        if (woo_orders_mark_deleted(c, job->shop_id, atoll(PQgetvalue(res, 0, 3)), e) < 0)
            goto out;
    } else if (strcmp(topic, "customer.deleted") == 0) {
        if (woo_customers_mark_deleted(c, job->shop_id, atoll(PQgetvalue(res, 0, 3)), e) < 0)
            goto out;
    } else if (strcmp(topic, "action.woocommerce_order_status_completed") == 0) {
        char key[48];
        json_t *p = json_pack("{s:I}", "order_id", (json_int_t)atoll(PQgetvalue(res, 0, 3)));
        int r;
        snprintf(key, sizeof(key), "delivery:%s", id);
        r = jobs_enqueue(c, job->shop_id, "woo.order_fetch", p, key, 0, 0, NULL, e);
        json_decref(p);
        if (r < 0)
            goto out;
        outcome = "order fetch enqueued";
    }
    {
        const char *p[4] = {shop, id, status, outcome};
        if (db_exec_cmd(c, "woo_delivery_done",
                        "UPDATE webhook_deliveries SET status = $3, note = $4, processed_at = now()"
                        " WHERE shop_id = $1 AND id = $2",
                        4, p, e) < 0)
            goto out;
    }
    out->result = json_pack("{s:s, s:s}", "status", status, "outcome", outcome);
    rc = 0;
out:
    PQclear(res);
    json_decref(body);
    return rc;
}
