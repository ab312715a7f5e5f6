/*
 * page.c - the returns portal: a guest finds their order with its number
 * and billing email, picks what to return, and gets an RMA number.
 *
 *   GET  /returns?shop=ID[&lang=pl]       the look-up form
 *   POST /returns?shop=ID  (form)         look-up: the order's lines with a
 *                                         quantity, a reason and a note each,
 *                                         the resolutions offered; or, with
 *                                         the hidden token, the request itself
 *
 * No script at all: plain HTML forms, labels on every control, one
 * fieldset per line, errors in a role=alert paragraph. Every value that
 * came from a shop or a customer is HTML-escaped; the CSP allows no script
 * and posts only to this origin. A look-up that does not match answers
 * the same generic page whether the order exists or not, and look-ups are
 * rate-limited per client address (10) and per order (5) in 15 minutes
 * (429, the same page). A matching look-up hands the form a customer token
 * of scope "returns" for that order's email (30 minutes), which the second
 * POST must carry: it is both the credential and the CSRF guard.
 * The client address is the socket's peer: behind a proxy, every guest
 * shares the proxy's limit (documented in docs/returns.md).
 * Every word comes from the catalogue (returns.portal.* in the locales),
 * in the locale page_locale() picks.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/form.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/returns/handlers.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"
#include "aftersale/shops/shops.h"

#define LOOKUP_WINDOW "15 minutes"
#define LOOKUPS_PER_ADDRESS 10
#define LOOKUPS_PER_ORDER 5
#define TOKEN_TTL_S 1800

/* the photo problems, compared by value in photos_check() */
#define W_PHOTO_BIG "returns.portal.photo_big"
#define W_PHOTO_TYPE "returns.portal.photo_type"
#define W_PHOTO_MANY "returns.portal.photo_many"

struct page {
    struct req *r;
    int64_t shop_id;
    const char *lang_code; /* a supported locale: the catalogue the page reads */
    struct buf b;
};

/* A text of the catalogue in the page's locale, not escaped (put() does
 * that). Borrowed, static. */
static const char *
w(const struct page *p, const char *key)
{
    const char *t = outreach_catalogue_get(p->lang_code, key);

    return t ? t : key;
}

/* ---- HTML ---------------------------------------------------------------- */

static void
put(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&#39;");
            break;
        default:
            buf_append(b, s, 1);
        }
    }
}

/* A text of the catalogue in the page's locale, HTML-escaped. */
static void
put_cat(struct page *p, const char *loc, const char *key, const char *const *vars)
{
    char *t = outreach_text(loc, key, true, vars);

    buf_puts(&p->b, t);
    free(t);
}

/* A state in the customer's words. */
static void
put_state(struct page *p, const char *loc, const char *state)
{
    char key[64];

    snprintf(key, sizeof(key), "returns.state.%s", state);
    if (outreach_catalogue_get(loc, key) == NULL)
        put(&p->b, state);
    else
        put_cat(p, loc, key, NULL);
}

static char *
state_text(const char *loc, const char *state)
{
    char key[64];

    snprintf(key, sizeof(key), "returns.state.%s", state);
    return outreach_catalogue_get(loc, key) ? outreach_text(loc, key, false, NULL)
                                            : xstrdup(state);
}

static void
start(struct page *p, const char *title)
{
    buf_printf(&p->b,
               "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<meta name=\"robots\" content=\"noindex\"><title>",
               p->lang_code);
    put(&p->b, title);
    buf_puts(&p->b, "</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;"
                    "margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}"
                    "fieldset{border:1px solid #ccc;border-radius:.5rem;margin:1rem 0;"
                    "padding:1rem}label{display:block;margin:.5rem 0 .25rem}"
                    "input,select,textarea{font:inherit;padding:.4rem;width:100%;"
                    "box-sizing:border-box}input[type=radio]{width:auto}"
                    "button{font:inherit;padding:.6rem 1.2rem;margin-top:1rem}"
                    ":focus{outline:3px solid #333;outline-offset:2px}"
                    "[role=alert]{font-weight:600}#photos{list-style:none;padding:0;display:flex;"
                    "flex-wrap:wrap;gap:.5rem}table{border-collapse:collapse;margin:.5rem 0}"
                    "th,td{text-align:left;vertical-align:top;padding:.25rem .75rem .25rem 0}"
                    "</style></head><body><main><h1>");
    put(&p->b, title);
    buf_puts(&p->b, "</h1>");
}

static void
finish(struct page *p, int status)
{
    size_t len;

    buf_puts(&p->b, "</main></body></html>\n");
    len = p->b.len;
    /* no script at all; forms post here only */
    req_add_header(p->r, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-none'; "
                   "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    req_add_header(p->r, "Referrer-Policy", "no-referrer");
    req_add_header(p->r, "Cache-Control", "no-store");
    reply_text_take(p->r, status, "text/html; charset=utf-8", buf_steal(&p->b), len);
}

static void
lookup_form(struct page *p, const char *alert, const char *order, const char *email)
{
    if (alert) {
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, alert);
        buf_puts(&p->b, "</p>");
    }
    buf_puts(&p->b, "<p>");
    put(&p->b, w(p, "returns.portal.intro"));
    buf_printf(&p->b,
               "</p><form method=\"post\" action=\"/returns?shop=%" PRId64 "&amp;lang=%s\">"
               "<label for=\"order\">",
               p->shop_id, p->lang_code);
    put(&p->b, w(p, "returns.portal.order_number"));
    buf_puts(&p->b, "</label><input id=\"order\" name=\"order\" inputmode=\"numeric\" required "
                    "autocomplete=\"off\" value=\"");
    put(&p->b, order ? order : "");
    buf_puts(&p->b, "\"><label for=\"email\">");
    put(&p->b, w(p, "returns.portal.email"));
    buf_puts(&p->b, "</label><input id=\"email\" name=\"email\" type=\"email\" required "
                    "autocomplete=\"email\" value=\"");
    put(&p->b, email ? email : "");
    buf_puts(&p->b, "\"><button type=\"submit\">");
    put(&p->b, w(p, "returns.portal.find"));
    buf_puts(&p->b, "</button></form>");
}

/* ---- forms ---------------------------------------------------------------- */

/* The peer's address as text ("127.0.0.1", "::1"), "?" when unknown. */
static void
client_address(struct req *r, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(out, len, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)len);
}

/* ---- database --------------------------------------------------------------- */

struct lookup {
    int64_t shop_id, order_id;
    const char *email, *address;
    bool shop_found, limited, found;
    char shop_name[256];
    json_t *settings, *lines; /* lines: [{line_item_id, name, left}] */
    json_t *requests;         /* the order's requests: [{id, rma, state, created, updated}] */
    char *token_secret;
    char language_hint[8];
};

static int
shop_fn(struct db_conn *c, struct lookup *x, struct err *e)
{
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;

    DB_I64(shop, x->shop_id);
    res = db_exec(c, "returns_page_shop",
                  "SELECT name, encode(token_secret_enc, 'hex') FROM shops WHERE id = $1", 1,
                  params, e);
    if (res == NULL)
        return -1;
    x->shop_found = PQntuples(res) == 1;
    if (x->shop_found) {
        char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 1));
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 0));
        free(x->token_secret);
        x->token_secret = shops_secret_open(server_config()->secret_key, "token_secret", hex);
        free(hex);
    }
    PQclear(res);
    return 0;
}

/* Count this attempt, then refuse past the limits (the attempt counts
 * even when refused, so hammering never opens the door). */
