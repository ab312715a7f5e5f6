/*
 * handlers.c - the merchant's survey routes: definitions (CRUD, templates,
 * versions).
 *
 * A definition is checked whole (surveys/rules.c) before the transaction.
 * The questions of a version that already has responses are never changed
 * in place: such an edit inserts version n+1 and makes it current, so each
 * response keeps the questions it answered and reports can still join
 * versions by question id. Archiving (DELETE) keeps everything; an
 * archived survey invites nobody and cannot be edited.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"
#include "aftersale/woo/link.h"

static const char *const statuses[] = {"draft", "active", "paused"};

void
surveys_handle_templates(struct req *r)
{
    reply_json_take(r, 200, json_pack("{s:o}", "items", surveys_templates()));
}

/* ---- create ---------------------------------------------------------------- */

struct def_ctx {
    int64_t shop_id, id;
    int version;
    const char *name, *status;
    json_t *questions;  /* checked, or NULL (PATCH without questions) */
    const json_t *body; /* the settings keys are read from here */
    json_t *settings;   /* create: merged before the transaction */
    bool new_version;
    json_t *out;
};

static int
create_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct def_ctx *x = ctx;
    char shop[24], sid[24];
    char *settings = jx_dump(x->settings), *questions = jx_dump(x->questions);
    const char *params[4] = {shop, x->name, x->status, settings};
    PGresult *res;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    res = db_exec(c, "surveys_create",
                  "INSERT INTO surveys (shop_id, name, status, settings)"
                  " VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
                  4, params, e);
    if (res == NULL)
        goto out;
    x->id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    DB_I64(sid, x->id);
    {
        const char *p[3] = {shop, sid, questions};
        if (db_exec_cmd(c, "surveys_create_version",
                        "INSERT INTO survey_versions (shop_id, survey_id, version, questions)"
                        " VALUES ($1, $2, 1, $3::jsonb)",
                        3, p, e) < 0)
            goto out;
    }
    rc = surveys_json(c, x->shop_id, x->id, 0, &x->out, e);
out:
    free(settings);
    free(questions);
    return rc;
}

static const char *const def_keys[] = {"name",     "status",         "template",
                                       "questions", "trigger",       "audience",
                                       "sampling_rate", "recontact_days", "expiry", "reminders",
                                       "alert_threshold", "alert_order_note", "channel", NULL};

/* name and status of a body: -1 with e. */
static int
name_status(const json_t *body, struct def_ctx *x, struct err *e)
{
    json_t *v = json_object_get(body, "name");
    int idx;

    if (v != NULL) {
        if (!json_is_string(v) || jx_utf8_len(json_string_value(v)) < 1 ||
            jx_utf8_len(json_string_value(v)) > 200)
            return err_set(e, ERR_INVALID, "name", "name must be a text of 1 to 200 characters");
        x->name = json_string_value(v);
    }
    v = json_object_get(body, "status");
    if (v != NULL) {
        if (json_is_string(v) && strcmp(json_string_value(v), "archived") == 0)
            return err_set(e, ERR_INVALID, "status",
                           "archive a survey with DELETE /v1/surveys/{id}");
        if (jx_choice(v, "status", statuses, 3, &idx, e) < 0)
            return -1;
        x->status = statuses[idx];
    }
    return 0;
}

