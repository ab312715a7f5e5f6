/*
 * page.c - the returns portal: a guest finds their order with its number
 * and billing email, picks what to return, and gets an RMA number.
 *
 *   GET  /returns?shop=ID[&lang=de]       the look-up form
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
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/returns/handlers.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"
#include "aftersale/shops/shops.h"

#define LOOKUP_WINDOW "15 minutes"
#define LOOKUPS_PER_ADDRESS 10
#define LOOKUPS_PER_ORDER 5
#define TOKEN_TTL_S 1800

/* ---- words: en and de ------------------------------------------------- */

enum word {
    W_TITLE,
    W_INTRO,
    W_ORDER,
    W_EMAIL,
    W_FIND,
    W_NOT_FOUND,
    W_TOO_MANY,
    W_CHOOSE,
    W_QTY,
    W_REASON,
    W_NOTE,
    W_RESOLUTION,
    W_SEND,
    W_DONE,
    W_DONE_TEXT,
    W_INSTRUCTIONS,
    W_ADDRESS,
    W_ERROR,
    W_EXPIRED,
    W_NOTHING,
    W_REFUND,
    W_CREDIT,
    W_EXCHANGE,
    W_UNKNOWN_SHOP,
    W_COUNT
};

static const char *const words[2][W_COUNT] = {
    {"Return items",
     "Enter your order number and the email address of the order.",
     "Order number",
     "Billing email",
     "Find my order",
     "We could not find an order with this number and email address, or it cannot be returned "
     "online. Please check both and try again.",
     "Too many attempts. Please wait a few minutes and try again.",
     "Choose what to return",
     "Quantity to return",
     "Reason",
     "Note (optional)",
     "What would you like?",
     "Send my return request",
     "Return requested",
     "Your return number is",
     "How to send the items back",
     "Return address",
     "Your request could not be sent",
     "This page has expired. Please look up your order again.",
     "Choose a quantity for at least one item.",
     "A refund",
     "Store credit",
     "An exchange (the shop will contact you)",
     "This shop has no returns portal."},
    {"Artikel zur\xc3\xbc"
     "cksenden",
     "Geben Sie Ihre Bestellnummer und die E-Mail-Adresse der Bestellung ein.",
     "Bestellnummer",
     "E-Mail-Adresse",
     "Bestellung finden",
     "Wir konnten keine Bestellung mit dieser Nummer und E-Mail-Adresse finden, oder sie kann "
     "nicht online zur\xc3\xbc"
     "ckgesendet werden. Bitte pr\xc3\xbc"
     "fen Sie beides.",
     "Zu viele Versuche. Bitte warten Sie einige Minuten.",
     "W\xc3\xa4hlen Sie, was Sie zur\xc3\xbc"
     "cksenden",
     "Menge",
     "Grund",
     "Anmerkung (optional)",
     "Was m\xc3\xb6"
     "chten Sie?",
     "R\xc3\xbc"
     "cksendung anfragen",
     "R\xc3\xbc"
     "cksendung angefragt",
     "Ihre R\xc3\xbc"
     "cksendenummer ist",
     "So senden Sie die Artikel zur\xc3\xbc"
     "ck",
     "R\xc3\xbc"
     "cksendeadresse",
     "Ihre Anfrage konnte nicht gesendet werden",
     "Diese Seite ist abgelaufen. Bitte suchen Sie Ihre Bestellung erneut.",
     "W\xc3\xa4hlen Sie f\xc3\xbc"
     "r mindestens einen Artikel eine Menge.",
     "Eine Erstattung",
     "Ein Guthaben",
     "Einen Umtausch (der Shop meldet sich)",
     "Dieser Shop hat kein R\xc3\xbc"
     "ckgabeportal."},
};

struct page {
    struct req *r;
    int64_t shop_id;
    int lang; /* 0 en, 1 de */
    const char *lang_code;
    struct buf b;
};

