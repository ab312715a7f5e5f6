/*
 * send.c - surveys.send: the invitation email, when its due time came.
 *
 * The rules are the review requests' (reviews/jobs.c): the job re-reads
 * the invitation and sends only from 'scheduled'; an unsubscribed address
 * cancels the invitation (reason "unsubscribed"); over the shop's contact
 * policy (every marketing programme's messages count together, review
 * requests included) the job is postponed to the first free slot, never
 * dropped. The Message-ID is fixed per invitation, so a retry after a
 * timeout is the same message.
 *
 * The survey setting `channel` "order_note" sends the invitation (and its
 * reminders) as a customer note on the WooCommerce order instead, which
 * WooCommerce emails to the billing address: the same texts with one link
 * to the page (no score links: the note is plain text in the shop's
 * template), under the same contact policy and unsubscribe list, as the
 * review requests' order_note channel does it.
 *
 * The email embeds the survey's first question: for NPS the eleven scores
 * 0-10 and for CSAT the five faces 1-5, each a link to the one-click page
 * /s/{token}?q=<question id>&v=<score> (which records on POST only); any
 * other kind gets one "Answer the survey" button to the same page. Every
 * label is the merchant's text: HTML-escaped in the HTML part, plain in
 * the text part.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/token.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/jobs.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/templates.h"
#include "aftersale/shops/shops.h"
#include "aftersale/surveys/jobs.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"
#include "aftersale/woo/link.h"

struct sv_send_ctx {
    int64_t shop_id, invitation_id, order_id, survey_id;
    int reminder;                  /* 0: the invitation; n: the n-th reminder */
    int reminder_count;            /* the survey's reminders.count */
    int64_t reminder_delay_s, expiry_s;
    bool expired;                  /* a sent invitation past its expires_at */
    const struct config *cfg;
    struct outreach_settings os;
    char status[16], email[256], first_name[256], shop_name[256];
    char customer_locale[16]; /* the invitation's, else the order's review request's */
    const char *locale;
    bool found;
    enum outreach_verdict verdict;
    time_t now, slot, exp; /* exp: when the invitation stops taking answers */
    char *token_secret;
    json_t *questions;
    bool note;             /* channel order_note: a customer note, not an email */
    bool returned;         /* every item of the order is under a return */
    struct woo_creds cr;   /* the shop's credentials, for the note */
};

static void
sv_send_clear(struct sv_send_ctx *x)
{
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
        x->token_secret = NULL;
    }
    json_decref(x->questions);
    x->questions = NULL;
    woo_creds_clear(&x->cr);
}