void
surveys_handle_create(struct req *r)
{
    struct def_ctx x = {.shop_id = r->shop_id, .status = "draft", .body = r->json};
    struct err e = {0};
    json_t *tpl = NULL, *v;
    char location[64];

    if (jx_known_keys(r->json, def_keys, NULL, &e) < 0)
        goto bad;
    v = json_object_get(r->json, "template");
    if (v != NULL) {
        tpl = json_is_string(v) ? surveys_template(json_string_value(v)) : NULL;
        if (tpl == NULL) {
            err_set(&e, ERR_INVALID, "template",
                    "template must be one of post_purchase_nps, delivery_csat, checkout_ces,"
                    " how_did_you_hear");
            goto bad;
        }
        x.name = jx_str(tpl, "title");
    }
    if (name_status(r->json, &x, &e) < 0)
        goto bad;
    if (x.name == NULL) {
        err_set(&e, ERR_INVALID, "name", "name is required");
        goto bad;
    }
    v = json_object_get(r->json, "questions");
    if (v == NULL && tpl != NULL)
        v = json_object_get(tpl, "questions");
    if (v == NULL) {
        err_set(&e, ERR_INVALID, "questions", "questions is required (or start from a template)");
        goto bad;
    }
    x.questions = surveys_questions_check(v, &e);
    if (x.questions == NULL)
        goto bad;
    x.settings = surveys_settings_merge(tpl ? json_object_get(tpl, "settings") : NULL, r->json, &e);
    if (x.settings == NULL)
        goto bad;
    if (db_tx(create_fn, &x, &e) < 0)
        goto bad;
    snprintf(location, sizeof(location), "/v1/surveys/%" PRId64, x.id);
    req_add_header(r, "Location", location);
    reply_json_take(r, 201, x.out);
    x.out = NULL;
    goto out;
bad:
    reply_err(r, &e);
out:
    json_decref(tpl);
    json_decref(x.questions);
    json_decref(x.settings);
    json_decref(x.out);
}

/* ---- read -------------------------------------------------------------------- */

struct get_ctx {
    int64_t shop_id, id, after, next_after;
    int version, limit;
    const char *status;
    json_t *out;
};

static int
get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct get_ctx *x = ctx;
    return surveys_json(c, x->shop_id, x->id, x->version, &x->out, e);
}

void
surveys_handle_get(struct req *r)
{
    struct get_ctx x = {.shop_id = r->shop_id};
    const char *ver = req_query(r, "version");
    struct err e = {0};
    int64_t v = 0;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (ver && (cursor_parse_id(ver, &v) < 0 || v > 100000)) {
        reply_problem(r, ERR_MALFORMED, "version", "version must be a positive integer");
        return;
    }
    x.version = (int)v;
    if (db_run(get_fn, &x, &e) < 0)
        reply_err(r, &e);
    else if (x.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no survey %" PRId64 "%s", x.id,
                      ver ? " at that version" : "");
    else
        reply_json_take(r, 200, x.out);
}

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct get_ctx *x = ctx;
    char shop[24], after[24], limit[16];
    const char *params[4] = {shop, x->status, after, limit};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    res = db_exec(c, "surveys_list",
                  "SELECT id FROM surveys WHERE shop_id = $1 AND ($2::text IS NULL OR status = $2)"
                  " AND id > $3 ORDER BY id LIMIT $4",
                  4, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    json_decref(x->out);
    x->out = json_array();
    for (int i = 0; i < n && i < x->limit; i++) {
        json_t *s;
        if (surveys_json(c, x->shop_id, atoll(PQgetvalue(res, i, 0)), 0, &s, e) < 0) {
            PQclear(res);
            return -1;
        }
        if (s)
            json_array_append_new(x->out, s);
    }
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

void
surveys_handle_list(struct req *r)
{
    struct get_ctx x = {.shop_id = r->shop_id, .status = req_query(r, "status")};

    if (req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    if (x.status && strcmp(x.status, "draft") != 0 && strcmp(x.status, "active") != 0 &&
        strcmp(x.status, "paused") != 0 && strcmp(x.status, "archived") != 0) {
        reply_problem(r, ERR_MALFORMED, "status", "status must be draft, active, paused or archived");
        return;
    }
    reply_run_page_take(r, list_fn, &x, &x.out, &x.next_after);
}

/* ---- update, archive ----------------------------------------------------------- */

static int
patch_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct def_ctx *x = ctx;
    char shop[24], sid[24], ver[16];
    const char *params[3] = {shop, sid, ver};
    PGresult *res;
    json_t *cur = NULL, *merged = NULL;
    json_error_t jerr;
    int version, rc = -1;

    json_decref(x->out);
    x->out = NULL;
    x->new_version = false;
    DB_I64(shop, x->shop_id);
    DB_I64(sid, x->id);
    res = db_exec(c, "surveys_patch_lock",
                  "SELECT status, version, settings::text, EXISTS (SELECT 1 FROM survey_responses r"
                  "  WHERE r.shop_id = s.shop_id AND r.survey_id = s.id AND r.version = s.version)"
                  " FROM surveys s WHERE shop_id = $1 AND id = $2 FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no survey %" PRId64, x->id);
    }
    if (strcmp(PQgetvalue(res, 0, 0), "archived") == 0) {
        PQclear(res);
        return err_set(e, ERR_CONFLICT, NULL, "survey %" PRId64 " is archived", x->id);
    }
    version = atoi(PQgetvalue(res, 0, 1));
    cur = json_loads(PQgetvalue(res, 0, 2), 0, &jerr);
    x->new_version = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    PQclear(res);
    merged = surveys_settings_merge(cur, x->body, e);
    if (merged == NULL)
        goto out;
    if (x->questions) {
        char *q = jx_dump(x->questions);
        const char *p[4] = {shop, sid, ver, q};
        /* Responses keep the questions they answered: a version that has
         * any is frozen, the edit becomes the next version. */
        snprintf(ver, sizeof(ver), "%d", x->new_version ? version + 1 : version);
        long n = x->new_version
                     ? db_exec_cmd(c, "surveys_version_insert",
                                   "INSERT INTO survey_versions (shop_id, survey_id, version,"
                                   " questions) VALUES ($1, $2, $3, $4::jsonb)",
                                   4, p, e)
                     : db_exec_cmd(c, "surveys_version_update",
                                   "UPDATE survey_versions SET questions = $4::jsonb"
                                   " WHERE shop_id = $1 AND survey_id = $2 AND version = $3",
                                   4, p, e);
        free(q);
        if (n < 0)
            goto out;
        if (x->new_version)
            version++;
    }
    snprintf(ver, sizeof(ver), "%d", version);
    {
        char *s = jx_dump(merged);
        const char *p[6] = {shop, sid, ver, x->name, x->status, s};
        long n = db_exec_cmd(c, "surveys_patch",
                             "UPDATE surveys SET version = $3, name = coalesce($4, name),"
                             " status = coalesce($5, status), settings = $6::jsonb,"
                             " updated_at = now() WHERE shop_id = $1 AND id = $2",
                             6, p, e);
        free(s);
        if (n < 0)
            goto out;
    }
    rc = surveys_json(c, x->shop_id, x->id, 0, &x->out, e);
out:
    json_decref(cur);
    json_decref(merged);
    return rc;
}

