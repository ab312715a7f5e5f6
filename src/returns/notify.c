/*
 * notify.c - the messages of a return: returns.notify (the customer's, one
 * per transition in return_outbox) and returns.alert (the merchant's, one
 * per new request).
 *
 * Both are transactional: checked with OUTREACH_TRANSACTIONAL (always
 * SEND: no contact cap, no unsubscribe), logged in the contact log and
 * counted against nothing. The customer's message goes by the returns
 * settings' `channel`: "email" (the service's SMTP, the shop's brand
 * frame) or "order_note" (a customer note on the order, which WooCommerce
 * emails to the billing address).
 *
 * Sent once: the job is enqueued with its outbox row (same transaction);
 * it sends only a row still `pending` and marks it `sent` afterwards
 * (UPDATE ... WHERE status = 'pending'). At most one outbound job of a
 * shop runs at a time, so two jobs never send the same row together. The
 * window left is a crash (or a lost database) between the send and the
 * mark: the retry sends again. Email keeps the same Message-ID
 * (<return-<shop>-<outbox id>@aftersale>) so mail clients can fold the
 * duplicate; an order note carries the tag "[R-1042 approved]" and the
 * job looks for it among the order's notes before posting, so a note is
 * not posted twice. This is at-least-once, like review requests.
 *
 * The merchant's alert is at-most-once instead, and so sent exactly once
 * whenever the server took it: the job claims its row of return_alerts
 * ('sending', committed) before it talks to the SMTP server and marks it
 * 'sent' after. A send that certainly failed (refused, 4xx/5xx, cut off
 * before the final dot) gives the claim back and is retried. A send whose
 * outcome is unknown (the whole message handed over, then a timeout or a
 * lost connection: mail_message.outcome_unknown), or a retry that finds
 * 'sending' (the attempt before it crashed or lost its lease mid-send),
 * is not sent again: the row and the job's result say 'unconfirmed'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/log.h"
#include "aftersale/core/mem.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/templates.h"
#include "aftersale/returns/jobs.h"
#include "aftersale/returns/returns.h"
#include "aftersale/woo/client.h"
#include "aftersale/woo/link.h"

struct nctx {
    const struct config *cfg;
    int64_t shop_id, outbox_id, request_id;
    bool found;
    char status[16], to_state[24], email[256], first_name[256], shop_name[256], customer_locale[16],
        currency[8];
    char *note; /* the merchant's note on this transition, may be "" */
    json_t *request, *settings;
    struct outreach_settings os;
    enum outreach_verdict verdict;
    time_t slot;
    struct woo_creds cr;
    bool by_note;
    const char *locale;
};

static void
nctx_clear(struct nctx *x)
{
    free(x->note);
    x->note = NULL;
    json_decref(x->request);
    x->request = NULL;
    json_decref(x->settings);
    x->settings = NULL;
    woo_creds_clear(&x->cr);
}

static int
load_common(struct db_conn *c, struct nctx *x, struct err *e)
{
    if (outreach_settings_load(c, x->shop_id, &x->os, e) < 0 ||
        returns_settings_load(c, x->shop_id, &x->settings, e) < 0)
        return -1;
    return outreach_shop_name(c, x->shop_id, x->shop_name, sizeof(x->shop_name), e);
}

static int
load_fn(struct db_conn *c, void *p, struct err *e)
{
    struct nctx *x = p;
    char shop[24], oid[24];
    const char *params[2] = {shop, oid};
    PGresult *res;

    nctx_clear(x);
    x->found = false;
    DB_I64(shop, x->shop_id);
    DB_I64(oid, x->outbox_id);
    res = db_exec(c, "returns_notify_load",
                  "SELECT o.status, o.to_state, o.email, o.request_id,"
                  " coalesce(v.changes ->> 'note', ''), coalesce(d.billing_first_name, ''),"
                  " coalesce(q.locale, ''), coalesce(d.currency, '')"
                  " FROM return_outbox o JOIN return_requests q ON q.shop_id = o.shop_id"
                  " AND q.id = o.request_id"
                  " LEFT JOIN return_events v ON v.shop_id = o.shop_id AND v.id = o.event_id"
                  " LEFT JOIN orders d ON d.shop_id = q.shop_id AND d.order_id = q.order_id"
                  " WHERE o.shop_id = $1 AND o.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        x->found = true;
        snprintf(x->status, sizeof(x->status), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->to_state, sizeof(x->to_state), "%s", PQgetvalue(res, 0, 1));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 2));
        x->request_id = atoll(PQgetvalue(res, 0, 3));
        x->note = xstrdup(PQgetvalue(res, 0, 4));
        snprintf(x->first_name, sizeof(x->first_name), "%s", PQgetvalue(res, 0, 5));
        snprintf(x->customer_locale, sizeof(x->customer_locale), "%s", PQgetvalue(res, 0, 6));
        snprintf(x->currency, sizeof(x->currency), "%s", PQgetvalue(res, 0, 7));
    }
    PQclear(res);
    if (!x->found || strcmp(x->status, "pending") != 0)
        return 0;
    if (returns_store_get(c, x->shop_id, x->request_id, &x->request, e) < 0 ||
        load_common(c, x, e) < 0 ||
        outreach_contact_check(c, x->shop_id, x->email, OUTREACH_TRANSACTIONAL, time(NULL),
                               &x->verdict, &x->slot, e) < 0)
        return -1;
    x->by_note = strcmp(jx_str(x->settings, "channel") ? jx_str(x->settings, "channel") : "",
                        "order_note") == 0;
    return x->by_note ? woo_creds_load(c, x->shop_id, x->cfg->secret_key, &x->cr, e) : 0;
}

