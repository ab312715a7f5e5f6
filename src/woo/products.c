/*
 * products.c - the categories of a shop's products, cached per shop.
 *
 * WooCommerce order line items carry product_id (the parent product, for
 * a variation too) and variation_id, but no category. Surveys (audience
 * filters, the report's by_category) and returns (categories that may not
 * be returned, the return rate per category) need them, so the service
 * asks the shop: GET /products?include=<ids>&per_page=100, at most 100 ids
 * per call, and keeps product id -> category ids (product_categories) and
 * category id -> name, slug (shop_categories).
 *
 * Who asks: woo_orders_apply (webhook, action fetch, reconciliation)
 * enqueues woo.product_categories for the products of the order whose
 * categories are unknown or older than PRODUCT_CATEGORIES_TTL_S; the
 * job is outbound, so the shop is never called on a request thread and
 * ingesting an order never waits for it. The service does not subscribe to
 * WooCommerce's product.* webhooks (woo/link.c lists its topics), so a
 * category change in the shop reaches the cache through the TTL.
 *
 * Invariants: a product the shop's answer leaves out (deleted, trashed)
 * is cached as `gone` with no category, so it is not asked for on every
 * order; the job re-reads which ids are still unknown or stale before it
 * calls, so a burst of orders of one product makes one call. A shop that
 * does not answer makes the job retry with the queue's backoff; until then
 * the categories stay unknown and every feature says what unknown means.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/jx.h"
#include "aftersale/http/server.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/woo/link.h"
#include "aftersale/woo/products.h"

#define MAX_IDS 500  /* products per job */
#define PER_CALL 100 /* WooCommerce's per_page maximum */
/* A shop down for hours must not leave categories unknown for good: with
 * the default backoff (2 s doubling to an hour) 20 attempts span about
 * nine hours; a later order of the product, or a return request that
 * needs it, asks again after that. */
#define MAX_ATTEMPTS 20

static long
ttl_s(void)
{
    const struct config *cfg = server_config();
    return cfg && cfg->product_categories_ttl_s > 0 ? cfg->product_categories_ttl_s : 86400;
}

/* "{1,2,3}": a bigint[] parameter. Returns: new string. */
static char *
id_array(const int64_t *ids, int n)
{
    struct buf b = {0};

    buf_printf(&b, "{");
    for (int i = 0; i < n; i++)
        buf_printf(&b, "%s%" PRId64, i ? "," : "", ids[i]);
    buf_printf(&b, "}");
    return buf_steal(&b);
}