void
surveys_handle_patch(struct req *r)
{
    static const char *const keys[] = {"name",    "status",        "questions",      "trigger",
                                       "audience", "sampling_rate", "recontact_days", "expiry",
                                       "reminders", "alert_threshold", "alert_order_note",
                                       "channel", NULL};
    struct def_ctx x = {.shop_id = r->shop_id, .body = r->json};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (jx_known_keys(r->json, keys, NULL, &e) < 0 || name_status(r->json, &x, &e) < 0)
        goto bad;
    if (json_object_get(r->json, "questions") != NULL) {
        x.questions = surveys_questions_check(json_object_get(r->json, "questions"), &e);
        if (x.questions == NULL)
            goto bad;
    }
    if (db_tx(patch_fn, &x, &e) < 0)
        goto bad;
    reply_json_take(r, 200, x.out);
    json_decref(x.questions);
    return;
bad:
    json_decref(x.questions);
    reply_err(r, &e);
}

static int
archive_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct def_ctx *x = ctx;
    char shop[24], sid[24];
    const char *params[2] = {shop, sid};
    long n;

    json_decref(x->out);
    x->out = NULL;
    DB_I64(shop, x->shop_id);
    DB_I64(sid, x->id);
    n = db_exec_cmd(c, "surveys_archive",
                    "UPDATE surveys SET status = 'archived', updated_at = now()"
                    " WHERE shop_id = $1 AND id = $2 AND status <> 'archived'",
                    2, params, e);
    if (n < 0)
        return -1;
    /* Invitations not sent yet go with it. */
    if (n > 0 && db_exec_cmd(c, "surveys_archive_invitations",
                             "UPDATE survey_invitations SET status = 'cancelled',"
                             " cancel_reason = 'survey archived', updated_at = now()"
                             " WHERE shop_id = $1 AND survey_id = $2 AND status = 'scheduled'",
                             2, params, e) < 0)
        return -1;
    return surveys_json(c, x->shop_id, x->id, 0, &x->out, e);
}