static int
rate_fn(struct db_conn *c, struct lookup *x, struct err *e)
{
    char shop[24], ipkey[80], orderkey[48];
    const char *params[3] = {shop, ipkey, orderkey};
    PGresult *res;

    DB_I64(shop, x->shop_id);
    snprintf(ipkey, sizeof(ipkey), "ip:%s", x->address);
    snprintf(orderkey, sizeof(orderkey), "order:%" PRId64, x->order_id);
    if (db_exec_cmd(c, "returns_lookup_note",
                    "WITH gone AS (DELETE FROM return_lookups WHERE shop_id = $1"
                    "   AND at < now() - interval '1 day')"
                    " INSERT INTO return_lookups (shop_id, key) VALUES ($1, $2), ($1, $3)",
                    3, params, e) < 0)
        return -1;
    res = db_exec(c, "returns_lookup_count",
                  "SELECT count(*) FILTER (WHERE key = $2), count(*) FILTER (WHERE key = $3)"
                  " FROM return_lookups WHERE shop_id = $1 AND key IN ($2, $3)"
                  " AND at > now() - interval '" LOOKUP_WINDOW "'",
                  3, params, e);
    if (res == NULL)
        return -1;
    x->limited = atol(PQgetvalue(res, 0, 0)) > LOOKUPS_PER_ADDRESS ||
                 atol(PQgetvalue(res, 0, 1)) > LOOKUPS_PER_ORDER;
    PQclear(res);
    return 0;
}

/* The order, when the number and the billing email match and the policy
 * lets it be returned now; its lines with what is left to return. */
static int
order_fn(struct db_conn *c, struct lookup *x, struct err *e)
{
    char shop[24], order[24], days[24];
    const char *params[5] = {shop, order, x->email, NULL, days};
    PGresult *res;
    int n;

    x->found = false;
    DB_I64(shop, x->shop_id);
    DB_I64(order, x->order_id);
    DB_I64(days, json_integer_value(json_object_get(x->settings, "window_days")));
    params[3] = jx_str(x->settings, "window_start");
    res = db_exec(c, "returns_page_order",
                  "WITH o AS (SELECT o.*, sh.timezone AS tz,"
                  "   CASE WHEN $4 = 'delivered' THEN (SELECT min(v.created_at) FROM events v"
                  "     WHERE v.shop_id = o.shop_id AND v.order_id = o.order_id"
                  "     AND v.kind = 'order.delivered') ELSE o.date_completed_gmt END AS started"
                  "   FROM orders o JOIN shops sh ON sh.id = o.shop_id"
                  "   WHERE o.shop_id = $1 AND o.order_id = $2 AND NOT o.deleted"
                  "   AND lower(o.billing_email) = lower($3))"
                  " SELECT o.status, i.line_item_id, i.name, i.quantity - coalesce((SELECT"
                  "   sum(coalesce(l.quantity_received, l.quantity)) FROM return_lines l"
                  "   JOIN return_requests q ON q.shop_id = l.shop_id AND q.id = l.request_id"
                  "   WHERE l.shop_id = i.shop_id AND q.order_id = i.order_id"
                  "   AND l.line_item_id = i.line_item_id"
                  "   AND q.state NOT IN ('rejected', 'cancelled')), 0), i.product_id"
                  " FROM o JOIN order_items i ON i.shop_id = o.shop_id AND i.order_id = o.order_id"
                  " WHERE o.started IS NOT NULL AND now() < ((o.started AT TIME ZONE o.tz)::date"
                  "   + $5::integer + 1)::timestamp AT TIME ZONE o.tz"
                  " ORDER BY i.line_item_id",
                  5, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    json_decref(x->lines);
    x->lines = json_array();
    for (int i = 0; i < n; i++) {
        bool ok = false;
        size_t k;
        json_t *st;
        json_array_foreach(json_object_get(x->settings, "eligible_statuses"), k, st)
        {
            ok = ok || strcmp(json_string_value(st), PQgetvalue(res, i, 0)) == 0;
        }
        json_array_foreach(json_object_get(x->settings, "excluded_products"), k, st)
        {
            ok = ok && json_integer_value(st) != atoll(PQgetvalue(res, i, 4));
        }
        if (ok && atol(PQgetvalue(res, i, 3)) > 0)
            json_array_append_new(x->lines, json_pack("{s:I, s:s, s:I}", "line_item_id",
                                                      (json_int_t)atoll(PQgetvalue(res, i, 1)),
                                                      "name", PQgetvalue(res, i, 2), "left",
                                                      (json_int_t)atoll(PQgetvalue(res, i, 3))));
    }
    x->found = json_array_size(x->lines) > 0;
    PQclear(res);
    return 0;
}

/* The order's return requests, when the number and the billing email
 * match (the same credential as the look-up), with their dates in the
 * shop's time zone: a customer comes back to see where they stand, even
 * when nothing is left to return or the window has closed. */
static int
requests_fn(struct db_conn *c, struct lookup *x, struct err *e)
{
    char shop[24], order[24];
    const char *params[3] = {shop, order, x->email};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(order, x->order_id);
    res = db_exec(c, "returns_page_requests",
                  "SELECT q.id, 'R-' || q.number, q.state,"
                  " to_char(q.created_at AT TIME ZONE sh.timezone, 'YYYY-MM-DD'),"
                  " to_char(q.updated_at AT TIME ZONE sh.timezone, 'YYYY-MM-DD')"
                  " FROM return_requests q JOIN orders o ON o.shop_id = q.shop_id"
                  " AND o.order_id = q.order_id JOIN shops sh ON sh.id = q.shop_id"
                  " WHERE q.shop_id = $1 AND q.order_id = $2 AND NOT o.deleted"
                  " AND lower(o.billing_email) = lower($3) ORDER BY q.id DESC",
                  3, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    json_decref(x->requests);
    x->requests = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(x->requests,
                              json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
                                        (json_int_t)atoll(PQgetvalue(res, i, 0)), "rma",
                                        PQgetvalue(res, i, 1), "state", PQgetvalue(res, i, 2),
                                        "created", PQgetvalue(res, i, 3), "updated",
                                        PQgetvalue(res, i, 4)));
    PQclear(res);
    return 0;
}

static int
lookup_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct lookup *x = ctx;

    json_decref(x->settings);
    x->settings = NULL;
    if (shop_fn(c, x, e) < 0)
        return -1;
    if (!x->shop_found || x->order_id <= 0)
        return 0;
    if (rate_fn(c, x, e) < 0)
        return -1;
    if (x->limited)
        return 0;
    if (returns_settings_load(c, x->shop_id, &x->settings, e) < 0)
        return -1;
    if (order_fn(c, x, e) < 0)
        return -1;
    return requests_fn(c, x, e);
}

static void
lookup_clear(struct lookup *x)
{
    json_decref(x->settings);
    json_decref(x->lines);
    json_decref(x->requests);
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
    }
}

/* ---- the pages ------------------------------------------------------------------ */

/*
 * The page's locale, as the request's page picks it: ?lang= (the form
 * posts it back, so the look-up, the form and the result stay in one
 * language), else Accept-Language, else the shop's default_locale, else
 * English. Before the look-up matches, the customer is not known: there
 * is no locale of theirs to take.
 */
struct page_locale_ctx {
    int64_t shop_id;
    char default_locale[16];
};

static int
default_locale_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_locale_ctx *x = ctx;
    struct outreach_settings os;

    if (outreach_settings_load(c, x->shop_id, &os, e) < 0)
        return -1;
    snprintf(x->default_locale, sizeof(x->default_locale), "%s", os.default_locale);
    return 0;
}

static void
page_locale(struct page *p, const char *lang, const char *accept)
{
    struct page_locale_ctx x = {.shop_id = p->shop_id};
    struct err e = {0};

    if (outreach_locale_match(lang) != NULL) {
        p->lang_code = outreach_locale_match(lang);
        return;
    }
    /* the shop's default is read only when ?lang= does not decide; a page
     * in the browser's language or English beats no page */
    if (p->shop_id > 0 && db_run(default_locale_fn, &x, &e) < 0)
        x.default_locale[0] = '\0';
    p->lang_code =
        outreach_locale_pick(NULL, accept, x.default_locale[0] ? x.default_locale : NULL);
}

