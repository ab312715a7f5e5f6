/*
 * page.c - the one-click score page behind the score links, /s/{token}.
 *
 * A GET never records anything: mail scanners and link prefetchers open
 * every link of an email, and eleven prefetched score links would record
 * eleven scores. The GET shows the question with the clicked score
 * preselected (`?q=<question id>&v=<score>`) and a button; the POST of
 * that form records the score (a partial answer, merged into the answers
 * given so far). Plain HTML: a fieldset with a legend and one labelled
 * radio button per score, no script at all, under a CSP that allows no
 * script and posts only to this host. Every value from the shop or the
 * customer is HTML-escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/core/jx.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/shops/shops.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"

static const char style[] =
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "color:#1a1a1a;line-height:1.5}fieldset{border:1px solid #ccc;border-radius:.5rem;"
    "margin:1rem 0;padding:1rem}legend{font-weight:600;padding:0 .25rem}"
    ".scale{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0}"
    ".scale label{display:inline-flex;align-items:center;gap:.25rem;cursor:pointer}"
    "button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#7f54b3;"
    "color:#fff;cursor:pointer}button:focus,input:focus{outline:3px solid #333;outline-offset:2px}";

static void
put_escaped(struct buf *b, const char *s)
{
    char *esc = mail_html_escape(s ? s : "");
    buf_puts(b, esc);
    free(esc);
}

static void
reply_page(struct req *r, int status, struct buf *b)
{
    size_t len = b->len;
    req_add_header(r, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                   "base-uri 'none'; frame-ancestors 'none'");
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
message(struct req *r, int status, const char *title, const char *text)
{
    struct buf b = {0};
    page_start(&b, title);
    buf_puts(&b, "<h1>");
    put_escaped(&b, title);
    buf_puts(&b, "</h1><p>");
    put_escaped(&b, text);
    buf_puts(&b, "</p></main></body></html>\n");
    reply_page(r, status, &b);
}

/* The token of the path, verified; -1 after replying with a page. */
static int
token_or_page(struct req *r, struct token_claims *claims)
{
    struct err e = {0};
    const char *token = req_param(r, "token");

    if (token == NULL || auth_token_verify(token, "survey", claims, &e) < 0 || claims->rid <= 0) {
        if (e.kind == ERR_UNAVAILABLE)
            message(r, 503, "Please try again", "The survey is not available right now.");
        else
            message(r, e.kind == ERR_FORBIDDEN ? 403 : 401, "This link does not work",
                    "The link is incomplete, has expired or was changed. Please use the latest "
                    "email from the shop.");
        return -1;
    }
    r->shop_id = claims->shop_id;
    return 0;
}

struct page_ctx {
    struct token_claims claims;
    char status[16], shop_name[256], survey_status[16];
    bool expired, found;
    json_t *questions;
};

static int
page_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct page_ctx *x = ctx;
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;
    int64_t sid;
    int ver;

    DB_I64(shop, x->claims.shop_id);
    DB_I64(iid, x->claims.rid);
    res = db_exec(c, "surveys_page_state",
                  "SELECT i.status, coalesce(i.expires_at < now(), false), sh.name, s.status,"
                  " i.survey_id, i.version FROM survey_invitations i JOIN surveys s"
                  " ON s.shop_id = i.shop_id AND s.id = i.survey_id JOIN shops sh ON sh.id = i.shop_id"
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
    snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 2));
    snprintf(x->survey_status, sizeof(x->survey_status), "%s", PQgetvalue(res, 0, 3));
    sid = atoll(PQgetvalue(res, 0, 4));
    ver = atoi(PQgetvalue(res, 0, 5));
    PQclear(res);
    json_decref(x->questions);
    return surveys_questions_load(c, x->claims.shop_id, sid, ver, &x->questions, e);
}

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

static const char *
label_of(const json_t *q)
{
    const json_t *l = json_object_get(q, "label");
    const char *en = jx_str(l, "en");
    const char *k;
    json_t *v;
    if (en)
        return en;
    json_object_foreach((json_t *)(uintptr_t)l, k, v)
        return json_string_value(v);
    return "";
}

/* Load the invitation; -1 after replying with a page. */
static int
load_or_page(struct req *r, struct page_ctx *x)
{
    struct err e = {0};

    if (db_run(page_fn, x, &e) < 0) {
        message(r, e.kind == ERR_UNAVAILABLE ? 503 : 500, "Please try again",
                "The survey is not available right now.");
        return -1;
    }
    if (!x->found || x->questions == NULL) {
        message(r, 404, "This survey no longer exists", "There is nothing to answer here.");
        return -1;
    }
    if (strcmp(x->status, "cancelled") == 0 || strcmp(x->status, "expired") == 0 || x->expired ||
        strcmp(x->survey_status, "archived") == 0) {
        message(r, 409, "This survey is closed", "Thank you all the same.");
        return -1;
    }
    return 0;
}

