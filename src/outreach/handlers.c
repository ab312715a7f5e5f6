/*
 * handlers.c - the outreach routes: GET/PUT /v1/messaging/settings (the
 * shop's one settings document for every programme that writes to
 * customers) and the unsubscribe page (GET shows a confirmation, POST
 * unsubscribes: the form, and RFC 8058 one-click from List-Unsubscribe).
 *
 * The settings document goes back as it was read: GET, change a field,
 * PUT the whole document; the computed "locales" is accepted and ignored
 * on write, any other unknown field is a 422 naming it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/http/auth.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/handlers.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/page.h"

/* ---- settings -------------------------------------------------------------- */

struct settings_ctx {
    int64_t shop_id;
    const json_t *patch; /* NULL: read only */
    json_t *out;
};

static int
settings_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct settings_ctx *x = ctx;
    struct outreach_settings s;

    json_decref(x->out);
    x->out = NULL;
    if (outreach_settings_load(c, x->shop_id, &s, e) < 0)
        return -1;
    if (x->patch != NULL && (outreach_settings_from_json(&s, x->patch, e) < 0 ||
                             outreach_settings_save(c, x->shop_id, &s, e) < 0))
        return -1;
    x->out = outreach_settings_to_json(&s);
    return 0;
}

void
outreach_handle_settings_get(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (db_tx(settings_fn, &x, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, x.out);
}

void
outreach_handle_settings_put(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    json_t *body = jx_without_read_only(r->json, outreach_settings_read_only);

    x.patch = body;
    if (db_tx(settings_fn, &x, &e) < 0) {
        json_decref(x.out);
        reply_err(r, &e);
    } else {
        reply_json_take(r, 200, x.out);
    }
    json_decref(body);
}

/* ---- unsubscribe ------------------------------------------------------------ */

struct unsub_ctx {
    struct token_claims claims;
    struct outreach_brand brand;
    const char *from; /* the programme whose message was clicked, or NULL */
    bool write;
};

/* Where the click came from (informational: one unsubscribe stops every
 * marketing programme whatever it says). Unsigned, so a fixed list. */
static const char *
from_programme(struct req *r)
{
    static const char *const known[] = {"reviews", "surveys", "returns"};
    const char *f = req_query(r, "from");

    for (size_t i = 0; f != NULL && i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(f, known[i]) == 0)
            return known[i];
    return NULL;
}

static int
unsubscribe_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct unsub_ctx *x = ctx;

    if (x->write && outreach_unsubscribe(c, x->claims.shop_id, x->claims.email, x->from, e) < 0)
        return -1;
    return outreach_brand_load(c, x->claims.shop_id, &x->brand, e);
}

/* 0 with the claims, or -1 with the page sent. */
static int
unsub_token_or_page(struct req *r, struct unsub_ctx *x)
{
    struct err e = {0};
    const char *token = req_query(r, "token");

    outreach_brand_default(&x->brand);
    if (token == NULL || auth_token_verify(token, "unsubscribe", &x->claims, &e) < 0 ||
        x->claims.email[0] == '\0') {
        outreach_page_message(r, e.kind == ERR_UNAVAILABLE ? 503 : 401,
                              outreach_page_locale(r, NULL, &x->brand), "page.link_broken.title",
                              "unsubscribe.link_broken", NULL, &x->brand);
        return -1;
    }
    return 0;
}

void
outreach_handle_unsubscribe_page(struct req *r)
{
    struct unsub_ctx x = {0};
    struct err e = {0};
    struct buf b = {0};
    const char *token = req_query(r, "token"), *locale;
    char *title;

    if (unsub_token_or_page(r, &x) < 0)
        return;
    if (db_run(unsubscribe_fn, &x, &e) < 0)
        outreach_brand_default(&x.brand); /* the page works without the brand */
    locale = outreach_page_locale(r, NULL, &x.brand);
    {
        const char *vars[] = {"shop_name", x.brand.name, "email", x.claims.email, NULL};
        title = outreach_text(locale, "unsubscribe.title", false, NULL);
        outreach_page_start(&b, locale, title, &x.brand);
        buf_puts(&b, "<h1>");
        outreach_page_escaped(&b, title);
        buf_puts(&b, "</h1><p>");
        outreach_page_text(&b, locale, "unsubscribe.question", vars);
        buf_puts(&b, "</p><form method=\"post\" action=\"/unsubscribe?token=");
        outreach_page_escaped(&b, token);
        buf_puts(&b, "\"><button type=\"submit\">");
        outreach_page_text(&b, locale, "unsubscribe.button", NULL);
        buf_puts(&b, "</button></form>");
        outreach_page_end(&b);
    }
    free(title);
    outreach_page_reply(r, 200, &b, NULL, &x.brand);
}

void
outreach_handle_unsubscribe(struct req *r)
{
    struct unsub_ctx x = {.write = true, .from = from_programme(r)};
    struct err e = {0};
    const char *locale;

    /* One-click (RFC 8058) posts "List-Unsubscribe=One-Click"; the form
     * posts nothing. Either way the token is the whole authority. */
    if (unsub_token_or_page(r, &x) < 0)
        return;
    if (db_tx(unsubscribe_fn, &x, &e) < 0) {
        outreach_brand_default(&x.brand);
        outreach_page_message(r, 503, outreach_page_locale(r, NULL, &x.brand), "page.retry.title",
                              "page.retry.text", NULL, &x.brand);
        return;
    }
    locale = outreach_page_locale(r, NULL, &x.brand);
    {
        const char *vars[] = {"shop_name", x.brand.name[0] ? x.brand.name : "", NULL};
        outreach_page_message(r, 200, locale, "unsubscribe.done.title", "unsubscribe.done.text",
                              vars, &x.brand);
    }
}