static int
sv_send_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct sv_send_ctx *x = ctx;
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;
    int version = 0;

    sv_send_clear(x);
    x->found = false;
    DB_I64(shop, x->shop_id);
    DB_I64(id, x->invitation_id);
    /* The expiry counts from now: the answer window opens with the email. */
    res = db_exec(c, "surveys_send_load",
                  "SELECT i.status, i.email, i.first_name, i.order_id, i.survey_id, i.version,"
                  " sh.name, encode(sh.token_secret_enc, 'hex'),"
                  " extract(epoch FROM coalesce(i.expires_at,"
                  "  now() + (s.settings->>'expiry')::interval))::bigint,"
                  " coalesce((s.settings->'reminders'->>'count')::integer, 0),"
                  " extract(epoch FROM coalesce((s.settings->'reminders'->>'delay')::interval,"
                  "  interval '0'))::bigint,"
                  " extract(epoch FROM (s.settings->>'expiry')::interval)::bigint,"
                  " coalesce(i.expires_at <= now(), false),"
                  " coalesce(i.locale, (SELECT rr.locale FROM review_requests rr"
                  "  WHERE rr.shop_id = i.shop_id AND rr.order_id = i.order_id"
                  "  AND rr.locale IS NOT NULL ORDER BY rr.id DESC LIMIT 1), ''), i.channel"
                  " FROM survey_invitations i JOIN surveys s ON s.shop_id = i.shop_id"
                  "  AND s.id = i.survey_id JOIN shops sh ON sh.id = i.shop_id"
                  " WHERE i.shop_id = $1 AND i.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 7));
        x->found = true;
        snprintf(x->status, sizeof(x->status), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(x->first_name, sizeof(x->first_name), "%s", PQgetvalue(res, 0, 2));
        x->order_id = atoll(PQgetvalue(res, 0, 3));
        x->survey_id = atoll(PQgetvalue(res, 0, 4));
        version = atoi(PQgetvalue(res, 0, 5));
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 6));
        x->token_secret = shops_secret_open(x->cfg->secret_key, "token_secret", hex);
        x->exp = (time_t)atoll(PQgetvalue(res, 0, 8));
        x->reminder_count = atoi(PQgetvalue(res, 0, 9));
        x->reminder_delay_s = atoll(PQgetvalue(res, 0, 10));
        x->expiry_s = atoll(PQgetvalue(res, 0, 11));
        x->expired = strcmp(PQgetvalue(res, 0, 12), "t") == 0;
        snprintf(x->customer_locale, sizeof(x->customer_locale), "%s", PQgetvalue(res, 0, 13));
        x->note = strcmp(PQgetvalue(res, 0, 14), "order_note") == 0;
        free(hex);
    }
    PQclear(res);
    if (!x->found || strcmp(x->status, x->reminder == 0 ? "scheduled" : "sent") != 0 ||
        x->expired)
        return 0;
    if (x->reminder == 0) {
        /* Category filters decided now, with the categories the shop has
         * given since the order (surveys/jobs.c). */
        bool cancelled;
        if (surveys_invitation_categories_check(c, x->shop_id, x->invitation_id, &cancelled, e) <
            0)
            return -1;
        if (cancelled) {
            snprintf(x->status, sizeof(x->status), "cancelled");
            return 0;
        }
    }
    if (x->token_secret == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "cannot decrypt the shop's token secret");
    /* Returned since it was scheduled: the survey is not sent. */
    if (surveys_order_returned(c, x->shop_id, x->order_id, &x->returned, e) < 0)
        return -1;
    if (x->returned)
        return 0;
    if (surveys_questions_load(c, x->shop_id, x->survey_id, version, &x->questions, e) < 0)
        return -1;
    if (outreach_settings_load(c, x->shop_id, &x->os, e) < 0 ||
        outreach_contact_check(c, x->shop_id, x->email, OUTREACH_MARKETING, x->now, &x->verdict,
                               &x->slot, e) < 0)
        return -1;
    /* The customer's locale when known, else the shop's default. */
    x->locale = outreach_locale_pick(x->customer_locale[0] ? x->customer_locale : NULL, NULL,
                                     x->os.default_locale);
    /* The note is written through the shop's REST API. */
    return x->note ? woo_creds_load(c, x->shop_id, x->cfg->secret_key, &x->cr, e) : 0;
}

/* The customer unsubscribed before the invitation went: cancelled. */
static int
sv_unsubscribed_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct sv_send_ctx *x = ctx;

    return outreach_job_mark(c, "surveys_send_unsubscribed",
                             "UPDATE survey_invitations SET status = 'cancelled',"
                             " cancel_reason = 'unsubscribed', updated_at = now()"
                             " WHERE shop_id = $1 AND id = $2 AND status = 'scheduled'",
                             x->shop_id, x->invitation_id, e);
}

/* Every item was returned before the invitation went: cancelled. */
static int
sv_returned_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct sv_send_ctx *x = ctx;

    return outreach_job_mark(c, "surveys_send_returned",
                             "UPDATE survey_invitations SET status = 'cancelled',"
                             " cancel_reason = 'items returned', updated_at = now()"
                             " WHERE shop_id = $1 AND id = $2 AND status = 'scheduled'",
                             x->shop_id, x->invitation_id, e);
}

static int
sv_enqueue(struct db_conn *c, const struct sv_send_ctx *x, const char *kind, const char *what,
           int n, int64_t delay_s, struct err *e)
{
    char key[64];
    json_t *payload = n > 0 ? json_pack("{s:I, s:i}", "invitation_id",
                                        (json_int_t)x->invitation_id, "reminder", n)
                            : json_pack("{s:I}", "invitation_id", (json_int_t)x->invitation_id);
    int rc;

    snprintf(key, sizeof(key), "%s:%" PRId64 ":%d", what, x->invitation_id, n);
    rc = jobs_enqueue(c, x->shop_id, kind, payload, key, (long)delay_s * 1000, 0, NULL, e);
    json_decref(payload);
    return rc < 0 ? -1 : 0;
}

