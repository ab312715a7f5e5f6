/*
 * jobs.c - review requests in motion: scheduling, sending, reminding,
 * expiring, publishing and replying.
 *
 * The sending job is where a customer can be annoyed, so its rules are
 * strict: it re-reads the request and sends only from the state it
 * expects (scheduled for the first message, sent-and-unanswered for a
 * reminder), never to an unsubscribed address, and never past the shop's
 * contact policy: a message over the cap is postponed to the first free
 * slot, not dropped. The Message-ID is fixed per request and reminder, so
 * a retry after a timeout is the same message to the receiving server.
 * Delivery is at-least-once: a crash between the SMTP server accepting
 * the message and our commit would send it again; the window is one
 * transaction long.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/hooks/hooks.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/token.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/mail/smtp.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/jobs.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/templates.h"
#include "aftersale/returns/returns.h"
#include "aftersale/reviews/jobs.h"
#include "aftersale/reviews/reviews.h"
#include "aftersale/shops/shops.h"
#include "aftersale/woo/link.h"

#define MAX_PRODUCTS 50

/* ---- internal kinds ----------------------------------------------------- */

int
reviews_job_schedule(struct db_conn *c, struct job_env *env, const struct job *job,
                     struct job_outcome *out, struct err *e)
{
    struct reviews_settings s;
    char kind[64];
    json_t *ev = NULL;
    int64_t request_id = 0;
    const char *outcome = "no event";
    int rc = -1;

    (void)env;
    out->status = JOB_DONE;
    if (woo_events_load(c, job->shop_id,
                        json_integer_value(json_object_get(job->payload, "event_id")), kind, &ev,
                        e) < 0)
        return -1;
    if (ev == NULL)
        return 0;
    if (reviews_settings_load(c, job->shop_id, &s, e) < 0)
        goto out;
    /* Both events reach this job; the setting `trigger` says which one
     * starts a request (the other is noted and ignored). */
    if (strcmp(kind, s.trigger_delivered ? "order.delivered" : "order.completed") != 0) {
        out->result = json_pack("{s:I, s:s}", "request_id", (json_int_t)0, "outcome",
                                s.trigger_delivered
                                    ? "skipped: review requests start from order.delivered"
                                    : "skipped: review requests start from order.completed");
        rc = 0;
        goto out;
    }
    if (reviews_request_create(c, job->shop_id, ev, &s, 0, &request_id, &outcome, e) < 0)
        goto out;
    out->result = json_pack("{s:I, s:s}", "request_id", (json_int_t)request_id, "outcome", outcome);
    rc = 0;
out:
    reviews_settings_free(&s);
    json_decref(ev);
    return rc;
}

int
reviews_job_cancel(struct db_conn *c, struct job_env *env, const struct job *job,
                   struct job_outcome *out, struct err *e)
{
    long n;

    (void)env;
    out->status = JOB_DONE;
    /* A partial refund keeps the request: the customer still has the rest. */
    if (outreach_job_cancel_order(c, job, "reviews_cancel",
                                  "UPDATE review_requests SET status = 'cancelled',"
                                  " cancel_reason = $3, updated_at = now()"
                                  " WHERE shop_id = $1 AND order_id = $2"
                                  " AND status = 'scheduled'",
                                  &n, e) < 0)
        return -1;
    out->result = json_pack("{s:b}", "cancelled", n > 0);
    return 0;
}

int
reviews_job_expire(struct db_conn *c, struct job_env *env, const struct job *job,
                   struct job_outcome *out, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    long n;

    (void)env;
    DB_I64(shop, job->shop_id);
    DB_I64(id, json_integer_value(json_object_get(job->payload, "request_id")));
    n = db_exec_cmd(c, "reviews_expire",
                    "UPDATE review_requests SET status = 'expired', updated_at = now()"
                    " WHERE shop_id = $1 AND id = $2 AND status = 'sent'"
                    " AND expires_at <= now() + interval '1 second'",
                    2, params, e);
    if (n < 0)
        return -1;
    out->status = JOB_DONE;
    out->result = json_pack("{s:b}", "expired", n > 0);
    return 0;
}

/* ---- sending ------------------------------------------------------------ */

struct send_ctx {
    int64_t shop_id, request_id, order_id;
    int reminder;
    const struct config *cfg;
    struct reviews_settings s;
    struct outreach_settings os; /* the shop's messaging settings */
    char status[16], email[256], first_name[256], shop_name[256], customer_locale[16];
    const char *locale;          /* the locale the message is written in */
    int reminders_sent;
    bool found;
    enum outreach_verdict verdict; /* unsubscribed, over the cap, or send */
    time_t now, slot;
    int64_t product_ids[MAX_PRODUCTS];
    char *product_names[MAX_PRODUCTS];
    char *product_images[MAX_PRODUCTS]; /* NULL when unknown */
    int nproducts;
    int returned; /* products left out: under a return */
    char *token_secret;
    struct woo_creds cr;
};

