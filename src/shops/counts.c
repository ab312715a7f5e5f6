/*
 * counts.c - what waits for the merchant, for the badge of the plugin's
 * wp-admin menu, which asks on every admin page (cached a minute):
 *
 *   reviews_to_moderate    reviews in status 'pending'
 *   returns_to_handle      return requests in 'requested', 'received' or
 *                          'resolution_failed' (the states where the next
 *                          step is the merchant's)
 *   detractors_to_contact  survey responses at or under their alert
 *                          threshold (surveys/alert.c: the survey's
 *                          alert_threshold, else NPS 0-6, CES 1-3, CSAT and
 *                          rating 1-2, by the kind of the version's first
 *                          scored question) whose follow-up is still 'new'
 *
 * One statement, three index scans: reviews_list (shop_id, status),
 * return_requests_state (shop_id, state) and the partial index of
 * sql/022_admin_counts.sql over responses not yet followed up; the
 * threshold is looked up once per (survey, version, score), not per row.
 * It reads the programmes' tables without calling them: a count is a
 * report, not an action. Read-only.
 */
#include <stdio.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/db/pool.h"
#include "aftersale/shops/handlers.h"

struct counts_ctx {
    int64_t shop_id;
    json_t *out;
};

static int
counts_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct counts_ctx *x = ctx;
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;
    json_error_t jerr;

    DB_I64(shop, x->shop_id);
    res = db_exec(
        c, "shops_counts",
        "WITH n AS (SELECT"
        "  (SELECT count(*) FROM reviews WHERE shop_id = $1 AND status = 'pending') AS rv,"
        "  (SELECT count(*) FROM return_requests WHERE shop_id = $1"
        "     AND state IN ('requested', 'received', 'resolution_failed')) AS rt,"
        "  (SELECT coalesce(sum(g.n), 0) FROM (SELECT survey_id, version, score, count(*) AS n"
        "     FROM survey_responses WHERE shop_id = $1 AND follow_up = 'new'"
        "     AND score IS NOT NULL GROUP BY survey_id, version, score) g"
        "   JOIN surveys s ON s.shop_id = $1 AND s.id = g.survey_id"
        "   CROSS JOIN LATERAL (SELECT q->>'kind' AS kind FROM survey_versions v,"
        "     jsonb_array_elements(v.questions) WITH ORDINALITY AS x(q, i)"
        "     WHERE v.shop_id = $1 AND v.survey_id = g.survey_id AND v.version = g.version"
        "     AND q->>'kind' IN ('nps', 'csat', 'ces', 'rating') ORDER BY i LIMIT 1) k"
        "   WHERE g.score <= coalesce((s.settings->>'alert_threshold')::integer,"
        "     CASE k.kind WHEN 'nps' THEN 6 WHEN 'ces' THEN 3 ELSE 2 END)) AS dt)"
        " SELECT json_build_object('reviews_to_moderate', rv, 'returns_to_handle', rt,"
        "  'detractors_to_contact', dt, 'total', rv + rt + dt)::text FROM n",
        1, params, e);
    if (res == NULL)
        return -1;
    x->out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
    PQclear(res);
    return x->out ? 0 : err_set(e, ERR_INTERNAL, NULL, "the counts are not JSON");
}

void
shops_handle_counts(struct req *r)
{
    struct counts_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (db_run(counts_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_json_take(r, 200, x.out);
}
