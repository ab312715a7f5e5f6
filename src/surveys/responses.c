/*
 * responses.c - invitations by link, the customer's answers, and the
 * merchant's follow-up of responses.
 *
 * One response per invitation: the answers are upserted (INSERT ... ON
 * CONFLICT (shop_id, invitation_id) DO UPDATE) under a lock on the
 * invitation row, so two submissions at once give one response, the later
 * one's answers (last write wins until the invitation expires). The
 * answers are checked against the invitation's VERSION of the questions:
 * an answer to a question its condition hides is dropped (and listed in
 * `dropped`), because a page without JavaScript shows every question and
 * a customer who changed a score must not be refused for a follow-up they
 * had filled in. The per-day aggregates of the reports are kept by a
 * trigger on survey_responses in the same transaction (sql/008).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/server.h"
#include "aftersale/http/token.h"
#include "aftersale/shops/shops.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/hooks/hooks.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/handlers.h"
#include "aftersale/surveys/jobs.h"
#include "aftersale/surveys/link.h"
#include "aftersale/surveys/surveys.h"
#include "aftersale/woo/link.h"

/* ---- link invitations ------------------------------------------------------ */


int
surveys_link_tx(struct db_conn *c, void *ctx, struct err *e)
{
    struct surveys_link *x = ctx;
    struct surveys_order_facts *o = NULL;
    char shop[24], sid[24], order[24], cust[24], ver[16], expiry[32];
    const char *params[2] = {shop, sid};
    PGresult *res;
    bool found;
    int rc = -1;

    /* A retried transaction starts from nothing. */
    surveys_link_clear(x);
    DB_I64(shop, x->shop_id);
    DB_I64(sid, x->survey_id);
    DB_I64(order, x->order_id);
    res = db_exec(c, "surveys_link_survey",
                  "SELECT s.status, s.version, s.settings->>'expiry',"
                  " encode(sh.token_secret_enc, 'hex')"
                  " FROM surveys s JOIN shops sh ON sh.id = s.shop_id"
                  " WHERE s.shop_id = $1 AND s.id = $2 FOR UPDATE OF s",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no survey %" PRId64, x->survey_id);
    }
    if (strcmp(PQgetvalue(res, 0, 0), "archived") == 0) {
        PQclear(res);
        return err_set(e, ERR_CONFLICT, NULL, "survey %" PRId64 " is archived", x->survey_id);
    }
    {
        char *hex = xasprintf("\\x%s", PQgetvalue(res, 0, 3));
        x->token_secret = shops_secret_open(server_config()->secret_key, "token_secret", hex);
        free(hex);
    }
    {
        snprintf(ver, sizeof(ver), "%s", PQgetvalue(res, 0, 1));
        snprintf(expiry, sizeof(expiry), "%s", PQgetvalue(res, 0, 2));
        PQclear(res);
        if (x->token_secret == NULL)
            return err_set(e, ERR_INTERNAL, NULL, "cannot decrypt the shop's token secret");
        o = calloc(1, sizeof(*o));
        if (o == NULL)
            return err_set(e, ERR_INTERNAL, NULL, "out of memory");
        if (x->given != NULL) {
            *o = *x->given;
            found = true;
        } else if (surveys_order_load(c, x->shop_id, x->order_id, o, &found, e) < 0)
            goto out;
        if (!found) {
            err_set(e, ERR_INVALID, "order_id",
                    "aftersale has no order %" PRId64 " for this shop (webhook or sync first)",
                    x->order_id);
            goto out;
        }
        DB_I64(cust, o->customer_id);
        {
            const char *p[11] = {shop, sid, ver, order, cust, o->email, o->first_name,
                                 o->country, o->first_order ? "t" : "f", expiry, x->locale};
            res = db_exec(c, "surveys_link_insert",
                          "INSERT INTO survey_invitations (shop_id, survey_id, version, order_id,"
                          " customer_id, email, first_name, country, first_order, channel, status,"
                          " due_at, sent_at, expires_at, locale)"
                          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'link', 'sent', now(),"
                          "  now(), now() + $10::interval, $11)"
                          " ON CONFLICT (shop_id, survey_id, order_id) DO NOTHING RETURNING id",
                          11, p, e);
        }
    }
    if (res == NULL)
        goto out;
    x->created = PQntuples(res) == 1;
    x->id = x->created ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    if (!x->created) {
        /* The order already has an invitation: a new link to the same one. */
        const char *p[3] = {shop, sid, order};
        res = db_exec(c, "surveys_link_existing",
                      "SELECT id, status FROM survey_invitations WHERE shop_id = $1"
                      " AND survey_id = $2 AND order_id = $3",
                      3, p, e);
        if (res == NULL)
            goto out;
        x->id = atoll(PQgetvalue(res, 0, 0));
        if (x->locale != NULL) {
            /* The caller knows the customer's language: it wins from now on. */
            char iid[24];
            const char *p2[3] = {shop, iid, x->locale};
            DB_I64(iid, x->id);
            if (db_exec_cmd(c, "surveys_link_locale",
                            "UPDATE survey_invitations SET locale = $3, updated_at = now()"
                            " WHERE shop_id = $1 AND id = $2",
                            3, p2, e) < 0) {
                PQclear(res);
                goto out;
            }
        }
        if (strcmp(PQgetvalue(res, 0, 1), "scheduled") == 0) {
            /* Not sent yet: the merchant's link sends it now, so the
             * email step will not send it again. */
            char iid[24];
            const char *p2[3] = {shop, iid, expiry};
            DB_I64(iid, x->id);
            PQclear(res);
            if (db_exec_cmd(c, "surveys_link_send",
                            "UPDATE survey_invitations SET channel = 'link', status = 'sent',"
                            " sent_at = now(), expires_at = now() + $3::interval,"
                            " updated_at = now() WHERE shop_id = $1 AND id = $2",
                            3, p2, e) < 0)
                goto out;
            res = NULL;
        } else if (strcmp(PQgetvalue(res, 0, 1), "cancelled") == 0 ||
            strcmp(PQgetvalue(res, 0, 1), "expired") == 0) {
            err_set(e, ERR_CONFLICT, "order_id", "the order's invitation %" PRId64 " is %s", x->id,
                    PQgetvalue(res, 0, 1));
            PQclear(res);
            goto out;
        }
        PQclear(res);
    }
    {
        char iid[24];
        const char *p[2] = {shop, iid};
        DB_I64(iid, x->id);
        /* The token lives as long as the invitation can be answered. */
        res = db_exec(c, "surveys_link_exp",
                      "SELECT extract(epoch FROM coalesce(i.expires_at,"
                      "  i.due_at + (s.settings->>'expiry')::interval))::bigint, i.email"
                      " FROM survey_invitations i JOIN surveys s ON s.shop_id = i.shop_id"
                      "  AND s.id = i.survey_id WHERE i.shop_id = $1 AND i.id = $2",
                      2, p, e);
        if (res == NULL)
            goto out;
        x->exp = (time_t)atoll(PQgetvalue(res, 0, 0));
        snprintf(x->email, sizeof(x->email), "%s", PQgetvalue(res, 0, 1));
        PQclear(res);
    }
    rc = surveys_invitation_json(c, x->shop_id, x->id, &x->out, e);
out:
    free(o);
    return rc;
}

