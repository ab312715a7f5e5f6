/*
 * report.c - the survey report and the CSV export.
 *
 * The report reads only survey_daily, the per-day counts that a trigger
 * keeps in the transaction of every response and invitation change
 * (sql/008_surveys.sql). Days are the shop's local days, fixed when the
 * row is counted, so a week or a month is a plain sum of days and a DST
 * change moves no answer. One scan with GROUPING SETS gives the totals,
 * the periods and the breakdowns; the figures are computed in C
 * (surveys_metrics), so a year of a million responses costs a few
 * thousand rows, not a million.
 *
 * The CSV streams: a server-side cursor on a pooled connection, FETCHed
 * 500 rows at a time from libmicrohttpd's content reader, so memory does
 * not grow with the number of responses. The connection is held until
 * the download ends (or the client goes away) and is then given back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/log.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"

/* The questions a report or export spans: those of `version` (or the
 * current one) first, then questions of other versions with other ids,
 * newest first, so one id is one column whatever version answered it. */
static int
questions_span(struct db_conn *c, int64_t shop_id, int64_t survey_id, int version, json_t **out,
               struct err *e)
{
    char shop[24], sid[24], ver[16];
    const char *params[3] = {shop, sid, version > 0 ? ver : NULL};
    PGresult *res;
    json_t *all = json_array();

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(sid, survey_id);
    snprintf(ver, sizeof(ver), "%d", version);
    res = db_exec(c, "surveys_questions_span",
                  "SELECT v.questions::text FROM survey_versions v JOIN surveys s"
                  " ON s.shop_id = v.shop_id AND s.id = v.survey_id"
                  " WHERE v.shop_id = $1 AND v.survey_id = $2"
                  " ORDER BY v.version = coalesce($3::integer, s.version) DESC, v.version DESC",
                  3, params, e);
    if (res == NULL) {
        json_decref(all);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        json_error_t jerr;
        json_t *qs = json_loads(PQgetvalue(res, i, 0), 0, &jerr), *q, *have;
        size_t j, k;
        json_array_foreach(qs, j, q) {
            bool dup = false;
            json_array_foreach(all, k, have)
                dup = dup || strcmp(jx_str(have, "id"), jx_str(q, "id")) == 0;
            if (!dup)
                json_array_append(all, q);
        }
        json_decref(qs);
        /* A given version reports its own questions only. */
        if (version > 0)
            break;
    }
    PQclear(res);
    *out = all;
    return 0;
}

/* ---- the report --------------------------------------------------------------- */

struct report_ctx {
    int64_t shop_id, survey_id;
    const char *from, *to, *interval;
    int version;
    json_t *out;
};

static json_t *
group_counts(json_t *groups, const char *key)
{
    json_t *g = json_object_get(groups, key);
    if (g == NULL) {
        g = json_object();
        json_object_set_new(groups, key, g);
    }
    return g;
}

static void
count_add(json_t *counts, const char *facet, int64_t n)
{
    json_int_t cur = json_integer_value(json_object_get(counts, facet));
    json_object_set_new(counts, facet, json_integer(cur + n));
}

/* The breakdown rows (id, facet, n, name), ordered by id, as one metrics
 * object per id (surveys_metrics of its facet counts, questions qs) with
 * `id_key` and `name_key` ("" for a NULL name), in the rows' order. The
 * products and the categories of the report are both made so. Returns a
 * new array; res is borrowed. */
static json_t *
metrics_by(const json_t *qs, const PGresult *res, const char *id_key, const char *name_key)
{
    json_t *out = json_array(), *counts = NULL;
    int64_t cur = -1;

    for (int i = 0; i <= PQntuples(res); i++) {
        int64_t id = i < PQntuples(res) ? atoll(PQgetvalue(res, i, 0)) : -2;
        if (id != cur && counts != NULL) {
            json_t *m = surveys_metrics(qs, counts);
            json_object_set_new(m, id_key, json_integer(cur));
            json_object_set_new(
                m, name_key,
                json_string(PQgetisnull(res, i - 1, 3) ? "" : PQgetvalue(res, i - 1, 3)));
            json_array_append_new(out, m);
            json_decref(counts);
            counts = NULL;
        }
        if (i == PQntuples(res))
            break;
        if (counts == NULL)
            counts = json_object();
        cur = id;
        count_add(counts, PQgetvalue(res, i, 1), atoll(PQgetvalue(res, i, 2)));
    }
    return out;
}

