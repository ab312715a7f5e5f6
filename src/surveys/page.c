/*
 * page.c - the answer page of a survey invitation, /s/{token}.
 *
 *   GET  /s/{token}[?q=<question id>&v=<score>]  the page: every question of
 *        the invitation's version that its conditions show, prefilled with
 *        the answers given so far (and the clicked score of an email link
 *        preselected). A GET never records anything: mail scanners and link
 *        prefetchers open every link of an email, and eleven prefetched
 *        score links would record eleven scores.
 *   POST /s/{token}  (form)  either the one-click score (`q`, `v`: records
 *        that score, then shows the rest) or the page (`form=page`: the
 *        answers of the questions it showed, listed in `shown`).
 *
 * No script at all, so the conditions (`show_if`) are applied here: a
 * question whose condition names an answer not given yet is asked once
 * that answer is posted (the page comes back with the questions it now
 * shows, until nothing new appears and every required one is answered),
 * and the answer to a question whose condition no longer holds is not
 * stored (surveys_answers_check drops it). Every post is stored at once as
 * a partial answer (the one response of the invitation, last write wins),
 * so a missing required answer loses nothing: the page comes back with
 * the error tied to its question and every other answer kept.
 *
 * Accessible: one fieldset with a legend per choice or scale question,
 * radio buttons and checkboxes each in its label, a label for every text
 * box, required questions marked in words and with `required`, errors in
 * a role=alert summary linking to the fields and tied to them with
 * aria-describedby. The frame (brand name, logo, accent colour) is the
 * outreach layer's; the words come from the catalogues, in the customer's
 * locale when known, else the browser's, else the shop's default. Every
 * value from the shop or the customer is HTML-escaped.
 *
 * CSRF: the signed token in the path is the credential; another site
 * cannot post to a page whose address it does not know. The CSP allows
 * no script and form posts to this origin only; no referrer is sent, so
 * the address does not leak to the logo's host or the review page.
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
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/page.h"
#include "aftersale/shops/shops.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"

#define TEXT_MAX 5000
#define OTHER_MAX 500

/* ---- the invitation ------------------------------------------------------- */

struct page_ctx {
    struct token_claims claims;
    char status[16], survey_status[16], customer_locale[16];
    bool expired, found;
    json_t *questions;
    json_t *answers, *other; /* stored so far (objects, possibly empty) */
    bool complete;
    struct outreach_brand brand;
    const char *loc;
};

static void
page_ctx_clear(struct page_ctx *x)
{
    json_decref(x->questions);
    json_decref(x->answers);
    json_decref(x->other);
    x->questions = x->answers = x->other = NULL;
}