static int
sv_mark_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct sv_send_ctx *x = ctx;
    char shop[24], id[24], exp[24];
    const char *params[3] = {shop, id, exp};

    DB_I64(shop, x->shop_id);
    DB_I64(id, x->invitation_id);
    DB_I64(exp, (int64_t)x->exp);
    if (x->reminder == 0 &&
        db_exec_cmd(c, "surveys_send_mark",
                    "UPDATE survey_invitations SET status = 'sent', sent_at = now(),"
                    " expires_at = to_timestamp($3::bigint), updated_at = now()"
                    " WHERE shop_id = $1 AND id = $2 AND status = 'scheduled'",
                    3, params, e) < 0)
        return -1;
    if (outreach_contact_record(c, x->shop_id, x->email, "surveys",
                                x->reminder == 0 ? "survey_invitation" : "survey_reminder",
                                x->invitation_id, OUTREACH_MARKETING, e) < 0)
        return -1;
    /* The next reminder; it sends only while the invitation is 'sent'
     * (answering, expiry or a cancellation stop it). */
    if (x->reminder < x->reminder_count &&
        sv_enqueue(c, x, "surveys.send", "remind", x->reminder + 1, x->reminder_delay_s, e) < 0)
        return -1;
    /* The expiry marks the invitation expired when the window closes. */
    if (x->reminder == 0 && sv_enqueue(c, x, "surveys.expire", "expire", 0, x->expiry_s, e) < 0)
        return -1;
    return 0;
}

/* The question's label in the message's locale, else English, else any. */
static const char *
sv_label(const json_t *q, const char *locale)
{
    const json_t *l = json_object_get(q, "label");
    const char *k;
    json_t *v;

    if (jx_str(l, locale))
        return jx_str(l, locale);
    if (jx_str(l, "en"))
        return jx_str(l, "en");
    json_object_foreach((json_t *)(uintptr_t)l, k, v)
        return json_string_value(v);
    return "";
}

static void
sv_put_escaped(struct buf *b, const char *s)
{
    char *esc = mail_html_escape(s ? s : "");
    buf_puts(b, esc);
    free(esc);
}

static void
sv_put_text(struct buf *b, const char *locale, const char *key, bool html,
            const char *const *vars)
{
    char *t = outreach_text(locale, key, html, vars);
    buf_puts(b, t ? t : "");
    free(t);
}

/* The faces of CSAT 1..5, from very dissatisfied to very satisfied. */
static const char *const faces[5] = {"\xF0\x9F\x98\x9E", "\xF0\x9F\x99\x81", "\xF0\x9F\x98\x90",
                                     "\xF0\x9F\x99\x82", "\xF0\x9F\x98\x80"};

