/*
 * page.c - the review form behind the link in the email. (The frame of
 * the page, its brand and headers are the outreach layer's, as is the
 * unsubscribe page; every word comes from the locale's catalogue.)
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
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/token.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/page.h"
#include "aftersale/reviews/handlers.h"
#include "aftersale/reviews/reviews.h"


struct page_ctx {
    struct token_claims claims;
    json_t *req;
    struct outreach_brand brand;
    char shop_name[256];
    char locale[16]; /* the review settings' locale, "" = the shop's default */
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
    res = db_exec(c, "reviews_page_shop",
                  "SELECT s.name, coalesce(r.settings ->> 'locale', '') FROM shops s"
                  " LEFT JOIN review_settings r ON r.shop_id = s.id WHERE s.id = $1",
                  1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->locale, sizeof(x->locale), "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return outreach_brand_load(c, x->claims.shop_id, &x->brand, e);
}

/* JSON-encode a string into the page's script (nothing raw goes in). */
static void
put_js_string(struct buf *b, const char *s)
{
    json_t *t = json_string(s ? s : "");
    char *enc = json_dumps(t, JSON_ENCODE_ANY | JSON_ESCAPE_SLASH);

    buf_puts(b, enc ? enc : "\"\"");
    free(enc);
    json_decref(t);
}

/* A catalogue text as a JSON string in the script. */
static void
put_js_text(struct buf *b, const char *locale, const char *key)
{
    put_js_string(b, outreach_catalogue_get(locale, key));
}