static int
page_init(struct page *p, struct req *r)
{
    const char *shop = req_query(r, "shop"), *lang = req_query(r, "lang");
    const char *accept = req_header(r, "Accept-Language");
    char *end = NULL;

    p->r = r;
    p->shop_id = shop ? strtoll(shop, &end, 10) : 0;
    if (shop == NULL || *shop == '\0' || *end != '\0' || p->shop_id <= 0) {
        p->shop_id = 0;
        page_locale(p, lang, accept);
        start(p, w(p, "returns.portal.title"));
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, w(p, "returns.portal.unknown_shop"));
        buf_puts(&p->b, "</p>");
        finish(p, 404);
        return -1;
    }
    page_locale(p, lang, accept);
    return 0;
}

void
returns_handle_page(struct req *r)
{
    struct page p = {0};

    if (page_init(&p, r) < 0)
        return;
    start(&p, w(&p, "returns.portal.title"));
    lookup_form(&p, NULL, NULL, NULL);
    finish(&p, 200);
}

static const char *
label_of(const struct page *p, const json_t *reason)
{
    const json_t *labels = json_object_get(reason, "labels");
    const char *s = jx_str(labels, p->lang_code);

    if (s == NULL)
        s = jx_str(labels, "en");
    if (s == NULL) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)(uintptr_t)labels, k, v)
        {
            (void)k;
            return json_string_value(v);
        }
    }
    return s ? s : jx_str(reason, "code");
}

/* The value sent before for `<prefix><id>` (a form shown again with an
 * error), or NULL. Borrowed from prev. */
static const char *
prev_value(const struct form *prev, const char *prefix, int64_t id)
{
    char key[FORM_MAX_NAME];

    if (prev == NULL)
        return NULL;
    snprintf(key, sizeof(key), "%s%" PRId64, prefix, id);
    return form_value(prev, key);
}

static bool
same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* One fieldset per line: quantity, reason, note and photos, with what the
 * customer chose before when the form comes back with an error. */
static void
line_fieldset(struct page *p, const struct lookup *x, const json_t *line, const struct form *prev)
{
    int64_t id = json_integer_value(json_object_get(line, "line_item_id"));
    const char *qty = prev_value(prev, "qty_", id), *why = prev_value(prev, "reason_", id);
    const char *note = prev_value(prev, "note_", id);
    json_t *reason;
    size_t k;

    buf_puts(&p->b, "<fieldset><legend>");
    put(&p->b, jx_str(line, "name"));
    buf_printf(&p->b, "</legend><label for=\"q%" PRId64 "\">", id);
    put(&p->b, w(p, "returns.portal.quantity_to_return"));
    buf_printf(&p->b, "</label><select id=\"q%" PRId64 "\" name=\"qty_%" PRId64 "\">", id, id);
    for (json_int_t q = 0; q <= json_integer_value(json_object_get(line, "left")); q++)
        buf_printf(&p->b, "<option%s>%" JSON_INTEGER_FORMAT "</option>",
                   qty && atoll(qty) == q && q > 0 ? " selected" : "", q);
    buf_printf(&p->b, "</select><label for=\"r%" PRId64 "\">", id);
    put(&p->b, w(p, "returns.portal.reason"));
    buf_printf(&p->b, "</label><select id=\"r%" PRId64 "\" name=\"reason_%" PRId64 "\">", id, id);
    json_array_foreach(json_object_get(x->settings, "reasons"), k, reason)
    {
        buf_puts(&p->b, "<option value=\"");
        put(&p->b, jx_str(reason, "code"));
        buf_puts(&p->b, same(why, jx_str(reason, "code")) ? "\" selected>" : "\">");
        put(&p->b, label_of(p, reason));
        buf_puts(&p->b, "</option>");
    }
    buf_printf(&p->b, "</select><label for=\"n%" PRId64 "\">", id);
    put(&p->b, w(p, "returns.portal.note_optional"));
    buf_printf(&p->b,
               "</label><textarea id=\"n%" PRId64 "\" name=\"note_%" PRId64
               "\" rows=\"2\" maxlength=\"2000\">",
               id, id);
    put(&p->b, note ? note : "");
    buf_printf(&p->b, "</textarea><label for=\"p%" PRId64 "\">", id);
    put(&p->b, w(p, "returns.portal.photos_hint"));
    buf_printf(&p->b,
               "</label><input id=\"p%" PRId64 "\" name=\"photos_%" PRId64
               "\" type=\"file\" multiple accept=\"image/jpeg,image/png,image/webp\"></fieldset>",
               id, id);
}

/* The request form. `alert_html` (already escaped) opens it when the
 * customer's last try was refused; `prev` is that try's form. */
static void
choose_form(struct page *p, const struct lookup *x, const char *token, const struct form *prev,
            const char *alert_html)
{
    static const char *const kinds[] = {"refund", "store_credit", "exchange"};
    static const char *const kind_words[] = {"returns.resolution.refund",
                                             "returns.resolution.store_credit",
                                             "returns.portal.exchange_wish"};
    const json_t *res = json_object_get(x->settings, "resolutions");
    const char *chosen = prev ? form_value(prev, "resolution") : NULL;
    size_t i, k;
    json_t *line;
    bool first = true, any = false;

    if (alert_html) {
        buf_puts(&p->b, "<div role=\"alert\">");
        buf_puts(&p->b, alert_html);
        buf_puts(&p->b, "</div>");
    }
    /* multipart: the photos go with the rest of the form, no script */
    buf_printf(&p->b,
               "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/returns?shop=%" PRId64
               "&amp;lang=%s\"><input type=\"hidden\" name=\"token\" value=\"",
               p->shop_id, p->lang_code);
    put(&p->b, token);
    buf_printf(&p->b, "\"><input type=\"hidden\" name=\"order\" value=\"%" PRId64 "\"><h2>",
               x->order_id);
    put(&p->b, w(p, "returns.portal.choose"));
    buf_puts(&p->b, "</h2>");
    json_array_foreach(x->lines, i, line)
    {
        line_fieldset(p, x, line, prev);
    }
    buf_puts(&p->b, "<fieldset><legend>");
    put(&p->b, w(p, "returns.portal.wish"));
    buf_puts(&p->b, "</legend>");
    for (k = 0; k < 2; k++)
        any = any || (json_is_true(json_object_get(res, kinds[k])) && same(chosen, kinds[k]));
    for (k = 0; k < 3; k++) {
        /* an exchange needs a replacement chosen with the shop: offered
         * here only as a wish when the shop offers exchanges, never as a
         * default */
        if (!json_is_true(json_object_get(res, kinds[k])) || k == 2)
            continue;
        buf_printf(&p->b, "<label><input type=\"radio\" name=\"resolution\" value=\"%s\"%s> ",
                   kinds[k], (any ? same(chosen, kinds[k]) : first) ? " checked" : "");
        put(&p->b, w(p, kind_words[k]));
        buf_puts(&p->b, "</label>");
        first = false;
    }
    buf_puts(&p->b, "</fieldset><button type=\"submit\">");
    put(&p->b, w(p, "returns.portal.send"));
    buf_puts(&p->b, "</button></form>");
}