static json_t *
json_or_empty(const char *s)
{
    json_error_t jerr;
    json_t *v = s && s[0] ? json_loads(s, 0, &jerr) : NULL;

    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

static int
page_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_ctx *x = ctx;
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;
    int64_t sid;
    int ver;

    page_ctx_clear(x);
    if (outreach_brand_load(c, x->claims.shop_id, &x->brand, e) < 0)
        return -1;
    DB_I64(shop, x->claims.shop_id);
    DB_I64(iid, x->claims.rid);
    /* The customer's locale: the invitation's own, else that of the
     * order's review request (reviews keep the order's locale too). */
    res = db_exec(c, "surveys_page_state",
                  "SELECT i.status, coalesce(i.expires_at < now(), false), s.status,"
                  " i.survey_id, i.version, coalesce(i.locale, (SELECT rr.locale"
                  "  FROM review_requests rr WHERE rr.shop_id = i.shop_id"
                  "  AND rr.order_id = i.order_id AND rr.locale IS NOT NULL"
                  "  ORDER BY rr.id DESC LIMIT 1), ''),"
                  " r.answers::text, r.other::text, coalesce(r.complete, false)"
                  " FROM survey_invitations i JOIN surveys s"
                  " ON s.shop_id = i.shop_id AND s.id = i.survey_id"
                  " LEFT JOIN survey_responses r ON r.shop_id = i.shop_id AND r.invitation_id = i.id"
                  " WHERE i.shop_id = $1 AND i.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    x->found = PQntuples(res) == 1;
    if (!x->found) {
        PQclear(res);
        return 0;
    }
    snprintf(x->status, sizeof(x->status), "%s", PQgetvalue(res, 0, 0));
    x->expired = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    snprintf(x->survey_status, sizeof(x->survey_status), "%s", PQgetvalue(res, 0, 2));
    sid = atoll(PQgetvalue(res, 0, 3));
    ver = atoi(PQgetvalue(res, 0, 4));
    snprintf(x->customer_locale, sizeof(x->customer_locale), "%s", PQgetvalue(res, 0, 5));
    x->answers = json_or_empty(PQgetvalue(res, 0, 6));
    x->other = json_or_empty(PQgetvalue(res, 0, 7));
    x->complete = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
    PQclear(res);
    return surveys_questions_load(c, x->claims.shop_id, sid, ver, &x->questions, e);
}

/* ---- replies ------------------------------------------------------------------ */

/* The survey pages' CSP allows no script at all (the outreach frame's
 * reply would name a script nonce); images only for the shop's logo. */
static void
reply_page(struct req *r, int status, struct buf *b, const struct outreach_brand *brand)
{
    size_t len = b->len;

    req_add_header(r, "Content-Security-Policy",
                   brand->logo_url[0] ? "default-src 'none'; style-src 'unsafe-inline'; "
                                        "img-src https: http:; form-action 'self'; "
                                        "base-uri 'none'; frame-ancestors 'none'"
                                      : "default-src 'none'; style-src 'unsafe-inline'; "
                                        "form-action 'self'; base-uri 'none'; "
                                        "frame-ancestors 'none'");
    req_add_header(r, "Referrer-Policy", "no-referrer");
    req_add_header(r, "Cache-Control", "no-store");
    reply_text_take(r, status, "text/html; charset=utf-8", buf_steal(b), len);
}

static void
message(struct req *r, int status, const char *loc, const char *title_key, const char *text_key,
        const struct outreach_brand *brand)
{
    struct buf b = {0};
    const char *vars[] = {"shop_name", brand->name, NULL};
    char *title = outreach_text(loc, title_key, false, vars);

    outreach_page_start(&b, loc, title, brand);
    buf_puts(&b, "<h1>");
    outreach_page_escaped(&b, title);
    buf_puts(&b, "</h1><p>");
    outreach_page_text(&b, loc, text_key, vars);
    buf_puts(&b, "</p>");
    outreach_page_end(&b);
    free(title);
    reply_page(r, status, &b, brand);
}

/* The token of the path, verified; -1 after replying with a page. */
static int
token_or_page(struct req *r, struct page_ctx *x)
{
    struct err e = {0};
    const char *token = req_param(r, "token");

    outreach_brand_default(&x->brand);
    if (token == NULL || auth_token_verify(token, "survey", &x->claims, &e) < 0 ||
        x->claims.rid <= 0) {
        const char *loc = outreach_page_locale(r, NULL, &x->brand);
        if (e.kind == ERR_UNAVAILABLE)
            message(r, 503, loc, "page.retry.title", "survey.page.unavailable", &x->brand);
        else
            message(r, e.kind == ERR_FORBIDDEN ? 403 : 401, loc, "page.link_broken.title",
                    "page.link_broken.text", &x->brand);
        return -1;
    }
    r->shop_id = x->claims.shop_id;
    return 0;
}

/* Load the invitation; -1 after replying with a page. */
static int
load_or_page(struct req *r, struct page_ctx *x)
{
    struct err e = {0};

    if (db_run(page_fn, x, &e) < 0) {
        x->loc = outreach_page_locale(r, NULL, &x->brand);
        message(r, e.kind == ERR_UNAVAILABLE ? 503 : 500, x->loc, "page.retry.title",
                "survey.page.unavailable", &x->brand);
        return -1;
    }
    x->loc = outreach_page_locale(r, x->customer_locale[0] ? x->customer_locale : NULL,
                                  &x->brand);
    if (!x->found || x->questions == NULL) {
        message(r, 404, x->loc, "survey.page.not_found.title", "survey.page.not_found.text",
                &x->brand);
        return -1;
    }
    if (strcmp(x->status, "cancelled") == 0 || strcmp(x->status, "expired") == 0 || x->expired ||
        strcmp(x->survey_status, "archived") == 0) {
        message(r, 409, x->loc, "survey.page.closed.title", "survey.page.closed.text", &x->brand);
        return -1;
    }
    return 0;
}

/* ---- the questions ---------------------------------------------------------------- */

/* A label ({"en": "...", "de": "..."}) in the page's locale, else English,
 * else the first one given. */
static const char *
text_in(const json_t *label, const char *loc)
{
    const char *k;
    json_t *v;

    if (jx_str(label, loc))
        return jx_str(label, loc);
    if (jx_str(label, "en"))
        return jx_str(label, "en");
    json_object_foreach((json_t *)(uintptr_t)label, k, v)
        return json_string_value(v);
    return "";
}

static bool
in_list(const json_t *list, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

/* Is choice `id` chosen in answer v (a string, or an array of strings)? */
static bool
chosen(const json_t *v, const char *id)
{
    if (json_is_string(v))
        return strcmp(json_string_value(v), id) == 0;
    return json_is_array(v) && in_list(v, id);
}

struct view {
    const char *token, *loc;
    const json_t *qs;
    const json_t *kept;   /* answers deciding what is shown and checked */
    const json_t *other;  /* "other" texts to show */
    const json_t *raw;    /* {qid: text} posted but refused (shown back as typed) */
    const json_t *errors; /* {qid: catalogue key} */
    const char *note;     /* a status line (text), or NULL */
    const struct outreach_brand *brand;
};

/* The id of a question's first control (the target of the error link). */
static void
first_control(const json_t *q, char *out, size_t n)
{
    int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;
    const char *qid = jx_str(q, "id");

    if (surveys_kind_scale(k, &lo, &hi))
        snprintf(out, n, "a-%s-%d", qid, lo);
    else if (k == SURVEYS_SINGLE || k == SURVEYS_MULTIPLE)
        snprintf(out, n, "a-%s-%s", qid,
                 json_array_size(json_object_get(q, "choices"))
                     ? jx_str(json_array_get(json_object_get(q, "choices"), 0), "id")
                     : "other");
    else
        snprintf(out, n, "a-%s", qid);
}

/* The label text and the "(required)" mark. */
static void
put_label(struct buf *b, const struct view *v, const json_t *q)
{
    outreach_page_escaped(b, text_in(json_object_get(q, "label"), v->loc));
    if (json_is_true(json_object_get(q, "required"))) {
        buf_puts(b, " <span class=\"req\">");
        outreach_page_text(b, v->loc, "survey.page.required_mark", NULL);
        buf_puts(b, "</span>");
    }
}

/* The question's error, if any; `max`: the length limit it may name
 * (a text answer's, or an "other" box's). */
static void
put_error(struct buf *b, const struct view *v, const char *qid, int max)
{
    const char *key = jx_str(v->errors, qid);
    char max_s[16];
    const char *vars[] = {"max", max_s, NULL};

    snprintf(max_s, sizeof(max_s), "%d", max);
    if (key == NULL)
        return;
    buf_printf(b, "<p class=\"err\" id=\"e-%s\">", qid);
    outreach_page_text(b, v->loc, key, vars);
    buf_puts(b, "</p>");
}

/* One radio button or checkbox, in its label. Question and choice ids are
 * 1-40 of [A-Za-z0-9_-] (rules.c checks every definition), so they go
 * into the attributes as they are; label_html is escaped already. */
static void
put_option(struct buf *b, const char *type, const char *qid, const char *value, bool checked,
           bool required, bool invalid, const char *label_html)
{
    buf_printf(b, "<label for=\"a-%s-%s\"><input type=\"%s\" id=\"a-%s-%s\" name=\"a.%s\" "
                  "value=\"%s\"%s%s%s>%s</label>",
               qid, value, type, qid, value, qid, value, checked ? " checked" : "",
               required ? " required" : "", invalid ? " aria-invalid=\"true\"" : "", label_html);
}

static void
scale_question(struct buf *b, const struct view *v, const json_t *q, int kind, int lo, int hi)
{
    const char *qid = jx_str(q, "id");
    const json_t *ans = json_object_get(v->kept, qid);
    bool req = json_is_true(json_object_get(q, "required"));
    bool invalid = json_object_get(v->errors, qid) != NULL;
    const char *name = kind == SURVEYS_NPS ? "nps" : kind == SURVEYS_CSAT ? "csat"
                       : kind == SURVEYS_CES ? "ces" : NULL;

    buf_printf(b, "<fieldset id=\"q-%s\" class=\"q\"", qid);
    if (name || invalid)
        buf_printf(b, " aria-describedby=\"%s%s%s%s%s\"", name ? "h-" : "", name ? qid : "",
                   name && invalid ? " " : "", invalid ? "e-" : "", invalid ? qid : "");
    buf_puts(b, "><legend>");
    put_label(b, v, q);
    buf_puts(b, "</legend>");
    if (name) {
        /* The meaning of the ends of the scale, in words. */
        char lo_s[8], hi_s[8], lo_key[32], hi_key[32];
        snprintf(lo_s, sizeof(lo_s), "%d", lo);
        snprintf(hi_s, sizeof(hi_s), "%d", hi);
        snprintf(lo_key, sizeof(lo_key), "survey.%s.low", name);
        snprintf(hi_key, sizeof(hi_key), "survey.%s.high", name);
        {
            const char *vars[] = {"low", lo_s, "low_label", outreach_catalogue_get(v->loc, lo_key),
                                  "high", hi_s, "high_label",
                                  outreach_catalogue_get(v->loc, hi_key), NULL};
            buf_printf(b, "<p class=\"hint\" id=\"h-%s\">", qid);
            outreach_page_text(b, v->loc, "survey.page.scale_hint", vars);
            buf_puts(b, "</p>");
        }
    }
    put_error(b, v, qid, OTHER_MAX);
    buf_puts(b, "<div class=\"stars\">");
    for (int s = lo; s <= hi; s++) {
        char value[8];
        struct buf lab = {0};
        snprintf(value, sizeof(value), "%d", s);
        if (kind == SURVEYS_RATING) {
            char key[32];
            snprintf(key, sizeof(key), "review.page.star_%d", s);
            buf_printf(&lab, "<span aria-hidden=\"true\">%.*s</span><span class=\"sr\">", s * 3,
                       "\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85");
            outreach_page_text(&lab, v->loc, key, NULL);
            buf_puts(&lab, "</span>");
        } else {
            buf_puts(&lab, value);
        }
        put_option(b, "radio", qid, value,
                   json_is_integer(ans) && json_integer_value(ans) == s, req, invalid,
                   lab.data ? lab.data : "");
        buf_free(&lab);
    }
    buf_puts(b, "</div></fieldset>");
}

static void
choice_question(struct buf *b, const struct view *v, const json_t *q, bool multiple)
{
    const char *qid = jx_str(q, "id");
    const json_t *ans = json_object_get(v->kept, qid), *c;
    bool req = json_is_true(json_object_get(q, "required"));
    bool invalid = json_object_get(v->errors, qid) != NULL;
    const char *type = multiple ? "checkbox" : "radio";
    size_t i;

    buf_printf(b, "<fieldset id=\"q-%s\" class=\"q\" aria-describedby=\"h-%s%s%s\"><legend>", qid,
               qid, invalid ? " e-" : "", invalid ? qid : "");
    put_label(b, v, q);
    buf_printf(b, "</legend><p class=\"hint\" id=\"h-%s\">", qid);
    outreach_page_text(b, v->loc, multiple ? "survey.choose_any" : "survey.choose_one", NULL);
    buf_puts(b, "</p>");
    put_error(b, v, qid, OTHER_MAX);
    buf_puts(b, "<div class=\"choices\">");
    json_array_foreach(json_object_get(q, "choices"), i, c) {
        struct buf lab = {0};
        outreach_page_escaped(&lab, text_in(json_object_get(c, "label"), v->loc));
        /* A checkbox group is answered by any one box: `required` on each
         * box would demand them all. */
        put_option(b, type, qid, jx_str(c, "id"), chosen(ans, jx_str(c, "id")),
                   req && !multiple, invalid, lab.data ? lab.data : "");
        buf_free(&lab);
    }
    if (json_is_true(json_object_get(q, "other"))) {
        struct buf lab = {0};
        char key[64];
        const char *typed;
        snprintf(key, sizeof(key), "o.%s", qid);
        typed = jx_str(v->raw, key) ? jx_str(v->raw, key) : jx_str(v->other, qid);
        outreach_page_text(&lab, v->loc, "survey.page.other", NULL);
        put_option(b, type, qid, "other", chosen(ans, "other"), req && !multiple, invalid,
                   lab.data ? lab.data : "");
        buf_free(&lab);
        buf_printf(b, "<label for=\"o-%s\" class=\"other\">", qid);
        outreach_page_text(b, v->loc, "survey.page.other_text", NULL);
        buf_printf(b, "</label><input type=\"text\" id=\"o-%s\" name=\"o.%s\" maxlength=\"%d\" "
                      "value=\"",
                   qid, qid, OTHER_MAX);
        outreach_page_escaped(b, typed ? typed : "");
        buf_puts(b, "\">");
    }
    buf_puts(b, "</div></fieldset>");
}

static void
text_question(struct buf *b, const struct view *v, const json_t *q)
{
    const char *qid = jx_str(q, "id");
    const char *ans = jx_str(v->raw, qid) ? jx_str(v->raw, qid) : jx_str(v->kept, qid);
    bool invalid = json_object_get(v->errors, qid) != NULL;

    buf_printf(b, "<div class=\"q\" id=\"q-%s\"><label for=\"a-%s\">", qid, qid);
    put_label(b, v, q);
    buf_puts(b, "</label>");
    put_error(b, v, qid, TEXT_MAX);
    buf_printf(b, "<textarea id=\"a-%s\" name=\"a.%s\" rows=\"4\" maxlength=\"%d\"", qid, qid,
               TEXT_MAX);
    if (json_is_true(json_object_get(q, "required")))
        buf_puts(b, " required");
    if (invalid)
        buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"e-%s\"", qid);
    buf_puts(b, ">");
    outreach_page_escaped(b, ans ? ans : "");
    buf_puts(b, "</textarea></div>");
}

/* Does a question wait for the answer of an earlier one (its condition
 * names a question with no answer yet)? Then the page says "Next". */
static bool
waits_for_answer(const json_t *qs, const json_t *kept)
{
    json_t *q;
    size_t i;

    json_array_foreach(qs, i, q) {
        const json_t *cond = json_object_get(q, "show_if");
        if (cond && json_object_get(kept, jx_str(cond, "question")) == NULL)
            return true;
    }
    return false;
}

/* The page: status line, error summary, and the form with every question
 * shown for the answers in v->kept. */
static void
render(struct req *r, int status, const struct view *v)
{
    struct buf b = {0};
    const char *vars[] = {"shop_name", v->brand->name, NULL};
    char *title = outreach_text(v->loc, "survey.page.title", false, vars);
    json_t *q;
    size_t i;

    outreach_page_start(&b, v->loc, title, v->brand);
    buf_puts(&b, "<h1>");
    outreach_page_escaped(&b, title);
    buf_puts(&b, "</h1>");
    if (v->note) {
        buf_puts(&b, "<p class=\"note\" role=\"status\">");
        outreach_page_escaped(&b, v->note);
        buf_puts(&b, "</p>");
    }
    if (json_object_size(v->errors) > 0) {
        buf_puts(&b, "<div class=\"errors\" role=\"alert\"><p>");
        outreach_page_text(&b, v->loc, "survey.page.errors", NULL);
        buf_puts(&b, "</p><ul>");
        json_array_foreach(v->qs, i, q) {
            char ctl[96];
            if (json_object_get(v->errors, jx_str(q, "id")) == NULL)
                continue;
            first_control(q, ctl, sizeof(ctl));
            buf_printf(&b, "<li><a href=\"#%s\">", ctl);
            outreach_page_escaped(&b, text_in(json_object_get(q, "label"), v->loc));
            buf_puts(&b, "</a></li>");
        }
        buf_puts(&b, "</ul></div>");
    }
    buf_puts(&b, "<p>");
    outreach_page_text(&b, v->loc, "survey.page.intro", vars);
    buf_puts(&b, "</p><form method=\"post\" action=\"/s/");
    outreach_page_escaped(&b, v->token);
    buf_puts(&b, "\" novalidate><input type=\"hidden\" name=\"form\" value=\"page\">");
    json_array_foreach(v->qs, i, q) {
        const char *qid = jx_str(q, "id");
        int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;
        if (!surveys_question_visible(q, v->kept))
            continue;
        buf_printf(&b, "<input type=\"hidden\" name=\"shown\" value=\"%s\">", qid);
        if (surveys_kind_scale(k, &lo, &hi))
            scale_question(&b, v, q, k, lo, hi);
        else if (k == SURVEYS_SINGLE || k == SURVEYS_MULTIPLE)
            choice_question(&b, v, q, k == SURVEYS_MULTIPLE);
        else
            text_question(&b, v, q);
    }
    buf_puts(&b, "<button type=\"submit\">");
    outreach_page_text(&b, v->loc, waits_for_answer(v->qs, v->kept) ? "survey.next" : "survey.submit",
                       NULL);
    buf_puts(&b, "</button></form>");
    outreach_page_end(&b);
    free(title);
    reply_page(r, status, &b, v->brand);
}

/* ---- GET ------------------------------------------------------------------------ */

/* The scored question `qid` (or the first scored one); NULL if none. */
static const json_t *
scored_question(const json_t *qs, const char *qid, int *lo, int *hi)
{
    json_t *q;
    size_t i;
    json_array_foreach(qs, i, q) {
        if (qid && strcmp(jx_str(q, "id"), qid) != 0)
            continue;
        if (surveys_kind_scale(surveys_kind_parse(jx_str(q, "kind")), lo, hi))
            return q;
        if (qid)
            return NULL;
    }
    return NULL;
}

static bool
small_number(const char *v, int *out)
{
    if (v == NULL || v[0] == '\0' || strlen(v) > 2 || strspn(v, "0123456789") != strlen(v))
        return false;
    *out = atoi(v);
    return true;
}

void
surveys_handle_score_page(struct req *r)
{
    struct page_ctx x = {0};
    const char *qid = req_query(r, "q"), *v = req_query(r, "v");
    struct view view = {0};
    json_t *kept = NULL;
    int lo, hi, score;

    if (token_or_page(r, &x) < 0)
        return;
    if (load_or_page(r, &x) < 0)
        goto out;
    kept = json_deep_copy(x.answers);
    if (qid != NULL || v != NULL) {
        /* A score link: the clicked score is preselected (not recorded),
         * and the questions it shows are asked with it. */
        const json_t *q = scored_question(x.questions, qid, &lo, &hi);
        if (q == NULL) {
            message(r, 404, x.loc, "page.link_broken.title", "survey.page.no_question", &x.brand);
            goto out;
        }
        if (small_number(v, &score) && score >= lo && score <= hi)
            json_object_set_new(kept, jx_str(q, "id"), json_integer(score));
    }
    view = (struct view){.token = req_param(r, "token"), .loc = x.loc, .qs = x.questions,
                         .kept = kept, .other = x.other, .brand = &x.brand};
    if (x.complete) {
        const char *vars[] = {"shop_name", x.brand.name, NULL};
        char *note = outreach_text(x.loc, "survey.page.answered", false, vars);
        view.note = note;
        render(r, 200, &view);
        free(note);
    } else {
        render(r, 200, &view);
    }
out:
    json_decref(kept);
    page_ctx_clear(&x);
}

/* ---- POST --------------------------------------------------------------------------- */

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* An application/x-www-form-urlencoded body as {name: [values]}; values
 * that are not UTF-8 text are left out (a browser sends UTF-8). */
static json_t *
form_parse(const char *body, size_t len)
{
    json_t *form = json_object();
    size_t i = 0;

    while (i < len) {
        size_t end = i, eq;
        char *name, *value;
        json_t *list, *s;

        while (end < len && body[end] != '&')
            end++;
        for (eq = i; eq < end && body[eq] != '='; eq++)
            ;
        name = xmalloc(eq - i + 1);
        value = xmalloc(end - eq + 1);
        for (int part = 0; part < 2; part++) {
            size_t from = part == 0 ? i : eq + 1, to = part == 0 ? eq : end;
            char *o = part == 0 ? name : value;
            for (size_t j = from; j < to; j++) {
                if (body[j] == '+') {
                    *o++ = ' ';
                } else if (body[j] == '%' && j + 2 < to && hexval(body[j + 1]) >= 0 &&
                           hexval(body[j + 2]) >= 0) {
                    *o++ = (char)(hexval(body[j + 1]) * 16 + hexval(body[j + 2]));
                    j += 2;
                } else {
                    *o++ = body[j];
                }
            }
            *o = '\0';
            if (eq >= end)
                break;
        }
        if (eq >= end)
            value[0] = '\0';
        s = json_string(value);
        if (s != NULL && name[0] != '\0') {
            list = json_object_get(form, name);
            if (list == NULL)
                json_object_set_new(form, name, list = json_array());
            if (list != NULL)
                json_array_append_new(list, s);
            else
                json_decref(s);
        } else {
            json_decref(s);
        }
        free(name);
        free(value);
        i = end + 1;
    }
    return form;
}

/* The first value of a form field, or NULL. */
static const char *
form_first(const json_t *form, const char *name)
{
    return json_string_value(json_array_get(json_object_get(form, name), 0));
}

static bool
blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* The page's answers: for each question the page showed, its posted
 * value(s) checked for its kind. A refused value becomes an error (and,
 * for a text, is shown back as typed); nothing else is lost. */
static void
read_answers(const json_t *qs, const json_t *form, json_t *shown, json_t *answers, json_t *other,
             json_t *raw, json_t *errors)
{
    json_t *q;
    size_t i;

    json_array_foreach(qs, i, q) {
        const char *qid = jx_str(q, "id");
        int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;
        char name[64], field[64];
        const json_t *vals;
        json_t *v = NULL, *item;
        size_t j;
        int n;
        struct err e = {0};

        if (!in_list(json_object_get(form, "shown"), qid))
            continue;
        json_array_append_new(shown, json_string(qid));
        snprintf(name, sizeof(name), "a.%s", qid);
        snprintf(field, sizeof(field), "answers.%s", qid);
        vals = json_object_get(form, name);
        if (surveys_kind_scale(k, &lo, &hi)) {
            const char *s = json_string_value(json_array_get(vals, 0));
            if (s != NULL)
                v = small_number(s, &n) ? json_integer(n) : json_string(s);
        } else if (k == SURVEYS_SINGLE) {
            if (json_array_size(vals) > 0)
                v = json_incref(json_array_get(vals, 0));
        } else if (k == SURVEYS_MULTIPLE) {
            if (json_array_size(vals) > 0) {
                v = json_array();
                json_array_foreach(vals, j, item)
                    if (!in_list(v, json_string_value(item)))
                        json_array_append(v, item);
            }
        } else {
            const char *s = json_string_value(json_array_get(vals, 0));
            if (s != NULL && !blank(s))
                v = json_string(s);
        }
        if (v != NULL && surveys_answer_check(q, v, field, &e) < 0) {
            json_object_set_new(errors, qid,
                                json_string(k == SURVEYS_TEXT ? "survey.page.too_long"
                                                              : "survey.page.invalid"));
            if (k == SURVEYS_TEXT)
                json_object_set(raw, qid, v);
            json_decref(v);
            v = NULL;
        }
        if (v != NULL)
            json_object_set_new(answers, qid, v);
        if (json_is_true(json_object_get(q, "other"))) {
            const char *t;
            snprintf(name, sizeof(name), "o.%s", qid);
            t = form_first(form, name);
            if (t != NULL && !blank(t)) {
                if (jx_utf8_len(t) > OTHER_MAX) {
                    json_object_set_new(errors, qid, json_string("survey.page.too_long"));
                    json_object_set_new(raw, name, json_string(t));
                } else
                    json_object_set_new(other, qid, json_string(t));
            }
        }
    }
}

/* ---- the promoter's offer ------------------------------------------------------ */

struct offer_ctx {
    int64_t shop_id, invitation_id, request_id;
    char email[256];
    char *token_secret;
    time_t exp;
};

static int
offer_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct offer_ctx *x = ctx;
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;

    DB_I64(shop, x->shop_id);
    DB_I64(iid, x->invitation_id);
    /* The order's review request still open (scheduled, or sent and not
     * past its expiry). */
    res = db_exec(c, "surveys_promoter_review",
                  "SELECT rr.id, rr.email, encode(sh.token_secret_enc, 'hex'),"
                  " extract(epoch FROM coalesce(rr.expires_at, now() + interval '30 days'))::bigint"
                  " FROM survey_invitations i JOIN review_requests rr ON rr.shop_id = i.shop_id"
                  "  AND rr.order_id = i.order_id JOIN shops sh ON sh.id = i.shop_id"
                  " WHERE i.shop_id = $1 AND i.id = $2 AND (rr.status = 'scheduled'"
                  "  OR (rr.status = 'sent' AND coalesce(rr.expires_at > now(), true)))"
                  " ORDER BY rr.id DESC LIMIT 1",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 2));
        x->request_id = atoll(PQgetvalue(res, 0, 0));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 1));
        x->token_secret = shops_secret_open(server_config()->secret_key, "token_secret", hex);
        x->exp = (time_t)atoll(PQgetvalue(res, 0, 3));
        free(hex);
    }
    PQclear(res);
    return 0;
}