void
reviews_handle_page(struct req *r)
{
    const char *token = req_query(r, "token");
    const char *want_product = req_query(r, "product"), *want_rating = req_query(r, "rating");
    struct page_ctx x = {0};
    struct err e = {0};
    struct buf b = {0};
    char nonce[25];
    char *title = NULL;
    const char *status, *loc;
    json_t *p;
    size_t i;
    int open = 0;

    outreach_brand_default(&x.brand);
    if (token == NULL || auth_token_verify(token, "review", &x.claims, &e) < 0 ||
        x.claims.rid <= 0) {
        outreach_page_message(r, e.kind == ERR_UNAVAILABLE ? 503 : 401,
                              outreach_page_locale(r, NULL, &x.brand), "page.link_broken.title",
                              "page.link_broken.text", NULL, &x.brand);
        return;
    }
    if (db_run(page_fn, &x, &e) < 0 || x.req == NULL) {
        outreach_page_message(r, x.req == NULL && e.kind != ERR_UNAVAILABLE ? 404 : 503,
                              outreach_page_locale(r, NULL, &x.brand),
                              "review.page.not_found.title", "review.page.not_found.text", NULL,
                              &x.brand);
        json_decref(x.req);
        return;
    }
    /* The customer's locale when the order said it, or the review
     * settings' when the merchant chose one (the email was written in it),
     * else the browser's, else the shop's default. */
    {
        /* The customer's own (from the order), else the review settings'. */
        const char *own = jx_str(x.req, "locale");
        loc = outreach_page_locale(r, own ? own : x.locale[0] ? x.locale : NULL, &x.brand);
    }
    status = json_string_value(json_object_get(x.req, "status"));
    if (strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0 ||
        strcmp(status, "unsubscribed") == 0) {
        outreach_page_message(r, 410, loc, "review.page.closed.title", "review.page.closed.text",
                              NULL, &x.brand);
        json_decref(x.req);
        return;
    }
    crypto_random_alnum(nonce, 24);
    {
        const char *vars[] = {"shop_name", x.shop_name, "first_name",
                              json_string_value(json_object_get(x.req, "first_name")), NULL};
        title = outreach_text(loc, "review.page.title", false, vars);
        outreach_page_start(&b, loc, title, &x.brand);
        buf_puts(&b, "<h1>");
        outreach_page_escaped(&b, title);
        buf_puts(&b, "</h1><p>");
        outreach_page_text(&b, loc, "review.page.intro", vars);
        buf_puts(&b, "</p><form id=\"reviews\" novalidate>");
    }
    json_array_foreach(json_object_get(x.req, "products"), i, p) {
        json_int_t pid = json_integer_value(json_object_get(p, "product_id"));
        char pid_s[24];
        bool wanted = want_product && strcmp(want_product, (DB_I64(pid_s, pid), pid_s)) == 0;

        DB_I64(pid_s, pid);
        buf_printf(&b, "<fieldset data-product=\"%s\"><legend>", pid_s);
        outreach_page_escaped(&b, json_string_value(json_object_get(p, "name")));
        buf_puts(&b, "</legend>");
        if (json_is_true(json_object_get(p, "reviewed"))) {
            buf_puts(&b, "<p>");
            outreach_page_text(&b, loc, "review.page.reviewed", NULL);
            buf_puts(&b, "</p></fieldset>");
            continue;
        }
        open++;
        buf_puts(&b, "<div class=\"stars\" role=\"radiogroup\" aria-label=\"");
        outreach_page_text(&b, loc, "review.page.rating", NULL);
        buf_puts(&b, "\">");
        for (int s = 1; s <= 5; s++) {
            char key[32];
            snprintf(key, sizeof(key), "review.page.star_%d", s);
            buf_printf(&b,
                       "<label><input type=\"radio\" name=\"rating-%s\" value=\"%d\"%s>"
                       "<span aria-hidden=\"true\">%.*s</span><span class=\"sr\">",
                       pid_s, s,
                       wanted && want_rating && want_rating[0] == '0' + s && !want_rating[1]
                           ? " checked"
                           : "",
                       s * 3, "\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85");
            outreach_page_text(&b, loc, key, NULL);
            buf_puts(&b, "</span></label>");
        }
        buf_printf(&b, "</div><label for=\"title-%s\">", pid_s);
        outreach_page_text(&b, loc, "review.page.title_label", NULL);
        buf_printf(&b,
                   "</label><input type=\"text\" id=\"title-%s\" maxlength=\"200\">"
                   "<label for=\"body-%s\">",
                   pid_s, pid_s);
        outreach_page_text(&b, loc, "review.page.body_label", NULL);
        buf_printf(&b,
                   "</label><textarea id=\"body-%s\" rows=\"4\" maxlength=\"5000\"></textarea>"
                   "</fieldset>",
                   pid_s);
    }
    if (open > 0) {
        buf_puts(&b, "<button type=\"submit\">");
        outreach_page_text(&b, loc, "review.page.submit", NULL);
        buf_puts(&b, "</button>");
    } else {
        buf_puts(&b, "<p>");
        outreach_page_text(&b, loc, "review.page.all_reviewed", NULL);
        buf_puts(&b, "</p>");
    }
    buf_puts(&b, "</form><p id=\"status\" role=\"status\" aria-live=\"polite\"></p>");
    buf_printf(&b, "<script nonce=\"%s\">\n", nonce);
    /* JSON-encoded (the token is base64url and dots, but encoding keeps
     * the rule simple: nothing raw goes into the script). */
    buf_puts(&b, "const token = ");
    put_js_string(&b, token);
    buf_puts(&b, ";\nconst t = {choose: ");
    put_js_text(&b, loc, "review.page.choose_rating");
    buf_puts(&b, ", sent: ");
    put_js_text(&b, loc, "review.page.sent");
    buf_puts(&b, ", failed: ");
    put_js_text(&b, loc, "review.page.failed");
    buf_puts(&b,
             "};\n"
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
             "  if (items.length === 0) { out.textContent = t.choose; return; }\n"
             "  const res = await fetch('/v1/public/review-requests/' + encodeURIComponent(token)"
             " + '/reviews', {method: 'POST', headers: {'Content-Type': 'application/json'},\n"
             "    body: JSON.stringify(items)});\n"
             "  if (res.status === 201) {\n"
             "    out.textContent = t.sent;\n"
             "    document.querySelector('#reviews button').disabled = true;\n"
             "  } else {\n"
             "    let msg = t.failed;\n"
             "    try { const p = await res.json(); if (p.detail) msg += ' ' + p.detail; } catch (e) {}\n"
             "    out.textContent = msg;\n"
             "  }\n"
             "});\n</script>");
    outreach_page_end(&b);
    free(title);
    json_decref(x.req);
    outreach_page_reply(r, 200, &b, nonce, &x.brand);
}