static void
send_clear(struct send_ctx *x)
{
    for (int i = 0; i < x->nproducts; i++) {
        free(x->product_names[i]);
        free(x->product_images[i]);
        x->product_images[i] = NULL;
    }
    x->nproducts = 0;
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
        x->token_secret = NULL;
    }
    woo_creds_clear(&x->cr);
    reviews_settings_free(&x->s);
}

static int
send_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct send_ctx *x = ctx;
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;

    send_clear(x);
    x->found = false;
    DB_I64(shop, x->shop_id);
    DB_I64(id, x->request_id);
    if (reviews_settings_load(c, x->shop_id, &x->s, e) < 0)
        return -1;
    res = db_exec(c, "reviews_send_load",
                  "SELECT r.status, r.email, r.first_name, r.order_id, r.reminders_sent, s.name,"
                  " encode(s.token_secret_enc, 'hex'), coalesce(r.locale, '')"
                  " FROM review_requests r JOIN shops s ON s.id = r.shop_id"
                  " WHERE r.shop_id = $1 AND r.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 6));
        x->found = true;
        snprintf(x->status, sizeof(x->status), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(x->first_name, sizeof(x->first_name), "%s", PQgetvalue(res, 0, 2));
        x->order_id = atoll(PQgetvalue(res, 0, 3));
        x->reminders_sent = atoi(PQgetvalue(res, 0, 4));
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 5));
        x->token_secret = shops_secret_open(x->cfg->secret_key, "token_secret", hex);
        snprintf(x->customer_locale, sizeof(x->customer_locale), "%s", PQgetvalue(res, 0, 7));
        free(hex);
    }
    PQclear(res);
    if (!x->found)
        return 0;
    if (x->token_secret == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "cannot decrypt the shop's token secret");
    res = db_exec(c, "reviews_send_products",
                  "SELECT i.product_id, i.name FROM review_request_items i"
                  " WHERE i.shop_id = $1 AND i.request_id = $2 AND NOT EXISTS (SELECT 1"
                  "   FROM reviews v WHERE v.shop_id = i.shop_id AND v.request_id = i.request_id"
                  "   AND v.product_id = i.product_id) ORDER BY i.product_id LIMIT 50",
                  2, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        x->product_ids[x->nproducts] = atoll(PQgetvalue(res, i, 0));
        x->product_names[x->nproducts] = xstrdup(PQgetvalue(res, i, 1));
        x->nproducts++;
    }
    PQclear(res);
    /* An item under a return (open or resolved) is not asked about. */
    x->returned = 0;
    for (int i = 0; i < x->nproducts;) {
        bool blocked;
        if (returns_line_blocked(c, x->shop_id, x->order_id, 0, x->product_ids[i], &blocked, e) <
            0)
            return -1;
        if (!blocked) {
            i++;
            continue;
        }
        free(x->product_names[i]);
        x->product_ids[i] = x->product_ids[x->nproducts - 1];
        x->product_names[i] = x->product_names[x->nproducts - 1];
        x->nproducts--;
        x->returned++;
    }
    /* Unsubscribed, or over the shop's contact policy (every marketing
     * programme's messages count): the outreach layer decides. */
    if (outreach_settings_load(c, x->shop_id, &x->os, e) < 0 ||
        outreach_contact_check(c, x->shop_id, x->email, OUTREACH_MARKETING, x->now, &x->verdict,
                               &x->slot, e) < 0)
        return -1;
    /* The customer's locale (from the order), else the review settings',
     * else the shop's default. */
    x->locale = outreach_locale_pick(x->customer_locale[0] ? x->customer_locale
                                     : x->s.locale[0]      ? x->s.locale
                                                           : NULL,
                                     NULL, x->os.default_locale);
    /* The shop is called for the order note, and for the products'
     * categories and images (enrich_products). */
    return woo_creds_load(c, x->shop_id, x->cfg->secret_key, &x->cr, e);
}

struct drop_ctx {
    int64_t shop_id, request_id;
    const int64_t *products;
    int n;
};

static int
drop_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct drop_ctx *d = ctx;
    char shop[24], id[24], pid[24];
    const char *params[3] = {shop, id, pid};

    DB_I64(shop, d->shop_id);
    DB_I64(id, d->request_id);
    for (int i = 0; i < d->n; i++) {
        DB_I64(pid, d->products[i]);
        if (db_exec_cmd(c, "reviews_drop_product",
                        "DELETE FROM review_request_items WHERE shop_id = $1 AND request_id = $2"
                        " AND product_id = $3",
                        3, params, e) < 0)
            return -1;
    }
    if (db_exec_cmd(c, "reviews_cancel_empty",
                    "UPDATE review_requests r SET status = 'cancelled',"
                    " cancel_reason = 'every product is excluded', updated_at = now()"
                    " WHERE r.shop_id = $1 AND r.id = $2 AND r.status = 'scheduled'"
                    " AND NOT EXISTS (SELECT 1 FROM review_request_items i"
                    "   WHERE i.shop_id = r.shop_id AND i.request_id = r.id)",
                    2, params, e) < 0)
        return -1;
    return 0;
}

