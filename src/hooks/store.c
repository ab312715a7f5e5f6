/*
 * store.c - the SQL of outbound webhooks, and hooks_emit().
 *
 * hooks_emit() is called by the programmes inside the transaction of
 * their change. It writes nothing when no enabled endpoint of the shop
 * wants the type (most shops have none: one indexed read per event); else
 * the message (its webhook-id and body, fixed now, so retries and replays
 * send the same bytes and receivers can dedupe by webhook-id), a delivery
 * row and a hooks.deliver job per endpoint, all in one statement plus the
 * jobs. JSON for the API is built by PostgreSQL (json_build_object), so
 * the column list and the JSON field names sit side by side.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/hooks/hooks.h"
#include "aftersale/hooks/store.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/shops/shops.h"

const char *const hooks_event_types[] = {
    "review.created",          "review.published",
    "survey.response.created", "survey.detractor",
    "return.created",          "return.state_changed",
    "loyalty.points_changed",  "loyalty.redemption.created",
    "customer.erased",
};
const size_t hooks_event_types_n = sizeof(hooks_event_types) / sizeof(hooks_event_types[0]);

bool
hooks_event_type_known(const char *type)
{
    for (size_t i = 0; i < hooks_event_types_n; i++)
        if (strcmp(type, hooks_event_types[i]) == 0)
            return true;
    return false;
}

#define WANTS "($2 = ANY (w.event_types) OR '*' = ANY (w.event_types))"

int
hooks_emit(struct db_conn *c, int64_t shop_id, const char *type, json_t *data, struct err *e)
{
    char shop[24], msg_id[32] = "msg_", stamp[32], *body = NULL;
    const char *params[4] = {shop, type, msg_id, NULL};
    PGresult *res = NULL;
    json_t *env = NULL;
    struct tm tm;
    time_t now = time(NULL);
    int rc = -1;

    DB_I64(shop, shop_id);
    crypto_random_alnum(msg_id + 4, 24);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* The Standard Webhooks payload shape: type, timestamp, data. */
    env = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", stamp, "data",
                    data ? data : json_object());
    data = NULL;
    if (env == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "cannot build the event %s", type);
        goto out;
    }
    body = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
    params[3] = body;
    res = db_exec(c, "hooks_emit",
                  "WITH ev AS ("
                  "  INSERT INTO outbound_events (shop_id, msg_id, type, body)"
                  "  SELECT $1, $3, $2, $4 WHERE EXISTS (SELECT 1 FROM webhook_endpoints w"
                  "   WHERE w.shop_id = $1 AND w.enabled AND " WANTS ") RETURNING id)"
                  " INSERT INTO outbound_deliveries (shop_id, endpoint_id, event_id)"
                  " SELECT $1, w.id, ev.id FROM webhook_endpoints w, ev"
                  "  WHERE w.shop_id = $1 AND w.enabled AND " WANTS " RETURNING id",
                  4, params, e);
    if (res == NULL)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *p = json_pack("{s:I}", "delivery_id", (json_int_t)atoll(PQgetvalue(res, i, 0)));
        int64_t job_id;
        int r = jobs_enqueue(c, shop_id, "hooks.deliver", p, NULL, 0, 5, &job_id, e);
        json_decref(p);
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    PQclear(res);
    free(body);
    json_decref(env);
    json_decref(data);
    return rc;
}

/* ---- endpoints ---------------------------------------------------------- */

#define EP_JSON                                                                                    \
    "json_build_object('id', id, 'url', url, 'description', description, 'event_types',"           \
    " to_json(event_types), 'enabled', enabled, 'disabled_reason', disabled_reason,"               \
    " 'failing_since', " DB_TS(                                                                    \
        "failing_since") ", 'previous_secret_expires_at',"                                         \
                         " CASE WHEN previous_until > now() THEN " DB_TS(                          \
                             "previous_until") " END,"                                             \
                                               " 'created_at', " DB_TS(                            \
                                                   "created_at") ", "                              \
                                                                 "'updated_"                       \
                                                                 "at',"                            \
                                                                 " " DB_TS("updated"               \
                                                                           "_at") ")::text"