int
surveys_link_token(const struct surveys_link *x, char **token, char **url)
{
    struct token_claims claims = {0};
    const struct config *cfg = server_config();

    *token = *url = NULL;
    claims.shop_id = x->shop_id;
    claims.rid = x->id;
    /* As long as the invitation can be answered, but never longer than a
     * customer token may live (TOKEN_MAX_LIFETIME_S, docs/tokens.md). */
    claims.exp = x->exp;
    if (claims.exp > time(NULL) + cfg->token_max_lifetime_s)
        claims.exp = time(NULL) + cfg->token_max_lifetime_s;
    snprintf(claims.scope, sizeof(claims.scope), "survey");
    snprintf(claims.email, sizeof(claims.email), "%s", x->email[0] ? x->email : "guest@invalid");
    *token = token_mint(x->token_secret, &claims);
    if (*token == NULL)
        return -1;
    if (cfg->public_url)
        *url = xasprintf("%s/s/%s", cfg->public_url, *token);
    return 0;
}

void
surveys_link_clear(struct surveys_link *x)
{
    json_decref(x->out);
    x->out = NULL;
    if (x->token_secret) {
        crypto_wipe(x->token_secret, strlen(x->token_secret));
        free(x->token_secret);
        x->token_secret = NULL;
    }
}