/*
 * What the order's line items do not say: each product's categories (for
 * the shop's excluded categories) and its image (for the email). The
 * products are looked up in the shop (GET /products/{id}) here, in the
 * outbound job. Excluded ones leave the request before it is sent. When
 * the shop cannot answer, the email goes out without images, unless
 * categories are excluded: then it waits (a retry) rather than ask about an
 * excluded product. A product the shop no longer has stays, without image.
 */
static int
enrich_products(struct job_env *env, struct send_ctx *x, struct job_outcome *out)
{
    int64_t dropped[MAX_PRODUCTS];
    struct drop_ctx d = {.shop_id = x->shop_id, .request_id = x->request_id,
                         .products = dropped};
    struct err e = {0};
    int keep = 0;
    bool must = x->s.nexcluded_categories > 0, shop_away = false;

    if (!must && x->s.channel != REVIEWS_EMAIL)
        return 0;
    for (int i = 0; i < x->nproducts; i++) {
        char path[48];
        int64_t cats[32];
        int ncats = 0;
        char *image = NULL;

        if (!shop_away) {
            struct woo_reply reply;
            json_t *cat;
            size_t k;
            const char *src;
            enum woo_result r;

            snprintf(path, sizeof(path), "/products/%" PRId64, x->product_ids[i]);
            r = woo_request(env->woo, &x->cr.shop, "GET", path, NULL, 0, NULL, &reply, &e);
            if (r == WOO_RETRY && must) {
                woo_reply_clear(&reply);
                out->status = JOB_RETRY;
                out->err = e;
                return -1;
            }
            shop_away = r == WOO_RETRY; /* send without images: ask no more */
            if (r == WOO_OK) {
                json_array_foreach(json_object_get(reply.body, "categories"), k, cat) if (
                    ncats < 32) cats[ncats++] = json_integer_value(json_object_get(cat, "id"));
                src = json_string_value(json_object_get(
                    json_array_get(json_object_get(reply.body, "images"), 0), "src"));
                if (src && (strncmp(src, "https://", 8) == 0 || strncmp(src, "http://", 7) == 0))
                    image = xstrdup(src);
            }
            woo_reply_clear(&reply);
        }
        if (reviews_product_excluded(&x->s, x->product_ids[i], cats, ncats)) {
            dropped[d.n++] = x->product_ids[i];
            free(x->product_names[i]);
            free(image);
            continue;
        }
        x->product_ids[keep] = x->product_ids[i];
        x->product_names[keep] = x->product_names[i];
        x->product_images[keep++] = image;
    }
    x->nproducts = keep;
    if (d.n > 0 && db_tx(drop_fn, &d, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        return -1;
    }
    return 0;
}

static int
send_mark_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct send_ctx *x = ctx;
    char shop[24], id[24], n[16], expiry[24];
    const char *params[4] = {shop, id, n, expiry};
    long changed;

    DB_I64(shop, x->shop_id);
    DB_I64(id, x->request_id);
    snprintf(n, sizeof(n), "%d", x->reminder);
    DB_I64(expiry, x->s.expiry_s);
    changed = db_exec_cmd(
        c, x->reminder == 0 ? "reviews_mark_sent" : "reviews_mark_reminded",
        x->reminder == 0
            ? "UPDATE review_requests SET status = 'sent', sent_at = now(),"
              " expires_at = now() + $4::bigint * interval '1 second', updated_at = now()"
              " WHERE shop_id = $1 AND id = $2 AND status = 'scheduled' AND $3::integer = 0"
            : "UPDATE review_requests SET reminders_sent = $3::integer, updated_at = now()"
              " WHERE shop_id = $1 AND id = $2 AND status = 'sent'"
              " AND reminders_sent < $3::integer AND $4::bigint >= 0",
        4, params, e);
    if (changed < 0)
        return -1;
    if (outreach_contact_record(c, x->shop_id, x->email, "reviews",
                                x->reminder == 0 ? "review_request" : "review_reminder",
                                x->request_id, OUTREACH_MARKETING, e) < 0)
        return -1;
    if (x->reminder < x->s.reminder_count) {
        char key[48];
        json_t *payload = json_pack("{s:I, s:i}", "request_id", (json_int_t)x->request_id,
                                    "reminder", x->reminder + 1);
        int rc;
        snprintf(key, sizeof(key), "remind:%" PRId64 ":%d", x->request_id, x->reminder + 1);
        rc = jobs_enqueue(c, x->shop_id, "reviews.send", payload, key,
                          x->s.reminder_delay_s * 1000, 0, NULL, e);
        json_decref(payload);
        if (rc < 0)
            return -1;
    }
    if (x->reminder == 0) {
        char key[48];
        json_t *payload = json_pack("{s:I}", "request_id", (json_int_t)x->request_id);
        int rc;
        snprintf(key, sizeof(key), "expire:%" PRId64, x->request_id);
        rc = jobs_enqueue(c, x->shop_id, "reviews.expire", payload, key, x->s.expiry_s * 1000, 0,
                          NULL, e);
        json_decref(payload);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Every product left is under a return: the scheduled request is cancelled. */
static int
returned_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct send_ctx *x = ctx;

    return outreach_job_mark(c, "reviews_cancel_returned",
                             "UPDATE review_requests SET status = 'cancelled',"
                             " cancel_reason = 'items returned', updated_at = now()"
                             " WHERE shop_id = $1 AND id = $2 AND status = 'scheduled'",
                             x->shop_id, x->request_id, e);
}

/* The customer unsubscribed: the request stops, sent or not. */
static int
unsubscribed_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct send_ctx *x = ctx;

    return outreach_job_mark(c, "reviews_mark_unsubscribed",
                             "UPDATE review_requests SET status = 'unsubscribed',"
                             " updated_at = now()"
                             " WHERE shop_id = $1 AND id = $2 AND status IN ('scheduled', 'sent')",
                             x->shop_id, x->request_id, e);
}