static const char *
w(const struct page *p, enum word k)
{
    return words[p->lang][k];
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
                    "[role=alert]{font-weight:600}</style></head><body><main><h1>");
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
                   "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
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
    put(&p->b, w(p, W_INTRO));
    buf_printf(&p->b,
               "</p><form method=\"post\" action=\"/returns?shop=%" PRId64 "&amp;lang=%s\">"
               "<label for=\"order\">",
               p->shop_id, p->lang_code);
    put(&p->b, w(p, W_ORDER));
    buf_puts(&p->b, "</label><input id=\"order\" name=\"order\" inputmode=\"numeric\" required "
                    "autocomplete=\"off\" value=\"");
    put(&p->b, order ? order : "");
    buf_puts(&p->b, "\"><label for=\"email\">");
    put(&p->b, w(p, W_EMAIL));
    buf_puts(&p->b, "</label><input id=\"email\" name=\"email\" type=\"email\" required "
                    "autocomplete=\"email\" value=\"");
    put(&p->b, email ? email : "");
    buf_puts(&p->b, "\"><button type=\"submit\">");
    put(&p->b, w(p, W_FIND));
    buf_puts(&p->b, "</button></form>");
}

/* ---- forms ---------------------------------------------------------------- */

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The decoded value of `key` in an application/x-www-form-urlencoded body:
 * a new string, or NULL when absent. */
static char *
form_get(const char *body, size_t len, const char *key)
{
    size_t klen = strlen(key), i = 0;

    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > klen && strncmp(body + i, key, klen) == 0 && body[i + klen] == '=') {
            char *out = xmalloc(end - i), *o = out;
            for (size_t j = i + klen + 1; j < end; j++) {
                if (body[j] == '+') {
                    *o++ = ' ';
                } else if (body[j] == '%' && j + 2 < end && hexval(body[j + 1]) >= 0 &&
                           hexval(body[j + 2]) >= 0) {
                    *o++ = (char)(hexval(body[j + 1]) * 16 + hexval(body[j + 2]));
                    j += 2;
                } else {
                    *o++ = body[j];
                }
            }
            *o = '\0';
            return out;
        }
        i = end + 1;
    }
    return NULL;
}

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
    return order_fn(c, x, e);
}

static void
lookup_clear(struct lookup *x)
{
    json_decref(x->settings);
    json_decref(x->lines);
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
    }
}

/* ---- the pages ------------------------------------------------------------------ */

static int
page_init(struct page *p, struct req *r)
{
    const char *shop = req_query(r, "shop"), *lang = req_query(r, "lang");
    const char *accept = req_header(r, "Accept-Language");
    char *end = NULL;

    p->r = r;
    p->shop_id = shop ? strtoll(shop, &end, 10) : 0;
    p->lang = (lang && strcmp(lang, "de") == 0) ||
              (lang == NULL && accept && strncasecmp(accept, "de", 2) == 0);
    p->lang_code = p->lang ? "de" : "en";
    if (shop == NULL || *shop == '\0' || *end != '\0' || p->shop_id <= 0) {
        p->shop_id = 0;
        start(p, w(p, W_TITLE));
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, w(p, W_UNKNOWN_SHOP));
        buf_puts(&p->b, "</p>");
        finish(p, 404);
        return -1;
    }
    return 0;
}

