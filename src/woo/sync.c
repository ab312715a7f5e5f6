/*
 * sync.c - the outbound WooCommerce jobs: order fetch, reconciliation,
 * webhook set-up.
 *
 * Each job loads the shop's credentials in a short transaction, calls the
 * shop with no database connection held, and writes what it learnt in
 * another short transaction through the same snapshot code webhooks use,
 * so a replayed or overlapping run changes nothing twice. Reconciliation
 * exists because WooCommerce drops failed deliveries and merges rapid
 * updates: it pulls orders modified since the watermark (minus a minute of
 * overlap for same-second changes, but never from before the shop was
 * created: a new shop imports nothing older unless the merchant asks for a
 * back-fill with an explicit modified_after), page by page. The periodic sync never
 * goes dead: a failure is recorded in woo_sync.last_error and the job is
 * simply scheduled again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/mem.h"
#include "aftersale/woo/jobs.h"
#include "aftersale/woo/link.h"

#define PER_PAGE 100
#define OVERLAP_S 60

struct creds_ctx {
    int64_t shop_id;
    const uint8_t *key;
    struct woo_creds cr;
};

static int
creds_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct creds_ctx *cc = ctx;
    woo_creds_clear(&cc->cr);
    return woo_creds_load(c, cc->shop_id, cc->key, &cc->cr, e);
}

/* Outcome for a call that failed: retry what may heal, fail the rest. */
static void
outcome_from(enum woo_result r, const struct err *e, struct job_outcome *out)
{
    out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
    out->err = *e;
}

static int
load_creds(struct job_env *env, int64_t shop_id, struct creds_ctx *cc, struct job_outcome *out)
{
    struct err e = {0};

    memset(cc, 0, sizeof(*cc));
    cc->shop_id = shop_id;
    cc->key = env->cfg->secret_key;
    if (db_run(creds_fn, cc, &e) == 0)
        return 0;
    out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
    out->err = e;
    return -1;
}

/* ---- applying a batch of orders ---------------------------------------- */

struct apply_ctx {
    int64_t shop_id;
    const json_t *orders; /* array */
    int applied, skipped;
    char max_modified[20];
    struct err first_invalid; /* why the first skipped order was refused (names the field) */
};

static int
apply_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct apply_ctx *a = ctx;
    json_t *order;
    size_t i;

    a->applied = a->skipped = 0;
    a->max_modified[0] = '\0';
    err_clear(&a->first_invalid);
    json_array_foreach(a->orders, i, order) {
        const char *outcome;
        char modified[20] = "";
        struct err oe = {0};

        if (db_exec_cmd(c, "sync_savepoint", "SAVEPOINT o", 0, NULL, e) < 0)
            return -1;
        if (woo_orders_apply(c, a->shop_id, order, &outcome, modified, &oe) < 0) {
            if (oe.kind != ERR_INVALID) {
                *e = oe;
                return -1;
            }
            /* One malformed order must not block the others. */
            if (db_exec_cmd(c, "sync_rollback_savepoint", "ROLLBACK TO SAVEPOINT o", 0, NULL, e) <
                0)
                return -1;
            if (a->skipped++ == 0)
                a->first_invalid = oe;
        } else {
            a->applied++;
        }
        if (db_exec_cmd(c, "sync_release_savepoint", "RELEASE SAVEPOINT o", 0, NULL, e) < 0)
            return -1;
        if (strcmp(modified, a->max_modified) > 0) /* same fixed format: text order is time order */
            snprintf(a->max_modified, sizeof(a->max_modified), "%s", modified);
    }
    return 0;
}

/* ---- woo.order_fetch -------------------------------------------------- */