/* The review page of the order's open review request, or NULL. New string. */
static char *
promoter_review_link(const struct token_claims *survey)
{
    const struct config *cfg = server_config();
    struct offer_ctx x = {.shop_id = survey->shop_id, .invitation_id = survey->rid};
    struct token_claims claims = {.shop_id = survey->shop_id, .scope = "review"};
    struct err e = {0};
    char *url = NULL, *base;
    time_t now = time(NULL);

    if (cfg->public_url == NULL || db_run(offer_fn, &x, &e) < 0 || x.request_id == 0 ||
        x.token_secret == NULL)
        goto out;
    claims.rid = x.request_id;
    snprintf(claims.email, sizeof(claims.email), "%s", x.email);
    claims.exp = x.exp - now < cfg->token_max_lifetime_s ? x.exp : now + cfg->token_max_lifetime_s;
    base = xasprintf("%s/review", cfg->public_url);
    url = outreach_link(base, x.token_secret, &claims);
    free(base);
out:
    if (x.token_secret) {
        crypto_wipe(x.token_secret, strlen(x.token_secret));
        free(x.token_secret);
    }
    return url;
}

/* A promoter: an NPS question of the kept answers at 9 or 10. */
static bool
is_promoter(const json_t *qs, const json_t *kept)
{
    json_t *q;
    size_t i;

    json_array_foreach(qs, i, q) {
        const json_t *v = json_object_get(kept, jx_str(q, "id"));
        if (strcmp(jx_str(q, "kind"), "nps") == 0 && json_is_integer(v))
            return json_integer_value(v) >= 9;
    }
    return false;
}