void
returns_handle_page(struct req *r)
{
    struct page p = {0};

    if (page_init(&p, r) < 0)
        return;
    start(&p, w(&p, W_TITLE));
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

static void
choose_form(struct page *p, const struct lookup *x, const char *token)
{
    static const char *const kinds[] = {"refund", "store_credit", "exchange"};
    static const enum word kind_words[] = {W_REFUND, W_CREDIT, W_EXCHANGE};
    const json_t *res = json_object_get(x->settings, "resolutions");
    size_t i, k;
    json_t *line, *reason;
    bool first = true;

    buf_printf(&p->b,
               "<form method=\"post\" action=\"/returns?shop=%" PRId64 "&amp;lang=%s\">"
               "<input type=\"hidden\" name=\"token\" value=\"",
               p->shop_id, p->lang_code);
    put(&p->b, token);
    buf_printf(&p->b, "\"><input type=\"hidden\" name=\"order\" value=\"%" PRId64 "\"><h2>",
               x->order_id);
    put(&p->b, w(p, W_CHOOSE));
    buf_puts(&p->b, "</h2>");
    json_array_foreach(x->lines, i, line)
    {
        int64_t id = json_integer_value(json_object_get(line, "line_item_id"));
        buf_puts(&p->b, "<fieldset><legend>");
        put(&p->b, jx_str(line, "name"));
        buf_printf(&p->b, "</legend><label for=\"q%" PRId64 "\">", id);
        put(&p->b, w(p, W_QTY));
        buf_printf(&p->b, "</label><select id=\"q%" PRId64 "\" name=\"qty_%" PRId64 "\">", id, id);
        for (json_int_t q = 0; q <= json_integer_value(json_object_get(line, "left")); q++)
            buf_printf(&p->b, "<option>%" JSON_INTEGER_FORMAT "</option>", q);
        buf_printf(&p->b, "</select><label for=\"r%" PRId64 "\">", id);
        put(&p->b, w(p, W_REASON));
        buf_printf(&p->b, "</label><select id=\"r%" PRId64 "\" name=\"reason_%" PRId64 "\">", id,
                   id);
        json_array_foreach(json_object_get(x->settings, "reasons"), k, reason)
        {
            buf_puts(&p->b, "<option value=\"");
            put(&p->b, jx_str(reason, "code"));
            buf_puts(&p->b, "\">");
            put(&p->b, label_of(p, reason));
            buf_puts(&p->b, "</option>");
        }
        buf_printf(&p->b, "</select><label for=\"n%" PRId64 "\">", id);
        put(&p->b, w(p, W_NOTE));
        buf_printf(&p->b,
                   "</label><textarea id=\"n%" PRId64 "\" name=\"note_%" PRId64
                   "\" rows=\"2\" maxlength=\"2000\"></textarea></fieldset>",
                   id, id);
    }
    buf_puts(&p->b, "<fieldset><legend>");
    put(&p->b, w(p, W_RESOLUTION));
    buf_puts(&p->b, "</legend>");
    for (k = 0; k < 3; k++) {
        /* an exchange needs a replacement chosen with the shop: offered
         * here only as a wish when the shop offers exchanges, never as a
         * default */
        if (!json_is_true(json_object_get(res, kinds[k])) || k == 2)
            continue;
        buf_printf(&p->b, "<label><input type=\"radio\" name=\"resolution\" value=\"%s\"%s> ",
                   kinds[k], first ? " checked" : "");
        put(&p->b, w(p, kind_words[k]));
        buf_puts(&p->b, "</label>");
        first = false;
    }
    buf_puts(&p->b, "</fieldset><button type=\"submit\">");
    put(&p->b, w(p, W_SEND));
    buf_puts(&p->b, "</button></form>");
}

static void
lookup_page(struct page *p, const char *body, size_t len)
{
    char *order = form_get(body, len, "order"), *email = form_get(body, len, "email");
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
    start(p, w(p, W_TITLE));
    if (!x.shop_found) {
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, w(p, W_UNKNOWN_SHOP));
        buf_puts(&p->b, "</p>");
        finish(p, 404);
        goto out;
    }
    if (x.limited) {
        req_add_header(p->r, "Retry-After", "900");
        lookup_form(p, w(p, W_TOO_MANY), order, email);
        finish(p, 429);
        goto out;
    }
    if (!x.found || x.token_secret == NULL) {
        lookup_form(p, w(p, W_NOT_FOUND), order, email);
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
    choose_form(p, &x, token);
    finish(p, 200);
out:
    free(token);
    free(order);
    free(email);
    lookup_clear(&x);
}

struct submit {
    int64_t shop_id;
    json_t *body;
    struct returns_customer cust;
    json_t *out, *settings;
    const char *locale; /* the page's language: the request's messages are written in it */
};

static int
submit_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct submit *s = ctx;

    json_decref(s->out);
    s->out = NULL;
    json_decref(s->settings);
    s->settings = NULL;
    if (returns_store_create(c, s->shop_id, s->body, &s->cust, "customer", &s->out, e) < 0 ||
        returns_store_set_locale(c, s->shop_id, json_integer_value(json_object_get(s->out, "id")),
                                 s->locale, e) < 0)
        return -1;
    return returns_settings_load(c, s->shop_id, &s->settings, e);
}

/* Build the request from the form's qty_<line>, reason_<line> and
 * note_<line> fields. */