/* The order's requests, each linking to its page (status and history). */
static void
requests_list(struct page *p, const struct lookup *x)
{
    size_t i;
    json_t *q;
    long days = (long)json_integer_value(json_object_get(x->settings, "window_days"));

    if (json_array_size(x->requests) == 0)
        return;
    buf_puts(&p->b, "<h2>");
    put_cat(p, p->lang_code, "returns.portal.your_requests", NULL);
    buf_puts(&p->b, "</h2><table id=\"requests\"><thead><tr><th scope=\"col\">");
    put_cat(p, p->lang_code, "returns.portal.rma", NULL);
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, p->lang_code, "returns.portal.state", NULL);
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, p->lang_code, "returns.portal.created", NULL);
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, p->lang_code, "returns.portal.updated", NULL);
    buf_puts(&p->b, "</th></tr></thead><tbody>");
    json_array_foreach(x->requests, i, q)
    {
        char *path = returns_view_path(x->token_secret, x->shop_id,
                                       json_integer_value(json_object_get(q, "id")), x->email,
                                       days, server_config()->token_max_lifetime_s, NULL);
        const char *vars[] = {"rma", jx_str(q, "rma"), NULL};
        buf_puts(&p->b, "<tr><th scope=\"row\"><a href=\"");
        put(&p->b, path ? path : "");
        buf_printf(&p->b, "&amp;lang=%s\" aria-label=\"", p->lang_code);
        put_cat(p, p->lang_code, "returns.portal.view", vars);
        buf_puts(&p->b, "\">");
        put(&p->b, jx_str(q, "rma"));
        buf_puts(&p->b, "</a></th><td>");
        put_state(p, p->lang_code, jx_str(q, "state"));
        buf_puts(&p->b, "</td><td>");
        put(&p->b, jx_str(q, "created"));
        buf_puts(&p->b, "</td><td>");
        put(&p->b, jx_str(q, "updated"));
        buf_puts(&p->b, "</td></tr>");
        free(path);
    }
    buf_puts(&p->b, "</tbody></table>");
}

static void
lookup_page(struct page *p, const struct form *f)
{
    const char *order = form_value(f, "order"), *email = form_value(f, "email");
    struct lookup x = {.shop_id = p->shop_id};
    struct err e = {0};
    char *end = NULL, *token = NULL, addr[64];

    client_address(p->r, addr, sizeof(addr));
    x.order_id = order ? strtoll(order, &end, 10) : 0;
    if (order == NULL || end == NULL || *end != '\0')
        x.order_id = 0;
    x.email = email ? email : "";
    x.address = addr;
    if (db_tx(lookup_fn, &x, &e) < 0) {
        reply_err(p->r, &e);
        goto out;
    }
    start(p, w(p, "returns.portal.title"));
    if (!x.shop_found) {
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, w(p, "returns.portal.unknown_shop"));
        buf_puts(&p->b, "</p>");
        finish(p, 404);
        goto out;
    }
    if (x.limited) {
        req_add_header(p->r, "Retry-After", "900");
        lookup_form(p, w(p, "returns.portal.too_many"), order, email);
        finish(p, 429);
        goto out;
    }
    if ((!x.found && json_array_size(x.requests) == 0) || x.token_secret == NULL) {
        lookup_form(p, w(p, "returns.portal.not_found"), order, email);
        finish(p, 200);
        goto out;
    }
    requests_list(p, &x);
    if (!x.found) { /* nothing left to return: the requests only */
        finish(p, 200);
        goto out;
    }
    {
        struct token_claims c = {.shop_id = x.shop_id, .exp = time(NULL) + TOKEN_TTL_S};
        snprintf(c.email, sizeof(c.email), "%s", x.email);
        snprintf(c.scope, sizeof(c.scope), "returns");
        token = token_mint(x.token_secret, &c);
    }
    if (token == NULL) {
        reply_problem(p->r, ERR_INTERNAL, NULL, "could not mint a customer token");
        goto out;
    }
    choose_form(p, &x, token, NULL, NULL);
    finish(p, 200);
out:
    free(token);
    lookup_clear(&x);
}

/* ---- the request, with its photos ------------------------------------------- */

/* A photo of the form, checked, for one line being returned. */
struct photo {
    int64_t line_item_id;
    const struct form_field *field; /* borrowed from the form */
    const char *type;               /* image/jpeg, image/png, image/webp */
};

/* What was wrong with the customer's try: shown above the form again. */
struct problem {
    int64_t line_item_id;  /* 0: not about one line */
    const char *filename;  /* borrowed; NULL when not about one photo */
    const char *what; /* a catalogue key; may name {{file}} */
};
#define PROBLEMS_MAX 16

struct submit {
    int64_t shop_id;
    json_t *body;
    struct returns_customer cust;
    json_t *out, *settings;
    const char *locale; /* the page's language: the request's messages are written in it */
    const struct photo *photos;
    size_t nphotos;
    struct lookup shop; /* its token secret signs the photos' links */
};

static int
submit_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct submit *s = ctx;
    int64_t id, photo_id;

    json_decref(s->out);
    s->out = NULL;
    json_decref(s->settings);
    s->settings = NULL;
    if (returns_store_create(c, s->shop_id, s->body, &s->cust, "customer", &s->out, e) < 0)
        return -1;
    id = json_integer_value(json_object_get(s->out, "id"));
    if (returns_store_set_locale(c, s->shop_id, id, s->locale, e) < 0)
        return -1;
    /* in the creation's transaction: a request is never left without the
     * photos the customer sent with it */
    for (size_t i = 0; i < s->nphotos; i++)
        if (returns_store_photo_add(c, s->shop_id, id, s->photos[i].line_item_id,
                                    s->photos[i].type,
                                    (const unsigned char *)s->photos[i].field->data,
                                    s->photos[i].field->len, &photo_id, e) < 0)
            return -1;
    if (s->nphotos > 0) {
        json_decref(s->out);
        s->out = NULL;
        if (returns_store_get(c, s->shop_id, id, &s->out, e) < 0)
            return -1;
    }
    if (shop_fn(c, &s->shop, e) < 0)
        return -1;
    return returns_settings_load(c, s->shop_id, &s->settings, e);
}

/* Build the request from the form's qty_<line>, reason_<line> and
 * note_<line> fields. */
static json_t *
request_from_form(const struct form *f, int64_t order_id, const char *resolution)
{
    json_t *lines = json_array();

    for (size_t i = 0; i < f->n; i++) {
        const struct form_field *fl = &f->fields[i];
        long long id;
        const char *q, *reason, *note;
        if (fl->is_file || strncmp(fl->name, "qty_", 4) != 0)
            continue;
        id = strtoll(fl->name + 4, NULL, 10);
        q = fl->value;
        reason = prev_value(f, "reason_", id);
        note = prev_value(f, "note_", id);
        if (q && atoi(q) > 0 && id > 0)
            json_array_append_new(lines,
                                  json_pack("{s:I, s:i, s:s, s:s}", "line_item_id", (json_int_t)id,
                                            "quantity", atoi(q), "reason", reason ? reason : "",
                                            "note", note ? note : ""));
    }
    return json_pack("{s:I, s:s, s:o}", "order_id", (json_int_t)order_id, "resolution",
                     resolution ? resolution : "refund", "lines", lines);
}

static bool
line_requested(const json_t *body, int64_t line_item_id)
{
    size_t i;
    json_t *l;

    json_array_foreach(json_object_get(body, "lines"), i, l)
    {
        if (json_integer_value(json_object_get(l, "line_item_id")) == line_item_id)
            return true;
    }
    return false;
}

/*
 * The form's photos (file fields photos_<line>) of the lines being
 * returned: at most RETURNS_PHOTOS_MAX per line, each at most
 * RETURNS_PHOTO_MAX_BYTES and a JPEG, PNG or WebP by its first bytes (the
 * name and the part's Content-Type are the browser's guess and are not
 * read). An empty file input (no name, no bytes) is no photo; photos of a
 * line not being returned are left out. Fills photos (capacity f->n) and
 * problems; returns the number of problems.
 */
static size_t
photos_check(const struct form *f, const json_t *body, struct photo *photos, size_t *nphotos,
             struct problem *problems)
{
    size_t np = 0;

    *nphotos = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct form_field *fl = &f->fields[i];
        struct photo ph = {0};
        size_t same_line = 0;
        const char *bad = NULL;