/* The subject, text and HTML bodies; the scale links go to `page`. */
static void
sv_render(const struct sv_send_ctx *x, const char *page, const char *unsub, char **subject,
          char **text, char **html)
{
    const char *brand = x->os.brand_name[0] ? x->os.brand_name : x->shop_name;
    const char *vars[] = {"shop_name", brand, "first_name", x->first_name, NULL};
    const json_t *q = json_array_get(x->questions, 0);
    const char *qid = jx_str(q, "id");
    int kind = surveys_kind_parse(jx_str(q, "kind"));
    /* A note is plain text: one link, not eleven. */
    bool scale = !x->note && qid && (kind == SURVEYS_NPS || kind == SURVEYS_CSAT);
    int lo = kind == SURVEYS_NPS ? 0 : 1, hi = kind == SURVEYS_NPS ? 10 : 5;
    const char *low_key = kind == SURVEYS_NPS ? "survey.nps.low" : "survey.csat.low";
    const char *high_key = kind == SURVEYS_NPS ? "survey.nps.high" : "survey.csat.high";
    const char *accent = x->os.accent_color[0] ? x->os.accent_color : "#7f54b3";
    struct buf t = {0}, h = {0};
    char *footer, *title;

    *subject = outreach_text(x->locale,
                             x->reminder == 0 ? "survey.invitation.subject"
                                              : "survey.reminder.subject",
                             false, vars);
    /* Text part. */
    sv_put_text(&t, x->locale, "review.email.greeting", false, vars);
    buf_puts(&t, "\n\n");
    sv_put_text(&t, x->locale, "survey.invitation.intro", false, vars);
    buf_puts(&t, "\n\n");
    if (scale) {
        buf_puts(&t, sv_label(q, x->locale));
        buf_puts(&t, "\n(");
        buf_printf(&t, "%d = ", lo);
        sv_put_text(&t, x->locale, low_key, false, vars);
        buf_printf(&t, ", %d = ", hi);
        sv_put_text(&t, x->locale, high_key, false, vars);
        buf_puts(&t, ")\n\n");
        for (int v = lo; v <= hi; v++)
            buf_printf(&t, "%d: %s?q=%s&v=%d\n", v, page, qid, v);
    } else {
        sv_put_text(&t, x->locale, "survey.invitation.button", false, vars);
        buf_printf(&t, ": %s\n", page);
    }
    footer = outreach_email_text_footer(x->locale, brand, unsub);
    buf_puts(&t, "\n");
    buf_puts(&t, footer);
    free(footer);
    /* HTML part: the values escaped, the frame is the outreach layer's. */
    buf_puts(&h, "<p>");
    sv_put_text(&h, x->locale, "review.email.greeting", true, vars);
    buf_puts(&h, "</p><p>");
    sv_put_text(&h, x->locale, "survey.invitation.intro", true, vars);
    buf_puts(&h, "</p>");
    if (scale) {
        buf_puts(&h, "<p style=\"font-weight:600\">");
        sv_put_escaped(&h, sv_label(q, x->locale));
        buf_puts(&h, "</p><table role=\"presentation\" cellspacing=\"0\" cellpadding=\"0\"><tr>");
        for (int v = lo; v <= hi; v++) {
            char *href = xasprintf("%s?q=%s&v=%d", page, qid, v);
            buf_puts(&h, "<td style=\"padding:2px\"><a href=\"");
            sv_put_escaped(&h, href);
            buf_printf(&h,
                       "\" style=\"display:inline-block;min-width:28px;padding:6px 4px;"
                       "text-align:center;border:1px solid %s;border-radius:4px;color:%s;"
                       "text-decoration:none\" aria-label=\"%d\">",
                       accent, accent, v);
            if (kind == SURVEYS_CSAT)
                buf_printf(&h, "%s<br>%d", faces[v - 1], v);
            else
                buf_printf(&h, "%d", v);
            buf_puts(&h, "</a></td>");
            free(href);
        }
        buf_puts(&h, "</tr></table><p style=\"font-size:12px;color:#666\">");
        buf_printf(&h, "%d = ", lo);
        sv_put_text(&h, x->locale, low_key, true, vars);
        buf_printf(&h, " &middot; %d = ", hi);
        sv_put_text(&h, x->locale, high_key, true, vars);
        buf_puts(&h, "</p>");
    } else {
        buf_puts(&h, "<p><a href=\"");
        sv_put_escaped(&h, page);
        buf_printf(&h,
                   "\" style=\"display:inline-block;padding:10px 18px;background:%s;color:#fff;"
                   "border-radius:4px;text-decoration:none\">",
                   accent);
        sv_put_text(&h, x->locale, "survey.invitation.button", true, vars);
        buf_puts(&h, "</a></p>");
    }
    title = *subject ? *subject : xstrdup("");
    *html = outreach_email_html(x->locale, &x->os, brand, title, h.data ? h.data : "", unsub);
    if (*subject == NULL)
        free(title);
    *text = t.data ? t.data : xstrdup("");
    free(h.data);
}