/* The thank-you step; a promoter is offered the order's open review. */
static void
thank_you(struct req *r, const struct page_ctx *x, const json_t *kept, const char *note)
{
    struct buf b = {0};
    const char *vars[] = {"shop_name", x->brand.name, NULL};
    char *title = outreach_text(x->loc, "survey.thanks", false, vars);
    char *review = is_promoter(x->questions, kept) ? promoter_review_link(&x->claims) : NULL;

    outreach_page_start(&b, x->loc, title, &x->brand);
    buf_puts(&b, "<h1>");
    outreach_page_escaped(&b, title);
    buf_puts(&b, "</h1>");
    if (note) {
        buf_puts(&b, "<p role=\"status\">");
        outreach_page_escaped(&b, note);
        buf_puts(&b, "</p>");
    }
    buf_puts(&b, "<p>");
    outreach_page_text(&b, x->loc, "survey.thanks_text", vars);
    buf_puts(&b, " ");
    outreach_page_text(&b, x->loc, "survey.page.change", vars);
    buf_puts(&b, "</p>");
    if (review != NULL) {
        buf_puts(&b, "<p>");
        outreach_page_text(&b, x->loc, "survey.page.review_offer", vars);
        buf_puts(&b, " <a class=\"review\" href=\"");
        outreach_page_escaped(&b, review);
        buf_puts(&b, "\">");
        outreach_page_text(&b, x->loc, "survey.page.review_link", vars);
        buf_puts(&b, "</a></p>");
        free(review);
    }
    outreach_page_end(&b);
    free(title);
    reply_page(r, 200, &b, &x->brand);
}

