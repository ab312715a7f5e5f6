/*
 * alert.c - closing the loop on an unhappy answer.
 *
 * A response whose score (the first scored question's answer) is at or
 * under the threshold of its kind (NPS 0-6, CSAT 1-2, rating 1-2, CES 1-3)
 * is an alert (the survey's alert_threshold, when set, replaces those
 * defaults). Recording such a response (surveys/responses.c, in the
 * same transaction) enqueues two outbound jobs, each with a dedupe key per
 * response, so each runs exactly once however often the customer changes
 * the answer:
 *
 *   surveys.alert       an email to the messaging settings' alert_email
 *                       with the survey, the order, the score and the
 *                       answers (transactional: the merchant's own mail)
 *   surveys.alert_note  a private note (customer_note false) on the
 *                       WooCommerce order with the same facts, unless the
 *                       survey's alert_order_note is false
 *
 * and, in the same transaction, the outbound webhook event survey.detractor
 * (hooks_emit), once per response as the alert email is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/hooks/hooks.h"
#include "aftersale/http/server.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/surveys/jobs.h"
#include "aftersale/surveys/surveys.h"
#include "aftersale/woo/link.h"

/* The alert jobs of the invitation's response ($1 shop, $2 invitation)
 * still held for the page: pending, never tried, due later. */
#define HELD_ALERTS                                                                                \
    " r.shop_id = $1 AND r.invitation_id = $2 AND j.shop_id = $1"                                  \
    " AND j.status = 'pending' AND j.run_at > now() AND j.attempts = 0"                            \
    " AND ((j.kind = 'surveys.alert' AND j.dedupe_key = 'alert:' || r.id)"                         \
    "  OR (j.kind = 'surveys.alert_note' AND j.dedupe_key = 'alert_note:' || r.id))"