/* Mint the link, render and send; out is set on failure. */
static int
sv_deliver(struct job_env *env, struct sv_send_ctx *x, struct job_outcome *out)
{
    const struct config *cfg = env->cfg;
    struct token_claims claims = {.shop_id = x->shop_id, .rid = x->invitation_id};
    char *token = NULL, *page = NULL, *unsub = NULL, *subject = NULL, *text = NULL, *html = NULL;
    char msgid[128];
    struct err e = {0};
    enum mail_result r;
    int rc = -1;

    if (cfg->public_url == NULL) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INVALID, NULL,
                "PUBLIC_URL is not set: survey links need the service's public address");
        return -1;
    }
    snprintf(claims.scope, sizeof(claims.scope), "survey");
    snprintf(claims.email, sizeof(claims.email), "%s", x->email);
    /* As long as the invitation takes answers, never longer than tokens may live. */
    claims.exp = x->exp - x->now < cfg->token_max_lifetime_s ? x->exp
                                                             : x->now + cfg->token_max_lifetime_s;
    token = token_mint(x->token_secret, &claims);
    page = token ? xasprintf("%s/s/%s", cfg->public_url, token) : NULL;
    unsub = outreach_unsubscribe_link(cfg, cfg->public_url, x->token_secret, x->shop_id, x->email,
                                      x->invitation_id, "surveys");
    if (page == NULL || unsub == NULL) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INTERNAL, NULL, "could not mint the survey link token");
        goto out;
    }
    sv_render(x, page, unsub, &subject, &text, &html);
    if (subject == NULL || html == NULL) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INTERNAL, NULL, "could not render the survey invitation");
        goto out;
    }
    if (x->note) {
        /* WooCommerce emails a customer note to the order's billing address. */
        enum woo_result wr = outreach_send_note(env->woo, &x->cr.shop, x->order_id, subject,
                                                text, &e);
        if (wr != WOO_OK) {
            out->status = wr == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            goto out;
        }
        rc = 0;
        goto out;
    }
    {
        struct outreach_email m = {.shop_name = x->shop_name, .to_name = x->first_name,
                                   .to_addr = x->email, .subject = subject, .text = text,
                                   .html = html, .unsubscribe_url = unsub, .message_id = msgid};
        snprintf(msgid, sizeof(msgid), "<survey-%" PRId64 "-%" PRId64 "-%d@aftersale>",
                 x->shop_id, x->invitation_id, x->reminder);
        r = outreach_send_email(cfg, &x->os, &m, &e);
    }
    if (r != MAIL_OK) {
        out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    rc = 0;
out:
    free(token);
    free(page);
    free(unsub);
    free(subject);
    free(text);
    free(html);
    return rc;
}

void
surveys_job_send(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct sv_send_ctx *x = xcalloc(1, sizeof(*x));
    struct err e = {0};

    x->cfg = env->cfg;
    x->now = time(NULL);
    x->shop_id = job->shop_id;
    x->invitation_id = json_integer_value(json_object_get(job->payload, "invitation_id"));
    x->reminder = (int)json_integer_value(json_object_get(job->payload, "reminder"));
    if (db_run(sv_send_load_fn, x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    if (!x->found || strcmp(x->status, x->reminder == 0 ? "scheduled" : "sent") != 0 ||
        x->expired) {
        out->result = json_pack("{s:s}", "skipped", !x->found   ? "no invitation"
                                                    : x->expired ? "expired"
                                                                 : x->status);
        goto out;
    }
    if (x->returned) {
        /* A reminder just stops; the invitation not sent yet is cancelled. */
        outreach_job_skip(x->reminder == 0 ? sv_returned_fn : NULL, x, "items returned", out);
        goto out;
    }
    if (outreach_job_verdict(x->verdict, x->now, x->slot, sv_unsubscribed_fn, x, out))
        goto out;
    if (sv_deliver(env, x, out) < 0)
        goto out;
    if (db_tx(sv_mark_fn, x, &e) < 0) {
        /* Sent but not recorded: the retry sends the same Message-ID. */
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    out->result = json_pack("{s:s, s:i, s:s}", "sent", x->note ? "order_note" : "email",
                            "reminder", x->reminder, "locale", x->locale);
out:
    sv_send_clear(x);
    free(x);
}

int
surveys_job_expire(struct db_conn *c, struct job_env *env, const struct job *job,
                   struct job_outcome *out, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    long n;

    (void)env;
    out->status = JOB_DONE;
    DB_I64(shop, job->shop_id);
    DB_I64(id, json_integer_value(json_object_get(job->payload, "invitation_id")));
    /* Only a sent, unanswered invitation whose window closed. */
    n = db_exec_cmd(c, "surveys_expire",
                    "UPDATE survey_invitations SET status = 'expired', updated_at = now()"
                    " WHERE shop_id = $1 AND id = $2 AND status = 'sent' AND expires_at <= now()",
                    2, params, e);
    if (n < 0)
        return -1;
    out->result = json_pack("{s:b}", "expired", n > 0);
    return 0;
}