/* The counts of a range: its whole months from the monthly table, the days
 * before the first and after the last whole month from the daily one
 * ($3 from, $4 to, [$5, $6) the whole months; $7 the version or NULL).
 * COLS are the columns both tables share. */
#define RANGE_COUNTS(DAILY, MONTHLY, COLS)                                                         \
    "SELECT month AS day, " COLS " FROM " MONTHLY " WHERE shop_id = $1 AND survey_id = $2"         \
    " AND month >= $5::date AND month < $6::date AND ($7::integer IS NULL OR version = $7)"        \
    " UNION ALL SELECT day, " COLS " FROM " DAILY " WHERE shop_id = $1 AND survey_id = $2"         \
    " AND day >= $3::date AND day < $5::date AND ($7::integer IS NULL OR version = $7)"            \
    " UNION ALL SELECT day, " COLS " FROM " DAILY " WHERE shop_id = $1 AND survey_id = $2"         \
    " AND day >= $6::date AND day <= $4::date AND ($7::integer IS NULL OR version = $7)"

static int
report_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct report_ctx *x = ctx;
    char shop[24], sid[24], ver[16];
    char from[16], to[16], m1[16], m2[16], tz[64];
    const char *params[7] = {shop, sid, x->from, x->to, NULL, NULL, NULL};
    PGresult *res;
    json_t *qs = NULL, *total = json_object(), *periods = json_object(), *countries = json_object(),
           *customers = json_object();
    bool by_month = strcmp(x->interval, "month") == 0;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    DB_I64(sid, x->survey_id);
    snprintf(ver, sizeof(ver), "%d", x->version);
    /* The range in the shop's days (default the last 30 days up to today),
     * and its whole months [m1, m2) (none: both the day after `to`). */
    res = db_exec(c, "surveys_report_range",
                  "SELECT f::text, t::text, tz, CASE WHEN m1 < m2 THEN m1 ELSE t + 1 END::text,"
                  " CASE WHEN m1 < m2 THEN m2 ELSE t + 1 END::text"
                  " FROM (SELECT f, t, tz, CASE WHEN date_trunc('month', f)::date = f THEN f"
                  "   ELSE (date_trunc('month', f) + interval '1 month')::date END AS m1,"
                  "   date_trunc('month', t + 1)::date AS m2"
                  "  FROM (SELECT coalesce($3::date, (now() AT TIME ZONE sh.timezone)::date - 29) AS f,"
                  "   coalesce($4::date, (now() AT TIME ZONE sh.timezone)::date) AS t, sh.timezone AS tz"
                  "   FROM surveys s JOIN shops sh ON sh.id = s.shop_id"
                  "   WHERE s.shop_id = $1 AND s.id = $2) r) m",
                  4, params, e);
    if (res == NULL) {
        if (strncmp(e->sqlstate, "22", 2) == 0)
            err_set(e, ERR_MALFORMED, "from", "from and to must be dates (YYYY-MM-DD)");
        goto out;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        err_set(e, ERR_NOT_FOUND, NULL, "no survey %" PRId64, x->survey_id);
        goto out;
    }
    snprintf(from, sizeof(from), "%s", PQgetvalue(res, 0, 0));
    snprintf(to, sizeof(to), "%s", PQgetvalue(res, 0, 1));
    snprintf(tz, sizeof(tz), "%s", PQgetvalue(res, 0, 2));
    snprintf(m1, sizeof(m1), "%s", PQgetvalue(res, 0, 3));
    snprintf(m2, sizeof(m2), "%s", PQgetvalue(res, 0, 4));
    PQclear(res);
    if (strcmp(from, to) > 0) {
        err_set(e, ERR_MALFORMED, "to", "to is before from");
        goto out;
    }
    params[2] = from;
    params[3] = to;
    params[4] = m1;
    params[5] = m2;
    params[6] = x->version > 0 ? ver : NULL;
    if (questions_span(c, x->shop_id, x->survey_id, x->version, &qs, e) < 0)
        goto out;
    /* Totals, countries, first/repeat customers and, by month, the periods:
     * one scan with GROUPING SETS over the range's months and edge days.
     * The three counting statements are not prepared: planned with the
     * actual dates, the planner sees that the edge ranges hold a few days;
     * a generic plan guessed ~1,000 rows each and started parallel
     * workers, which cost more than the query (35 ms instead of 7 on a
     * year of a million responses, bench/README.md). */
    res = db_exec(c, NULL,
                  "WITH c AS (" RANGE_COUNTS("survey_daily", "survey_monthly",
                                             "facet, country, first_order, n") ")"
                  " SELECT GROUPING(date_trunc('month', day)), GROUPING(country),"
                  " GROUPING(first_order), date_trunc('month', day)::date::text, country,"
                  " first_order, facet, sum(n)::bigint FROM c"
                  " GROUP BY GROUPING SETS ((facet), (date_trunc('month', day), facet),"
                  "  (country, facet), (first_order, facet))"
                  " HAVING sum(n) <> 0",
                  7, params, e);
    if (res == NULL)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        bool no_period = strcmp(PQgetvalue(res, i, 0), "1") == 0;
        bool no_country = strcmp(PQgetvalue(res, i, 1), "1") == 0;
        bool no_first = strcmp(PQgetvalue(res, i, 2), "1") == 0;
        const char *facet = PQgetvalue(res, i, 6);
        int64_t n = atoll(PQgetvalue(res, i, 7));
        if (!no_period) {
            if (by_month)
                count_add(group_counts(periods, PQgetvalue(res, i, 3)), facet, n);
        } else if (!no_country)
            count_add(group_counts(countries, PQgetvalue(res, i, 4)), facet, n);
        else if (!no_first)
            count_add(group_counts(customers, strcmp(PQgetvalue(res, i, 5), "t") == 0 ? "first"
                                                                                   : "repeat"),
                      facet, n);
        else
            count_add(total, facet, n);
    }
    PQclear(res);
    if (!by_month) {
        /* Days and weeks are sums of days. */
        const char *p[6] = {shop, sid, from, to, x->interval, params[6]};
        res = db_exec(c, NULL,
                      "SELECT date_trunc($5, day::timestamp)::date::text, facet, sum(n)::bigint"
                      " FROM survey_daily WHERE shop_id = $1 AND survey_id = $2"
                      " AND day BETWEEN $3::date AND $4::date"
                      " AND ($6::integer IS NULL OR version = $6)"
                      " GROUP BY 1, 2 HAVING sum(n) <> 0",
                      6, p, e);
        if (res == NULL)
            goto out;
        for (int i = 0; i < PQntuples(res); i++)
            count_add(group_counts(periods, PQgetvalue(res, i, 0)), PQgetvalue(res, i, 1),
                      atoll(PQgetvalue(res, i, 2)));
        PQclear(res);
    }
    {
        json_t *over = json_array(), *by_country = json_array(), *by_customer = json_array();
        const char *k;
        json_t *v;
        /* Every period of the range, empty ones included, from PostgreSQL's
         * calendar (so weeks start on Monday, months on the 1st). */
        res = db_exec(c, "surveys_report_periods",
                      "SELECT g::date::text FROM generate_series(date_trunc($3, $1::date::timestamp),"
                      " $2::date::timestamp, ('1 ' || $3)::interval) g",
                      3, (const char *const[]){from, to, x->interval}, e);
        if (res == NULL) {
            json_decref(over);
            json_decref(by_country);
            json_decref(by_customer);
            goto out;
        }
        for (int i = 0; i < PQntuples(res); i++) {
            json_t *m = surveys_metrics(qs, group_counts(periods, PQgetvalue(res, i, 0)));
            json_object_set_new(m, "period", json_string(PQgetvalue(res, i, 0)));
            json_array_append_new(over, m);
        }
        PQclear(res);
        json_object_foreach(countries, k, v) {
            json_t *m = surveys_metrics(qs, v);
            json_object_set_new(m, "country", json_string(k));
            json_array_append_new(by_country, m);
        }
        json_object_foreach(customers, k, v) {
            json_t *m = surveys_metrics(qs, v);
            json_object_set_new(m, "customer", json_string(k));
            json_array_append_new(by_customer, m);
        }
        x->out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "survey_id",
                           (json_int_t)x->survey_id, "from", from, "to", to, "interval",
                           x->interval, "timezone", tz, "version",
                           x->version > 0 ? json_integer(x->version) : json_null(), "totals",
                           surveys_metrics(qs, total), "over_time", over, "by_country",
                           by_country, "by_customer", by_customer);
    }
    {
        /* By product of the order: the 50 products with the most responses. */
        /* Summed per (product, facet) first, then the top 50 and their
         * names (one index probe each: the CTE is materialised so that the
         * name is not looked up again for every facet row). */
        res = db_exec(c, NULL,
                      "WITH c AS (" RANGE_COUNTS("survey_daily_products", "survey_monthly_products",
                                                 "product_id, facet, n") "),"
                      " a AS (SELECT product_id, facet, sum(n)::bigint AS n FROM c"
                      "  GROUP BY product_id, facet HAVING sum(n) <> 0),"
                      " top AS MATERIALIZED (SELECT t.product_id, (SELECT oi.name FROM order_items oi"
                      "   WHERE oi.shop_id = $1 AND oi.product_id = t.product_id"
                      "   ORDER BY oi.order_id DESC LIMIT 1) AS name"
                      "  FROM (SELECT product_id FROM a WHERE facet = '#response' AND n > 0"
                      "   ORDER BY n DESC, product_id LIMIT 50) t)"
                      " SELECT a.product_id, a.facet, a.n, top.name FROM a JOIN top USING (product_id)"
                      " ORDER BY a.product_id",
                      7, params, e);
        if (res == NULL)
            goto out;
        json_object_set_new(x->out, "by_product",
                            metrics_by(qs, res, "product_id", "product_name"));
        PQclear(res);
    }
    {
        /* By category of the order's products (sql/018): an order counts
         * once per category, with the categories known when the invitation
         * was sent / the response first given. The 50 with most responses. */
        const char *cp[5] = {shop, sid, from, to, params[6]};
        res = db_exec(c, "surveys_report_categories",
                      "WITH top AS (SELECT category_id FROM survey_daily_categories"
                      "  WHERE shop_id = $1 AND survey_id = $2 AND day BETWEEN $3::date AND $4::date"
                      "  AND ($5::integer IS NULL OR version = $5) AND facet = '#response'"
                      "  GROUP BY category_id HAVING sum(n) > 0 ORDER BY sum(n) DESC, category_id"
                      "  LIMIT 50)"
                      " SELECT p.category_id, p.facet, sum(p.n)::bigint,"
                      "  (SELECT sc.name FROM shop_categories sc WHERE sc.shop_id = $1"
                      "   AND sc.category_id = p.category_id)"
                      " FROM survey_daily_categories p JOIN top USING (category_id)"
                      " WHERE p.shop_id = $1 AND p.survey_id = $2"
                      " AND p.day BETWEEN $3::date AND $4::date"
                      " AND ($5::integer IS NULL OR p.version = $5)"
                      " GROUP BY p.category_id, p.facet HAVING sum(p.n) <> 0"
                      " ORDER BY p.category_id",
                      5, cp, e);
        if (res == NULL)
            goto out;
        json_object_set_new(x->out, "by_category",
                            metrics_by(qs, res, "category_id", "category_name"));
        PQclear(res);
    }
    rc = 0;