void
surveys_handle_link_create(struct req *r)
{
    static const struct jx_field fields[] = {{"order_id", JX_INTEGER, true, 0, 0},
                                             {"locale", JX_STRING, false, 0, 35}};
    struct surveys_link x = {.shop_id = r->shop_id};
    struct err e = {0};
    char *token = NULL, *url = NULL;

    if (req_param_id_or_reply(r, "id", &x.survey_id) < 0)
        return;
    if (jx_check(r->json, fields, 2, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (outreach_order_locale_or_reply(r, &x.order_id, &x.locale) < 0)
        return;
    if (db_tx(surveys_link_tx, &x, &e) < 0) {
        reply_err(r, &e);
        goto out;
    }
    if (surveys_link_token(&x, &token, &url) < 0) {
        reply_problem(r, ERR_INTERNAL, NULL, "could not mint the survey token");
        goto out;
    }
    {
        char location[96];
        snprintf(location, sizeof(location), "/v1/surveys/%" PRId64 "/invitations?order_id=%" PRId64,
                 x.survey_id, x.order_id);
        if (x.created)
            req_add_header(r, "Location", location);
    }
    reply_json_take(r, x.created ? 201 : 200,
                    json_pack("{s:I, s:s, s:o, s:O}", "id", (json_int_t)x.id, "token", token,
                              "url", url ? json_string(url) : json_null(), "invitation", x.out));
out:
    free(token);
    free(url);
    surveys_link_clear(&x);
}

/* ---- the public API ----------------------------------------------------------- */

/* The invitation a survey token names; -1 after replying. */
static int
token_or_reply(struct req *r, struct token_claims *claims)
{
    const char *token = req_param(r, "token");
    struct err e = {0};

    if (token == NULL || auth_token_verify(token, "survey", claims, &e) < 0) {
        if (token == NULL)
            err_set(&e, ERR_UNAUTHORIZED, NULL, "the link has no token");
        reply_err(r, &e);
        return -1;
    }
    if (claims->rid <= 0) {
        reply_problem(r, ERR_UNAUTHORIZED, NULL, "the token names no survey invitation");
        return -1;
    }
    r->shop_id = claims->shop_id;
    return 0;
}

struct public_ctx {
    struct token_claims claims;
    const json_t *answers, *other;
    const json_t *shown; /* merge: ids whose stored answers the new ones replace */
    bool partial, merge;
    bool one_click; /* the email's one-click score (alert.c holds its alert) */
    bool created;
    json_t *dropped;
    json_t *out;
};

#define INVITATION_STATE                                                                           \
    "SELECT i.status, i.survey_id, i.version, coalesce(i.expires_at < now(), false),"              \
    " s.name, sh.name, i.first_name, " DB_TS("i.expires_at") ", s.status"                          \
    " FROM survey_invitations i JOIN surveys s ON s.shop_id = i.shop_id AND s.id = i.survey_id"    \
    " JOIN shops sh ON sh.id = i.shop_id WHERE i.shop_id = $1 AND i.id = $2"

static int
response_of(struct db_conn *c, int64_t shop_id, int64_t invitation_id, json_t **out, struct err *e)
{
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(iid, invitation_id);
    res = db_exec(c, "surveys_response_of",
                  "SELECT " SURVEY_RESPONSE_COLS " FROM survey_responses r"
                  " JOIN survey_invitations i ON i.shop_id = r.shop_id AND i.id = r.invitation_id"
                  " WHERE r.shop_id = $1 AND r.invitation_id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        *out = surveys_response_json(res, 0);
    PQclear(res);
    return 0;
}

static int
public_get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct public_ctx *x = ctx;
    char shop[24], iid[24];
    const char *params[2] = {shop, iid};
    PGresult *res;
    json_t *questions = NULL, *resp = NULL;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->claims.shop_id);
    DB_I64(iid, x->claims.rid);
    res = db_exec(c, "surveys_public_state", INVITATION_STATE, 2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "this survey invitation no longer exists");
    }
    if (surveys_questions_load(c, x->claims.shop_id, atoll(PQgetvalue(res, 0, 1)),
                               atoi(PQgetvalue(res, 0, 2)), &questions, e) < 0 ||
        response_of(c, x->claims.shop_id, x->claims.rid, &resp, e) < 0)
        goto out;
    x->out = json_pack(
        "{s:I, s:I, s:i, s:s, s:s, s:s, s:s, s:b, s:o, s:O, s:o}", "invitation_id",
        (json_int_t)x->claims.rid, "survey_id", (json_int_t)atoll(PQgetvalue(res, 0, 1)),
        "version", atoi(PQgetvalue(res, 0, 2)), "survey_name", PQgetvalue(res, 0, 4), "shop_name",
        PQgetvalue(res, 0, 5), "first_name", PQgetvalue(res, 0, 6), "status",
        PQgetvalue(res, 0, 0), "expired", strcmp(PQgetvalue(res, 0, 3), "t") == 0, "expires_at",
        PQgetisnull(res, 0, 7) ? json_null() : json_string(PQgetvalue(res, 0, 7)), "questions",
        questions, "response",
        resp ? json_pack("{s:O, s:O, s:O, s:O}", "answers", json_object_get(resp, "answers"),
                         "other", json_object_get(resp, "other"), "complete",
                         json_object_get(resp, "complete"), "updated_at",
                         json_object_get(resp, "updated_at"))
             : json_null());
    rc = 0;
out:
    PQclear(res);
    json_decref(questions);
    json_decref(resp);
    return rc;
}