/* One row, one JSON column -> *out (NULL when no row). */
static int
one_json(PGresult *res, json_t **out, struct err *e)
{
    *out = NULL;
    if (res == NULL)
        return -1;
    if (PQntuples(res) > 0)
        *out = jx_parse(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)), e);
    PQclear(res);
    return 0;
}

static char *
types_text(const json_t *types)
{
    return types ? json_dumps(types, JSON_COMPACT) : NULL;
}

int
hooks_store_create(struct db_conn *c, int64_t shop_id, const struct hooks_endpoint_input *in,
                   const char *sealed_hex, json_t **out, struct err *e)
{
    char shop[24], *types = types_text(in->event_types);
    const char *params[6] = {shop,
                             in->url,
                             in->description ? in->description : "",
                             types,
                             in->enabled == 0 ? "false" : "true",
                             sealed_hex};
    int rc;

    DB_I64(shop, shop_id);
    rc = one_json(db_exec(c, "hooks_store_create",
                          "INSERT INTO webhook_endpoints (shop_id, url, description, event_types,"
                          " enabled, secret_sealed) VALUES ($1, $2, $3,"
                          " ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5, $6::bytea)"
                          " RETURNING " EP_JSON,
                          6, params, e),
                  out, e);
    free(types);
    return rc;
}