        if (!fl->is_file || strncmp(fl->name, "photos_", 7) != 0 ||
            (fl->len == 0 && fl->filename[0] == '\0'))
            continue;
        ph.line_item_id = strtoll(fl->name + 7, NULL, 10);
        if (ph.line_item_id <= 0 || !line_requested(body, ph.line_item_id))
            continue;
        for (size_t k = 0; k < *nphotos; k++)
            same_line += photos[k].line_item_id == ph.line_item_id;
        ph.field = fl;
        ph.type = returns_photo_type((const unsigned char *)fl->data, fl->len);
        if (same_line == RETURNS_PHOTOS_MAX)
            bad = W_PHOTO_MANY;
        else if (fl->len > (size_t)RETURNS_PHOTO_MAX_BYTES)
            bad = W_PHOTO_BIG;
        else if (ph.type == NULL)
            bad = W_PHOTO_TYPE;
        if (bad == NULL) {
            photos[(*nphotos)++] = ph;
            continue;
        }
        /* one "too many" per line is enough */
        if (same(bad, W_PHOTO_MANY))
            for (size_t k = 0; k < np; k++)
                if (same(problems[k].what, W_PHOTO_MANY) &&
                    problems[k].line_item_id == ph.line_item_id)
                    bad = NULL;
        if (bad != NULL && np < PROBLEMS_MAX)
            problems[np++] = (struct problem){ph.line_item_id, same(bad, W_PHOTO_MANY) ? NULL
                                                                                  : fl->filename,
                                              bad};
    }
    return np;
}

static const char *
line_name(const struct lookup *x, int64_t line_item_id)
{
    size_t i;
    json_t *l;

    json_array_foreach(x->lines, i, l)
    {
        if (json_integer_value(json_object_get(l, "line_item_id")) == line_item_id)
            return jx_str(l, "name");
    }
    return NULL;
}

static int
reload_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct lookup *x = ctx;

    json_decref(x->settings);
    x->settings = NULL;
    if (returns_settings_load(c, x->shop_id, &x->settings, e) < 0)
        return -1;
    return order_fn(c, x, e);
}

/* The form again, as the customer filled it in, under what was wrong
 * (the problems, or the store's `detail`). Files cannot be put back into
 * a file input, so when photos were sent the customer is asked to choose
 * them again. */
static void
form_again(struct page *p, const struct form *f, const char *token, int64_t order_id,
           const char *email, const struct problem *pr, size_t npr, const char *detail,
           int status)
{
    struct lookup x = {.shop_id = p->shop_id, .order_id = order_id, .email = email};
    struct buf alerts = {0};
    struct err e = {0};
    bool photos = false;

    if (db_tx(reload_fn, &x, &e) < 0) {
        reply_err(p->r, &e);
        goto out;
    }
    for (size_t i = 0; i < f->n; i++)
        photos = photos || (f->fields[i].is_file && f->fields[i].len > 0);
    buf_puts(&alerts, "<ul>");
    for (size_t i = 0; i < npr; i++) {
        const char *name = line_name(&x, pr[i].line_item_id);
        buf_puts(&alerts, "<li>");
        if (name) {
            put(&alerts, name);
            buf_puts(&alerts, ": ");
        }
        {
            /* the file's name goes where the language puts it */
            const char *vars[] = {"file", pr[i].filename && pr[i].filename[0] ? pr[i].filename
                                                                              : "?",
                                  NULL};
            char *t = outreach_text(p->lang_code, pr[i].what, true, vars);
            buf_puts(&alerts, t);
            free(t);
        }
        buf_puts(&alerts, "</li>");
    }
    if (detail) {
        buf_puts(&alerts, "<li>");
        put(&alerts, detail);
        buf_puts(&alerts, "</li>");
    }
    buf_puts(&alerts, "</ul>");
    if (photos) {
        buf_puts(&alerts, "<p>");
        put(&alerts, w(p, "returns.portal.photos_again"));
        buf_puts(&alerts, "</p>");
    }
    start(p, w(p, "returns.portal.error"));
    if (json_array_size(x.lines) == 0) {
        /* nothing left to return (or the window closed meanwhile) */
        buf_puts(&p->b, "<div role=\"alert\">");
        buf_puts(&p->b, alerts.data);
        buf_puts(&p->b, "</div>");
        lookup_form(p, NULL, NULL, NULL);
    } else {
        choose_form(p, &x, token, f, alerts.data);
    }
    finish(p, status);
out:
    buf_free(&alerts);
    lookup_clear(&x);
}

/* The request as the customer sees it after sending it: its number and
 * status, the lines, the photos (served to this customer only, through a
 * link signed for this request), the instructions and the address. */
static void
request_page(struct page *p, const struct submit *s, const char *photo_token,
             const char *view_path)
{
    size_t i, k;
    json_t *line, *photo;
    int n;

    start(p, w(p, "returns.portal.done"));
    buf_puts(&p->b, "<p>");
    put(&p->b, w(p, "returns.portal.done_text"));
    buf_puts(&p->b, " <strong id=\"rma\">");
    put(&p->b, jx_str(s->out, "rma"));
    buf_puts(&p->b, "</strong>.</p><p>");
    put(&p->b, w(p, "returns.portal.state"));
    buf_puts(&p->b, ": <span id=\"state\">");
    put(&p->b, jx_str(s->out, "state"));
    buf_puts(&p->b, "</span></p><ul>");
    json_array_foreach(json_object_get(s->out, "lines"), i, line)
    {
        buf_printf(&p->b, "<li>%" JSON_INTEGER_FORMAT " \xc3\x97 ",
                   json_integer_value(json_object_get(line, "quantity")));
        put(&p->b, jx_str(line, "name"));
        buf_puts(&p->b, "</li>");
    }
    buf_puts(&p->b, "</ul>");
    if (json_array_size(json_object_get(s->out, "photos")) > 0 && photo_token) {
        buf_puts(&p->b, "<h2>");
        put(&p->b, w(p, "returns.portal.photos"));
        buf_puts(&p->b, "</h2><ul id=\"photos\">");
        n = 0;
        json_array_foreach(json_object_get(s->out, "photos"), k, photo)
        {
            int64_t lid = json_integer_value(json_object_get(photo, "line_item_id"));
            const char *name = "";
            json_array_foreach(json_object_get(s->out, "lines"), i, line)
            {
                if (json_integer_value(json_object_get(line, "line_item_id")) == lid)
                    name = jx_str(line, "name");
            }
            buf_printf(&p->b, "<li><img src=\"/returns/photos/%" JSON_INTEGER_FORMAT "?token=",
                       json_integer_value(json_object_get(photo, "id")));
            put(&p->b, photo_token);
            buf_printf(&p->b, "\" width=\"160\" alt=\"");
            put(&p->b, w(p, "returns.portal.photo"));
            buf_printf(&p->b, " %d: ", ++n);
            put(&p->b, name);
            buf_puts(&p->b, "\"></li>");
        }
        buf_puts(&p->b, "</ul>");
    }
    if (jx_str(s->settings, "instructions")[0]) {
        buf_puts(&p->b, "<h2>");
        put(&p->b, w(p, "returns.label.instructions"));
        buf_puts(&p->b, "</h2><p>");
        put(&p->b, jx_str(s->settings, "instructions"));
        buf_puts(&p->b, "</p>");
    }
    if (jx_str(s->settings, "return_address")[0]) {
        buf_puts(&p->b, "<h2>");
        put(&p->b, w(p, "returns.label.address"));
        buf_puts(&p->b, "</h2><address style=\"white-space:pre-line\">");
        put(&p->b, jx_str(s->settings, "return_address"));
        buf_puts(&p->b, "</address>");
    }
    if (view_path) {
        /* where the customer comes back to: the status and the history */
        buf_puts(&p->b, "<p><a id=\"view\" href=\"");
        put(&p->b, view_path);
        buf_printf(&p->b, "&amp;lang=%s\">", p->lang_code);
        put_cat(p, p->lang_code, "returns.portal.link", NULL);
        buf_puts(&p->b, "</a></p>");
    }
    finish(p, 201);
}