void
surveys_handle_archive(struct req *r)
{
    struct def_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (db_tx(archive_fn, &x, &e) < 0)
        reply_err(r, &e);
    else if (x.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no survey %" PRId64, x.id);
    else
        reply_json_take(r, 200, x.out);
}

/* ---- invitations ---------------------------------------------------------------- */

struct inv_list_ctx {
    int64_t shop_id, survey_id, order_id, after, next_after;
    int limit;
    const char *status;
    json_t *out;
};

static int
inv_list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct inv_list_ctx *x = ctx;
    char shop[24], sid[24], order[24], after[24], limit[16];
    const char *params[6] = {shop, sid, x->status, x->order_id > 0 ? order : NULL, after, limit};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(sid, x->survey_id);
    DB_I64(order, x->order_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    json_decref(x->out);
    x->out = NULL;
    res = db_exec(c, "surveys_survey_exists",
                  "SELECT 1 FROM surveys WHERE shop_id = $1 AND id = $2", 2, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    PQclear(res);
    if (n == 0)
        return err_set(e, ERR_NOT_FOUND, NULL, "no survey %" PRId64, x->survey_id);
    res = db_exec(c, "surveys_invitations_list",
                  "SELECT id FROM survey_invitations WHERE shop_id = $1 AND survey_id = $2"
                  " AND ($3::text IS NULL OR $3 = CASE WHEN status = 'sent' AND expires_at <= now()"
                  "   THEN 'expired' ELSE status END) AND ($4::bigint IS NULL OR order_id = $4)"
                  " AND id > $5 ORDER BY id LIMIT $6",
                  6, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    x->out = json_array();
    for (int i = 0; i < n && i < x->limit; i++) {
        json_t *inv;
        if (surveys_invitation_json(c, x->shop_id, atoll(PQgetvalue(res, i, 0)), &inv, e) < 0) {
            PQclear(res);
            return -1;
        }
        if (inv)
            json_array_append_new(x->out, inv);
    }
    x->next_after = n > x->limit ? atoll(PQgetvalue(res, x->limit - 1, 0)) : 0;
    PQclear(res);
    return 0;
}

void
surveys_handle_invitations_list(struct req *r)
{
    static const char *const st[] = {"scheduled", "sent", "answered", "expired", "cancelled", NULL};
    struct inv_list_ctx x = {.shop_id = r->shop_id, .status = req_query(r, "status")};
    const char *order = req_query(r, "order_id");
    bool ok = x.status == NULL;

    if (req_param_id_or_reply(r, "id", &x.survey_id) < 0 ||
        req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    for (int i = 0; !ok && st[i]; i++)
        ok = strcmp(st[i], x.status) == 0;
    if (!ok) {
        reply_problem(r, ERR_MALFORMED, "status",
                      "status must be scheduled, sent, answered, expired or cancelled");
        return;
    }
    if (order && cursor_parse_id(order, &x.order_id) < 0) {
        reply_problem(r, ERR_MALFORMED, "order_id", "order_id must be a positive integer");
        return;
    }
    reply_run_page_take(r, inv_list_fn, &x, &x.out, &x.next_after);
}

/* ---- order.delivered by a caller ----------------------------------------------- */

struct delivered_ctx {
    int64_t shop_id, order_id;
    bool found, emitted;
};

static int
delivered_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct delivered_ctx *x = ctx;

    /* Once per order, whoever says it first (this call or the shop's
     * delivered_status, woo/orders.c): the same event and dedupe key. */
    return woo_orders_delivered(c, x->shop_id, x->order_id, NULL, "api", &x->found, &x->emitted,
                                e);
}

void
surveys_handle_order_delivered(struct req *r)
{
    struct delivered_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "order_id", &x.order_id) < 0)
        return;
    if (db_tx(delivered_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (!x.found) {
        reply_problem(r, ERR_NOT_FOUND, "order_id", "no order %" PRId64 " in this shop",
                      x.order_id);
        return;
    }
    reply_json_take(r, 200, json_pack("{s:I, s:b}", "order_id", (json_int_t)x.order_id,
                                      "already", !x.emitted));
}