void
woo_job_order_fetch(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct creds_ctx cc;
    struct err e = {0};
    json_t *order = NULL, *one = NULL;
    json_int_t order_id = json_integer_value(json_object_get(job->payload, "order_id"));
    enum woo_result r;
    struct apply_ctx a = {.shop_id = job->shop_id};

    if (load_creds(env, job->shop_id, &cc, out) < 0)
        return;
    r = woo_order_get(env->woo, &cc.cr.shop, order_id, &order, &e);
    woo_creds_clear(&cc.cr);
    if (r != WOO_OK) {
        outcome_from(r, &e, out);
        return;
    }
    one = json_array();
    json_array_append_new(one, order);
    a.orders = one;
    if (db_tx(apply_fn, &a, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
    } else if (a.skipped > 0) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INVALID, a.first_invalid.field,
                "the shop's order %" JSON_INTEGER_FORMAT " could not be read: %.150s", order_id,
                a.first_invalid.detail);
    } else {
        out->status = JOB_DONE;
        out->result = json_pack("{s:I}", "order_id", order_id);
    }
    json_decref(one);
}

/* ---- woo.sync ----------------------------------------------------------- */

struct sync_state {
    int64_t shop_id;
    const char *from_param; /* manual "from", or NULL */
    long interval_s;
    char from[20];
    /* finishing */
    const char *max_modified, *error;
    int orders;
};

static int
sync_begin_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct sync_state *s = ctx;
    char shop[24];
    const char *params[2] = {shop, s->from_param};
    PGresult *res;

    DB_I64(shop, s->shop_id);
    /* The overlap never reaches before the shop existed: orders modified
     * before that belong to whatever used this WooCommerce before (another
     * connection, another shop of ours), and importing them would, say,
     * ask for reviews of old orders. Only an explicit "modified_after"
     * (POST /v1/woocommerce/sync) reaches further back. WooCommerce dates
     * have whole seconds and modified_after is exclusive: asking after the
     * second before the creation's keeps the orders of that same second. */
    res = db_exec(c, "sync_begin",
                  "UPDATE woo_sync w SET last_started_at = now() FROM shops s"
                  " WHERE w.shop_id = $1 AND s.id = w.shop_id"
                  " RETURNING w.interval_s, to_char(coalesce($2::timestamptz,"
                  "  greatest(w.watermark - interval '" "60" " seconds',"
                  "   date_trunc('second', s.created_at) - interval '1 second'))"
                  "  AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "shop %" PRId64 " has no sync state", s->shop_id);
    }
    s->interval_s = atol(PQgetvalue(res, 0, 0));
    snprintf(s->from, sizeof(s->from), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static int
sync_end_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct sync_state *s = ctx;
    char shop[24], n[16];
    const char *params[4] = {shop, s->max_modified && s->max_modified[0] ? s->max_modified : NULL,
                             s->error, n};

    DB_I64(shop, s->shop_id);
    snprintf(n, sizeof(n), "%d", s->orders);
    return db_exec_cmd(c, "sync_end",
                       "UPDATE woo_sync SET watermark = greatest(watermark,"
                       "  coalesce($2::timestamp AT TIME ZONE 'UTC', watermark)),"
                       " last_finished_at = CASE WHEN $3::text IS NULL THEN now()"
                       "   ELSE last_finished_at END,"
                       " last_error = $3, last_orders = CASE WHEN $3::text IS NULL THEN $4::integer"
                       "   ELSE last_orders END"
                       " WHERE shop_id = $1",
                       4, params, e) < 0
               ? -1
               : 0;
}