int
woo_products_want(struct db_conn *c, int64_t shop_id, int64_t order_id, const char *dedupe_key,
                  bool *enqueued, struct err *e)
{
    char shop[24], order[24], ttl[24];
    const char *params[3] = {shop, order, ttl};
    PGresult *res;
    json_t *ids, *payload;
    int rc;

    if (enqueued)
        *enqueued = false;
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    DB_I64(ttl, ttl_s());
    res = db_exec(c, "woo_products_want",
                  "SELECT DISTINCT oi.product_id FROM order_items oi"
                  " LEFT JOIN product_categories pc ON pc.shop_id = oi.shop_id"
                  "  AND pc.product_id = oi.product_id"
                  " WHERE oi.shop_id = $1 AND oi.order_id = $2 AND oi.product_id > 0"
                  " AND (pc.product_id IS NULL"
                  "      OR pc.fetched_at < now() - $3::bigint * interval '1 second')"
                  " ORDER BY 1 LIMIT 500",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    ids = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(ids, json_integer(atoll(PQgetvalue(res, i, 0))));
    PQclear(res);
    payload = json_pack("{s:o, s:I}", "product_ids", ids, "order_id", (json_int_t)order_id);
    rc = jobs_enqueue(c, shop_id, "woo.product_categories", payload, dedupe_key, 0, MAX_ATTEMPTS,
                      NULL, e);
    json_decref(payload);
    if (rc == 0 && enqueued)
        *enqueued = true;
    return rc;
}

/* Parse "{1,2,3}" (PostgreSQL's bigint[] text) into cats. */
static int
parse_ids(const char *s, int64_t *out, int max)
{
    int n = 0;

    while (*s && n < max) {
        char *end;
        long long v;
        if (*s < '0' || *s > '9') {
            s++;
            continue;
        }
        v = strtoll(s, &end, 10);
        out[n++] = v;
        s = end;
    }
    return n;
}

int
woo_product_categories_get(struct db_conn *c, int64_t shop_id, int64_t product_id,
                           int64_t cats[WOO_PRODUCTS_MAX_CATEGORIES], int *ncats, bool *known,
                           struct err *e)
{
    char shop[24], pid[24];
    const char *params[2] = {shop, pid};
    PGresult *res;

    *ncats = 0;
    *known = false;
    DB_I64(shop, shop_id);
    DB_I64(pid, product_id);
    res = db_exec(c, "woo_product_categories_get",
                  "SELECT category_ids::text FROM product_categories"
                  " WHERE shop_id = $1 AND product_id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        *known = true;
        *ncats = parse_ids(PQgetvalue(res, 0, 0), cats, WOO_PRODUCTS_MAX_CATEGORIES);
    }
    PQclear(res);
    return 0;
}

int
woo_order_categories(struct db_conn *c, int64_t shop_id, int64_t order_id, int64_t *cats, int max,
                     int *ncats, int *nunknown, struct err *e)
{
    char shop[24], order[24];
    const char *params[2] = {shop, order};
    PGresult *res;

    *ncats = 0;
    *nunknown = 0;
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    res = db_exec(c, "woo_order_categories",
                  "SELECT order_category_ids($1, $2)::text,"
                  " (SELECT count(DISTINCT oi.product_id) FROM order_items oi"
                  "   WHERE oi.shop_id = $1 AND oi.order_id = $2 AND oi.product_id > 0"
                  "   AND NOT EXISTS (SELECT 1 FROM product_categories pc"
                  "     WHERE pc.shop_id = oi.shop_id AND pc.product_id = oi.product_id))",
                  2, params, e);
    if (res == NULL)
        return -1;
    *ncats = parse_ids(PQgetvalue(res, 0, 0), cats, max);
    *nunknown = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

/* ---- woo.product_categories -------------------------------------------- */

struct fetch_ctx {
    int64_t shop_id;
    const uint8_t *key;
    const json_t *asked; /* the job's product ids */
    struct woo_creds cr;
    int64_t ids[MAX_IDS]; /* still unknown or stale */
    int nids;
    /* the answer, for the store step */
    json_t *products; /* array of the shop's product objects */
    int stored, gone;
};

/* Credentials, and which of the asked ids still need the shop. */
static int
fetch_begin_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct fetch_ctx *f = ctx;
    int64_t asked[MAX_IDS];
    int n = 0;
    json_t *v;
    size_t i;
    char shop[24], ttl[24], *arr;
    const char *params[3] = {shop, NULL, ttl};
    PGresult *res;

    woo_creds_clear(&f->cr);
    f->nids = 0;
    json_array_foreach(f->asked, i, v)
    {
        if (json_is_integer(v) && json_integer_value(v) > 0 && n < MAX_IDS)
            asked[n++] = json_integer_value(v);
    }
    if (n == 0)
        return 0;
    DB_I64(shop, f->shop_id);
    DB_I64(ttl, ttl_s());
    arr = id_array(asked, n);
    params[1] = arr;
    res = db_exec(c, "woo_products_stale",
                  "SELECT DISTINCT a FROM unnest($2::bigint[]) a"
                  " WHERE NOT EXISTS (SELECT 1 FROM product_categories pc"
                  "   WHERE pc.shop_id = $1 AND pc.product_id = a"
                  "   AND pc.fetched_at >= now() - $3::bigint * interval '1 second')"
                  " ORDER BY a",
                  3, params, e);
    free(arr);
    if (res == NULL)
        return -1;
    for (int r = 0; r < PQntuples(res) && f->nids < MAX_IDS; r++)
        f->ids[f->nids++] = atoll(PQgetvalue(res, r, 0));
    PQclear(res);
    if (f->nids == 0)
        return 0;
    return woo_creds_load(c, f->shop_id, f->key, &f->cr, e);
}

static bool
answered(const json_t *products, int64_t id)
{
    json_t *p;
    size_t i;

    json_array_foreach(products, i, p)
    {
        if (jx_int(p, "id") == id)
            return true;
    }
    return false;
}

/* Write what the shop said: each product's categories, the categories'
 * names, and `gone` for every asked id the answer left out. */
static int
fetch_store_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct fetch_ctx *f = ctx;
    char shop[24], pid[24];
    json_t *p;
    size_t i;

    f->stored = f->gone = 0;
    DB_I64(shop, f->shop_id);
    json_array_foreach(f->products, i, p)
    {
        int64_t cats[WOO_PRODUCTS_MAX_CATEGORIES];
        int n = 0;
        json_t *cat;
        size_t k;
        char *arr;
        const char *params[3] = {shop, pid, NULL};

        if (jx_int(p, "id") <= 0)
            continue;
        DB_I64(pid, jx_int(p, "id"));
        json_array_foreach(json_object_get(p, "categories"), k, cat)
        {
            char cid[24];
            const char *name = json_string_value(json_object_get(cat, "name"));
            const char *slug = json_string_value(json_object_get(cat, "slug"));
            const char *cp[4] = {shop, cid, name ? name : "", slug ? slug : ""};

            if (jx_int(cat, "id") <= 0 || n >= WOO_PRODUCTS_MAX_CATEGORIES)
                continue;
            cats[n++] = jx_int(cat, "id");
            DB_I64(cid, jx_int(cat, "id"));
            /* Names are shop text: bounded, and only valid UTF-8 reaches
             * here (jansson parsed the body). */
            if (strlen(cp[2]) > 400 || strlen(cp[3]) > 400)
                cp[2] = cp[3] = "";
            if (db_exec_cmd(c, "woo_shop_category_upsert",
                            "INSERT INTO shop_categories (shop_id, category_id, name, slug)"
                            " VALUES ($1, $2, $3, $4) ON CONFLICT (shop_id, category_id)"
                            " DO UPDATE SET name = EXCLUDED.name, slug = EXCLUDED.slug,"
                            " updated_at = now()",
                            4, cp, e) < 0)
                return -1;
        }
        arr = id_array(cats, n);
        params[2] = arr;
        if (db_exec_cmd(c, "woo_product_categories_put",
                        "INSERT INTO product_categories (shop_id, product_id, category_ids)"
                        " VALUES ($1, $2, (SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}')"
                        "  FROM unnest($3::bigint[]) x))"
                        " ON CONFLICT (shop_id, product_id) DO UPDATE SET"
                        " category_ids = EXCLUDED.category_ids, gone = false, fetched_at = now()",
                        3, params, e) < 0) {
            free(arr);
            return -1;
        }
        free(arr);
        f->stored++;
    }
    for (int j = 0; j < f->nids; j++) {
        const char *params[2] = {shop, pid};
        if (answered(f->products, f->ids[j]))
            continue;
        DB_I64(pid, f->ids[j]);
        if (db_exec_cmd(c, "woo_product_categories_gone",
                        "INSERT INTO product_categories (shop_id, product_id, gone)"
                        " VALUES ($1, $2, true) ON CONFLICT (shop_id, product_id) DO UPDATE SET"
                        " category_ids = '{}', gone = true, fetched_at = now()",
                        2, params, e) < 0)
            return -1;
        f->gone++;
    }
    return 0;
}

