/*
 * handlers.c - the returns API: the policy document, return requests and
 * their transitions.
 *
 * Handlers validate what needs no database, run one store call inside one
 * transaction (with the Idempotency-Key record and any job), and reply.
 * They hold no SQL. A transition that the state machine refuses is a 409
 * naming the current state (store.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/idempotency.h"
#include "aftersale/db/settings.h"
#include "aftersale/returns/handlers.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"

/* ---- settings ------------------------------------------------------------ */

struct settings_ctx {
    int64_t shop_id;
    const json_t *patch; /* NULL: read */
    json_t *out;
};

static int
settings_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct settings_ctx *x = ctx;
    json_t *cur = NULL, *next = NULL;
    int rc = -1;

    json_decref(x->out);
    x->out = NULL;
    if (returns_settings_load(c, x->shop_id, &cur, e) < 0)
        goto out;
    if (x->patch == NULL) {
        x->out = cur;
        cur = NULL;
        rc = 0;
        goto out;
    }
    if (returns_settings_merge(cur, x->patch, &next, e) < 0 ||
        db_settings_save(c, DB_SETTINGS_RETURNS, x->shop_id, next, e) < 0)
        goto out;
    x->out = next;
    next = NULL;
    rc = 0;
out:
    json_decref(cur);
    json_decref(next);
    return rc;
}

void
returns_handle_settings_get(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (db_tx(settings_fn, &x, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, x.out);
}

void
returns_handle_settings_put(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    json_t *body = jx_without_read_only(r->json, returns_settings_read_only);

    x.patch = body;
    if (db_tx(settings_fn, &x, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, x.out);
    json_decref(body);
}

/* ---- writes: create and transitions ----------------------------------- */

struct write_ctx {
    int64_t shop_id, id;
    const char *action; /* NULL: create */
    const json_t *body;
    char actor[48], route[64];
    struct idempotency idem;
    int status;
    json_t *out;
};

static int
write_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct write_ctx *w = ctx;
    char *text;
    int rc;

    json_decref(w->out);
    w->out = NULL;
    db_idempotency_clear(&w->idem);
    if (db_idempotency_begin(c, w->shop_id, &w->idem, w->route, e) < 0)
        return -1;
    if (w->idem.replay)
        return 0;
    if (w->action == NULL) {
        rc = returns_store_create(c, w->shop_id, w->body, NULL, w->actor, &w->out, e);
        w->status = 201;
    } else {
        rc = returns_store_transition(c, w->shop_id, w->id, w->action, w->body, w->actor,
                                      &w->out, e);
        w->status = 200;
    }
    if (rc < 0)
        return -1;
    text = jx_dump(w->out);
    rc = db_idempotency_save(c, w->shop_id, &w->idem, w->route, w->status, text, e);
    free(text);
    return rc;
}

static void
write_reply(struct req *r, struct write_ctx *w)
{
    const char *key = req_header(r, "Idempotency-Key");
    struct err e = {0};

    if (key && !db_idempotency_key_valid(key)) {
        reply_problem(r, ERR_MALFORMED, "Idempotency-Key",
                      "Idempotency-Key must be 1 to 255 visible ASCII characters");
        return;
    }
    w->shop_id = r->shop_id;
    snprintf(w->actor, sizeof(w->actor), "api_key:%" PRId64, r->key_id);
    db_idempotency_init(&w->idem, key, w->route, r->body.data ? r->body.data : "", r->body.len);
    if (db_tx(write_fn, w, &e) < 0) {
        db_idempotency_clear(&w->idem);
        json_decref(w->out);
        reply_err(r, &e);
        return;
    }
    if (w->idem.replay) {
        size_t n = strlen(w->idem.body);
        req_add_header(r, "Idempotent-Replayed", "true");
        reply_text_take(r, w->idem.status, "application/json", xstrdup(w->idem.body), n);
        json_decref(w->out);
    } else {
        reply_json_take(r, w->status, w->out);
    }
    db_idempotency_clear(&w->idem);
}

void
returns_handle_create(struct req *r)
{
    struct write_ctx w = {.body = r->json};

    snprintf(w.route, sizeof(w.route), "returns");
    write_reply(r, &w);
}

static void
transition(struct req *r, const char *action)
{
    struct write_ctx w = {.action = action};

    if (req_param_id_or_reply(r, "id", &w.id) < 0)
        return;
    if (r->json != NULL) {
        const json_t *note = json_object_get(r->json, "note");
        if (note && (!json_is_string(note) || jx_utf8_len(json_string_value(note)) > 2000)) {
            reply_problem(r, ERR_INVALID, "note", "note must be a string of at most 2000 characters");
            return;
        }
    }
    w.body = r->json;
    /* The key is scoped to this request and action. */
    snprintf(w.route, sizeof(w.route), "returns/%" PRId64 "/%s", w.id, action);
    write_reply(r, &w);
}

void
returns_handle_approve(struct req *r)
{
    transition(r, "approve");
}

void
returns_handle_reject(struct req *r)
{
    transition(r, "reject");
}

void
returns_handle_receive(struct req *r)
{
    transition(r, "receive");
}

void
returns_handle_resolve(struct req *r)
{
    transition(r, "resolve");
}

void
returns_handle_cancel(struct req *r)
{
    transition(r, "cancel");
}

void
returns_handle_close(struct req *r)
{
    transition(r, "close");
}

/* ---- reads ---------------------------------------------------------------- */

struct read_ctx {
    int64_t shop_id, id, after, next_after;
    int limit;
    struct returns_filter f;
    json_t *out;
};

static int
get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct read_ctx *x = ctx;
    return returns_store_get(c, x->shop_id, x->id, &x->out, e);
}