void
surveys_handle_public_get(struct req *r)
{
    struct public_ctx x = {0};

    if (token_or_reply(r, &x.claims) < 0)
        return;
    reply_run_json_take(r, public_get_fn, &x, &x.out, NULL, 0);
}

/* Is a question its conditions show for `answers` still unanswered? (The
 * one-click page then asks the rest, and alert.c holds the alert for it.) */
static bool
questions_left(const json_t *questions, const json_t *answers)
{
    json_t *q;
    size_t i;

    json_array_foreach(questions, i, q)
        if (surveys_question_visible(q, answers) &&
            json_object_get(answers, jx_str(q, "id")) == NULL)
            return true;
    return false;
}

/* Store the answers of the token's invitation; shared by the public PUT
 * and the one-click page (merge: add to the answers already given). */
static int
submit_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct public_ctx *x = ctx;
    char shop[24], iid[24], ver[16], score[8];
    const char *params[2] = {shop, iid};
    struct surveys_answers a = {0};
    json_t *questions = NULL, *merged = NULL, *merged_other = NULL, *prev = NULL;
    PGresult *res;
    int64_t survey_id;
    int rc = -1;

    json_decref(x->out);
    json_decref(x->dropped);
    x->out = x->dropped = NULL;
    DB_I64(shop, x->claims.shop_id);
    DB_I64(iid, x->claims.rid);
    /* The row lock serialises the submissions of one invitation. */
    res = db_exec(c, "surveys_submit_lock", INVITATION_STATE " FOR UPDATE OF i", 2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "this survey invitation no longer exists");
    }
    if (strcmp(PQgetvalue(res, 0, 0), "cancelled") == 0 ||
        strcmp(PQgetvalue(res, 0, 0), "expired") == 0 || strcmp(PQgetvalue(res, 0, 3), "t") == 0 ||
        strcmp(PQgetvalue(res, 0, 8), "archived") == 0) {
        err_set(e, ERR_CONFLICT, NULL, "this survey invitation is %s",
                strcmp(PQgetvalue(res, 0, 8), "archived") == 0 ? "closed"
                : strcmp(PQgetvalue(res, 0, 0), "cancelled") == 0 ? "cancelled"
                                                                  : "expired");
        PQclear(res);
        return -1;
    }
    survey_id = atoll(PQgetvalue(res, 0, 1));
    snprintf(ver, sizeof(ver), "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (surveys_questions_load(c, x->claims.shop_id, survey_id, atoi(ver), &questions, e) < 0)
        return -1;
    if (questions == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "the invitation's version is missing");
    if (x->merge) {
        if (response_of(c, x->claims.shop_id, x->claims.rid, &prev, e) < 0)
            goto out;
        merged = prev ? json_deep_copy(json_object_get(prev, "answers")) : json_object();
        merged_other = prev ? json_deep_copy(json_object_get(prev, "other")) : json_object();
        {
            /* The page's questions: what it sent replaces what was stored
             * (a field left empty clears the answer); the rest is kept. */
            json_t *id;
            size_t i;
            json_array_foreach(x->shown, i, id) {
                json_object_del(merged, json_string_value(id));
                json_object_del(merged_other, json_string_value(id));
            }
        }
        json_object_update(merged, (json_t *)(uintptr_t)x->answers);
        if (x->other)
            json_object_update(merged_other, (json_t *)(uintptr_t)x->other);
    }
    if (surveys_answers_check(questions, merged ? merged : x->answers,
                              merged ? merged_other : x->other, x->partial, &a, e) < 0)
        goto out;
    snprintf(score, sizeof(score), "%d", a.score);
    {
        char *answers = jx_dump(a.answers), *other = jx_dump(a.other), *facets;
        json_t *f;
        size_t i, n = 2;
        /* facets as a PostgreSQL text[] literal: ids and choice ids are
         * [A-Za-z0-9_-] and scores are digits, so no quoting is needed. */
        json_array_foreach(a.facets, i, f) n += json_string_length(f) + 1;
        facets = xmalloc(n + 1);
        facets[0] = '{';
        n = 1;
        json_array_foreach(a.facets, i, f) {
            if (i)
                facets[n++] = ',';
            memcpy(facets + n, json_string_value(f), json_string_length(f));
            n += json_string_length(f);
        }
        facets[n++] = '}';
        facets[n] = '\0';
        {
            const char *p[9] = {shop, iid, ver, answers, other, a.complete ? "t" : "f",
                                a.score >= 0 ? score : NULL, facets, a.search};
            res = db_exec(c, "surveys_submit_upsert",
                          "INSERT INTO survey_responses AS r (shop_id, survey_id, invitation_id,"
                          " version, answers, other, complete, score, facets, search, country,"
                          " first_order)"
                          " SELECT $1, i.survey_id, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8::text[],"
                          "  $9, i.country, i.first_order FROM survey_invitations i"
                          "  WHERE i.shop_id = $1 AND i.id = $2"
                          " ON CONFLICT (shop_id, invitation_id) DO UPDATE SET"
                          "  answers = EXCLUDED.answers, other = EXCLUDED.other,"
                          "  complete = EXCLUDED.complete, score = EXCLUDED.score,"
                          "  facets = EXCLUDED.facets, search = EXCLUDED.search, updated_at = now()"
                          " RETURNING (xmax = 0)",
                          9, p, e);
        }
        free(answers);
        free(other);
        free(facets);
    }
    if (res == NULL)
        goto out;
    x->created = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (db_exec_cmd(c, "surveys_answered",
                    "UPDATE survey_invitations SET status = 'answered', updated_at = now()"
                    " WHERE shop_id = $1 AND id = $2 AND status IN ('scheduled', 'sent')",
                    2, params, e) < 0 ||
        surveys_alert_maybe(c, x->claims.shop_id, x->claims.rid,
                            x->one_click && questions_left(questions, a.answers), e) < 0 ||
        response_of(c, x->claims.shop_id, x->claims.rid, &x->out, e) < 0)
        goto out;
    /* The outbound survey.response.created event, with the response as the
     * API shows it, by the write that created it (outbox: same transaction).
     * Later writes (the page completing it, a changed answer) emit nothing. */
    if (x->created && hooks_emit(c, x->claims.shop_id, "survey.response.created",
                                 json_deep_copy(x->out), e) < 0)
        goto out;
    /* A completed response earns the loyalty survey bonus once: the ledger
     * keeps one entry per source (survey, response id). */
    if (json_is_true(json_object_get(x->out, "complete"))) {
        char src[24];
        DB_I64(src, json_integer_value(json_object_get(x->out, "id")));
        if (loyalty_grant(c, x->claims.shop_id, 0, jx_str(x->out, "email"), "survey", src,
                          "survey", e) < 0)
            goto out;
    }
    x->dropped = json_incref(a.dropped);
    rc = 0;
out:
    surveys_answers_clear(&a);
    json_decref(questions);
    json_decref(merged);
    json_decref(merged_other);
    json_decref(prev);
    return rc;
}

