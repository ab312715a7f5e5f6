/*
 * jobs.c - the outreach layer's own job: the merchant's test email.
 *
 * It is also the smallest complete use of the layer by a programme, and
 * the one transactional sender until returns exist: load (settings, shop,
 * contact check with OUTREACH_TRANSACTIONAL), send with no connection
 * held, then record. The check is made and asserted on anyway, so the
 * rule "transactional messages are never capped nor suppressed" is
 * exercised end to end by tests/integration/test_messaging.py.
 *
 * Below it, the steps the programmes' sending jobs (reviews/jobs.c,
 * surveys/send.c) share: what to do with a verdict other than SEND, and
 * the one-row state change that skipping a message makes, and the
 * cancelling of an order's pending messages when the order is gone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/jobs.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/templates.h"
#include "aftersale/woo/link.h"
#include "aftersale/core/mem.h"

struct test_ctx {
    int64_t shop_id, job_id;
    char email[256], shop_name[256];
    const char *locale;
    struct outreach_settings os;
    enum outreach_verdict verdict;
    time_t slot;
    bool unsubscribed;
};

static int
load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct test_ctx *x = ctx;

    if (outreach_settings_load(c, x->shop_id, &x->os, e) < 0 ||
        outreach_unsubscribed(c, x->shop_id, x->email, &x->unsubscribed, e) < 0 ||
        outreach_contact_check(c, x->shop_id, x->email, OUTREACH_TRANSACTIONAL, time(NULL),
                               &x->verdict, &x->slot, e) < 0)
        return -1;
    return outreach_shop_name(c, x->shop_id, x->shop_name, sizeof(x->shop_name), e);
}

static int
record_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct test_ctx *x = ctx;

    return outreach_contact_record(c, x->shop_id, x->email, "messaging", "test_email", x->job_id,
                                   OUTREACH_TRANSACTIONAL, e);
}

void
outreach_job_test_email(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct test_ctx x = {.shop_id = job->shop_id, .job_id = job->id};
    struct err e = {0};
    char msgid[96], *subject = NULL, *text = NULL, *html = NULL;
    const char *brand;
    enum mail_result r;

    snprintf(x.email, sizeof(x.email), "%s",
             jx_str(job->payload, "email") ? jx_str(job->payload, "email") : "");
    if (db_run(load_fn, &x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        return;
    }
    if (x.verdict != OUTREACH_SEND) { /* cannot happen: transactional */
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_INTERNAL, NULL, "a transactional message was held back");
        return;
    }
    x.locale = outreach_locale_pick(jx_str(job->payload, "locale"), NULL, x.os.default_locale);
    brand = x.os.brand_name[0] ? x.os.brand_name : x.shop_name;
    {
        const char *vars[] = {"shop_name", brand, NULL};
        subject = outreach_text(x.locale, "messaging.test.subject", false, vars);
        text = outreach_text(x.locale, "messaging.test.text", false, vars);
        {
            /* The programmes' frame, without a footer: transactional. */
            char *body = outreach_text(x.locale, "messaging.test.text", true, vars);
            char *p = xasprintf("<p style=\"margin:0;\">%s</p>", body);
            html = outreach_email_html(x.locale, &x.os, brand, subject, p, NULL);
            free(p);
            free(body);
        }
    }
    snprintf(msgid, sizeof(msgid), "<test-%" PRId64 "-%" PRId64 "@aftersale>", x.shop_id,
             x.job_id);
    {
        /* No List-Unsubscribe: a transactional message has nothing to
         * unsubscribe from. */
        struct outreach_email m = {.shop_name = x.shop_name, .to_addr = x.email,
                                   .subject = subject, .text = text, .html = html,
                                   .message_id = msgid};
        r = outreach_send_email(env->cfg, &x.os, &m, &e);
    }
    if (r != MAIL_OK) {
        out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    if (db_tx(record_fn, &x, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    out->result = json_pack("{s:s, s:s, s:b}", "sent", "email", "locale", x.locale,
                            "unsubscribed", x.unsubscribed);
out:
    free(subject);
    free(text);
    free(html);
}

/* ---- the shared steps of the programmes' sending jobs ---------------------- */

int
outreach_job_mark(struct db_conn *c, const char *name, const char *sql, int64_t shop_id,
                  int64_t id, struct err *e)
{
    char shop[24], ref[24];
    const char *params[2] = {shop, ref};

    DB_I64(shop, shop_id);
    DB_I64(ref, id);
    return db_exec_cmd(c, name, sql, 2, params, e) < 0 ? -1 : 0;
}

int
outreach_job_cancel_order(struct db_conn *c, const struct job *job, const char *name,
                          const char *sql, long *n, struct err *e)
{
    char shop[24], order[24];
    const char *params[3] = {shop, order, NULL};
    int64_t order_id;

    *n = 0;
    if (woo_events_order_gone(c, job, &order_id, &params[2], e) < 0)
        return -1;
    if (order_id <= 0)
        return 0;
    DB_I64(shop, job->shop_id);
    DB_I64(order, order_id);
    *n = db_exec_cmd(c, name, sql, 3, params, e);
    return *n < 0 ? -1 : 0;
}

void
outreach_job_skip(db_fn mark, void *ctx, const char *why, struct job_outcome *out)
{
    struct err e = {0};

    if (mark != NULL && db_tx(mark, ctx, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
    }
    out->result = json_pack("{s:s}", "skipped", why);
}

bool
outreach_job_verdict(enum outreach_verdict v, time_t now, time_t slot, db_fn suppressed,
                     void *ctx, struct job_outcome *out)
{
    if (v == OUTREACH_SUPPRESSED) {
        outreach_job_skip(suppressed, ctx, "unsubscribed", out);
        return true;
    }
    if (v == OUTREACH_WAIT) {
        /* Over the contact cap: postponed to the first free slot, not lost. */
        out->status = JOB_RESCHEDULE;
        out->delay_ms = (long)(slot - now) * 1000 + 1000;
        out->result = json_pack("{s:s, s:I}", "postponed", "contact policy", "seconds",
                                (json_int_t)(slot - now));
        return true;
    }
    return false;
}