/* Release the held alert jobs to run now (the page's write came). */
static int
alert_release(struct db_conn *c, const char *const params[2], struct err *e)
{
    PGresult *res = db_exec(c, "surveys_alert_release",
                            "WITH up AS (UPDATE jobs j SET run_at = now() FROM survey_responses r"
                            " WHERE" HELD_ALERTS " RETURNING j.id)"
                            " SELECT pg_notify('" JOBS_CHANNEL "', '')"
                            " FROM (SELECT 1 FROM up LIMIT 1) x",
                            2, params, e);

    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

int
surveys_alert_maybe(struct db_conn *c, int64_t shop_id, int64_t invitation_id, bool hold,
                    struct err *e)
{
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;
    int64_t rid, alert_job = 0;
    long hold_ms;
    bool note;
    json_t *data;

    DB_I64(shop, shop_id);
    DB_I64(iid, invitation_id);
    /* The kind of the first scored question of the response's version
     * decides the threshold. */
    /* One statement: the check, and when the answer is not (or no longer)
     * an alert, the drop of an alert still held for the page (a low click,
     * then a higher score on the page): it is not sent, and a later low
     * answer may enqueue it again. */
    res = db_exec(c, "surveys_alert_check",
                  "WITH chk AS (SELECT r.id, coalesce(s.settings->>'alert_order_note', 'true') = 'true',"
                  " r.survey_id, r.score, (SELECT i.order_id FROM survey_invitations i"
                  "  WHERE i.shop_id = r.shop_id AND i.id = r.invitation_id)"
                  " FROM survey_responses r JOIN surveys s ON s.shop_id = r.shop_id"
                  "  AND s.id = r.survey_id CROSS JOIN LATERAL (SELECT q->>'kind' AS kind FROM survey_versions v,"
                  "   jsonb_array_elements(v.questions) WITH ORDINALITY AS x(q, n)"
                  "   WHERE v.shop_id = r.shop_id AND v.survey_id = r.survey_id"
                  "   AND v.version = r.version AND q->>'kind' IN ('nps', 'csat', 'ces', 'rating')"
                  "   ORDER BY n LIMIT 1) k"
                  " WHERE r.shop_id = $1 AND r.invitation_id = $2 AND r.score IS NOT NULL"
                  " AND r.score <= coalesce((s.settings->>'alert_threshold')::integer,"
                  "  CASE k.kind WHEN 'nps' THEN 6 WHEN 'ces' THEN 3 ELSE 2 END)),"
                  " dropped AS (DELETE FROM jobs j USING survey_responses r"
                  "  WHERE NOT EXISTS (SELECT 1 FROM chk) AND" HELD_ALERTS ")"
                  " SELECT * FROM chk",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    rid = atoll(PQgetvalue(res, 0, 0));
    note = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    /* hold: a one-click score whose page asks the rest of the survey (the
     * follow-up of an unhappy score). The alert waits SURVEY_ALERT_HOLD_S
     * for it, so the merchant reads the customer's reason, not the score
     * alone (seen in the real shop: the email went at the click). Any other
     * write (the page, the public PUT) releases it at once. */
    hold_ms = hold ? server_config()->survey_alert_hold_s * 1000L : 0;
    data = json_pack("{s:I, s:I, s:I, s:I, s:i}", "response_id", (json_int_t)rid, "survey_id",
                     (json_int_t)atoll(PQgetvalue(res, 0, 2)), "invitation_id",
                     (json_int_t)invitation_id, "order_id",
                     (json_int_t)atoll(PQgetvalue(res, 0, 4)), "score",
                     atoi(PQgetvalue(res, 0, 3)));
    PQclear(res);
    /* The order note only when the survey wants it (default on). */
    for (int i = 0; i < (note ? 2 : 1); i++) {
        char key[48];
        json_t *payload = json_pack("{s:I}", "response_id", (json_int_t)rid);
        int rc;
        snprintf(key, sizeof(key), "%s:%" PRId64, i == 0 ? "alert" : "alert_note", rid);
        rc = jobs_enqueue(c, shop_id, i == 0 ? "surveys.alert" : "surveys.alert_note", payload,
                          key, hold_ms, 0, i == 0 ? &alert_job : NULL, e);
        json_decref(payload);
        if (rc < 0) {
            json_decref(data);
            return -1;
        }
    }
    if (hold_ms == 0 && alert_release(c, params, e) < 0) {
        json_decref(data);
        return -1;
    }
    /* The outbound survey.detractor event, once per response like the
     * alert email: only the write that enqueued the alert emits it. */
    if (alert_job == 0) {
        json_decref(data);
        return 0;
    }
    return hooks_emit(c, shop_id, "survey.detractor", data, e);
}

struct alert_ctx {
    int64_t shop_id, response_id, order_id;
    const struct config *cfg;
    bool note; /* the order note, else the email */
    bool found;
    struct outreach_settings os;
    char shop_name[256], survey[256], email[256], score[8];
    json_t *answers;
    struct woo_creds cr;
};

static int
alert_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct alert_ctx *x = ctx;
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;
    json_error_t jerr;

    DB_I64(shop, x->shop_id);
    DB_I64(id, x->response_id);
    json_decref(x->answers);
    x->answers = NULL;
    woo_creds_clear(&x->cr);
    res = db_exec(c, "surveys_alert_load",
                  "SELECT r.answers::text, coalesce(r.score::text, ''), i.order_id, i.email,"
                  " s.name, sh.name FROM survey_responses r JOIN survey_invitations i"
                  " ON i.shop_id = r.shop_id AND i.id = r.invitation_id JOIN surveys s"
                  " ON s.shop_id = r.shop_id AND s.id = r.survey_id JOIN shops sh ON sh.id = r.shop_id"
                  " WHERE r.shop_id = $1 AND r.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    x->found = PQntuples(res) == 1;
    if (x->found) {
        x->answers = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
        snprintf(x->score, sizeof(x->score), "%s", PQgetvalue(res, 0, 1));
        x->order_id = atoll(PQgetvalue(res, 0, 2));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 3));
        snprintf(x->survey, sizeof(x->survey), "%s", PQgetvalue(res, 0, 4));
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 5));
    }
    PQclear(res);
    if (!x->found)
        return 0;
    if (outreach_settings_load(c, x->shop_id, &x->os, e) < 0)
        return -1;
    return x->note ? woo_creds_load(c, x->shop_id, x->cfg->secret_key, &x->cr, e) : 0;
}

