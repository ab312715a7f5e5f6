/*
 * jobs.c - what the loyalty programme does when something happens.
 *
 * Each job reads one internal event (emitted exactly once by woo/orders.c)
 * and writes ledger entries whose sources are named after the event's
 * subject: "order:727" for the points of order 727, "refund:801" for the
 * points a refund takes back, "cancel:727", "signup:42". So even if a job
 * ran twice, or the same order arrived by webhook and by sync, the ledger
 * pays once: the second entry is a duplicate and is not written.
 *
 * Order events do not each do "their" step: every one runs loyalty.order,
 * which reconciles the whole order (order.c), so the order in which the
 * workers happen to run them cannot change the result.
 *
 * The coupon job is the one outbound job: it creates the WooCommerce
 * coupon for a redemption whose points were already deducted. Its code is
 * fixed before the call, so a retry after a crash finds "code already
 * exists" and treats it as done; if it finally goes dead, the points come
 * back in an entry of their own (loyalty_job_coupon_dead).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/loyalty/jobs.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/loyalty/order.h"
#include "aftersale/woo/link.h"

#define DAILY_INTERVAL_MS (3600L * 1000L) /* hourly: a missed hour is caught up */

int
loyalty_shop_init(struct db_conn *c, int64_t shop_id, struct err *e)
{
    return jobs_enqueue(c, shop_id, "loyalty.daily", NULL, "periodic", 0, 1000000, NULL, e);
}

/* The event a job was enqueued for: kind and payload (new reference). */
static int
load_event(struct db_conn *c, const struct job *job, char kind[64], json_t **payload,
           struct err *e)
{
    return woo_events_load(c, job->shop_id,
                           json_integer_value(json_object_get(job->payload, "event_id")), kind,
                           payload, e);
}

int
loyalty_shop_currency(struct db_conn *c, int64_t shop_id, char out[4], char tz[64],
                      struct err *e)
{
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;