void
woo_job_product_categories(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct fetch_ctx *f = calloc(1, sizeof(*f));
    struct err e = {0};
    json_t *gone = json_array();

    if (f == NULL)
        abort();
    f->shop_id = job->shop_id;
    f->key = env->cfg->secret_key;
    f->asked = json_object_get(job->payload, "product_ids");
    f->products = json_array();
    if (db_run(fetch_begin_fn, f, &e) < 0) {
        out->status = e.kind == ERR_NOT_FOUND || e.kind == ERR_INTERNAL ? JOB_FAIL : JOB_RETRY;
        out->err = e;
        goto out;
    }
    if (f->nids == 0) {
        out->status = JOB_DONE;
        out->result = json_pack("{s:i, s:s}", "fetched", 0, "skipped", "every product is fresh");
        goto out;
    }
    /* No database connection is held while the shop answers. */
    for (int at = 0; at < f->nids; at += PER_CALL) {
        int n = f->nids - at < PER_CALL ? f->nids - at : PER_CALL;
        struct buf inc = {0};
        char per[16];
        struct woo_reply reply;
        struct woo_param q[2] = {{"include", NULL}, {"per_page", per}};
        enum woo_result r;
        json_t *p;
        size_t i;

        for (int k = 0; k < n; k++)
            buf_printf(&inc, "%s%" PRId64, k ? "," : "", f->ids[at + k]);
        q[0].value = inc.data;
        snprintf(per, sizeof(per), "%d", PER_CALL);
        r = woo_request(env->woo, &f->cr.shop, "GET", "/products", q, 2, NULL, &reply, &e);
        buf_free(&inc);
        if (r == WOO_OK && !json_is_array(reply.body)) {
            err_set(&e, ERR_INTERNAL, NULL, "shop answered GET /products without an array");
            r = WOO_FAIL;
        }
        if (r != WOO_OK) {
            woo_reply_clear(&reply);
            /* A shop that is down or busy: the queue tries again later. */
            out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            goto out;
        }
        json_array_foreach(reply.body, i, p)
        {
            if (json_is_object(p))
                json_array_append(f->products, p);
        }
        woo_reply_clear(&reply);
    }
    if (db_tx(fetch_store_fn, f, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    for (int j = 0; j < f->nids; j++)
        if (!answered(f->products, f->ids[j]))
            json_array_append_new(gone, json_integer(f->ids[j]));
    out->status = JOB_DONE;
    out->result = json_pack("{s:i, s:O}", "fetched", f->stored, "gone", gone);
out:
    woo_creds_clear(&f->cr);
    json_decref(f->products);
    json_decref(gone);
    free(f);
}