void
woo_job_sync(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    bool manual = json_is_true(json_object_get(job->payload, "manual"));
    struct sync_state s = {.shop_id = job->shop_id,
                           .from_param = json_string_value(json_object_get(job->payload, "from"))};
    struct creds_ctx cc;
    struct err e = {0};
    char max_modified[20] = "";
    long page = 1, pages = 1;
    int orders = 0, skipped = 0;

    if (load_creds(env, job->shop_id, &cc, out) < 0)
        return;
    if (db_tx(sync_begin_fn, &s, &e) < 0) {
        woo_creds_clear(&cc.cr);
        out->status = e.kind == ERR_NOT_FOUND ? JOB_FAIL : JOB_RETRY;
        out->err = e;
        return;
    }
    for (; page <= pages; page++) {
        json_t *list = NULL;
        struct apply_ctx a = {.shop_id = job->shop_id};
        enum woo_result r =
            woo_orders_list(env->woo, &cc.cr.shop, s.from, (int)page, PER_PAGE, &list, &pages, &e);

        if (r != WOO_OK) {
            outcome_from(r, &e, out);
            break;
        }
        a.orders = list;
        if (db_tx(apply_fn, &a, &e) < 0) {
            json_decref(list);
            out->status = JOB_RETRY;
            out->err = e;
            break;
        }
        orders += a.applied;
        skipped += a.skipped;
        if (strcmp(a.max_modified, max_modified) > 0)
            snprintf(max_modified, sizeof(max_modified), "%s", a.max_modified);
        if (json_array_size(list) == 0)
            pages = 0;
        json_decref(list);
    }
    woo_creds_clear(&cc.cr);

    /* Record how it went: the watermark only moves over what was applied. */
    s.max_modified = max_modified;
    s.orders = orders;
    s.error = out->err.detail[0] ? out->err.detail : NULL;
    if (db_tx(sync_end_fn, &s, &e) < 0 && s.error == NULL) {
        out->status = JOB_RETRY;
        out->err = e;
        s.error = e.detail;
    }
    if (s.error == NULL) {
        out->status = JOB_DONE;
        out->result = json_pack("{s:s, s:i, s:i, s:I}", "from", s.from, "orders", orders,
                                "skipped", skipped, "pages", (json_int_t)(page - 1));
    }
    if (!manual) {
        /* The periodic sync goes on whatever happened; the error is in woo_sync. */
        out->status = JOB_RESCHEDULE;
        out->delay_ms = s.interval_s > 0 ? s.interval_s * 1000 : 600000;
    }
}

/* ---- woo.webhooks_setup ----------------------------------------------- */

static bool
has_webhook(const json_t *list, const char *topic, const char *url)
{
    json_t *w;
    size_t i;

    json_array_foreach(list, i, w) {
        const char *t = json_string_value(json_object_get(w, "topic"));
        const char *u = json_string_value(json_object_get(w, "delivery_url"));
        const char *st = json_string_value(json_object_get(w, "status"));
        if (t && u && strcmp(t, topic) == 0 && strcmp(u, url) == 0 &&
            (st == NULL || strcmp(st, "disabled") != 0))
            return true;
    }
    return false;
}

void
woo_job_webhooks_setup(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    const char *url = json_string_value(json_object_get(job->payload, "delivery_url"));
    struct creds_ctx cc;
    struct err e = {0};
    json_t *list = NULL, *created = json_array(), *existing = json_array();
    enum woo_result r;

    if (url == NULL) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INVALID, NULL, "no delivery_url in the job");
        goto out;
    }
    if (load_creds(env, job->shop_id, &cc, out) < 0)
        goto out;
    r = woo_webhooks_list(env->woo, &cc.cr.shop, &list, &e);
    if (r != WOO_OK) {
        outcome_from(r, &e, out);
        goto done;
    }
    for (size_t i = 0; i < woo_ntopics; i++) {
        json_t *hook, *made = NULL;
        char name[128];

        if (has_webhook(list, woo_topics[i], url)) {
            json_array_append_new(existing, json_string(woo_topics[i]));
            continue;
        }
        snprintf(name, sizeof(name), "aftersale: %s", woo_topics[i]);
        hook = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "topic", woo_topics[i],
                         "delivery_url", url, "secret", cc.cr.webhook_secret, "status", "active");
        r = woo_webhook_create(env->woo, &cc.cr.shop, hook, &made, &e);
        json_decref(hook);
        if (r != WOO_OK) {
            outcome_from(r, &e, out);
            goto done;
        }
        json_array_append_new(created, json_pack("{s:s, s:O}", "topic", woo_topics[i], "id",
                                                 json_object_get(made, "id")));
        json_decref(made);
    }
    out->status = JOB_DONE;
done:
    woo_creds_clear(&cc.cr);
out:
    out->result = json_pack("{s:O, s:O}", "created", created, "existing", existing);
    json_decref(created);
    json_decref(existing);
    json_decref(list);
}