static const char *
template_for(const struct reviews_settings *s, const char *locale, const char *kind,
             enum mail_part part)
{
    for (int i = 0; i < s->ntemplates && strcmp(kind, "review_request") == 0; i++) {
        const struct reviews_template *t = &s->templates[i];
        const char *v = part == MAIL_SUBJECT ? t->subject : part == MAIL_TEXT ? t->text : t->html;
        if ((strcmp(t->locale, locale) == 0 || strcmp(t->locale, s->locale) == 0) && v != NULL)
            return v;
    }
    return outreach_template_builtin(kind, locale, part);
}

/* Render and deliver the message; out is set on failure. */
static int
deliver(struct job_env *env, struct send_ctx *x, struct job_outcome *out)
{
    const struct config *cfg = env->cfg;
    const char *kind = x->reminder == 0 ? "review_request" : "review_reminder";
    struct token_claims claims = {.shop_id = x->shop_id, .scope = "review",
                                  .rid = x->request_id};
    struct mail_product products[MAX_PRODUCTS];
    struct mail_vars vars;
    char *base = NULL, *review_link = NULL, *unsub_link = NULL, *subject = NULL, *text = NULL,
         *html = NULL;
    char *links[MAX_PRODUCTS][6];
    char msgid[128];
    struct err e = {0};
    int rc = -1;

    memset(links, 0, sizeof(links));
    if (cfg->public_url == NULL && x->s.link_base_url[0] == '\0') {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INVALID, NULL,
                "PUBLIC_URL is not set: review links need the service's public address");
        return -1;
    }
    snprintf(claims.email, sizeof(claims.email), "%s", x->email);
    /* A week past the request's expiry, but never longer than tokens may
     * live (TOKEN_MAX_LIFETIME_S): a reminder carries a fresh link. */
    claims.exp = time(NULL) + (x->s.expiry_s + 7 * 86400 < cfg->token_max_lifetime_s
                                   ? x->s.expiry_s + 7 * 86400
                                   : cfg->token_max_lifetime_s);
    base = x->s.link_base_url[0] ? xstrdup(x->s.link_base_url)
                                 : xasprintf("%s/review", cfg->public_url);
    review_link = outreach_link(base, x->token_secret, &claims);
    unsub_link = outreach_unsubscribe_link(cfg, base, x->token_secret, x->shop_id, x->email,
                                           x->request_id, "reviews");
    if (review_link == NULL || unsub_link == NULL) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INTERNAL, NULL, "could not mint the review link token");
        goto out;
    }
    for (int i = 0; i < x->nproducts; i++) {
        links[i][0] = xasprintf("%s&product=%" PRId64, review_link, x->product_ids[i]);
        for (int r = 1; r <= 5; r++)
            links[i][r] = xasprintf("%s&product=%" PRId64 "&rating=%d", review_link,
                                    x->product_ids[i], r);
        products[i] = (struct mail_product){.name = x->product_names[i],
                                            .image = x->product_images[i] ? x->product_images[i]
                                                                          : "",
                                            .link = links[i][0]};
        for (int r = 0; r < 5; r++)
            products[i].star_links[r] = links[i][r + 1];
    }
    vars = (struct mail_vars){.first_name = x->first_name, .shop_name = x->shop_name,
                              .review_link = review_link, .unsubscribe_link = unsub_link,
                              .brand_name = x->os.brand_name[0] ? x->os.brand_name : x->shop_name,
                              .logo_url = x->os.logo_url, .accent_color = x->os.accent_color,
                              .products = products, .nproducts = (size_t)x->nproducts};
    subject = mail_template_render(template_for(&x->s, x->locale, kind, MAIL_SUBJECT),
                                   MAIL_SUBJECT, &vars, &e);
    text = subject ? mail_template_render(template_for(&x->s, x->locale, kind, MAIL_TEXT),
                                          MAIL_TEXT, &vars, &e)
                   : NULL;
    html = text ? mail_template_render(template_for(&x->s, x->locale, kind, MAIL_HTML), MAIL_HTML,
                                       &vars, &e)
                : NULL;
    if (html == NULL) {
        out->status = JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (x->s.channel == REVIEWS_ORDER_NOTE) {
        /* WooCommerce emails a customer note to the order's billing address. */
        enum woo_result r = outreach_send_note(env->woo, &x->cr.shop, x->order_id, subject, text,
                                               &e);
        if (r != WOO_OK) {
            out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            goto out;
        }
    } else {
        struct outreach_email m = {.shop_name = x->shop_name, .from_name = x->s.sender_name,
                                   .from_addr = x->s.sender_email, .to_name = x->first_name,
                                   .to_addr = x->email, .subject = subject, .text = text,
                                   .html = html, .unsubscribe_url = unsub_link,
                                   .message_id = msgid};
        enum mail_result r;
        snprintf(msgid, sizeof(msgid), "<review-%" PRId64 "-%" PRId64 "-%d@aftersale>",
                 x->shop_id, x->request_id, x->reminder);
        r = outreach_send_email(cfg, &x->os, &m, &e);
        if (r != MAIL_OK) {
            out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            goto out;
        }
    }
    rc = 0;
out:
    for (int i = 0; i < MAX_PRODUCTS; i++)
        for (int r = 0; r < 6; r++)
            free(links[i][r]);
    free(base);
    free(review_link);
    free(unsub_link);
    free(subject);
    free(text);
    free(html);
    return rc;
}