static json_t *
request_from_form(const char *body, size_t len, int64_t order_id, const char *resolution)
{
    json_t *lines = json_array();
    size_t i = 0;

    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > 4 && strncmp(body + i, "qty_", 4) == 0) {
            long long id = strtoll(body + i + 4, NULL, 10);
            char key[48], *q, *reason, *note;
            snprintf(key, sizeof(key), "qty_%lld", id);
            q = form_get(body, len, key);
            snprintf(key, sizeof(key), "reason_%lld", id);
            reason = form_get(body, len, key);
            snprintf(key, sizeof(key), "note_%lld", id);
            note = form_get(body, len, key);
            if (q && atoi(q) > 0 && id > 0)
                json_array_append_new(lines,
                                      json_pack("{s:I, s:i, s:s, s:s}", "line_item_id",
                                                (json_int_t)id, "quantity", atoi(q), "reason",
                                                reason ? reason : "", "note", note ? note : ""));
            free(q);
            free(reason);
            free(note);
        }
        i = end + 1;
    }
    return json_pack("{s:I, s:s, s:o}", "order_id", (json_int_t)order_id, "resolution",
                     resolution ? resolution : "refund", "lines", lines);
}

static void
submit_page(struct page *p, const char *body, size_t len, const char *token)
{
    char *order = form_get(body, len, "order"), *resolution = form_get(body, len, "resolution");
    struct token_claims claims;
    struct submit s = {0};
    struct err e = {0};

    if (auth_token_verify(token, "returns", &claims, &e) < 0 || claims.shop_id != p->shop_id ||
        claims.email[0] == '\0') {
        start(p, w(p, W_TITLE));
        lookup_form(p, w(p, W_EXPIRED), NULL, NULL);
        finish(p, 200);
        goto out;
    }
    s.shop_id = p->shop_id;
    s.locale = p->lang_code;
    s.cust.email = claims.email;
    s.body = request_from_form(body, len, order ? strtoll(order, NULL, 10) : 0, resolution);
    if (json_array_size(json_object_get(s.body, "lines")) == 0) {
        start(p, w(p, W_ERROR));
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, w(p, W_NOTHING));
        buf_puts(&p->b, "</p>");
        finish(p, 422);
        goto out;
    }
    if (returns_categories_ready(s.shop_id, s.body, &s.cust, &e) < 0 ||
        db_tx(submit_fn, &s, &e) < 0) {
        if (e.kind == ERR_UNAVAILABLE && strncmp(e.field, "lines[", 6) == 0) {
            /* Categories not known yet (returns_categories_ready): retryable. */
            start(p, w(p, W_ERROR));
            buf_puts(&p->b, "<p role=\"alert\">");
            put(&p->b, e.detail);
            buf_puts(&p->b, "</p>");
            req_add_header(p->r, "Retry-After", RETURNS_CATEGORIES_RETRY_S);
            finish(p, 503);
            goto out;
        }
        if (e.kind != ERR_INVALID && e.kind != ERR_CONFLICT) {
            reply_err(p->r, &e);
            goto out;
        }
        start(p, w(p, W_ERROR));
        buf_puts(&p->b, "<p role=\"alert\">");
        put(&p->b, e.detail);
        buf_puts(&p->b, "</p>");
        finish(p, e.kind == ERR_CONFLICT ? 409 : 422);
        goto out;
    }
    start(p, w(p, W_DONE));
    buf_puts(&p->b, "<p>");
    put(&p->b, w(p, W_DONE_TEXT));
    buf_puts(&p->b, " <strong id=\"rma\">");
    put(&p->b, jx_str(s.out, "rma"));
    buf_puts(&p->b, "</strong>.</p>");
    if (jx_str(s.settings, "instructions")[0]) {
        buf_puts(&p->b, "<h2>");
        put(&p->b, w(p, W_INSTRUCTIONS));
        buf_puts(&p->b, "</h2><p>");
        put(&p->b, jx_str(s.settings, "instructions"));
        buf_puts(&p->b, "</p>");
    }
    if (jx_str(s.settings, "return_address")[0]) {
        buf_puts(&p->b, "<h2>");
        put(&p->b, w(p, W_ADDRESS));
        buf_puts(&p->b, "</h2><address style=\"white-space:pre-line\">");
        put(&p->b, jx_str(s.settings, "return_address"));
        buf_puts(&p->b, "</address>");
    }
    finish(p, 201);
out:
    free(order);
    free(resolution);
    json_decref(s.body);
    json_decref(s.out);
    json_decref(s.settings);
}

void
returns_handle_page_post(struct req *r)
{
    struct page p = {0};
    const char *data = r->body.data ? r->body.data : "";
    char *token;

    if (page_init(&p, r) < 0)
        return;
    token = form_get(data, r->body.len, "token");
    if (token != NULL)
        submit_page(&p, data, r->body.len, token);
    else
        lookup_page(&p, data, r->body.len);
    free(token);
}