out:
    json_decref(qs);
    json_decref(total);
    json_decref(periods);
    json_decref(countries);
    json_decref(customers);
    return rc;
}

/* NULL, or a calendar date YYYY-MM-DD (years 1900-9999). */
static bool
date_shape(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (s == NULL)
        return true;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789-") != 10)
        return false;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

void
surveys_handle_report(struct req *r)
{
    struct report_ctx x = {.shop_id = r->shop_id, .from = req_query(r, "from"),
                           .to = req_query(r, "to"), .interval = req_query(r, "interval")};
    const char *ver = req_query(r, "version");

    if (req_param_id_or_reply(r, "id", &x.survey_id) < 0)
        return;
    if (!date_shape(x.from) || !date_shape(x.to)) {
        reply_problem(r, ERR_MALFORMED, date_shape(x.from) ? "to" : "from",
                      "from and to are the shop's local dates, YYYY-MM-DD");
        return;
    }
    if (x.interval == NULL)
        x.interval = "day";
    if (strcmp(x.interval, "day") != 0 && strcmp(x.interval, "week") != 0 &&
        strcmp(x.interval, "month") != 0) {
        reply_problem(r, ERR_MALFORMED, "interval", "interval must be day, week or month");
        return;
    }
    if (ver) {
        char *end;
        long v = strtol(ver, &end, 10);
        if (*end || v < 1 || v > 100000 || ver[0] == '0') {
            reply_problem(r, ERR_MALFORMED, "version", "version must be a positive integer");
            return;
        }
        x.version = (int)v;
    }
    if (x.from && x.to) {
        /* At most ten years, and two of days: the answer stays small. */
        int y1 = atoi(x.from), y2 = atoi(x.to);
        if (y2 - y1 > 10 || (strcmp(x.interval, "day") == 0 && y2 - y1 > 2)) {
            reply_problem(r, ERR_MALFORMED, "to",
                          "the range is too long for this interval (day: 2 years, else 10)");
            return;
        }
    }
    reply_run_json_take(r, report_fn, &x, &x.out, NULL, 0);
}

/* ---- CSV ---------------------------------------------------------------------- */

void
surveys_csv_field(struct buf *b, const char *s)
{
    /* A cell a spreadsheet would run as a formula is made text (OWASP:
     * = + - @, and tab and carriage return that some read the same way). */
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                   s[0] == '\r';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;

    if (!quote) {
        buf_puts(b, s);
        return;
    }
    buf_puts(b, "\"");
    if (formula)
        buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            buf_puts(b, "\"\"");
        else
            buf_append(b, p, 1);
    }
    buf_puts(b, "\"");
}