void
reviews_job_send(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct send_ctx *x = xcalloc(1, sizeof(*x));
    struct err e = {0};
    time_t now = time(NULL);

    x->cfg = env->cfg;
    x->now = now;
    x->shop_id = job->shop_id;
    x->request_id = json_integer_value(json_object_get(job->payload, "request_id"));
    x->reminder = (int)json_integer_value(json_object_get(job->payload, "reminder"));
    reviews_settings_default(&x->s);
    if (db_run(send_load_fn, x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    /* Only from the state this message belongs to. */
    if (!x->found || (x->reminder == 0 && strcmp(x->status, "scheduled") != 0) ||
        (x->reminder > 0 &&
         (strcmp(x->status, "sent") != 0 || x->reminders_sent >= x->reminder))) {
        out->result = json_pack("{s:s}", "skipped", x->found ? x->status : "no request");
        goto out;
    }
    if (x->nproducts == 0 && x->returned > 0) {
        outreach_job_skip(x->reminder == 0 ? returned_fn : NULL, x, "items returned", out);
        goto out;
    }
    if (enrich_products(env, x, out) < 0)
        goto out;
    if (x->nproducts == 0) {
        out->result = json_pack("{s:s}", "skipped", "no product left to review");
        goto out;
    }
    if (outreach_job_verdict(x->verdict, now, x->slot, unsubscribed_fn, x, out))
        goto out;
    if (deliver(env, x, out) < 0)
        goto out;
    if (db_tx(send_mark_fn, x, &e) < 0) {
        /* Sent but not recorded: retrying would send again. Record the
         * error; the lease then hands the job to another attempt. */
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    out->result = json_pack("{s:s, s:i, s:i}", "sent", x->s.channel == REVIEWS_ORDER_NOTE
                                                           ? "order_note"
                                                           : "email",
                            "reminder", x->reminder, "products", x->nproducts);
out:
    send_clear(x);
    free(x);
}

/* ---- publishing and replies ------------------------------------------------ */

struct publish_ctx {
    int64_t shop_id, review_id;
    const struct config *cfg;
    bool found;
    char status[16], *title, *body, *reply, *name, *email, wp_user[256], *wp_password;
    int64_t product_id, woo_id;
    int rating;
    const char *locale; /* the shop's default_locale: the rating-only text */
    struct woo_creds cr;
    /* results */
    int64_t new_woo_id;
    bool verified, has_verified, replied;
};

static void
publish_clear(struct publish_ctx *p)
{
    free(p->title);
    free(p->body);
    free(p->reply);
    free(p->name);
    free(p->email);
    if (p->wp_password) {
        crypto_wipe(p->wp_password, strlen(p->wp_password));
        free(p->wp_password);
    }
    p->title = p->body = p->reply = p->name = p->email = p->wp_password = NULL;
    woo_creds_clear(&p->cr);
}

static int
publish_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct publish_ctx *p = ctx;
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;

    publish_clear(p);
    DB_I64(shop, p->shop_id);
    DB_I64(id, p->review_id);
    res = db_exec(c, "reviews_publish_load",
                  "SELECT v.status, v.title, v.body, v.reviewer_name, v.reviewer_email,"
                  " v.product_id, v.rating, v.woo_review_id, v.reply, s.wp_username,"
                  " encode(s.wp_password_enc, 'hex'), v.reply_woo_id IS NOT NULL"
                  " FROM reviews v LEFT JOIN review_settings s ON s.shop_id = v.shop_id"
                  " WHERE v.shop_id = $1 AND v.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    p->found = PQntuples(res) == 1;
    if (p->found) {
        snprintf(p->status, sizeof(p->status), "%s", PQgetvalue(res, 0, 0));
        p->title = xstrdup(PQgetvalue(res, 0, 1));
        p->body = xstrdup(PQgetvalue(res, 0, 2));
        p->name = xstrdup(PQgetvalue(res, 0, 3));
        p->email = xstrdup(PQgetvalue(res, 0, 4));
        p->product_id = atoll(PQgetvalue(res, 0, 5));
        p->rating = atoi(PQgetvalue(res, 0, 6));
        p->woo_id = PQgetisnull(res, 0, 7) ? 0 : atoll(PQgetvalue(res, 0, 7));
        p->reply = PQgetisnull(res, 0, 8) ? NULL : xstrdup(PQgetvalue(res, 0, 8));
        snprintf(p->wp_user, sizeof(p->wp_user), "%s", PQgetvalue(res, 0, 9));
        p->replied = strcmp(PQgetvalue(res, 0, 11), "t") == 0;
        if (!PQgetisnull(res, 0, 10)) {
            char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 10));
            p->wp_password = shops_secret_open(p->cfg->secret_key, "wp_password", hex);
            free(hex);
        }
    }
    PQclear(res);
    if (!p->found)
        return 0;
    {
        struct outreach_settings os;
        if (outreach_settings_load(c, p->shop_id, &os, e) < 0)
            return -1;
        p->locale = outreach_locale_pick(NULL, NULL, os.default_locale);
    }
    return woo_creds_load(c, p->shop_id, p->cfg->secret_key, &p->cr, e);
}

static int
publish_done_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct publish_ctx *p = ctx;
    char shop[24], id[24], woo[24];
    const char *params[4] = {shop, id, p->new_woo_id > 0 ? woo : NULL,
                             p->has_verified ? (p->verified ? "t" : "f") : NULL};

    DB_I64(shop, p->shop_id);
    DB_I64(id, p->review_id);
    DB_I64(woo, p->new_woo_id);
    return db_exec_cmd(c, "reviews_publish_done",
                       "UPDATE reviews SET woo_review_id = $3, verified = $4::boolean,"
                       " published_at = now() WHERE shop_id = $1 AND id = $2",
                       4, params, e) < 0
               ? -1
               : hooks_emit(c, p->shop_id, "review.published",
                            json_pack("{s:I, s:I}", "review_id", (json_int_t)p->review_id,
                                      "woo_review_id", (json_int_t)p->new_woo_id),
                            e);
}