static int
mark_fn(struct db_conn *c, void *p, struct err *e)
{
    struct nctx *x = p;
    char shop[24], oid[24], what[48];
    const char *params[2] = {shop, oid};

    DB_I64(shop, x->shop_id);
    DB_I64(oid, x->outbox_id);
    snprintf(what, sizeof(what), "return_%s", x->to_state);
    if (db_exec_cmd(c, "returns_notify_mark",
                    "UPDATE return_outbox SET status = 'sent'"
                    " WHERE shop_id = $1 AND id = $2 AND status = 'pending'",
                    2, params, e) < 0)
        return -1;
    return outreach_contact_record(c, x->shop_id, x->email, "returns", what, x->request_id,
                                   OUTREACH_TRANSACTIONAL, e);
}

/* ---- rendering ----------------------------------------------------------------- */

/* A text of the catalogue, escaped for HTML or not. */
static char *
cat(const struct nctx *x, const char *key, bool html, const char *const *vars)
{
    return outreach_text(x->locale, key, html, vars);
}

/* A value from the shop or the customer: escaped for HTML, new lines kept. */
static void
put_value(struct buf *b, const char *v, bool html)
{
    char *esc;

    if (!html) {
        buf_puts(b, v);
        return;
    }
    esc = mail_html_escape(v);
    for (const char *p = esc; *p; p++) {
        if (*p == '\n')
            buf_puts(b, "<br>");
        else
            buf_append(b, p, 1);
    }
    free(esc);
}

/* The label of a reason in the message's locale, else English, else its code. */
static const char *
reason_label(const struct nctx *x, const char *code)
{
    json_t *r;
    size_t i;

    json_array_foreach(json_object_get(x->settings, "reasons"), i, r)
    {
        if (strcmp(jx_str(r, "code") ? jx_str(r, "code") : "", code) == 0) {
            json_t *labels = json_object_get(r, "labels");
            const char *l = json_string_value(json_object_get(labels, x->locale));
            if (l == NULL)
                l = json_string_value(json_object_get(labels, "en"));
            return l ? l : code;
        }
    }
    return code;
}

static void
heading(struct buf *b, const char *text, bool html)
{
    if (html)
        buf_printf(b, "<h2 style=\"font-size:16px;margin:16px 0 4px;\">%s</h2>", text);
    else
        buf_printf(b, "\n%s\n", text);
}

static void
section(const struct nctx *x, struct buf *b, const char *key, const char *value, bool html)
{
    char *h;

    if (value == NULL || value[0] == '\0')
        return;
    h = cat(x, key, html, NULL);
    heading(b, h, html);
    free(h);
    if (html)
        buf_puts(b, "<p style=\"margin:0;\">");
    put_value(b, value, html);
    buf_puts(b, html ? "</p>" : "\n");
}