/* Store, or reply with the failure page; -1 after replying. */
static int
save_or_page(struct req *r, struct page_ctx *x, const json_t *answers, const json_t *other,
             const json_t *shown, bool one_click, json_t **saved)
{
    struct err e = {0};

    if (surveys_page_save(&x->claims, answers, other, shown, one_click, saved, &e) == 0)
        return 0;
    if (e.kind == ERR_CONFLICT)
        message(r, 409, x->loc, "survey.page.closed.title", "survey.page.closed.text", &x->brand);
    else if (e.kind == ERR_NOT_FOUND)
        message(r, 404, x->loc, "survey.page.not_found.title", "survey.page.not_found.text",
                &x->brand);
    else
        message(r, e.kind == ERR_UNAVAILABLE ? 503 : (e.kind == ERR_INVALID ? 422 : 500), x->loc,
                "page.retry.title", "page.retry.text", &x->brand);
    return -1;
}

/* Is any question shown for `kept` still without an answer? */
static bool
anything_left(const json_t *qs, const json_t *kept)
{
    json_t *q;
    size_t i;

    json_array_foreach(qs, i, q)
        if (surveys_question_visible(q, kept) && json_object_get(kept, jx_str(q, "id")) == NULL)
            return true;
    return false;
}

/* The one-click score (q, v): recorded at once, then the rest. */
static void
score_post(struct req *r, struct page_ctx *x, const json_t *form)
{
    const char *qid = form_first(form, "q"), *v = form_first(form, "v");
    int lo = 0, hi = -1, score;
    const json_t *q = qid ? scored_question(x->questions, qid, &lo, &hi) : NULL;
    json_t *answers = NULL, *shown = NULL, *saved = NULL, *other = NULL;
    const json_t *kept;
    char *note;

    if (q == NULL || !small_number(v, &score) || score < lo || score > hi) {
        message(r, 422, x->loc, "survey.page.choose_score.title", "survey.page.choose_score.text",
                &x->brand);
        return;
    }
    answers = json_pack("{s:i}", jx_str(q, "id"), score);
    shown = json_array();
    if (save_or_page(r, x, answers, NULL, shown, true, &saved) < 0)
        goto out;
    kept = json_object_get(saved, "answers");
    {
        /* "...recorded. You can change it below": only when a form follows. */
        char score_s[8];
        bool rest = anything_left(x->questions, kept);
        const char *vars[] = {"score", score_s, NULL};
        snprintf(score_s, sizeof(score_s), "%d", score);
        note = outreach_text(x->loc, rest ? "survey.page.recorded" : "survey.page.recorded_short",
                             false, vars);
    }
    if (anything_left(x->questions, kept)) {
        other = json_deep_copy(json_object_get(saved, "other"));
        struct view view = {.token = req_param(r, "token"), .loc = x->loc, .qs = x->questions,
                            .kept = kept, .other = other, .note = note, .brand = &x->brand};
        render(r, 200, &view);
    } else {
        thank_you(r, x, kept, note);
    }
    free(note);
out:
    json_decref(answers);
    json_decref(shown);
    json_decref(saved);
    json_decref(other);
}