/* The shop's review of this product by this email with this text. */
static enum woo_result
find_review(struct job_env *env, const struct publish_ctx *p, const char *text, json_t **found,
            struct err *e)
{
    char product[24];
    struct woo_param query[4] = {{"product", product}, {"reviewer_email", p->email},
                                 {"status", "all"}, {"per_page", "100"}};
    struct woo_reply reply;
    enum woo_result r;
    json_t *v;
    size_t i;

    *found = NULL;
    DB_I64(product, p->product_id);
    r = woo_request(env->woo, &p->cr.shop, "GET", "/products/reviews", query, 4, NULL, &reply, e);
    if (r != WOO_OK) {
        woo_reply_clear(&reply);
        return r;
    }
    json_array_foreach(reply.body, i, v) {
        const char *t = json_string_value(json_object_get(v, "review"));
        /* WooCommerce renders the text as HTML ("<p>...</p>\n"): contains is enough. */
        if (t && strstr(t, text) != NULL) {
            *found = json_incref(v);
            break;
        }
    }
    if (*found == NULL && json_array_size(reply.body) > 0)
        *found = json_incref(json_array_get(reply.body, 0));
    woo_reply_clear(&reply);
    if (*found == NULL) {
        err_set(e, ERR_CONFLICT, NULL,
                "WooCommerce says the review is a duplicate but lists none by this email");
        return WOO_FAIL;
    }
    return WOO_OK;
}