void
surveys_handle_score_page(struct req *r)
{
    struct page_ctx x = {0};
    const char *qid = req_query(r, "q"), *v = req_query(r, "v");
    const json_t *q;
    struct buf b = {0};
    int lo, hi, chosen = -1;

    if (token_or_page(r, &x.claims) < 0)
        return;
    if (load_or_page(r, &x) < 0)
        goto out;
    q = scored_question(x.questions, qid, &lo, &hi);
    if (q == NULL) {
        message(r, 404, "This link does not work", "The question of this link is not in the survey.");
        goto out;
    }
    if (v && strlen(v) <= 2 && strspn(v, "0123456789") == strlen(v) && v[0])
        chosen = atoi(v);
    page_start(&b, x.shop_name);
    buf_puts(&b, "<h1>");
    put_escaped(&b, x.shop_name);
    buf_puts(&b, "</h1><form method=\"post\" action=\"/s/");
    put_escaped(&b, req_param(r, "token"));
    buf_puts(&b, "\"><input type=\"hidden\" name=\"q\" value=\"");
    put_escaped(&b, jx_str(q, "id"));
    buf_puts(&b, "\"><fieldset><legend>");
    put_escaped(&b, label_of(q));
    buf_puts(&b, "</legend><div class=\"scale\">");
    for (int s = lo; s <= hi; s++)
        buf_printf(&b,
                   "<label for=\"v%d\"><input type=\"radio\" id=\"v%d\" name=\"v\" value=\"%d\""
                   "%s required>%d</label>",
                   s, s, s, s == chosen ? " checked" : "", s);
    buf_puts(&b, "</div></fieldset><button type=\"submit\">Send my answer</button></form>"
                 "</main></body></html>\n");
    reply_page(r, 200, &b);
out:
    json_decref(x.questions);
}

/* The value of `key` in an urlencoded form: ids and digits only, so no
 * percent-decoding is needed (anything else is refused by the checks). */
static bool
form_value(const char *body, size_t len, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = body, *end = body + len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = (size_t)(stop - p) - klen - 1;
            if (n == 0 || n >= outlen)
                return false;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
            return true;
        }
        p = stop + 1;
    }
    return false;
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

void
surveys_handle_score_post(struct req *r)
{
    struct page_ctx x = {0};
    char qid[48], v[8];
    const json_t *q;
    struct err e = {0};
    int lo, hi, score;
    char text[160];

    if (token_or_page(r, &x.claims) < 0)
        return;
    if (!form_value(r->body.data ? r->body.data : "", r->body.len, "q", qid, sizeof(qid)) ||
        !form_value(r->body.data ? r->body.data : "", r->body.len, "v", v, sizeof(v)) ||
        strspn(v, "0123456789") != strlen(v)) {
        message(r, 422, "Please choose a score", "Go back and choose one of the numbers.");
        return;
    }
    if (load_or_page(r, &x) < 0)
        goto out;
    q = scored_question(x.questions, qid, &lo, &hi);
    score = atoi(v);
    if (q == NULL || score < lo || score > hi) {
        message(r, 422, "Please choose a score", "Go back and choose one of the numbers.");
        goto out;
    }
    if (surveys_record_score(&x.claims, jx_str(q, "id"), score, &e) < 0) {
        if (e.kind == ERR_CONFLICT)
            message(r, 409, "This survey is closed", "Thank you all the same.");
        else
            message(r, e.kind == ERR_UNAVAILABLE ? 503 : (e.kind == ERR_INVALID ? 422 : 500),
                    "Your answer was not recorded", "Please try again.");
        goto out;
    }
    snprintf(text, sizeof(text), "Your answer (%d) is recorded. You can change it with the link "
                                 "until the survey closes.", score);
    {
        /* A promoter (NPS 9-10) is offered the review page of the order's
         * open review request, when there is one. */
        char *review = strcmp(jx_str(q, "kind"), "nps") == 0 && score >= 9
                           ? promoter_review_link(&x.claims)
                           : NULL;
        if (review != NULL) {
            struct buf b = {0};
            page_start(&b, "Thank you");
            buf_puts(&b, "<h1>Thank you</h1><p>");
            put_escaped(&b, text);
            buf_puts(&b, "</p><p>Would you tell other customers too? <a class=\"review\" href=\"");
            put_escaped(&b, review);
            buf_puts(&b, "\">Review your order</a></p></main></body></html>\n");
            reply_page(r, 200, &b);
            free(review);
            goto out;
        }
    }
    message(r, 200, "Thank you", text);
out:
    json_decref(x.questions);
}