/* The facts, as plain text: "Survey ...: score S for order #N (email)" and
 * one line per answer. Returns: new string. */
static char *
alert_text(const struct alert_ctx *x)
{
    struct buf b = {0};
    const char *k;
    json_t *v;

    buf_printf(&b, "Survey \"%s\": a low score (%s) for order #%" PRId64 " from %s.\n\nAnswers:\n",
               x->survey, x->score, x->order_id, x->email);
    json_object_foreach(x->answers, k, v) {
        char *s = json_is_string(v) ? xstrdup(json_string_value(v))
                                    : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        buf_printf(&b, "- %s: %s\n", k, s ? s : "");
        free(s);
    }
    return b.data ? b.data : xstrdup("");
}

static void
alert_run(struct job_env *env, const struct job *job, struct job_outcome *out, bool note)
{
    struct alert_ctx x = {.shop_id = job->shop_id, .cfg = env->cfg, .note = note};
    struct err e = {0};
    char *text = NULL, *subject = NULL, *html = NULL, *esc = NULL;
    char msgid[128];

    x.response_id = json_integer_value(json_object_get(job->payload, "response_id"));
    if (db_run(alert_load_fn, &x, &e) < 0) {
        out->status = e.kind == ERR_UNAVAILABLE ? JOB_RETRY : JOB_FAIL;
        out->err = e;
        goto out;
    }
    out->status = JOB_DONE;
    if (!x.found) {
        out->result = json_pack("{s:s}", "skipped", "no response");
        goto out;
    }
    text = alert_text(&x);
    if (note) {
        json_t *made = NULL;
        enum woo_result r = woo_order_note_add(env->woo, &x.cr.shop, x.order_id, text, false,
                                               &made, &e);
        json_decref(made);
        if (r != WOO_OK) {
            out->status = r == WOO_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            goto out;
        }
        out->result = json_pack("{s:s, s:I}", "note", "private", "order_id",
                                (json_int_t)x.order_id);
        goto out;
    }
    if (x.os.alert_email[0] == '\0') {
        out->result = json_pack("{s:s}", "skipped", "no alert_email in the messaging settings");
        goto out;
    }
    subject = xasprintf("Unhappy survey answer: order #%" PRId64 " (score %s)", x.order_id,
                        x.score);
    esc = mail_html_escape(text);
    html = xasprintf("<!doctype html><html><body><pre style=\"font-family:inherit;"
                     "white-space:pre-wrap\">%s</pre></body></html>",
                     esc);
    snprintf(msgid, sizeof(msgid), "<survey-alert-%" PRId64 "-%" PRId64 "@aftersale>", x.shop_id,
             x.response_id);
    {
        /* Transactional: the merchant's own alert, no unsubscribe. */
        struct outreach_email m = {.shop_name = x.shop_name, .to_addr = x.os.alert_email,
                                   .subject = subject, .text = text, .html = html,
                                   .message_id = msgid};
        enum mail_result r = outreach_send_email(env->cfg, &x.os, &m, &e);
        if (r != MAIL_OK) {
            out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
            out->err = e;
            goto out;
        }
    }
    out->result = json_pack("{s:s}", "sent", x.os.alert_email);
out:
    free(text);
    free(subject);
    free(html);
    free(esc);
    json_decref(x.answers);
    woo_creds_clear(&x.cr);
}

void
surveys_job_alert(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    alert_run(env, job, out, false);
}

void
surveys_job_alert_note(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    alert_run(env, job, out, true);
}