#define CSV_FIXED                                                                                  \
    "response_id,invitation_id,order_id,email,version,created_at,updated_at,country,first_order," \
    "follow_up,note,complete"

struct csv_stream {
    struct db_conn *c;
    json_t *questions;
    struct buf out;
    size_t pos;
    bool done, failed;
};

static void
csv_row(struct csv_stream *s, const PGresult *res, int row)
{
    json_error_t jerr;
    json_t *answers = json_loads(PQgetvalue(res, row, 11), 0, &jerr);
    json_t *other = json_loads(PQgetvalue(res, row, 12), 0, &jerr);
    json_t *q;
    size_t i;

    for (int col = 0; col <= 10; col++) {
        if (col)
            buf_puts(&s->out, ",");
        surveys_csv_field(&s->out, PQgetvalue(res, row, col));
    }
    buf_puts(&s->out, ",");
    buf_puts(&s->out, strcmp(PQgetvalue(res, row, 13), "t") == 0 ? "true" : "false");
    json_array_foreach(s->questions, i, q) {
        json_t *v = json_object_get(answers, jx_str(q, "id"));
        buf_puts(&s->out, ",");
        if (json_is_integer(v)) {
            buf_printf(&s->out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        } else if (json_is_string(v)) {
            surveys_csv_field(&s->out, json_string_value(v));
        } else if (json_is_array(v)) {
            struct buf joined = {0};
            json_t *c;
            size_t j;
            json_array_foreach(v, j, c) {
                if (j)
                    buf_puts(&joined, ";");
                buf_puts(&joined, json_string_value(c) ? json_string_value(c) : "");
            }
            buf_puts(&joined, "");
            surveys_csv_field(&s->out, joined.data);
            buf_free(&joined);
        }
        if (json_is_true(json_object_get(q, "other"))) {
            const char *t = jx_str(other, jx_str(q, "id"));
            buf_puts(&s->out, ",");
            surveys_csv_field(&s->out, t ? t : "");
        }
    }
    buf_puts(&s->out, "\r\n");
    json_decref(answers);
    json_decref(other);
}

/* Fill s->out with the next batch; false when there is nothing more. */
static bool
csv_fetch(struct csv_stream *s)
{
    struct err e = {0};
    PGresult *res = db_exec(s->c, NULL, "FETCH 500 FROM survey_csv", 0, NULL, &e);
    int n;

    if (res == NULL) {
        log_msg(LOG_ERROR, "survey CSV export stopped: %s", e.detail);
        s->failed = true;
        return false;
    }
    n = PQntuples(res);
    for (int i = 0; i < n; i++)
        csv_row(s, res, i);
    PQclear(res);
    return n > 0;
}

static ssize_t
csv_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct csv_stream *s = cls;
    size_t n;

    (void)pos;
    if (s->pos == s->out.len) {
        buf_reset(&s->out);
        s->pos = 0;
        if (s->done || !csv_fetch(s)) {
            s->done = true;
            /* A failure mid-stream can only cut the body short: the
             * status went out with the first bytes. */
            return s->failed ? MHD_CONTENT_READER_END_WITH_ERROR
                             : MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    n = s->out.len - s->pos;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static void
csv_free(void *cls)
{
    struct csv_stream *s = cls;
    struct err e = {0};
    PGresult *res = db_exec(s->c, NULL, "ROLLBACK", 0, NULL, &e);

    PQclear(res);
    db_release(s->c);
    json_decref(s->questions);
    buf_free(&s->out);
    free(s);
}

void
surveys_handle_csv(struct req *r)
{
    struct csv_stream *s;
    struct err e = {0};
    int64_t sid;
    char shop[24], sidt[24];
    const char *params[2] = {shop, sidt};
    PGresult *res;
    struct MHD_Response *resp;
    json_t *q;
    size_t i;

    if (req_param_id_or_reply(r, "id", &sid) < 0)
        return;
    s = calloc(1, sizeof(*s));
    if (s == NULL || db_acquire_own(&s->c, &e) < 0) {
        free(s);
        if (e.kind == ERR_NONE)
            err_set(&e, ERR_INTERNAL, NULL, "out of memory");
        reply_err(r, &e);
        return;
    }
    DB_I64(shop, r->shop_id);
    DB_I64(sidt, sid);
    res = db_exec(s->c, NULL, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, &e);
    if (res == NULL)
        goto fail;
    PQclear(res);
    res = db_exec(s->c, "surveys_csv_exists", "SELECT 1 FROM surveys WHERE shop_id = $1 AND id = $2",
                  2, params, &e);
    if (res == NULL)
        goto fail;
    if (PQntuples(res) == 0) {
        PQclear(res);
        err_set(&e, ERR_NOT_FOUND, NULL, "no survey %" PRId64, sid);
        goto fail;
    }
    PQclear(res);
    if (questions_span(s->c, r->shop_id, sid, 0, &s->questions, &e) < 0)
        goto fail;
    res = db_exec(s->c, NULL,
                  "DECLARE survey_csv NO SCROLL CURSOR FOR"
                  " SELECT r.id, r.invitation_id, i.order_id, i.email, r.version,"
                  " " DB_TS("r.created_at") ", " DB_TS("r.updated_at") ", r.country,"
                  " CASE WHEN r.first_order THEN 'true' ELSE 'false' END, r.follow_up,"
                  " coalesce(r.note, ''), r.answers::text, r.other::text, r.complete"
                  " FROM survey_responses r JOIN survey_invitations i ON i.shop_id = r.shop_id"
                  "  AND i.id = r.invitation_id WHERE r.shop_id = $1 AND r.survey_id = $2"
                  " ORDER BY r.id",
                  2, params, &e);
    if (res == NULL)
        goto fail;
    PQclear(res);
    /* The header line. */
    buf_puts(&s->out, CSV_FIXED);
    json_array_foreach(s->questions, i, q) {
        buf_printf(&s->out, ",q.%s", jx_str(q, "id"));
        if (json_is_true(json_object_get(q, "other")))
            buf_printf(&s->out, ",q.%s.other", jx_str(q, "id"));
    }
    buf_puts(&s->out, "\r\n");
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, csv_reader, s, csv_free);
    if (resp == NULL) {
        csv_free(s);
        return;
    }
    r->replied = true;
    r->status = 200;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/csv; charset=utf-8");
    {
        char disp[96];
        snprintf(disp, sizeof(disp), "attachment; filename=\"survey-%" PRId64 "-responses.csv\"",
                 sid);
        MHD_add_response_header(resp, "Content-Disposition", disp);
    }
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    MHD_queue_response(r->con, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return;
fail:
    res = db_exec(s->c, NULL, "ROLLBACK", 0, NULL, &(struct err){0});
    PQclear(res);
    db_release(s->c);
    json_decref(s->questions);
    buf_free(&s->out);
    free(s);
    reply_err(r, &e);
}