/* The page's form: store what it sent, then the next step. */
static void
page_post(struct req *r, struct page_ctx *x, const json_t *form)
{
    json_t *shown = json_array(), *answers = json_object(), *other = json_object();
    json_t *raw = json_object(), *errors = json_object(), *saved = NULL, *shown_other = NULL;
    const json_t *kept, *q;
    bool fresh = false;
    size_t i;

    read_answers(x->questions, form, shown, answers, other, raw, errors);
    if (save_or_page(r, x, answers, other, shown, false, &saved) < 0)
        goto out;
    kept = json_object_get(saved, "answers");
    /* Required questions the page showed and the customer left empty; and
     * questions the new answers show for the first time. */
    json_array_foreach(x->questions, i, q) {
        const char *qid = jx_str(q, "id");
        if (!surveys_question_visible(q, kept) || json_object_get(kept, qid) != NULL)
            continue;
        if (!in_list(shown, qid))
            fresh = true;
        else if (json_is_true(json_object_get(q, "required")) &&
                 json_object_get(errors, qid) == NULL)
            json_object_set_new(errors, qid, json_string("survey.required"));
    }
    if (json_object_size(errors) == 0 && !fresh) {
        thank_you(r, x, kept, NULL);
        goto out;
    }
    {
        /* Back to the customer: the "other" texts as typed, even those
         * not kept (their box unticked), so nothing typed is lost. */
        const char *vars[] = {"shop_name", x->brand.name, NULL};
        char *note = outreach_text(x->loc, json_object_size(errors) ? "survey.page.saved"
                                                                   : "survey.page.more",
                                   false, vars);
        struct view view = {.token = req_param(r, "token"), .loc = x->loc, .qs = x->questions,
                            .kept = kept, .raw = raw, .errors = errors, .note = note,
                            .brand = &x->brand};
        shown_other = json_deep_copy(json_object_get(saved, "other"));
        json_object_update(shown_other, other);
        view.other = shown_other;
        /* 200: the page is the answer (a 4xx document is a console
         * error in browsers, and the answers were stored). */
        render(r, 200, &view);
        free(note);
    }
out:
    json_decref(shown);
    json_decref(answers);
    json_decref(other);
    json_decref(raw);
    json_decref(errors);
    json_decref(saved);
    json_decref(shown_other);
}

void
surveys_handle_score_post(struct req *r)
{
    struct page_ctx x = {0};
    json_t *form = NULL;

    if (token_or_page(r, &x) < 0)
        return;
    if (load_or_page(r, &x) < 0)
        goto out;
    form = form_parse(r->body.data ? r->body.data : "", r->body.len);
    if (strcmp(form_first(form, "form") ? form_first(form, "form") : "", "page") == 0)
        page_post(r, &x, form);
    else
        score_post(r, &x, form);
out:
    json_decref(form);
    page_ctx_clear(&x);
}