static void
submit_page(struct page *p, const struct form *f, const char *token)
{
    const char *order = form_value(f, "order"), *resolution = form_value(f, "resolution");
    struct token_claims claims;
    struct submit s = {0};
    struct photo *photos = NULL;
    struct problem problems[PROBLEMS_MAX];
    size_t nproblems;
    struct err e = {0};
    char *photo_token = NULL, *view_path = NULL;
    int64_t order_id = order ? strtoll(order, NULL, 10) : 0;

    if (auth_token_verify(token, "returns", &claims, &e) < 0 || claims.shop_id != p->shop_id ||
        claims.email[0] == '\0') {
        start(p, w(p, "returns.portal.title"));
        lookup_form(p, w(p, "returns.portal.form_expired"), NULL, NULL);
        finish(p, 200);
        goto out;
    }
    s.shop_id = p->shop_id;
    s.shop.shop_id = p->shop_id;
    s.locale = p->lang_code;
    s.cust.email = claims.email;
    s.body = request_from_form(f, order_id, resolution);
    if (json_array_size(json_object_get(s.body, "lines")) == 0) {
        problems[0] = (struct problem){0, NULL, "returns.portal.nothing"};
        form_again(p, f, token, order_id, claims.email, problems, 1, NULL, 422);
        goto out;
    }
    photos = xcalloc(f->n ? f->n : 1, sizeof(*photos));
    nproblems = photos_check(f, s.body, photos, &s.nphotos, problems);
    if (nproblems > 0) {
        bool big = false;
        for (size_t i = 0; i < nproblems; i++)
            big = big || same(problems[i].what, W_PHOTO_BIG);
        form_again(p, f, token, order_id, claims.email, problems, nproblems, NULL,
                   big ? 413 : 422);
        goto out;
    }
    s.photos = photos;
    if (returns_categories_ready(s.shop_id, s.body, &s.cust, &e) < 0 ||
        db_tx(submit_fn, &s, &e) < 0) {
        if (e.kind == ERR_UNAVAILABLE && strncmp(e.field, "lines[", 6) == 0) {
            /* Categories not known yet (returns_categories_ready): retryable. */
            start(p, w(p, "returns.portal.error"));
            /* the store's detail is for the API (English, product ids):
             * the customer reads the catalogue's sentence */
            buf_puts(&p->b, "<p role=\"alert\">");
            put_cat(p, p->lang_code, "returns.portal.categories_pending", NULL);
            buf_puts(&p->b, "</p>");
            req_add_header(p->r, "Retry-After", RETURNS_CATEGORIES_RETRY_S);
            finish(p, 503);
            goto out;
        }
        if (e.kind != ERR_INVALID && e.kind != ERR_CONFLICT) {
            reply_err(p->r, &e);
            goto out;
        }
        form_again(p, f, token, order_id, claims.email, NULL, 0, e.detail,
                   e.kind == ERR_CONFLICT ? 409 : 422);
        goto out;
    }
    if (s.shop.token_secret) {
        /* the photos' link: this request only, for as long as the form's token */
        struct token_claims c = {.shop_id = p->shop_id, .exp = claims.exp,
                                 .rid = json_integer_value(json_object_get(s.out, "id"))};
        snprintf(c.email, sizeof(c.email), "%s", claims.email);
        snprintf(c.scope, sizeof(c.scope), "return_photos");
        photo_token = token_mint(s.shop.token_secret, &c);
        view_path = returns_view_path(
            s.shop.token_secret, p->shop_id, c.rid, claims.email,
            (long)json_integer_value(json_object_get(s.settings, "window_days")),
            server_config()->token_max_lifetime_s, NULL);
    }
    request_page(p, &s, photo_token, view_path);
out:
    free(photo_token);
    free(view_path);
    free(photos);
    json_decref(s.body);
    json_decref(s.out);
    json_decref(s.settings);
    lookup_clear(&s.shop);
}

void
returns_handle_page_post(struct req *r)
{
    struct page p = {0};
    struct form f = {0};
    struct err e = {0};
    const char *token;

    if (page_init(&p, r) < 0)
        return;
    if (form_parse(req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), r->body.data, r->body.len, &f,
                   &e) < 0) {
        reply_err(r, &e);
        return;
    }
    token = form_value(&f, "token");
    if (token != NULL)
        submit_page(&p, &f, token);
    else
        lookup_page(&p, &f);
    form_free(&f);
}

/* ---- GET /returns/photos/{photo_id}?token= ---------------------------------- */

struct page_photo {
    int64_t shop_id, request_id, photo_id;
    struct returns_customer cust;
    char type[32];
    unsigned char *bytes; /* owned */
    size_t len;
};

static int
page_photo_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_photo *x = ctx;
    bool owned;

    free(x->bytes);
    x->bytes = NULL;
    if (returns_store_owned(c, x->shop_id, x->request_id, &x->cust, &owned, e) < 0)
        return -1;
    if (!owned)
        return 0;
    return returns_store_photo_get(c, x->shop_id, x->request_id, x->photo_id, x->type, &x->bytes,
                                   &x->len, e);
}

/* A photo of the request the portal's link was signed for (token of scope
 * "return_photos": the shop, the request in rid, the customer's email),
 * and only while that customer still owns the request. */
