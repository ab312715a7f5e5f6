/*
 * handlers.c - the outreach routes: GET/PUT /v1/messaging/settings (the
 * shop's one settings document for every programme that writes to
 * customers), a test email (a transactional message, queued), the contact
 * status of an address (what the contact policy and the unsubscribe list
 * say about it now: "why did this customer get no survey?") and the
 * unsubscribe page (GET shows a confirmation, POST
 * unsubscribes: the form, and RFC 8058 one-click from List-Unsubscribe).
 *
 * The settings document goes back as it was read: GET, change a field,
 * PUT the whole document; the computed "locales" is accepted and ignored
 * on write, any other unknown field is a 422 naming it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/jx.h"
#include "aftersale/http/auth.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/mail/smtp.h"
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

    reply_tx_json_take(r, settings_fn, &x, &x.out);
}

void
outreach_handle_settings_put(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    json_t *body = jx_without_read_only(r->json, outreach_settings_read_only);

    x.patch = body;
    reply_tx_json_take(r, settings_fn, &x, &x.out);
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

int
outreach_order_locale_or_reply(struct req *r, int64_t *order_id, const char **locale)
{
    const char *given = jx_str(r->json, "locale");

    /* The customer's language, when the caller knows it ("de-AT" is de). */
    *locale = NULL;
    if (given != NULL && (*locale = outreach_locale_match(given)) == NULL) {
        reply_problem(r, ERR_INVALID, "locale", "locale must be one of the supported locales (%s)",
                      outreach_locales_joined());
        return -1;
    }
    *order_id = json_integer_value(json_object_get(r->json, "order_id"));
    if (*order_id <= 0) {
        reply_problem(r, ERR_INVALID, "order_id", "order_id must be a positive integer");
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
        if (from_programme(r) != NULL) {
            buf_puts(&b, "&amp;from=");
            buf_puts(&b, from_programme(r));
        }
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

/* ---- test email and contact status ----------------------------------------- */

struct test_ctx {
    int64_t shop_id, job_id;
    json_t *payload;
};

static int
test_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct test_ctx *x = ctx;

    return jobs_enqueue(c, x->shop_id, "outreach.test_email", x->payload, NULL, 0, 0, &x->job_id,
                        e);
}

void
outreach_handle_test_email(struct req *r)
{
    static const char *const keys[] = {"email", "locale", NULL};
    struct test_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    const char *email = jx_str(r->json, "email"), *locale = jx_str(r->json, "locale");
    const json_t *lv = json_object_get(r->json, "locale");
    char location[64];

    if (jx_known_keys(r->json, keys, "", &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (email == NULL || !mail_address_valid(email)) {
        err_set(&e, ERR_INVALID, "email", "email must be an address such as \"ann@example.com\"");
        reply_err(r, &e);
        return;
    }
    if (lv != NULL && (locale == NULL || !outreach_locale_supported(locale))) {
        err_set(&e, ERR_INVALID, "locale", "locale must be one of the supported locales (%s)",
                outreach_locales_joined());
        reply_err(r, &e);
        return;
    }
    x.payload = json_pack("{s:s}", "email", email);
    if (locale != NULL)
        json_object_set_new(x.payload, "locale", json_string(locale));
    if (db_tx(test_fn, &x, &e) < 0) {
        reply_err(r, &e);
    } else {
        snprintf(location, sizeof(location), "/v1/jobs/%" PRId64, x.job_id);
        req_add_header(r, "Location", location);
        reply_json_take(r, 202, json_pack("{s:I, s:s, s:s}", "job_id", (json_int_t)x.job_id,
                                          "kind", "outreach.test_email", "status", "pending"));
    }
    json_decref(x.payload);
}

struct status_ctx {
    int64_t shop_id;
    const char *email;
    bool unsubscribed;
    enum outreach_verdict marketing, transactional;
    time_t now, slot, tslot;
};

static int
status_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct status_ctx *x = ctx;

    return outreach_unsubscribed(c, x->shop_id, x->email, &x->unsubscribed, e) < 0 ||
                   outreach_contact_check(c, x->shop_id, x->email, OUTREACH_MARKETING, x->now,
                                          &x->marketing, &x->slot, e) < 0 ||
                   outreach_contact_check(c, x->shop_id, x->email, OUTREACH_TRANSACTIONAL,
                                          x->now, &x->transactional, &x->tslot, e) < 0
               ? -1
               : 0;
}

static const char *
verdict_name(enum outreach_verdict v)
{
    return v == OUTREACH_SEND ? "send" : v == OUTREACH_WAIT ? "wait" : "suppressed";
}

void
outreach_handle_contact_status(struct req *r)
{
    struct status_ctx x = {.shop_id = r->shop_id, .email = req_query(r, "email"),
                           .now = time(NULL)};
    struct err e = {0};
    char next[32];

    if (x.email == NULL || !mail_address_valid(x.email)) {
        err_set(&e, ERR_INVALID, "email", "email must be an address such as \"ann@example.com\"");
        reply_err(r, &e);
        return;
    }
    if (db_tx(status_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    /* When the next marketing message may go: now, later, or never. */
    {
        struct tm tm;
        gmtime_r(&x.slot, &tm);
        strftime(next, sizeof(next), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    reply_json_take(r, 200,
                    json_pack("{s:s, s:b, s:s, s:o, s:s}", "email", x.email, "unsubscribed",
                              x.unsubscribed, "marketing", verdict_name(x.marketing),
                              "next_marketing_at",
                              x.marketing == OUTREACH_SUPPRESSED ? json_null() : json_string(next),
                              "transactional", verdict_name(x.transactional)));
}