void
returns_handle_get(struct req *r)
{
    struct read_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (db_run(get_fn, &x, &e) < 0)
        reply_err(r, &e);
    else if (x.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no return request %" PRId64, x.id);
    else
        reply_json_take(r, 200, x.out);
}

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct read_ctx *x = ctx;
    return returns_store_list(c, x->shop_id, &x->f, x->after, x->limit, &x->out, &x->next_after,
                              e);
}

/* A date filter: "YYYY-MM-DD" or an RFC 3339 time, checked by shape so
 * PostgreSQL never sees something it would refuse with a 500. */
static bool
date_ok(const char *s)
{
    size_t n = strlen(s);

    if (n != 10 && n != 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool digit = ch >= '0' && ch <= '9';
        if ((i == 4 || i == 7) ? ch != '-'
            : i == 10          ? ch != 'T'
            : (i == 13 || i == 16) ? ch != ':'
            : i == 19          ? ch != 'Z'
                               : !digit)
            return false;
    }
    return atoi(s + 5) >= 1 && atoi(s + 5) <= 12 && atoi(s + 8) >= 1 && atoi(s + 8) <= 31;
}

void
returns_handle_list(struct req *r)
{
    static const char *const states[] = {"requested", "approved", "rejected", "received",
                                         "resolving", "resolution_failed", "resolved", "closed",
                                         "cancelled"};
    struct read_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    const char *order = req_query(r, "order_id");
    bool ok = false;

    if (req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    x.f.state = req_query(r, "state");
    x.f.email = req_query(r, "email");
    x.f.reason = req_query(r, "reason");
    x.f.created_after = req_query(r, "created_after");
    x.f.created_before = req_query(r, "created_before");
    for (size_t i = 0; x.f.state && i < sizeof(states) / sizeof(states[0]); i++)
        ok = ok || strcmp(x.f.state, states[i]) == 0;
    if (x.f.state && !ok) {
        reply_problem(r, ERR_MALFORMED, "state", "state is not a return request state");
        return;
    }
    if (order) {
        char *end;
        long long v = strtoll(order, &end, 10);
        if (*order == '\0' || *end != '\0' || v <= 0) {
            reply_problem(r, ERR_MALFORMED, "order_id", "order_id must be a positive integer");
            return;
        }
        x.f.order_id = v;
    }
    if (x.f.created_after && !date_ok(x.f.created_after)) {
        reply_problem(r, ERR_MALFORMED, "created_after",
                      "created_after must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        return;
    }
    if (x.f.created_before && !date_ok(x.f.created_before)) {
        reply_problem(r, ERR_MALFORMED, "created_before",
                      "created_before must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        return;
    }
    if ((x.f.email && strlen(x.f.email) > 254) || (x.f.reason && strlen(x.f.reason) > 40)) {
        reply_problem(r, ERR_MALFORMED, x.f.email && strlen(x.f.email) > 254 ? "email" : "reason",
                      "filter too long");
        return;
    }
    if (db_run(list_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_page_take(r, x.out, x.next_after);
}