    DB_I64(shop, shop_id);
    res = db_exec(c, "loyalty_shop_currency", "SELECT currency, timezone FROM shops WHERE id = $1",
                  1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no shop %" PRId64, shop_id);
    }
    snprintf(out, 4, "%s", PQgetvalue(res, 0, 0));
    if (tz)
        snprintf(tz, 64, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

/* ---- orders: one reconciliation per order ---------------------------------- */

#define ORDER_BUSY_RETRY_MS 100 /* another run holds the order: try again this soon */

/* Reconcile the order and say so in the job's outcome. */
static int
run_order(struct db_conn *c, const struct job *job, int64_t order_id, struct job_outcome *out,
          struct err *e)
{
    char actor[48];
    bool busy;

    snprintf(actor, sizeof(actor), "job:%" PRId64, job->id);
    if (loyalty_order_reconcile(c, job->shop_id, order_id, actor, &busy, &out->result, e) < 0)
        return -1;
    if (busy) {
        /* Not dropped: the run holding the order may not see our event. */
        out->status = JOB_RESCHEDULE;
        out->delay_ms = ORDER_BUSY_RETRY_MS;
        out->result = json_pack("{s:I, s:s}", "order_id", (json_int_t)order_id, "busy",
                                "another run holds the order; running again shortly");
    }
    return 0;
}

int
loyalty_job_order(struct db_conn *c, struct job_env *env, const struct job *job,
                  struct job_outcome *out, struct err *e)
{
    json_int_t order_id = jx_int(job->payload, "order_id");

    (void)env;
    out->status = JOB_DONE;
    if (order_id <= 0) {
        char kind[64] = "";
        json_t *ev = NULL;
        /* Enqueued by an event (woo/events.c): the event names the order. */
        if (load_event(c, job, kind, &ev, e) < 0)
            return -1;
        order_id = jx_int(ev, "order_id");
        json_decref(ev);
        if (order_id <= 0) { /* the event is gone, or names no order */
            out->result = json_pack("{s:s}", "skipped", "no order");
            return 0;
        }
    }
    return run_order(c, job, order_id, out, e);
}

/* loyalty.earn and loyalty.reverse: the per-event kinds of earlier
 * versions. Rows of them may still be pending after an upgrade; each now
 * reconciles the order of its event, as loyalty.order does. */
int
loyalty_job_earn(struct db_conn *c, struct job_env *env, const struct job *job,
                 struct job_outcome *out, struct err *e)
{
    return loyalty_job_order(c, env, job, out, e);
}

int
loyalty_job_reverse(struct db_conn *c, struct job_env *env, const struct job *job,
                    struct job_outcome *out, struct err *e)
{
    return loyalty_job_order(c, env, job, out, e);
}

int
loyalty_job_signup(struct db_conn *c, struct job_env *env, const struct job *job,
                   struct job_outcome *out, struct err *e)
{
    char kind[64] = "", src[32], actor[48];
    json_t *ev = NULL;
    int64_t account = 0;
    int rc = -1;

    (void)env;
    out->status = JOB_DONE;
    if (load_event(c, job, kind, &ev, e) < 0)
        return -1;
    if (ev == NULL)
        return 0;
    snprintf(src, sizeof(src), "%" JSON_INTEGER_FORMAT, jx_int(ev, "customer_id"));
    snprintf(actor, sizeof(actor), "job:%" PRId64, job->id);
    /* Resolving merges a guest account with the same email first. */
    if (loyalty_account_resolve(c, job->shop_id, jx_int(ev, "customer_id"),
                                jx_str_or_empty(ev, "email"), true, &account, e) < 0 ||
        loyalty_grant(c, job->shop_id, jx_int(ev, "customer_id"), jx_str_or_empty(ev, "email"),
                      "signup", src, actor, e) < 0)
        goto out;
    out->result = json_pack("{s:I}", "account_id", (json_int_t)account);
    rc = 0;
out:
    json_decref(ev);
    return rc;
}

/* ---- daily: birthdays, anniversaries, expiry -------------------------------- */

static int
bonus_to_account(struct db_conn *c, int64_t shop_id, int64_t account, const char *kind,
                 int64_t amount, int expiry_months, const char *source_id, struct err *e)
{
    struct loyalty_entry en = {.account_id = account, .delta = amount, .reason = "bonus",
                               .source_kind = kind, .source_id = source_id, .expires = true,
                               .expiry_months = expiry_months, .note = kind, .actor = "job:daily"};
    bool dup;

    if (amount <= 0)
        return 0;
    return loyalty_ledger_append(c, shop_id, &en, &dup, NULL, e);
}

static int
expire_account(struct db_conn *c, int64_t shop_id, const char *shop, const char *acct,
               struct err *e)
{
    const char *params[2] = {shop, acct};
    PGresult *res = db_exec(c, "loyalty_expiry_credits",
                            "SELECT id, delta, expires_at <= now(),"
                            " (SELECT coalesce(-sum(delta), 0) FROM loyalty_ledger"
                            "   WHERE shop_id = $1 AND account_id = $2 AND delta < 0)"
                            " FROM loyalty_ledger WHERE shop_id = $1 AND account_id = $2"
                            " AND delta > 0 ORDER BY expires_at NULLS LAST, id",
                            2, params, e);
    int n, rc = 0;
    int64_t *credits, *unspent;

    if (res == NULL)
        return -1;
    n = PQntuples(res);
    credits = xcalloc((size_t)n + 1, sizeof(*credits));
    unspent = xcalloc((size_t)n + 1, sizeof(*unspent));
    for (int i = 0; i < n; i++)
        credits[i] = atoll(PQgetvalue(res, i, 1));
    loyalty_fifo_unspent(credits, n, n > 0 ? atoll(PQgetvalue(res, 0, 3)) : 0, unspent);
    /* Oldest first, each expired credit its own entry. */
    for (int i = 0; i < n && rc == 0; i++) {
        if (strcmp(PQgetvalue(res, i, 2), "t") != 0 || unspent[i] <= 0)
            continue;
        {
            char note[64];
            bool dup;
            struct loyalty_entry en = {.account_id = atoll(acct), .delta = -unspent[i],
                                       .reason = "expiry", .source_kind = "expiry",
                                       .source_id = PQgetvalue(res, i, 0), .clamp = true,
                                       .note = note, .actor = "job:daily"};
            snprintf(note, sizeof(note), "points of entry %s expired", PQgetvalue(res, i, 0));
            rc = loyalty_ledger_append(c, shop_id, &en, &dup, NULL, e);
        }
    }
    free(credits);
    free(unspent);
    PQclear(res);
    return rc;
}

int
loyalty_job_daily(struct db_conn *c, struct job_env *env, const struct job *job,
                  struct job_outcome *out, struct err *e)
{
    struct loyalty_settings s;
    char shop[24], currency[4], tz[64], year[8];
    const char *params[2] = {shop, tz};
    PGresult *res = NULL;
    int births = 0, anniversaries = 0, expired = 0, rc = -1;

    (void)env;
    out->status = JOB_RESCHEDULE;
    out->delay_ms = DAILY_INTERVAL_MS;
    DB_I64(shop, job->shop_id);
    if (loyalty_settings_load(c, job->shop_id, &s, e) < 0 ||
        loyalty_shop_currency(c, job->shop_id, currency, tz, e) < 0)
        return -1;
    /* Today in the shop's time zone; 29 February birthdays are kept on the
     * 28th in other years. */
    res = db_exec(
        c, "loyalty_daily_birthdays",
        "WITH today AS (SELECT (now() AT TIME ZONE $2)::date AS d)"
        " SELECT a.id, extract(year FROM t.d)::int FROM loyalty_accounts a, today t"
        " WHERE a.shop_id = $1 AND a.merged_into IS NULL AND a.birthday_month IS NOT NULL"
        " AND (make_date(2000, a.birthday_month, a.birthday_day) ="
        "       make_date(2000, extract(month FROM t.d)::int, extract(day FROM t.d)::int)"
        "   OR (a.birthday_month = 2 AND a.birthday_day = 29"
        "       AND extract(month FROM t.d) = 2 AND extract(day FROM t.d) = 28"
        "       AND extract(day FROM (date_trunc('year', t.d) + interval '59 days')) <> 29))",
        2, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        char src[48];
        snprintf(year, sizeof(year), "%s", PQgetvalue(res, i, 1));
        snprintf(src, sizeof(src), "%s:%s", year, PQgetvalue(res, i, 0));
        if (bonus_to_account(c, job->shop_id, atoll(PQgetvalue(res, i, 0)), "birthday",
                             s.bonus_birthday, s.expiry_months, src, e) < 0)
            goto out;
        births++;
    }
    PQclear(res);
    res = db_exec(c, "loyalty_daily_anniversaries",
                  "WITH today AS (SELECT (now() AT TIME ZONE $2)::date AS d),"
                  " first AS (SELECT account_id, min(created_at) AS at FROM loyalty_ledger"
                  "   WHERE shop_id = $1 AND reason = 'earn' AND source_kind = 'order'"
                  "   GROUP BY account_id)"
                  " SELECT f.account_id, extract(year FROM t.d)::int FROM first f, today t"
                  " WHERE to_char((f.at AT TIME ZONE $2)::date, 'MM-DD') = to_char(t.d, 'MM-DD')"
                  " AND (f.at AT TIME ZONE $2)::date < t.d",
                  2, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        char src[48];
        snprintf(src, sizeof(src), "%s:%s", PQgetvalue(res, i, 1), PQgetvalue(res, i, 0));
        if (bonus_to_account(c, job->shop_id, atoll(PQgetvalue(res, i, 0)), "anniversary",
                             s.bonus_anniversary, s.expiry_months, src, e) < 0)
            goto out;
        anniversaries++;
    }
    PQclear(res);
    res = db_exec(c, "loyalty_daily_expiring",
                  "SELECT DISTINCT account_id FROM loyalty_ledger l WHERE shop_id = $1"
                  " AND delta > 0 AND expires_at <= now()"
                  " AND NOT EXISTS (SELECT 1 FROM loyalty_ledger x WHERE x.shop_id = l.shop_id"
                  "   AND x.source_kind = 'expiry' AND x.source_id = l.id::text)",
                  1, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        if (expire_account(c, job->shop_id, shop, PQgetvalue(res, i, 0), e) < 0)
            goto out;
        expired++;
    }
    out->result = json_pack("{s:i, s:i, s:i}", "birthdays", births, "anniversaries", anniversaries,
                            "accounts_expired", expired);
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* ---- coupons ------------------------------------------------------------------ */

struct coupon_ctx {
    int64_t shop_id, redemption_id, coupon_id;
    const uint8_t *key;
    struct woo_creds cr;
    char code[64], amount[32], email[256], expires[16], status[16];
    bool found;
};

static int
coupon_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct coupon_ctx *k = ctx;
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;

    DB_I64(shop, k->shop_id);
    DB_I64(id, k->redemption_id);
    res = db_exec(c, "loyalty_coupon_load",
                  "SELECT r.code, r.amount::text, a.email, to_char(r.expires_on, 'YYYY-MM-DD'),"
                  " r.status FROM loyalty_redemptions r JOIN loyalty_accounts a"
                  " ON a.shop_id = r.shop_id AND a.id = r.account_id"
                  " WHERE r.shop_id = $1 AND r.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    k->found = PQntuples(res) == 1;
    if (k->found) {
        snprintf(k->code, sizeof(k->code), "%s", PQgetvalue(res, 0, 0));
        snprintf(k->amount, sizeof(k->amount), "%s", PQgetvalue(res, 0, 1));
        snprintf(k->email, sizeof(k->email), "%s", PQgetvalue(res, 0, 2));
        snprintf(k->expires, sizeof(k->expires), "%s", PQgetvalue(res, 0, 3));
        snprintf(k->status, sizeof(k->status), "%s", PQgetvalue(res, 0, 4));
    }
    PQclear(res);
    if (!k->found)
        return 0;
    woo_creds_clear(&k->cr);
    return woo_creds_load(c, k->shop_id, k->key, &k->cr, e);
}

static int
coupon_done_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct coupon_ctx *k = ctx;
    char shop[24], id[24], coupon[24];
    const char *params[3] = {shop, id, k->coupon_id > 0 ? coupon : NULL};

    DB_I64(shop, k->shop_id);
    DB_I64(id, k->redemption_id);
    DB_I64(coupon, k->coupon_id);
    return db_exec_cmd(c, "loyalty_coupon_done",
                       "UPDATE loyalty_redemptions SET status = 'created', coupon_id = $3,"
                       " updated_at = now() WHERE shop_id = $1 AND id = $2 AND status = 'pending'",
                       3, params, e) < 0
               ? -1
               : 0;
}

void
loyalty_job_coupon(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct coupon_ctx k = {.shop_id = job->shop_id, .key = env->cfg->secret_key};
    struct err e = {0};
    json_t *coupon = NULL, *made = NULL;
    enum woo_result r;

    k.redemption_id = json_integer_value(json_object_get(job->payload, "redemption_id"));
    if (db_run(coupon_load_fn, &k, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (!k.found || strcmp(k.status, "pending") != 0) {
        out->status = JOB_DONE; /* already created, or refunded: nothing to do */
        goto out;
    }
    coupon = json_pack("{s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:s}", "code", k.code,
                       "discount_type", "fixed_cart", "amount", k.amount, "usage_limit", 1,
                       "usage_limit_per_user", 1, "individual_use", 0, "date_expires", k.expires,
                       "description", "aftersale loyalty redemption");
    if (k.email[0])
        json_object_set_new(coupon, "email_restrictions", json_pack("[s]", k.email));
    r = woo_coupon_create(env->woo, &k.cr.shop, coupon, &made, &e);
    if (r == WOO_OK) {
        k.coupon_id = json_integer_value(json_object_get(made, "id"));
    } else if (strstr(e.detail, "woocommerce_rest_coupon_code_already_exists") != NULL) {
        /* Our code is unique: it exists because an earlier attempt made it. */
        k.coupon_id = 0;
    } else {
        out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (db_tx(coupon_done_fn, &k, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    out->result = json_pack("{s:s, s:I}", "code", k.code, "coupon_id", (json_int_t)k.coupon_id);
out:
    woo_creds_clear(&k.cr);
    json_decref(coupon);
    json_decref(made);
}

int
loyalty_job_coupon_dead(struct db_conn *c, const struct job *job, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;
    int64_t account, points;
    bool dup;

    DB_I64(shop, job->shop_id);
    DB_I64(id, json_integer_value(json_object_get(job->payload, "redemption_id")));
    res = db_exec(c, "loyalty_coupon_failed",
                  "UPDATE loyalty_redemptions SET status = 'failed', updated_at = now()"
                  " WHERE shop_id = $1 AND id = $2 AND status = 'pending'"
                  " RETURNING account_id, points",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    account = atoll(PQgetvalue(res, 0, 0));
    points = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    {
        struct loyalty_entry en = {.account_id = account,
                                   .delta = points,
                                   .reason = "redemption_refund",
                                   .source_kind = "redemption_refund",
                                   .source_id = id,
                                   .note = "the coupon could not be created in the shop",
                                   .actor = "job:coupon"};
        return loyalty_ledger_append(c, job->shop_id, &en, &dup, NULL, e);
    }
}