/* What the resolution made, in the customer's words. */
static char *
resolved_text(const struct nctx *x, bool html)
{
    const json_t *res = json_object_get(x->request, "result");
    const char *kind = jx_str(res, "kind") ? jx_str(res, "kind") : "";
    char num[24];

    if (strcmp(kind, "refund") == 0) {
        struct buf amounts = {0};
        char *t;
        json_t *a;
        size_t i;
        json_array_foreach(json_object_get(res, "amounts"), i, a)
        {
            buf_printf(&amounts, "%s%s %s", i ? " + " : "",
                       json_string_value(a) ? json_string_value(a) : "", x->currency);
        }
        {
            const char *vars[] = {"amount", amounts.data ? amounts.data : "", NULL};
            t = cat(x, "returns.resolved.refund", html, vars);
        }
        buf_free(&amounts);
        return t;
    }
    if (strcmp(kind, "store_credit") == 0) {
        char *amount =
            xasprintf("%s %s", jx_str(res, "amount") ? jx_str(res, "amount") : "", x->currency);
        const char *vars[] = {"amount", amount, "code", jx_str(res, "code"), NULL};
        char *t = cat(x, "returns.resolved.store_credit", html, vars);
        free(amount);
        return t;
    }
    snprintf(num, sizeof(num), "%" PRId64,
             (int64_t)json_integer_value(json_object_get(res, "order_id")));
    {
        const char *vars[] = {"order_number", num, NULL};
        return cat(x, "returns.resolved.exchange", html, vars);
    }
}

/* The body of the customer's message (text or HTML, the frame aside). */
static char *
customer_body(const struct nctx *x, bool html)
{
    char key[64], order[24], *t;
    const char *rma = jx_str(x->request, "rma");
    const char *brand = x->os.brand_name[0] ? x->os.brand_name : x->shop_name;
    struct buf b = {0};
    json_t *l;
    size_t i;

    snprintf(order, sizeof(order), "%" PRId64,
             (int64_t)json_integer_value(json_object_get(x->request, "order_id")));
    {
        const char *vars[] = {"first_name", x->first_name, "shop_name", brand, NULL};
        t = cat(x, x->first_name[0] ? "returns.greeting" : "returns.greeting_anonymous", html,
                vars);
        buf_printf(&b, html ? "<p style=\"margin:0 0 12px;\">%s</p>" : "%s\n\n", t);
        free(t);
    }
    snprintf(key, sizeof(key), "returns.body.%s", x->to_state);
    {
        const char *vars[] = {"rma", rma, "order_number", order, "shop_name", brand, NULL};
        t = cat(x, key, html, vars);
        buf_printf(&b, html ? "<p style=\"margin:0 0 12px;\">%s</p>" : "%s\n", t);
        free(t);
    }
    if (strcmp(x->to_state, "resolved") == 0) {
        t = resolved_text(x, html);
        buf_printf(&b, html ? "<p style=\"margin:0 0 12px;\">%s</p>" : "%s\n", t);
        free(t);
    }
    if (strcmp(x->to_state, "approved") == 0) {
        section(x, &b, "returns.label.instructions", jx_str(x->settings, "instructions"), html);
        section(x, &b, "returns.label.address", jx_str(x->settings, "return_address"), html);
    }
    section(x, &b, "returns.label.note", x->note, html);
    t = cat(x, "returns.label.items", html, NULL);
    heading(&b, t, html);
    free(t);
    if (html)
        buf_puts(&b, "<ul style=\"margin:0;padding-left:20px;\">");
    json_array_foreach(json_object_get(x->request, "lines"), i, l)
    {
        const char *name = jx_str(l, "name") && jx_str(l, "name")[0] ? jx_str(l, "name") : "#";
        buf_printf(&b, html ? "<li>%d &times; " : "- %d x ",
                   (int)json_integer_value(json_object_get(l, "quantity")));
        put_value(&b, name, html);
        buf_puts(&b, " (");
        put_value(&b, reason_label(x, jx_str(l, "reason") ? jx_str(l, "reason") : ""), html);
        buf_puts(&b, html ? ")</li>" : ")\n");
    }
    if (html)
        buf_puts(&b, "</ul>");
    return buf_steal(&b);
}

/* On the order-note channel: was this message posted already (a retry
 * after a crash between the post and the mark)? */
static enum woo_result
note_posted(struct job_env *env, struct nctx *x, int64_t order_id, const char *tag, bool *found,
            struct err *e)
{
    struct woo_reply reply = {0};
    struct woo_param q[1] = {{"type", "customer"}};
    json_t *notes, *n;
    size_t i;
    char path[64];
    enum woo_result r;

    *found = false;
    snprintf(path, sizeof(path), "/orders/%" PRId64 "/notes", order_id);
    r = woo_request(env->woo, &x->cr.shop, "GET", path, q, 1, NULL, &reply, e);
    notes = reply.body;
    reply.body = NULL;
    woo_reply_clear(&reply);
    if (r != WOO_OK) {
        json_decref(notes);
        return r;
    }
    json_array_foreach(notes, i, n)
    {
        const char *t = jx_str(n, "note");
        *found = *found || (t != NULL && strstr(t, tag) != NULL);
    }
    json_decref(notes);
    return WOO_OK;
}