int
hooks_store_list(struct db_conn *c, int64_t shop_id, int64_t after, int limit, json_t **items,
                 int64_t *next_after, struct err *e)
{
    char shop[24], a[24], l[16];
    const char *params[3] = {shop, a, l};
    PGresult *res;
    int n;

    DB_I64(shop, shop_id);
    DB_I64(a, after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    res = db_exec(c, "hooks_store_list",
                  "SELECT " EP_JSON ", id FROM webhook_endpoints WHERE shop_id = $1 AND id > $2"
                  " ORDER BY id LIMIT $3",
                  3, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    *items = json_array();
    *next_after = 0;
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(*items, json_loads(PQgetvalue(res, i, 0), 0, NULL));
    if (n > limit)
        *next_after = atoll(PQgetvalue(res, limit - 1, 1));
    PQclear(res);
    return 0;
}

int
hooks_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out, struct err *e)
{
    char shop[24], ids[24];
    const char *params[2] = {shop, ids};

    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    return one_json(db_exec(c, "hooks_store_get",
                            "SELECT " EP_JSON
                            " FROM webhook_endpoints WHERE shop_id = $1 AND id = $2",
                            2, params, e),
                    out, e);
}

int
hooks_store_patch(struct db_conn *c, int64_t shop_id, int64_t id,
                  const struct hooks_endpoint_input *in, json_t **out, struct err *e)
{
    char shop[24], ids[24], *types = types_text(in->event_types);
    const char *params[6] = {shop,    ids,
                             in->url, in->description,
                             types,   in->enabled < 0 ? NULL : in->enabled ? "true" : "false"};
    int rc;

    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    /* Enabling again starts a new run: the old failures do not count. */
    rc = one_json(
        db_exec(c, "hooks_store_patch",
                "UPDATE webhook_endpoints SET url = coalesce($3, url),"
                " description = coalesce($4, description),"
                " event_types = CASE WHEN $5::jsonb IS NULL THEN event_types"
                "  ELSE ARRAY(SELECT jsonb_array_elements_text($5::jsonb)) END,"
                " failing_since = CASE WHEN $6::boolean AND NOT enabled THEN NULL"
                "  ELSE failing_since END,"
                " disabled_reason = CASE WHEN $6::boolean THEN NULL ELSE disabled_reason END,"
                " enabled = coalesce($6::boolean, enabled), updated_at = now()"
                " WHERE shop_id = $1 AND id = $2 RETURNING " EP_JSON,
                6, params, e),
        out, e);
    free(types);
    return rc;
}

int
hooks_store_delete(struct db_conn *c, int64_t shop_id, int64_t id, bool *found, struct err *e)
{
    char shop[24], ids[24];
    const char *params[2] = {shop, ids};
    long n;

    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    n = db_exec_cmd(c, "hooks_store_delete",
                    "DELETE FROM webhook_endpoints WHERE shop_id = $1 AND id = $2", 2, params, e);
    if (n < 0)
        return -1;
    *found = n > 0;
    return 0;
}

int
hooks_store_rotate(struct db_conn *c, int64_t shop_id, int64_t id, const char *sealed_hex,
                   long overlap_s, json_t **out, struct err *e)
{
    char shop[24], ids[24], ov[24];
    const char *params[4] = {shop, ids, sealed_hex, ov};

    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    DB_I64(ov, overlap_s);
    return one_json(db_exec(c, "hooks_store_rotate",
                            "UPDATE webhook_endpoints SET previous_sealed = secret_sealed,"
                            " previous_until = now() + make_interval(secs => $4::bigint),"
                            " secret_sealed = $3::bytea, updated_at = now()"
                            " WHERE shop_id = $1 AND id = $2 RETURNING " EP_JSON,
                            4, params, e),
                    out, e);
}

/* ---- deliveries --------------------------------------------------------- */

int
hooks_store_attempts(struct db_conn *c, int64_t shop_id, int64_t id, int64_t after, int limit,
                     bool *found, json_t **items, int64_t *next_after, struct err *e)
{
    char shop[24], ids[24], a[24], l[16];
    const char *params[4] = {shop, ids, a, l};
    PGresult *res;
    json_t *ep = NULL;
    int n;

    *items = NULL;
    *next_after = 0;
    if (hooks_store_get(c, shop_id, id, &ep, e) < 0)
        return -1;
    *found = ep != NULL;
    json_decref(ep);
    if (!*found)
        return 0;
    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    DB_I64(a, after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    res = db_exec(c, "hooks_store_attempts",
                  "SELECT json_build_object('id', a.id, 'delivery_id', a.delivery_id,"
                  " 'webhook_id', ev.msg_id, 'event_type', ev.type, 'attempt', a.attempt,"
                  " 'status_code', a.status_code, 'duration_ms', a.duration_ms, 'error', a.error,"
                  " 'delivery_status', d.status, 'created_at', " DB_TS(
                      "a.created_at") ")::text, a.id"
                                      " FROM outbound_attempts a"
                                      " JOIN outbound_deliveries d ON d.shop_id = a.shop_id AND "
                                      "d.id = a.delivery_id"
                                      " JOIN outbound_events ev ON ev.shop_id = d.shop_id AND "
                                      "ev.id = d.event_id"
                                      " WHERE a.shop_id = $1 AND a.endpoint_id = $2 AND a.id > $3"
                                      " ORDER BY a.id LIMIT $4",
                  4, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    *items = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(*items, json_loads(PQgetvalue(res, i, 0), 0, NULL));
    if (n > limit)
        *next_after = atoll(PQgetvalue(res, limit - 1, 1));
    PQclear(res);
    return 0;
}

int
hooks_store_replay(struct db_conn *c, int64_t shop_id, int64_t endpoint_id, int64_t delivery_id,
                   json_t **out, struct err *e)
{
    char shop[24], ep[24], dl[24];
    const char *params[3] = {shop, ep, dl};
    PGresult *res;
    json_t *p;
    int64_t job_id = 0;
    int r;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(ep, endpoint_id);
    DB_I64(dl, delivery_id);
    /* A disabled endpoint would cancel the replay at once: say so now. */
    res = db_exec(c, "hooks_store_replay_endpoint",
                  "SELECT enabled FROM webhook_endpoints WHERE shop_id = $1 AND id = $2", 2, params,
                  e);
    if (res == NULL)
        return -1;
    r = PQntuples(res) == 1 ? (PQgetvalue(res, 0, 0)[0] == 't' ? 1 : 0) : -1;
    PQclear(res);
    if (r < 0)
        return 0;
    if (r == 0)
        return err_set(e, ERR_CONFLICT, NULL,
                       "webhook endpoint %" PRId64 " is disabled: enable it, then replay",
                       endpoint_id);
    res = db_exec(c, "hooks_store_replay",
                  "UPDATE outbound_deliveries d SET status = 'pending', updated_at = now()"
                  " FROM outbound_events ev WHERE d.shop_id = $1 AND d.endpoint_id = $2"
                  " AND d.id = $3 AND ev.shop_id = d.shop_id AND ev.id = d.event_id"
                  " RETURNING ev.msg_id, ev.type",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    p = json_pack("{s:I, s:b}", "delivery_id", (json_int_t)delivery_id, "replay", 1);
    r = jobs_enqueue(c, shop_id, "hooks.deliver", p, NULL, 0, 5, &job_id, e);
    json_decref(p);
    if (r == 0)
        *out = json_pack("{s:I, s:s, s:s, s:s, s:I}", "delivery_id", (json_int_t)delivery_id,
                         "webhook_id", PQgetvalue(res, 0, 0), "event_type", PQgetvalue(res, 0, 1),
                         "status", "pending", "job_id", (json_int_t)job_id);
    PQclear(res);
    return r;
}

static char *
open_secret(const uint8_t key[CRYPTO_KEY_LEN], const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col)
               ? NULL
               : shops_secret_open(key, HOOKS_SEAL_AAD, PQgetvalue(res, 0, col));
}

int
hooks_store_delivery_load(struct db_conn *c, const uint8_t key[CRYPTO_KEY_LEN], int64_t shop_id,
                          int64_t delivery_id, struct hooks_delivery *d, struct err *e)
{
    char shop[24], dl[24];
    const char *params[2] = {shop, dl};
    PGresult *res;

    hooks_delivery_clear(d);
    d->shop_id = shop_id;
    d->delivery_id = delivery_id;
    DB_I64(shop, shop_id);
    DB_I64(dl, delivery_id);
    res = db_exec(c, "hooks_store_delivery_load",
                  "SELECT d.endpoint_id, ev.msg_id, w.url, ev.body, w.secret_sealed,"
                  " CASE WHEN w.previous_until > now() THEN w.previous_sealed END, w.enabled,"
                  " (extract(epoch FROM now() - ev.created_at) * 1000)::bigint, d.attempts"
                  " FROM outbound_deliveries d"
                  " JOIN outbound_events ev ON ev.shop_id = d.shop_id AND ev.id = d.event_id"
                  " JOIN webhook_endpoints w ON w.shop_id = d.shop_id AND w.id = d.endpoint_id"
                  " WHERE d.shop_id = $1 AND d.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        d->found = true;
        d->endpoint_id = atoll(PQgetvalue(res, 0, 0));
        snprintf(d->msg_id, sizeof(d->msg_id), "%s", PQgetvalue(res, 0, 1));
        d->url = xstrdup(PQgetvalue(res, 0, 2));
        d->body = xstrdup(PQgetvalue(res, 0, 3));
        d->secret = open_secret(key, res, 4);
        d->previous = open_secret(key, res, 5);
        d->enabled = PQgetvalue(res, 0, 6)[0] == 't';
        d->age_ms = atol(PQgetvalue(res, 0, 7));
        d->attempts = atoi(PQgetvalue(res, 0, 8));
    }
    PQclear(res);
    if (d->found && d->secret == NULL)
        return err_set(e, ERR_INTERNAL, NULL,
                       "the endpoint's secret does not open with AFTERSALE_SECRET_KEY");
    return 0;
}

void
hooks_delivery_clear(struct hooks_delivery *d)
{
    free(d->url);
    free(d->body);
    if (d->secret)
        crypto_wipe(d->secret, strlen(d->secret));
    if (d->previous)
        crypto_wipe(d->previous, strlen(d->previous));
    free(d->secret);
    free(d->previous);
    memset(d, 0, sizeof(*d));
}

int
hooks_store_attempt_record(struct db_conn *c, const struct hooks_delivery *d, int status_code,
                           long duration_ms, const char *error, bool final, long disable_after_s,
                           bool *disabled, struct err *e)
{
    char shop[24], dl[24], ep[24], att[16], code[16], dur[24], lim[24];
    const char *status = error == NULL ? "succeeded" : final ? "failed" : "pending";
    PGresult *res;

    *disabled = false;
    DB_I64(shop, d->shop_id);
    DB_I64(dl, d->delivery_id);
    DB_I64(ep, d->endpoint_id);
    snprintf(att, sizeof(att), "%d", d->attempts + 1);
    snprintf(code, sizeof(code), "%d", status_code);
    DB_I64(dur, duration_ms);
    DB_I64(lim, disable_after_s);
    {
        const char *p[7] = {shop, dl, ep, att, status_code > 0 ? code : NULL, dur, error};
        if (db_exec_cmd(c, "hooks_attempt_insert",
                        "INSERT INTO outbound_attempts (shop_id, delivery_id, endpoint_id, attempt,"
                        " status_code, duration_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        7, p, e) < 0)
            return -1;
    }
    {
        const char *p[4] = {shop, dl, att, status};
        if (db_exec_cmd(
                c, "hooks_delivery_update",
                "UPDATE outbound_deliveries SET attempts = $3, status = $4, updated_at = now()"
                " WHERE shop_id = $1 AND id = $2",
                4, p, e) < 0)
            return -1;
    }
    if (error == NULL) {
        const char *p[2] = {shop, ep};
        return db_exec_cmd(c, "hooks_endpoint_ok",
                           "UPDATE webhook_endpoints SET failing_since = NULL"
                           " WHERE shop_id = $1 AND id = $2 AND failing_since IS NOT NULL",
                           2, p, e) < 0
                   ? -1
                   : 0;
    }
    {
        /* A run of failures starts at the first one; once it has lasted
         * disable_after_s, the endpoint is switched off. The row lock
         * makes that happen once: two failing deliveries do not alert twice. */
        const char *p[4] = {shop, ep, lim, final ? "true" : "false"};
        res = db_exec(c, "hooks_endpoint_failing",
                      "SELECT enabled AND ($4::boolean OR (failing_since IS NOT NULL"
                      " AND now() - failing_since >= make_interval(secs => $3::bigint)))"
                      " FROM webhook_endpoints"
                      " WHERE shop_id = $1 AND id = $2 FOR UPDATE",
                      4, p, e);
        if (res == NULL)
            return -1;
        *disabled = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (db_exec_cmd(
                c, "hooks_endpoint_failed",
                "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()),"
                " enabled = CASE WHEN $3::boolean THEN false ELSE enabled END,"
                " disabled_reason = CASE WHEN $3::boolean THEN 'failing since ' || " DB_TS(
                    "failing_since") " ELSE disabled_reason END, updated_at = now()"
                                     " WHERE shop_id = $1 AND id = $2",
                3, (const char *const[]){shop, ep, *disabled ? "true" : "false"}, e) < 0)
            return -1;
    }
    if (*disabled) {
        json_t *p = json_pack("{s:I}", "endpoint_id", (json_int_t)d->endpoint_id);
        int64_t job_id;
        char key[40];
        int r;
        snprintf(key, sizeof(key), "disabled:%" PRId64 ":%ld", d->endpoint_id, (long)time(NULL));
        r = jobs_enqueue(c, d->shop_id, "hooks.alert", p, key, 0, 8, &job_id, e);
        json_decref(p);
        if (r < 0)
            return -1;
    }
    return 0;
}

int
hooks_store_delivery_cancel(struct db_conn *c, int64_t shop_id, int64_t delivery_id, struct err *e)
{
    char shop[24], dl[24];
    const char *p[2] = {shop, dl};

    DB_I64(shop, shop_id);
    DB_I64(dl, delivery_id);
    return db_exec_cmd(c, "hooks_store_delivery_cancel",
                       "UPDATE outbound_deliveries SET status = 'cancelled', updated_at = now()"
                       " WHERE shop_id = $1 AND id = $2",
                       2, p, e) < 0
               ? -1
               : 0;
}