int
surveys_record_score(const struct token_claims *claims, const char *qid, int score,
                     struct err *e)
{
    struct public_ctx x = {.claims = *claims, .partial = true, .merge = true, .one_click = true};
    json_t *answers = json_pack("{s:i}", qid, score);
    int rc;

    x.answers = answers;
    rc = db_tx(submit_fn, &x, e);
    json_decref(answers);
    json_decref(x.out);
    json_decref(x.dropped);
    return rc;
}

int
surveys_page_save(const struct token_claims *claims, const json_t *answers, const json_t *other,
                  const json_t *shown, bool one_click, json_t **out, struct err *e)
{
    struct public_ctx x = {.claims = *claims, .partial = true, .merge = true, .answers = answers,
                           .other = other, .shown = shown, .one_click = one_click};
    int rc = db_tx(submit_fn, &x, e);

    json_decref(x.dropped);
    *out = rc < 0 ? NULL : x.out;
    if (rc < 0)
        json_decref(x.out);
    return rc;
}

void
surveys_handle_public_put(struct req *r)
{
    static const struct jx_field fields[] = {
        {"answers", JX_OBJECT, true, 0, 0},
        {"other", JX_OBJECT, false, 0, 0},
        {"partial", JX_BOOLEAN, false, 0, 0},
    };
    struct public_ctx x = {0};
    struct err e = {0};

    if (token_or_reply(r, &x.claims) < 0)
        return;
    if (jx_check(r->json, fields, 3, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    x.answers = json_object_get(r->json, "answers");
    x.other = json_object_get(r->json, "other");
    x.partial = json_is_true(json_object_get(r->json, "partial"));
    if (db_tx(submit_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_json_take(r, x.created ? 201 : 200,
                    json_pack("{s:O, s:O, s:O, s:o, s:O}", "answers",
                              json_object_get(x.out, "answers"), "other",
                              json_object_get(x.out, "other"), "complete",
                              json_object_get(x.out, "complete"), "dropped", x.dropped,
                              "updated_at", json_object_get(x.out, "updated_at")));
    json_decref(x.out);
}

/* ---- the merchant's responses -------------------------------------------------- */

struct resp_list_ctx {
    int64_t shop_id, survey_id, after, next_after, id;
    int limit;
    const char *score_min, *score_max, *from, *to, *q, *follow_up, *note;
    bool note_given;
    json_t *out;
};

static int
resp_list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct resp_list_ctx *x = ctx;
    char shop[24], sid[24], after[24], limit[16];
    const char *params[10] = {shop,    sid,   x->score_min, x->score_max, x->from,
                              x->to,   x->q,  x->follow_up, after,        limit};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(sid, x->survey_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    json_decref(x->out);
    x->out = NULL;
    res = db_exec(c, "surveys_survey_exists2",
                  "SELECT 1 FROM surveys WHERE shop_id = $1 AND id = $2", 2, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    PQclear(res);
    if (n == 0)
        return err_set(e, ERR_NOT_FOUND, NULL, "no survey %" PRId64, x->survey_id);
    res = db_exec(c, "surveys_responses_list",
                  "SELECT " SURVEY_RESPONSE_COLS " FROM survey_responses r"
                  " JOIN survey_invitations i ON i.shop_id = r.shop_id AND i.id = r.invitation_id"
                  " WHERE r.shop_id = $1 AND r.survey_id = $2"
                  " AND ($3::integer IS NULL OR r.score >= $3)"
                  " AND ($4::integer IS NULL OR r.score <= $4)"
                  " AND ($5::timestamptz IS NULL OR r.created_at >= $5)"
                  " AND ($6::timestamptz IS NULL OR r.created_at < $6)"
                  " AND ($7::text IS NULL OR r.search ILIKE '%' || replace(replace(replace($7,"
                  "   '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"
                  "   OR r.other::text ILIKE '%' || replace(replace(replace($7,"
                  "   '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
                  " AND ($8::text IS NULL OR r.follow_up = $8)"
                  " AND r.id > $9 ORDER BY r.id LIMIT $10",
                  10, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    x->out = json_array();
    for (int i = 0; i < n && i < x->limit; i++)
        json_array_append_new(x->out, surveys_response_json(res, i));
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

static bool
small_int(const char *s)
{
    return s && (strlen(s) == 1 || (strlen(s) == 2 && s[0] == '1' && s[1] == '0')) && s[0] >= '0' &&
           s[0] <= '9';
}

void
surveys_handle_responses_list(struct req *r)
{
    struct resp_list_ctx x = {.shop_id = r->shop_id};

    if (req_param_id_or_reply(r, "id", &x.survey_id) < 0 ||
        req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    x.score_min = req_query(r, "score_min");
    x.score_max = req_query(r, "score_max");
    x.q = req_query(r, "q");
    x.follow_up = req_query(r, "follow_up");
    if (x.score_min && !small_int(x.score_min)) {
        reply_problem(r, ERR_MALFORMED, "score_min", "score_min must be 0 to 10");
        return;
    }
    if (x.score_max && !small_int(x.score_max)) {
        reply_problem(r, ERR_MALFORMED, "score_max", "score_max must be 0 to 10");
        return;
    }
    if (req_time_range_or_reply(r, &x.from, &x.to) < 0)
        return;
    if (x.q && (strlen(x.q) == 0 || strlen(x.q) > 200)) {
        reply_problem(r, ERR_MALFORMED, "q", "q must be 1 to 200 characters");
        return;
    }
    if (x.follow_up && strcmp(x.follow_up, "new") != 0 && strcmp(x.follow_up, "contacted") != 0 &&
        strcmp(x.follow_up, "resolved") != 0) {
        reply_problem(r, ERR_MALFORMED, "follow_up", "follow_up must be new, contacted or resolved");
        return;
    }
    reply_run_page_take(r, resp_list_fn, &x, &x.out, &x.next_after);
}

static int
resp_patch_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct resp_list_ctx *x = ctx;
    char shop[24], id[24];
    const char *params[5] = {shop, id, x->follow_up, x->note, x->note_given ? "t" : "f"};
    PGresult *res;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    DB_I64(id, x->id);
    /* The follow-up is the merchant's: it does not touch the answers, so
     * the aggregates are not rewritten (no change to the counted columns). */
    res = db_exec(c, "surveys_response_patch",
                  "WITH u AS (UPDATE survey_responses SET follow_up = coalesce($3, follow_up),"
                  "  note = CASE WHEN $5::boolean THEN $4 ELSE note END"
                  "  WHERE shop_id = $1 AND id = $2 RETURNING *)"
                  " SELECT " SURVEY_RESPONSE_COLS " FROM u r JOIN survey_invitations i"
                  "  ON i.shop_id = r.shop_id AND i.id = r.invitation_id",
                  5, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        x->out = surveys_response_json(res, 0);
    PQclear(res);
    return 0;
}

void
surveys_handle_response_patch(struct req *r)
{
    static const char *const states[] = {"new", "contacted", "resolved"};
    static const char *const keys[] = {"follow_up", "note", NULL};
    struct resp_list_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    json_t *v;
    int idx;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (jx_known_keys(r->json, keys, NULL, &e) < 0)
        goto bad;
    v = json_object_get(r->json, "follow_up");
    if (v != NULL) {
        if (jx_choice(v, "follow_up", states, 3, &idx, &e) < 0)
            goto bad;
        x.follow_up = states[idx];
    }
    v = json_object_get(r->json, "note");
    if (v != NULL) {
        x.note_given = true;
        if (!json_is_null(v) && (!json_is_string(v) || jx_utf8_len(json_string_value(v)) > 5000)) {
            err_set(&e, ERR_INVALID, "note", "note must be a text of at most 5000 characters or null");
            goto bad;
        }
        x.note = json_is_null(v) ? NULL : json_string_value(v);
    }
    if (db_tx(resp_patch_fn, &x, &e) < 0)
        goto bad;
    if (x.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no survey response %" PRId64, x.id);
    else
        reply_json_take(r, 200, x.out);
    return;
bad:
    reply_err(r, &e);
}

/* ---- an order's responses, across surveys (the order screen's box) ------------- */

struct order_resp_ctx {
    int64_t shop_id, order_id, after, next_after;
    int limit;
    json_t *out;
};

static int
order_resp_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct order_resp_ctx *x = ctx;
    char shop[24], order[24], after[24], limit[16];
    const char *params[4] = {shop, order, after, limit};
    PGresult *res;
    int n;

    json_decref(x->out);
    x->out = json_array();
    DB_I64(shop, x->shop_id);
    DB_I64(order, x->order_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    /* The survey's name rides after the response's columns (index 16). */
    res = db_exec(c, "surveys_responses_of_order",
                  "SELECT " SURVEY_RESPONSE_COLS ", s.name FROM survey_responses r"
                  " JOIN survey_invitations i ON i.shop_id = r.shop_id AND i.id = r.invitation_id"
                  " JOIN surveys s ON s.shop_id = r.shop_id AND s.id = r.survey_id"
                  " WHERE r.shop_id = $1 AND i.order_id = $2 AND r.id > $3"
                  " ORDER BY r.id LIMIT $4",
                  4, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    for (int i = 0; i < n && i < x->limit; i++) {
        json_t *one = surveys_response_json(res, i);
        json_object_set_new(one, "survey_name", json_string(PQgetvalue(res, i, 16)));
        json_array_append_new(x->out, one);
    }
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

void
surveys_handle_order_responses(struct req *r)
{
    struct order_resp_ctx x = {.shop_id = r->shop_id};

    if (req_order_page_or_reply(r, &x.order_id, &x.limit, &x.after) < 0)
        return;
    reply_run_page_take(r, order_resp_fn, &x, &x.out, &x.next_after);
}
