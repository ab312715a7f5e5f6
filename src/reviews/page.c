/*
 * page.c - the two pages a customer sees: the review form behind the
 * link in the email, and the unsubscribe confirmation.
 *
 * Server-rendered HTML, small and accessible: one fieldset per product
 * with five labelled radio buttons (keyboard and screen readers work
 * without the script), a title and a text box; a short script posts the
 * answers as JSON to the public API and reports the result in a live
 * region. Every value that came from a shop or a customer is HTML-escaped;
 * the script runs under a Content-Security-Policy nonce, and the page
 * talks to no host but this one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/token.h"
#include "aftersale/mail/templates.h"
#include "aftersale/reviews/handlers.h"
#include "aftersale/reviews/reviews.h"


static const char style[] =
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "color:#1a1a1a;line-height:1.5}fieldset{border:1px solid #ccc;border-radius:.5rem;"
    "margin:1rem 0;padding:1rem}legend{font-weight:600;padding:0 .25rem}"
    ".stars{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0}"
    ".stars label{display:inline-flex;align-items:center;gap:.25rem;cursor:pointer}"
    "input[type=text],textarea{width:100%;box-sizing:border-box;padding:.5rem;margin:.25rem 0;"
    "font:inherit}button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;"
    "background:#7f54b3;color:#fff;cursor:pointer}button:focus,input:focus,textarea:focus{"
    "outline:3px solid #333;outline-offset:2px}#status{margin-top:1rem;font-weight:600}"
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap}";

static void
put_escaped(struct buf *b, const char *s)
{
    char *esc = mail_html_escape(s ? s : "");
    buf_puts(b, esc);
    free(esc);
}

static void
reply_html(struct req *r, int status, struct buf *b, const char *nonce)
{
    char csp[256];
    size_t len = b->len;

    snprintf(csp, sizeof(csp),
             "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-%s'; "
             "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
             nonce ? nonce : "none");
    req_add_header(r, "Content-Security-Policy", csp);
    req_add_header(r, "Referrer-Policy", "no-referrer");
    req_add_header(r, "Cache-Control", "no-store");
    reply_text_take(r, status, "text/html; charset=utf-8", buf_steal(b), len);
}

static void
page_start(struct buf *b, const char *title)
{
    buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<meta name=\"robots\" content=\"noindex\"><title>");
    put_escaped(b, title);
    buf_printf(b, "</title><style>%s</style></head><body><main>", style);
}

static void
message_page(struct req *r, int status, const char *title, const char *text)
{
    struct buf b = {0};

    page_start(&b, title);
    buf_puts(&b, "<h1>");
    put_escaped(&b, title);
    buf_puts(&b, "</h1><p>");
    put_escaped(&b, text);
    buf_puts(&b, "</p></main></body></html>\n");
    reply_html(r, status, &b, NULL);
}

struct page_ctx {
    struct token_claims claims;
    json_t *req;
    char shop_name[256];
};

static int
page_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_ctx *x = ctx;
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;

    if (reviews_request_json(c, x->claims.shop_id, x->claims.rid, &x->req, e) < 0)
        return -1;
    DB_I64(shop, x->claims.shop_id);
    res = db_exec(c, "reviews_page_shop", "SELECT name FROM shops WHERE id = $1", 1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

void
reviews_handle_page(struct req *r)
{
    const char *token = req_query(r, "token");
    const char *want_product = req_query(r, "product"), *want_rating = req_query(r, "rating");
    struct page_ctx x = {0};
    struct err e = {0};
    struct buf b = {0};
    char nonce[25], title[320];
    const char *status;
    json_t *p;
    size_t i;
    int open = 0;

    if (token == NULL || auth_token_verify(token, "review", &x.claims, &e) < 0 ||
        x.claims.rid <= 0) {
        message_page(r, e.kind == ERR_UNAVAILABLE ? 503 : 401, "This link does not work",
                     "The link is incomplete, has expired or was changed. Please use the "
                     "latest email from the shop.");
        return;
    }
    if (db_run(page_fn, &x, &e) < 0 || x.req == NULL) {
        message_page(r, x.req == NULL && e.kind != ERR_UNAVAILABLE ? 404 : 503,
                     "Review request not found", "This review request is no longer available.");
        json_decref(x.req);
        return;
    }
    status = json_string_value(json_object_get(x.req, "status"));
    if (strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0 ||
        strcmp(status, "unsubscribed") == 0) {
        message_page(r, 410, "This review request has closed",
                     "Thank you all the same. Reviews can no longer be sent with this link.");
        json_decref(x.req);
        return;
    }
    crypto_random_alnum(nonce, 24);
    snprintf(title, sizeof(title), "Review your order from %s", x.shop_name);
    page_start(&b, title);
    buf_puts(&b, "<h1>");
    put_escaped(&b, title);
    buf_puts(&b, "</h1><p>Hello ");
    put_escaped(&b, json_string_value(json_object_get(x.req, "first_name")));
    buf_puts(&b, ", how did you like what you bought? Choose the stars that fit and, if you "
                 "like, say why.</p><form id=\"reviews\" novalidate>");
    json_array_foreach(json_object_get(x.req, "products"), i, p) {
        json_int_t pid = json_integer_value(json_object_get(p, "product_id"));
        char pid_s[24];
        bool wanted = want_product && strcmp(want_product, (DB_I64(pid_s, pid), pid_s)) == 0;

        DB_I64(pid_s, pid);
        buf_printf(&b, "<fieldset data-product=\"%s\"><legend>", pid_s);
        put_escaped(&b, json_string_value(json_object_get(p, "name")));
        buf_puts(&b, "</legend>");
        if (json_is_true(json_object_get(p, "reviewed"))) {
            buf_puts(&b, "<p>Reviewed: thank you!</p></fieldset>");
            continue;
        }
        open++;
        buf_puts(&b, "<div class=\"stars\" role=\"radiogroup\" aria-label=\"Rating\">");
        for (int s = 1; s <= 5; s++)
            buf_printf(&b,
                       "<label><input type=\"radio\" name=\"rating-%s\" value=\"%d\"%s>"
                       "<span aria-hidden=\"true\">%.*s</span><span class=\"sr\">%d star%s</span>"
                       "</label>",
                       pid_s, s,
                       wanted && want_rating && want_rating[0] == '0' + s && !want_rating[1]
                           ? " checked"
                           : "",
                       s * 3, "\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85", s,
                       s == 1 ? "" : "s");
        buf_printf(&b,
                   "</div><label for=\"title-%s\">Title (optional)</label>"
                   "<input type=\"text\" id=\"title-%s\" maxlength=\"200\">"
                   "<label for=\"body-%s\">Your review (optional)</label>"
                   "<textarea id=\"body-%s\" rows=\"4\" maxlength=\"5000\"></textarea></fieldset>",
                   pid_s, pid_s, pid_s, pid_s);
    }
    if (open > 0)
        buf_puts(&b, "<button type=\"submit\">Send my review</button>");
    else
        buf_puts(&b, "<p>Every product of this order has been reviewed. Thank you!</p>");
    buf_puts(&b, "</form><p id=\"status\" role=\"status\" aria-live=\"polite\"></p>");
    buf_printf(&b, "<script nonce=\"%s\">\n", nonce);
    buf_puts(&b, "const token = ");
    {
        /* JSON-encode the token for the script (it is base64url and dots,
         * but encoding keeps the rule simple: nothing raw goes in). */
        json_t *t = json_string(token);
        char *s = json_dumps(t, JSON_ENCODE_ANY | JSON_ESCAPE_SLASH);
        buf_puts(&b, s ? s : "\"\"");
        free(s);
        json_decref(t);
    }
    buf_puts(&b,
             ";\n"
             "document.getElementById('reviews').addEventListener('submit', async (ev) => {\n"
             "  ev.preventDefault();\n"
             "  const out = document.getElementById('status');\n"
             "  const items = [];\n"
             "  for (const fs of document.querySelectorAll('fieldset[data-product]')) {\n"
             "    const id = fs.dataset.product;\n"
             "    const r = fs.querySelector('input[name=\"rating-' + id + '\"]:checked');\n"
             "    if (!r) continue;\n"
             "    items.push({product_id: Number(id), rating: Number(r.value),\n"
             "      title: (document.getElementById('title-' + id) || {}).value || '',\n"
             "      body: (document.getElementById('body-' + id) || {}).value || ''});\n"
             "  }\n"
             "  if (items.length === 0) { out.textContent = 'Choose a rating first.'; return; }\n"
             "  const res = await fetch('/v1/public/review-requests/' + encodeURIComponent(token)"
             " + '/reviews', {method: 'POST', headers: {'Content-Type': 'application/json'},\n"
             "    body: JSON.stringify(items)});\n"
             "  if (res.status === 201) {\n"
             "    out.textContent = 'Thank you! Your review was sent.';\n"
             "    document.querySelector('#reviews button').disabled = true;\n"
             "  } else {\n"
             "    let msg = 'Sorry, that did not work.';\n"
             "    try { const p = await res.json(); if (p.detail) msg += ' ' + p.detail; } catch (e) {}\n"
             "    out.textContent = msg;\n"
             "  }\n"
             "});\n</script></main></body></html>\n");
    json_decref(x.req);
    reply_html(r, 200, &b, nonce);
}