void
reviews_job_publish(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct publish_ctx p = {.shop_id = job->shop_id, .cfg = env->cfg};
    struct err e = {0};
    json_t *review = NULL, *made = NULL;
    char *text = NULL;
    enum woo_result r;

    p.review_id = json_integer_value(json_object_get(job->payload, "review_id"));
    if (db_run(publish_load_fn, &p, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    if (!p.found || strcmp(p.status, "approved") != 0 || p.woo_id > 0)
        goto out; /* rejected since, or already published */
    /* WooCommerce refuses a review without text
     * (woocommerce_rest_review_content_invalid); a rating alone says so. */
    if (p.title[0] && p.body[0])
        text = xasprintf("%s\n\n%s", p.title, p.body);
    else if (p.title[0] || p.body[0])
        text = xstrdup(p.title[0] ? p.title : p.body);
    else {
        char rating[4];
        const char *vars[] = {"rating", rating, NULL};
        snprintf(rating, sizeof(rating), "%d", p.rating);
        text = outreach_text(p.locale, "review.rated_only", false, vars);
    }
    /* The order's billing email: WooCommerce marks the review verified when
     * that address bought the product (it ignores a `verified` field). */
    review = json_pack("{s:I, s:s, s:s, s:s, s:i, s:s}", "product_id", (json_int_t)p.product_id,
                       "review", text, "reviewer", p.name, "reviewer_email", p.email, "rating",
                       p.rating, "status", "approved");
    r = woo_review_create(env->woo, &p.cr.shop, review, &made, &e);
    if (r != WOO_OK && strstr(e.detail, "woocommerce_rest_comment_duplicate") != NULL) {
        /* The shop has it already (an earlier attempt whose answer was
         * lost): find it, so replies can name it as their parent. */
        err_clear(&e);
        r = find_review(env, &p, text, &made, &e);
    }
    if (r != WOO_OK) {
        out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    {
        json_t *v = json_object_get(made, "verified");
        p.new_woo_id = json_integer_value(json_object_get(made, "id"));
        p.has_verified = json_is_boolean(v);
        p.verified = json_is_true(v);
    }
    if (db_tx(publish_done_fn, &p, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->result = json_pack("{s:I, s:b}", "woo_review_id", (json_int_t)p.new_woo_id, "verified",
                            p.verified);
out:
    free(text);
    json_decref(review);
    json_decref(made);
    publish_clear(&p);
}

static int
reply_done_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct publish_ctx *p = ctx;
    char shop[24], id[24], woo[24];
    const char *params[3] = {shop, id, woo};

    DB_I64(shop, p->shop_id);
    DB_I64(id, p->review_id);
    DB_I64(woo, p->new_woo_id);
    return db_exec_cmd(c, "reviews_reply_done",
                       "UPDATE reviews SET reply_woo_id = $3 WHERE shop_id = $1 AND id = $2", 3,
                       params, e) < 0
               ? -1
               : 0;
}

void
reviews_job_reply(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct publish_ctx p = {.shop_id = job->shop_id, .cfg = env->cfg};
    struct err e = {0};
    json_t *comment = NULL, *made = NULL;
    enum woo_result r;

    p.review_id = json_integer_value(json_object_get(job->payload, "review_id"));
    if (db_run(publish_load_fn, &p, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (!p.found || p.reply == NULL || p.replied) {
        out->status = JOB_DONE;
        goto out;
    }
    if (p.woo_id == 0) {
        /* Not published yet (its job may still be running): try again later. */
        out->status = strcmp(p.status, "approved") == 0 ? JOB_RETRY : JOB_FAIL;
        err_set(&out->err, ERR_CONFLICT, NULL, "the review is not published in WooCommerce yet");
        goto out;
    }
    if (p.wp_user[0] == '\0' || p.wp_password == NULL) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INVALID, NULL,
                "no WordPress application password in the review settings: replies are "
                "published through /wp-json/wp/v2/comments, which WooCommerce keys cannot use");
        goto out;
    }
    comment = json_pack("{s:I, s:I, s:s}", "post", (json_int_t)p.product_id, "parent",
                        (json_int_t)p.woo_id, "content", p.reply);
    r = woo_wp_comment_create(env->woo, &p.cr.shop, p.wp_user, p.wp_password, comment, &made, &e);
    if (r != WOO_OK) {
        out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    p.new_woo_id = json_integer_value(json_object_get(made, "id"));
    if (db_tx(reply_done_fn, &p, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    out->result = json_pack("{s:I}", "comment_id", (json_int_t)p.new_woo_id);
out:
    json_decref(comment);
    json_decref(made);
    publish_clear(&p);
}

/* ---- the coupon incentive -------------------------------------------------- */

struct coupon_ctx {
    int64_t shop_id, review_id, order_id, coupon_id;
    const struct config *cfg;
    struct reviews_settings s;
    char code[32], email[256], expires[16];
    const char *locale;
    bool found, done;
    struct woo_creds cr;
};

static int
coupon_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct coupon_ctx *k = ctx;
    char shop[24], id[24];
    const char *params[3] = {shop, id, NULL};
    char days[16];
    PGresult *res;

    DB_I64(shop, k->shop_id);
    DB_I64(id, k->review_id);
    reviews_settings_free(&k->s);
    woo_creds_clear(&k->cr);
    if (reviews_settings_load(c, k->shop_id, &k->s, e) < 0)
        return -1;
    {
        struct outreach_settings os;
        if (outreach_settings_load(c, k->shop_id, &os, e) < 0)
            return -1;
        k->locale = outreach_locale_pick(k->s.locale[0] ? k->s.locale : NULL, NULL,
                                         os.default_locale);
    }
    snprintf(days, sizeof(days), "%d", k->s.coupon_validity_days);
    params[2] = days;
    res = db_exec(c, "reviews_coupon_load",
                  "SELECT v.coupon_code, v.reviewer_email, v.order_id, v.coupon_id IS NOT NULL,"
                  " to_char((now() AT TIME ZONE s.timezone)::date + $3::integer, 'YYYY-MM-DD')"
                  " FROM reviews v JOIN shops s ON s.id = v.shop_id"
                  " WHERE v.shop_id = $1 AND v.id = $2 AND v.coupon_code IS NOT NULL",
                  3, params, e);
    if (res == NULL)
        return -1;
    k->found = PQntuples(res) == 1;
    if (k->found) {
        snprintf(k->code, sizeof(k->code), "%s", PQgetvalue(res, 0, 0));
        snprintf(k->email, sizeof(k->email), "%s", PQgetvalue(res, 0, 1));
        k->order_id = atoll(PQgetvalue(res, 0, 2));
        k->done = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        snprintf(k->expires, sizeof(k->expires), "%s", PQgetvalue(res, 0, 4));
    }
    PQclear(res);
    return k->found ? woo_creds_load(c, k->shop_id, k->cfg->secret_key, &k->cr, e) : 0;
}

static int
coupon_done_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct coupon_ctx *k = ctx;
    char shop[24], id[24], coupon[24];
    const char *params[3] = {shop, id, coupon};

    DB_I64(shop, k->shop_id);
    DB_I64(id, k->review_id);
    DB_I64(coupon, k->coupon_id);
    return db_exec_cmd(c, "reviews_coupon_done",
                       "UPDATE reviews SET coupon_id = $3 WHERE shop_id = $1 AND id = $2", 3,
                       params, e) < 0
               ? -1
               : 0;
}

void
reviews_job_coupon(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct coupon_ctx k = {.shop_id = job->shop_id, .cfg = env->cfg};
    struct err e = {0};
    json_t *coupon = NULL, *made = NULL, *note_out = NULL;
    char *note = NULL;
    enum woo_result r;

    k.review_id = json_integer_value(json_object_get(job->payload, "review_id"));
    reviews_settings_default(&k.s);
    if (db_run(coupon_load_fn, &k, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    if (!k.found || k.done)
        goto out;
    if (k.s.coupon_amount[0] == '\0') {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INVALID, NULL, "the review incentive has no coupon_amount");
        goto out;
    }
    coupon = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:[s], s:s}", "code", k.code,
                       "discount_type", "fixed_cart", "amount", k.s.coupon_amount, "usage_limit", 1,
                       "usage_limit_per_user", 1, "date_expires", k.expires, "email_restrictions",
                       k.email, "description", "aftersale: thank you for your review");
    r = woo_coupon_create(env->woo, &k.cr.shop, coupon, &made, &e);
    if (r == WOO_OK) {
        k.coupon_id = json_integer_value(json_object_get(made, "id"));
    } else if (strstr(e.detail, "woocommerce_rest_coupon_code_already_exists") == NULL) {
        out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    /* Tell the customer: a customer note, which WooCommerce emails. The
     * coupon is recorded only after the note, so a retry sends both again
     * at most (the code exists already and is found as such). */
    {
        const char *vars[] = {"code", k.code, "amount", k.s.coupon_amount, "expires", k.expires,
                              NULL};
        note = outreach_text(k.locale, "review.coupon_note", false, vars);
    }
    r = woo_order_note_add(env->woo, &k.cr.shop, k.order_id, note, true, &note_out, &e);
    if (r != WOO_OK) {
        out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (k.coupon_id == 0)
        k.coupon_id = -1; /* created by an earlier attempt; its id was not kept */
    if (db_tx(coupon_done_fn, &k, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->result = json_pack("{s:s, s:I}", "code", k.code, "coupon_id", (json_int_t)k.coupon_id);
out:
    free(note);
    json_decref(coupon);
    json_decref(made);
    json_decref(note_out);
    woo_creds_clear(&k.cr);
    reviews_settings_free(&k.s);
}