static void
deliver(struct job_env *env, struct nctx *x, struct job_outcome *out)
{
    const char *rma = jx_str(x->request, "rma");
    const char *brand = x->os.brand_name[0] ? x->os.brand_name : x->shop_name;
    int64_t order_id = (int64_t)json_integer_value(json_object_get(x->request, "order_id"));
    char key[64], order[24], msgid[96], *subject, *text, *html_body = NULL, *html = NULL;
    struct err e = {0};

    snprintf(order, sizeof(order), "%" PRId64, order_id);
    snprintf(key, sizeof(key), "returns.subject.%s", x->to_state);
    {
        const char *vars[] = {"rma", rma, "order_number", order, "shop_name", brand, NULL};
        subject = cat(x, key, false, vars);
    }
    text = customer_body(x, false);
    out->status = JOB_DONE;
    if (x->by_note) {
        char *tagged = NULL, tag[64];
        bool posted = false;
        enum woo_result r;
        snprintf(tag, sizeof(tag), "[%s %s]", rma, x->to_state);
        r = note_posted(env, x, order_id, tag, &posted, &e);
        if (r == WOO_OK && !posted) {
            tagged = xasprintf("%s %s", subject, tag);
            r = outreach_send_note(env->woo, &x->cr.shop, order_id, tagged, text, &e);
        }
        free(tagged);
        if (r != WOO_OK) {
            out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
        }
        goto out;
    }
    html_body = customer_body(x, true);
    /* The frame escapes the title itself. */
    html = outreach_email_html(x->locale, &x->os, brand, subject, html_body, NULL);
    snprintf(msgid, sizeof(msgid), "<return-%" PRId64 "-%" PRId64 "@aftersale>", x->shop_id,
             x->outbox_id);
    {
        /* Transactional: no List-Unsubscribe. */
        struct outreach_email m = {.shop_name = x->shop_name,
                                   .to_name = x->first_name,
                                   .to_addr = x->email,
                                   .subject = subject,
                                   .text = text,
                                   .html = html,
                                   .message_id = msgid};
        enum mail_result r = outreach_send_email(env->cfg, &x->os, &m, &e);
        if (r != MAIL_OK) {
            out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
        }
    }
out:
    free(subject);
    free(text);
    free(html_body);
    free(html);
}

void
returns_job_notify(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct nctx x = {.cfg = env->cfg, .shop_id = job->shop_id};
    struct err e = {0};

    x.outbox_id = (int64_t)json_integer_value(json_object_get(job->payload, "outbox_id"));
    if (db_run(load_fn, &x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto done;
    }
    if (!x.found || strcmp(x.status, "pending") != 0) {
        out->status = JOB_DONE;
        out->result = json_pack("{s:s}", "skipped", x.found ? x.status : "no message");
        goto done;
    }
    if (x.verdict != OUTREACH_SEND) { /* cannot happen: transactional */
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INTERNAL, NULL, "a transactional message was held back");
        goto done;
    }
    x.locale = outreach_locale_pick(x.customer_locale[0] ? x.customer_locale : NULL, NULL,
                                    x.os.default_locale);
    deliver(env, &x, out);
    if (out->status != JOB_DONE)
        goto done;
    if (db_tx(mark_fn, &x, &e) < 0) {
        /* Sent but not marked: the retry may send again (at-least-once). */
        out->status = JOB_RETRY;
        out->err = e;
        goto done;
    }
    out->result = json_pack("{s:s, s:s, s:s}", "sent", x.by_note ? "order_note" : "email", "state",
                            x.to_state, "locale", x.locale);
done:
    nctx_clear(&x);
}

/* ---- the merchant's alert ------------------------------------------------------- */

static int
alert_load_fn(struct db_conn *c, void *p, struct err *e)
{
    struct nctx *x = p;

    nctx_clear(x);
    if (returns_store_get(c, x->shop_id, x->request_id, &x->request, e) < 0)
        return -1;
    x->found = x->request != NULL;
    return x->found ? load_common(c, x, e) : 0;
}

/* The alert's row in return_alerts: claimed before the send, so a retry
 * can tell "never tried" from "cut off while the server may have taken it". */