/* ---- unsubscribe -------------------------------------------------------------- */

struct unsub_ctx {
    struct token_claims claims;
    char shop_name[256];
};

static int
unsubscribe_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct unsub_ctx *x = ctx;
    char shop[24];
    const char *params[2] = {shop, x->claims.email};
    PGresult *res;

    DB_I64(shop, x->claims.shop_id);
    if (db_exec_cmd(c, "reviews_unsubscribe",
                    "INSERT INTO unsubscribes (shop_id, email) VALUES ($1, lower($2))"
                    " ON CONFLICT DO NOTHING",
                    2, params, e) < 0)
        return -1;
    res = db_exec(c, "reviews_page_shop", "SELECT name FROM shops WHERE id = $1", 1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int
unsub_token_or_page(struct req *r, struct unsub_ctx *x)
{
    struct err e = {0};
    const char *token = req_query(r, "token");

    if (token == NULL || auth_token_verify(token, "unsubscribe", &x->claims, &e) < 0 ||
        x->claims.email[0] == '\0') {
        message_page(r, e.kind == ERR_UNAVAILABLE ? 503 : 401, "This link does not work",
                     "The unsubscribe link is incomplete or was changed.");
        return -1;
    }
    return 0;
}

void
reviews_handle_unsubscribe_page(struct req *r)
{
    struct unsub_ctx x = {0};
    struct buf b = {0};
    const char *token = req_query(r, "token");

    if (unsub_token_or_page(r, &x) < 0)
        return;
    page_start(&b, "Unsubscribe");
    buf_puts(&b, "<h1>Unsubscribe</h1><p>Stop review requests to <strong>");
    put_escaped(&b, x.claims.email);
    buf_puts(&b, "</strong>?</p><form method=\"post\" action=\"/unsubscribe?token=");
    put_escaped(&b, token);
    buf_puts(&b, "\"><button type=\"submit\">Unsubscribe</button></form></main></body></html>\n");
    reply_html(r, 200, &b, NULL);
}

void
reviews_handle_unsubscribe(struct req *r)
{
    struct unsub_ctx x = {0};
    struct err e = {0};
    char text[400];

    /* One-click (RFC 8058) posts "List-Unsubscribe=One-Click"; the form
     * posts nothing. Either way the token is the whole authority. */
    if (unsub_token_or_page(r, &x) < 0)
        return;
    if (db_tx(unsubscribe_fn, &x, &e) < 0) {
        message_page(r, 503, "Please try again", "We could not record that just now.");
        return;
    }
    snprintf(text, sizeof(text), "%s will send no more review requests to this address.",
             x.shop_name[0] ? x.shop_name : "The shop");
    message_page(r, 200, "You are unsubscribed", text);
}