void
returns_handle_page_photo(struct req *r)
{
    const char *token = req_query(r, "token");
    struct token_claims claims;
    struct page_photo x = {0};
    struct err e = {0};

    if (req_param_id_or_reply(r, "photo_id", &x.photo_id) < 0)
        return;
    if (token == NULL) {
        reply_problem(r, ERR_UNAUTHORIZED, "token", "the photo's link has no token");
        return;
    }
    if (auth_token_verify(token, "return_photos", &claims, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (claims.rid <= 0 || claims.email[0] == '\0') {
        reply_problem(r, ERR_UNAUTHORIZED, "token", "the token names no return request");
        return;
    }
    x.shop_id = claims.shop_id;
    x.request_id = claims.rid;
    x.cust.email = claims.email;
    if (db_run(page_photo_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (x.bytes == NULL) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no photo %" PRId64, x.photo_id);
        return;
    }
    req_add_header(r, "Cache-Control", "private, no-store");
    req_add_header(r, "X-Content-Type-Options", "nosniff");
    reply_text_take(r, 200, x.type, (char *)x.bytes, x.len);
}

/* ---- the customer's page of a request: status, history, cancel ------------------- */

char *
returns_view_path(const char *token_secret, int64_t shop_id, int64_t request_id, const char *email,
                  long window_days, long max_lifetime_s, time_t *exp)
{
    struct token_claims c = {.shop_id = shop_id, .rid = request_id};
    long max = max_lifetime_s;
    long life = window_days * 86400L + RETURNS_VIEW_MARGIN_S;
    char *token, *path;

    /* as long as the window and a margin (the request outlives the window
     * it was made in), never longer than customer tokens may live */
    if (life > max)
        life = max;
    c.exp = time(NULL) + life;
    snprintf(c.email, sizeof(c.email), "%s", email ? email : "");
    snprintf(c.scope, sizeof(c.scope), "return_view");
    token = token_mint(token_secret, &c);
    if (token == NULL)
        return NULL;
    path = xasprintf("/returns/requests/%" PRId64 "?token=%s", request_id, token);
    free(token);
    if (exp)
        *exp = c.exp;
    return path;
}

struct view {
    int64_t shop_id, id;
    struct returns_customer cust;
    const char *action; /* "cancel" or NULL */
    bool owned;
    json_t *req, *settings, *history; /* history: [{from, to, at, note}] in the shop's zone */
    char tz[64], locale[16], default_locale[16];
    char *token_secret;
};

static void
view_clear(struct view *x)
{
    json_decref(x->req);
    json_decref(x->settings);
    json_decref(x->history);
    x->req = x->settings = x->history = NULL;
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
        x->token_secret = NULL;
    }
}

/* The request with its history in the shop's time zone. The events'
 * actors (API key ids, customer ids) are not read: the customer sees
 * what changed and when, and the shop's note when the transition had one
 * (the same note their message carried). */
static int
view_load(struct db_conn *c, struct view *x, struct err *e)
{
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(rid, x->id);
    if (returns_store_get(c, x->shop_id, x->id, &x->req, e) < 0 ||
        returns_settings_load(c, x->shop_id, &x->settings, e) < 0)
        return -1;
    if (x->req == NULL)
        return 0;
    res = db_exec(c, "returns_view_shop",
                  "SELECT sh.timezone, coalesce(q.locale, ''), encode(sh.token_secret_enc, 'hex')"
                  " FROM return_requests q JOIN shops sh ON sh.id = q.shop_id"
                  " WHERE q.shop_id = $1 AND q.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 2));
        snprintf(x->tz, sizeof(x->tz), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->locale, sizeof(x->locale), "%s", PQgetvalue(res, 0, 1));
        x->token_secret = shops_secret_open(server_config()->secret_key, "token_secret", hex);
        free(hex);
    }
    PQclear(res);
    res = db_exec(c, "returns_view_history",
                  "SELECT coalesce(v.from_state, ''), v.to_state,"
                  " to_char(v.created_at AT TIME ZONE sh.timezone, 'YYYY-MM-DD HH24:MI'),"
                  " coalesce(v.changes ->> 'note', '')"
                  " FROM return_events v JOIN shops sh ON sh.id = v.shop_id"
                  " WHERE v.shop_id = $1 AND v.request_id = $2 ORDER BY v.id",
                  2, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    x->history = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(x->history,
                              json_pack("{s:s, s:s, s:s, s:s}", "from", PQgetvalue(res, i, 0),
                                        "to", PQgetvalue(res, i, 1), "at", PQgetvalue(res, i, 2),
                                        "note", PQgetvalue(res, i, 3)));
    PQclear(res);
    return 0;
}

static int
view_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct view *x = ctx;

    view_clear(x);
    if (returns_store_owned(c, x->shop_id, x->id, &x->cust, &x->owned, e) < 0)
        return -1;
    if (!x->owned)
        return 0;
    if (x->action != NULL) {
        json_t *out = NULL;
        /* the customer's own action; the state machine decides (409 past
         * approved: the items are on their way or back) */
        if (returns_store_transition(c, x->shop_id, x->id, x->action, NULL, "customer", &out,
                                     e) < 0)
            return -1;
        json_decref(out);
    }
    return view_load(c, x, e);
}

static const char *
reason_text(const json_t *settings, const char *loc, const char *code)
{
    json_t *r;
    size_t i;

    json_array_foreach(json_object_get(settings, "reasons"), i, r)
    {
        if (strcmp(jx_str(r, "code") ? jx_str(r, "code") : "", code ? code : "") == 0) {
            json_t *labels = json_object_get(r, "labels");
            const char *l = json_string_value(json_object_get(labels, loc));
            if (l == NULL)
                l = json_string_value(json_object_get(labels, "en"));
            return l ? l : code;
        }
    }
    return code ? code : "";
}

static void
h2(struct page *p, const char *loc, const char *key)
{
    buf_puts(&p->b, "<h2>");
    put_cat(p, loc, key, NULL);
    buf_puts(&p->b, "</h2>");
}

/* The lines as a table with headings. */
static void
view_lines(struct page *p, const struct view *x, const char *loc)
{
    size_t i;
    json_t *l;
    bool received = false;

    json_array_foreach(json_object_get(x->req, "lines"), i, l)
    {
        received = received || json_is_integer(json_object_get(l, "quantity_received"));
    }
    h2(p, loc, "returns.portal.items");
    buf_puts(&p->b, "<table id=\"lines\"><thead><tr><th scope=\"col\">");
    put_cat(p, loc, "returns.portal.item", NULL);
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, loc, "returns.portal.quantity", NULL);
    if (received) {
        buf_puts(&p->b, "</th><th scope=\"col\">");
        put_cat(p, loc, "returns.portal.received", NULL);
    }
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, loc, "returns.portal.reason", NULL);
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, loc, "returns.portal.note", NULL);
    buf_puts(&p->b, "</th></tr></thead><tbody>");
    json_array_foreach(json_object_get(x->req, "lines"), i, l)
    {
        buf_puts(&p->b, "<tr><th scope=\"row\">");
        put(&p->b, jx_str(l, "name"));
        buf_printf(&p->b, "</th><td>%" JSON_INTEGER_FORMAT "</td>",
                   json_integer_value(json_object_get(l, "quantity")));
        if (received) {
            if (json_is_integer(json_object_get(l, "quantity_received")))
                buf_printf(&p->b, "<td>%" JSON_INTEGER_FORMAT "</td>",
                           json_integer_value(json_object_get(l, "quantity_received")));
            else
                buf_puts(&p->b, "<td></td>");
        }
        buf_puts(&p->b, "<td>");
        put(&p->b, reason_text(x->settings, loc, jx_str(l, "reason")));
        buf_puts(&p->b, "</td><td>");
        put(&p->b, jx_str(l, "note"));
        buf_puts(&p->b, "</td></tr>");
    }
    buf_puts(&p->b, "</tbody></table>");
}

static void
view_photos(struct page *p, const struct view *x, const char *loc, time_t exp)
{
    struct token_claims c = {.shop_id = x->shop_id, .exp = exp, .rid = x->id};
    char *token;
    size_t i, k;
    json_t *photo, *line;
    int n = 0;

    if (json_array_size(json_object_get(x->req, "photos")) == 0 || x->token_secret == NULL)
        return;
    snprintf(c.email, sizeof(c.email), "%s", x->cust.email);
    snprintf(c.scope, sizeof(c.scope), "return_photos");
    token = token_mint(x->token_secret, &c);
    if (token == NULL)
        return;
    h2(p, loc, "returns.portal.photos");
    buf_puts(&p->b, "<ul id=\"photos\">");
    json_array_foreach(json_object_get(x->req, "photos"), k, photo)
    {
        int64_t lid = json_integer_value(json_object_get(photo, "line_item_id"));
        const char *name = "";
        json_array_foreach(json_object_get(x->req, "lines"), i, line)
        {
            if (json_integer_value(json_object_get(line, "line_item_id")) == lid)
                name = jx_str(line, "name");
        }
        buf_printf(&p->b, "<li><img src=\"/returns/photos/%" JSON_INTEGER_FORMAT "?token=",
                   json_integer_value(json_object_get(photo, "id")));
        put(&p->b, token);
        buf_puts(&p->b, "\" width=\"160\" alt=\"");
        put_cat(p, loc, "returns.portal.photo", NULL);
        buf_printf(&p->b, " %d: ", ++n);
        put(&p->b, name);
        buf_puts(&p->b, "\"></li>");
    }
    buf_puts(&p->b, "</ul>");
    free(token);
}

/* Every transition: when (the shop's zone), from -> to in the customer's
 * words, and the shop's note to the customer when there was one. */