struct alert_claim {
    struct nctx *x;
    const char *set;    /* alert_set_fn: the status to write; NULL: give the claim back */
    const char *detail; /* why, for 'unconfirmed' */
    char found[16];     /* alert_claim_fn: the status an earlier attempt left, "" if none */
};

static int
alert_claim_fn(struct db_conn *c, void *p, struct err *e)
{
    struct alert_claim *a = p;
    char shop[24], rid[24];
    const char *params[2] = {shop, rid};
    PGresult *res;

    DB_I64(shop, a->x->shop_id);
    DB_I64(rid, a->x->request_id);
    a->found[0] = '\0';
    res = db_exec(c, "returns_alert_claim",
                  "WITH mine AS (INSERT INTO return_alerts (shop_id, request_id, status)"
                  " VALUES ($1, $2, 'sending') ON CONFLICT (shop_id, request_id) DO NOTHING"
                  " RETURNING 1)"
                  " SELECT status FROM return_alerts WHERE shop_id = $1 AND request_id = $2"
                  " AND NOT EXISTS (SELECT 1 FROM mine)",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        snprintf(a->found, sizeof(a->found), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int
alert_set_fn(struct db_conn *c, void *p, struct err *e)
{
    struct alert_claim *a = p;
    char shop[24], rid[24];
    const char *params[4] = {shop, rid, a->set, a->detail};

    DB_I64(shop, a->x->shop_id);
    DB_I64(rid, a->x->request_id);
    if (a->set == NULL)
        return db_exec_cmd(c, "returns_alert_release",
                           "DELETE FROM return_alerts WHERE shop_id = $1 AND request_id = $2"
                           " AND status = 'sending'",
                           2, params, e);
    if (db_exec_cmd(c, "returns_alert_set",
                    "UPDATE return_alerts SET status = $3, detail = $4, updated_at = now()"
                    " WHERE shop_id = $1 AND request_id = $2",
                    4, params, e) < 0)
        return -1;
    return strcmp(a->set, "sent") != 0
               ? 0
               : outreach_contact_record(c, a->x->shop_id, a->x->os.alert_email, "returns",
                                         "return_alert", a->x->request_id,
                                         OUTREACH_TRANSACTIONAL, e);
}

/* The merchant's alert, in the shop's default locale. */
static char *
alert_body(const struct nctx *x, const char *link, bool html)
{
    const json_t *q = x->request;
    char order[24], *t;
    struct buf b = {0};
    json_t *l;
    size_t i;

    snprintf(order, sizeof(order), "%" PRId64,
             (int64_t)json_integer_value(json_object_get(q, "order_id")));
    {
        const char *vars[] = {"rma",   jx_str(q, "rma"),   "order_number", order,
                              "email", jx_str(q, "email"), "resolution",   jx_str(q, "resolution"),
                              NULL};
        t = cat(x, "returns.alert.intro", html, vars);
        buf_printf(&b, html ? "<p style=\"margin:0 0 12px;\">%s</p>" : "%s\n\n", t);
        free(t);
    }
    if (html)
        buf_puts(&b, "<ul style=\"margin:0;padding-left:20px;\">");
    json_array_foreach(json_object_get(q, "lines"), i, l)
    {
        buf_printf(&b, html ? "<li>%d &times; " : "- %d x ",
                   (int)json_integer_value(json_object_get(l, "quantity")));
        put_value(&b, jx_str(l, "name") ? jx_str(l, "name") : "", html);
        buf_printf(&b, " (line %" PRId64 "): ",
                   (int64_t)json_integer_value(json_object_get(l, "line_item_id")));
        put_value(&b, jx_str(l, "reason") ? jx_str(l, "reason") : "", html);
        if (jx_str(l, "note") && jx_str(l, "note")[0]) {
            buf_puts(&b, html ? " &ndash; " : " - ");
            put_value(&b, jx_str(l, "note"), html);
        }
        buf_puts(&b, html ? "</li>" : "\n");
    }
    if (html)
        buf_puts(&b, "</ul>");
    t = cat(x, "returns.alert.details", html, NULL);
    if (html) {
        char *esc = mail_html_escape(link);
        buf_printf(&b, "<p style=\"margin:12px 0 0;\">%s <a href=\"%s\">%s</a></p>", t, esc, esc);
        free(esc);
    } else {
        buf_printf(&b, "\n%s %s\n", t, link);
    }
    free(t);
    return buf_steal(&b);
}

void
returns_job_alert(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct nctx x = {.cfg = env->cfg, .shop_id = job->shop_id};
    struct alert_claim claim = {.x = &x};
    struct err e = {0};
    char msgid[96], order[24], *link = NULL, *subject = NULL, *text = NULL, *body = NULL,
                               *html = NULL;
    const char *brand;

    x.request_id = (int64_t)json_integer_value(json_object_get(job->payload, "request_id"));
    if (db_run(alert_load_fn, &x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto done;
    }
    out->status = JOB_DONE;
    if (!x.found || x.os.alert_email[0] == '\0') {
        out->result = json_pack("{s:s}", "skipped", x.found ? "no alert_email" : "no request");
        goto done;
    }
    x.locale = outreach_locale_pick(NULL, NULL, x.os.default_locale);
    brand = x.os.brand_name[0] ? x.os.brand_name : x.shop_name;
    link = xasprintf("%s/v1/returns/%" PRId64, env->cfg->public_url ? env->cfg->public_url : "",
                     x.request_id);
    snprintf(order, sizeof(order), "%" PRId64,
             (int64_t)json_integer_value(json_object_get(x.request, "order_id")));
    {
        const char *vars[] = {"rma", jx_str(x.request, "rma"), "order_number", order, NULL};
        subject = cat(&x, "returns.alert.subject", false, vars);
    }
    text = alert_body(&x, link, false);
    body = alert_body(&x, link, true);
    html = outreach_email_html(x.locale, &x.os, brand, subject, body, NULL);
    snprintf(msgid, sizeof(msgid), "<return-alert-%" PRId64 "-%" PRId64 "@aftersale>", x.shop_id,
             x.request_id);
    /* Claim before the send (committed): the one guard that survives a
     * crash in the middle of it. */
    if (db_tx(alert_claim_fn, &claim, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto done;
    }
    if (strcmp(claim.found, "sent") == 0) {
        out->result = json_pack("{s:s}", "skipped", "sent already");
        goto done;
    }
    if (claim.found[0] != '\0') {
        /* An earlier attempt was cut off while the server may have taken
         * the message: sending again could make it two. Say so instead. */
        claim.set = "unconfirmed";
        claim.detail = "an earlier attempt was interrupted while sending (crash or lost lease)";
        if (strcmp(claim.found, "unconfirmed") != 0 && db_tx(alert_set_fn, &claim, &e) < 0) {
            out->status = JOB_RETRY;
            out->err = e;
            goto done;
        }
        log_take(LOG_WARN, "returns alert not sent again",
                 json_pack("{s:I, s:I, s:s}", "shop_id", (json_int_t)x.shop_id, "request_id",
                           (json_int_t)x.request_id, "reason", claim.detail));
        out->result = json_pack("{s:s, s:s}", "unconfirmed", claim.detail, "to",
                                x.os.alert_email);
        goto done;
    }
    {
        bool unknown = false;
        struct outreach_email m = {.shop_name = x.shop_name,
                                   .to_addr = x.os.alert_email,
                                   .subject = subject,
                                   .text = text,
                                   .html = html,
                                   .message_id = msgid,
                                   .outcome_unknown = &unknown};
        enum mail_result r = outreach_send_email(env->cfg, &x.os, &m, &e);
        if (r != MAIL_OK && unknown) {
            /* Handed over, then no answer: perhaps delivered. Not again. */
            struct err e2 = {0};
            claim.set = "unconfirmed";
            claim.detail = e.detail;
            if (db_tx(alert_set_fn, &claim, &e2) < 0) {
                out->status = JOB_RETRY; /* the retry finds 'sending': not sent again */
                out->err = e2;
                goto done;
            }
            out->result = json_pack("{s:s, s:s}", "unconfirmed", e.detail, "to",
                                    x.os.alert_email);
            goto done;
        }
        if (r != MAIL_OK) {
            /* Certainly not taken: give the claim back so a retry sends. */
            struct err e2 = {0};
            claim.set = NULL;
            out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            if (db_tx(alert_set_fn, &claim, &e2) < 0)
                out->status = JOB_RETRY;
            goto done;
        }
    }
    claim.set = "sent";
    claim.detail = NULL;
    if (db_tx(alert_set_fn, &claim, &e) < 0) {
        /* Sent, not recorded: the retry finds 'sending' and does not send
         * again (it says 'unconfirmed'). */
        out->status = JOB_RETRY;
        out->err = e;
        goto done;
    }
    out->result = json_pack("{s:s, s:s}", "sent", "email", "to", x.os.alert_email);
done:
    free(link);
    free(subject);
    free(text);
    free(body);
    free(html);
    nctx_clear(&x);
}