static void
view_history(struct page *p, const struct view *x, const char *loc)
{
    size_t i;
    json_t *h;

    h2(p, loc, "returns.portal.history");
    {
        const char *vars[] = {"time_zone", x->tz, NULL};
        buf_puts(&p->b, "<p>");
        put_cat(p, loc, "returns.portal.time_zone", vars);
        buf_puts(&p->b, "</p>");
    }
    buf_puts(&p->b, "<table id=\"history\"><thead><tr><th scope=\"col\">");
    put_cat(p, loc, "returns.portal.when", NULL);
    buf_puts(&p->b, "</th><th scope=\"col\">");
    put_cat(p, loc, "returns.portal.change", NULL);
    buf_puts(&p->b, "</th></tr></thead><tbody>");
    json_array_foreach(x->history, i, h)
    {
        char *from = state_text(loc, jx_str(h, "from")), *to = state_text(loc, jx_str(h, "to"));
        const char *vars[] = {"from", from, "to", to, NULL};
        buf_puts(&p->b, "<tr><td><time>");
        put(&p->b, jx_str(h, "at"));
        buf_puts(&p->b, "</time></td><td>");
        put_cat(p, loc, jx_str(h, "from")[0] ? "returns.portal.from_to"
                                             : "returns.portal.created_event",
                vars);
        if (jx_str(h, "note")[0]) {
            buf_puts(&p->b, "<br>");
            put_cat(p, loc, "returns.portal.shop_note", NULL);
            buf_puts(&p->b, ": ");
            put(&p->b, jx_str(h, "note"));
        }
        buf_puts(&p->b, "</td></tr>");
        free(from);
        free(to);
    }
    buf_puts(&p->b, "</tbody></table>");
}

static void
view_render(struct page *p, const struct view *x, const char *token, const char *alert_key,
            const char *notice_key, int status)
{
    const char *loc = p->lang_code, *state = jx_str(x->req, "state");
    const char *vars_rma[] = {"rma", jx_str(x->req, "rma"), NULL};
    char order[24], *title, key[64];
    const char *vars_order[] = {"order_number", order, NULL};
    struct token_claims claims = {0};
    struct err e = {0};

    snprintf(order, sizeof(order), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(x->req, "order_id")));
    title = outreach_text(loc, "returns.portal.request_title", false, vars_rma);
    start(p, title);
    free(title);
    if (alert_key) {
        char *st = state_text(loc, state);
        const char *vars[] = {"state", st, NULL};
        buf_puts(&p->b, "<p role=\"alert\">");
        put_cat(p, loc, alert_key, vars);
        buf_puts(&p->b, "</p>");
        free(st);
    }
    if (notice_key) {
        buf_puts(&p->b, "<p role=\"status\">");
        put_cat(p, loc, notice_key, NULL);
        buf_puts(&p->b, "</p>");
    }
    buf_puts(&p->b, "<p id=\"order\">");
    put_cat(p, loc, "returns.portal.order", vars_order);
    buf_puts(&p->b, "</p><dl><dt>");
    put_cat(p, loc, "returns.portal.rma", NULL);
    buf_puts(&p->b, "</dt><dd id=\"rma\">");
    put(&p->b, jx_str(x->req, "rma"));
    buf_puts(&p->b, "</dd><dt>");
    put_cat(p, loc, "returns.portal.state", NULL);
    buf_puts(&p->b, "</dt><dd id=\"state\">");
    put_state(p, loc, state);
    buf_puts(&p->b, "</dd><dt>");
    put_cat(p, loc, "returns.portal.resolution", NULL);
    buf_puts(&p->b, "</dt><dd id=\"resolution\">");
    snprintf(key, sizeof(key), "returns.resolution.%s", jx_str(x->req, "resolution"));
    if (outreach_catalogue_get(loc, key))
        put_cat(p, loc, key, NULL);
    else
        put(&p->b, jx_str(x->req, "resolution"));
    buf_puts(&p->b, "</dd></dl>");
    view_lines(p, x, loc);
    /* the photos' link lives as long as this page's */
    if (auth_token_verify(token, "return_view", &claims, &e) == 0)
        view_photos(p, x, loc, claims.exp);
    if (strcmp(state, "approved") == 0) {
        if (jx_str(x->settings, "instructions")[0]) {
            h2(p, loc, "returns.label.instructions");
            buf_puts(&p->b, "<p id=\"instructions\" style=\"white-space:pre-line\">");
            put(&p->b, jx_str(x->settings, "instructions"));
            buf_puts(&p->b, "</p>");
        }
        if (jx_str(x->settings, "return_address")[0]) {
            h2(p, loc, "returns.label.address");
            buf_puts(&p->b, "<address style=\"white-space:pre-line\">");
            put(&p->b, jx_str(x->settings, "return_address"));
            buf_puts(&p->b, "</address>");
        }
    }
    view_history(p, x, loc);
    if (strcmp(state, "requested") == 0 || strcmp(state, "approved") == 0) {
        /* the token in the body is the credential and the CSRF guard */
        buf_printf(&p->b,
                   "<form method=\"post\" action=\"/returns/requests/%" PRId64
                   "/cancel?lang=%s\"><input type=\"hidden\" name=\"token\" value=\"",
                   x->id, loc);
        put(&p->b, token);
        buf_puts(&p->b, "\"><p>");
        put_cat(p, loc, "returns.portal.cancel_explain", NULL);
        buf_puts(&p->b, "</p><button type=\"submit\">");
        put_cat(p, loc, "returns.portal.cancel", NULL);
        buf_puts(&p->b, "</button></form>");
    }
    finish(p, status);
}

/* The page's locale: ?lang=, else the request's own, else Accept-Language. */
static void
view_locale(struct page *p, const struct view *x)
{
    const char *lang = req_query(p->r, "lang");

    p->lang_code = outreach_locale_pick(lang && outreach_locale_match(lang) ? lang
                                        : x && x->locale[0]               ? x->locale
                                                                          : NULL,
                                        req_header(p->r, "Accept-Language"), NULL);
}

static void
view_refused(struct page *p)
{
    char *t;

    view_locale(p, NULL);
    t = outreach_text(p->lang_code, "returns.portal.expired", false, NULL);
    start(p, w(p, "returns.portal.title"));
    buf_puts(&p->b, "<p role=\"alert\">");
    put(&p->b, t);
    buf_puts(&p->b, "</p>");
    free(t);
    finish(p, 403);
}

static void
view_page(struct req *r, const char *token, const char *action)
{
    struct page p = {.r = r};
    struct view x = {.action = action};
    struct token_claims claims;
    struct err e = {0};
    int rc;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    /* the link names one request and its customer: another request, a
     * forged or expired token, or another scope open nothing */
    if (token == NULL || auth_token_verify(token, "return_view", &claims, &e) < 0 ||
        claims.rid != x.id || claims.email[0] == '\0') {
        view_refused(&p);
        return;
    }
    x.shop_id = claims.shop_id;
    p.shop_id = claims.shop_id;
    x.cust.email = claims.email;
    rc = db_tx(view_fn, &x, &e);
    if (rc < 0 && e.kind == ERR_CONFLICT) {
        /* not cancellable any more: the page as it is, saying why */
        struct err e2 = {0};
        x.action = NULL;
        if (db_run(view_fn, &x, &e2) < 0) {
            reply_err(r, &e2);
            goto out;
        }
        view_locale(&p, &x);
        view_render(&p, &x, token, "returns.portal.cannot_cancel", NULL, 409);
        goto out;
    }
    if (rc < 0) {
        reply_err(r, &e);
        goto out;
    }
    if (!x.owned || x.req == NULL) {
        view_refused(&p);
        goto out;
    }
    view_locale(&p, &x);
    view_render(&p, &x, token, NULL, action ? "returns.portal.cancelled_done" : NULL, 200);
out:
    view_clear(&x);
}

void
returns_handle_page_request(struct req *r)
{
    view_page(r, req_query(r, "token"), NULL);
}

void
returns_handle_page_request_cancel(struct req *r)
{
    struct form f = {0};
    struct err e = {0};

    if (form_parse(req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), r->body.data, r->body.len, &f,
                   &e) < 0) {
        reply_err(r, &e);
        return;
    }
    view_page(r, form_value(&f, "token"), "cancel");
    form_free(&f);
}
