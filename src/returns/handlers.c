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
#include "aftersale/http/auth.h"
#include "aftersale/http/router.h"
#include "aftersale/http/token.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/returns/handlers.h"
#include "aftersale/returns/returns.h"
#include "aftersale/returns/rules.h"

/* The photo routes' body cap (BODY_IMAGE) must let a whole photo in. */
_Static_assert(RETURNS_PHOTO_MAX_BYTES <= ROUTER_IMAGE_MAX_BYTES, "photo cap over the route cap");

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

    reply_tx_json_take(r, settings_fn, &x, &x.out);
}

void
returns_handle_settings_put(struct req *r)
{
    struct settings_ctx x = {.shop_id = r->shop_id};
    json_t *body = jx_without_read_only(r->json, returns_settings_read_only);

    x.patch = body;
    reply_tx_json_take(r, settings_fn, &x, &x.out);
    json_decref(body);
}

/* ---- writes: create and transitions ----------------------------------- */

struct write_ctx {
    int64_t shop_id, id;
    const struct returns_customer *cust; /* customer routes; NULL for the shop */
    const char *action;                  /* NULL: create */
    const json_t *body;
    const char *locale; /* create: the body's locale as supported ("de-AT" -> "de"), or NULL */
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
        rc = returns_store_create(c, w->shop_id, w->body, w->cust, w->actor, &w->out, e);
        w->status = 201;
        /* before the first message is sent (same transaction) */
        if (rc == 0 && w->locale != NULL)
            rc = returns_store_set_locale(c, w->shop_id,
                                          json_integer_value(json_object_get(w->out, "id")),
                                          w->locale, e);
    } else {
        bool owned;
        if (returns_store_owned(c, w->shop_id, w->id, w->cust, &owned, e) < 0)
            return -1;
        if (!owned) /* another customer's request is as absent as an unknown one */
            return err_set(e, ERR_NOT_FOUND, NULL, "no return request %" PRId64, w->id);
        rc = returns_store_transition(c, w->shop_id, w->id, w->action, w->body, w->actor, &w->out,
                                      e);
        w->status = 200;
    }
    if (rc < 0)
        return -1;
    text = jx_dump(w->out);
    rc = db_idempotency_save(c, w->shop_id, &w->idem, w->route, w->status, text, e);
    free(text);
    return rc;
}

/* 503 for a line whose product categories are not known yet: unlike a
 * database outage (reply_err hides that detail), the detail names the line
 * and says what to do, and Retry-After gives the shop time to answer. */
static void
reply_categories_pending(struct req *r, const struct err *e)
{
    json_t *body = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type",
                             err_type(ERR_UNAVAILABLE), "title", err_title(ERR_UNAVAILABLE),
                             "status", 503, "detail", e->detail, "field", e->field,
                             "request_id", r->id);
    char *s = jx_dump(body);

    json_decref(body);
    req_add_header(r, "Retry-After", RETURNS_CATEGORIES_RETRY_S);
    reply_text_take(r, 503, "application/problem+json", s, strlen(s));
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
    if (w->action == NULL && json_is_string(json_object_get(w->body, "locale")) &&
        (w->locale = outreach_locale_match(jx_str(w->body, "locale"))) == NULL) {
        reply_problem(r, ERR_INVALID, "locale", "locale must be one of the supported locales (%s)",
                      outreach_locales_joined());
        return;
    }
    if (w->cust == NULL) {
        w->shop_id = r->shop_id;
        snprintf(w->actor, sizeof(w->actor), "api_key:%" PRId64, r->key_id);
    }
    db_idempotency_init(&w->idem, key, w->route, r->body.data ? r->body.data : "", r->body.len);
    /* A customer's keys are theirs alone. */
    if (w->cust && w->cust->id > 0)
        snprintf(w->idem.scope, sizeof(w->idem.scope), "customer:%" PRId64, w->cust->id);
    else if (w->cust)
        snprintf(w->idem.scope, sizeof(w->idem.scope), "email:%s", w->cust->email);
    /* A creation under excluded categories needs the lines' categories:
     * unknown ones are asked from the shop and the request is refused for
     * now (returns_categories_ready), never decided as "no category". */
    if (w->action == NULL && json_is_object(w->body) &&
        returns_categories_ready(w->shop_id, w->body, w->cust, &e) < 0) {
        db_idempotency_clear(&w->idem);
        if (e.kind == ERR_UNAVAILABLE && strncmp(e.field, "lines[", 6) == 0)
            reply_categories_pending(r, &e);
        else
            reply_err(r, &e);
        return;
    }
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
            reply_problem(r, ERR_INVALID, "note",
                          "note must be a string of at most 2000 characters");
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

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    reply_run_json_take(r, get_fn, &x, &x.out, "return request", x.id);
}

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct read_ctx *x = ctx;
    return returns_store_list(c, x->shop_id, &x->f, x->after, x->limit, &x->out, &x->next_after, e);
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
        if ((i == 4 || i == 7)     ? ch != '-'
            : i == 10              ? ch != 'T'
            : (i == 13 || i == 16) ? ch != ':'
            : i == 19              ? ch != 'Z'
                                   : !digit)
            return false;
    }
    return atoi(s + 5) >= 1 && atoi(s + 5) <= 12 && atoi(s + 8) >= 1 && atoi(s + 8) <= 31;
}

struct report_ctx {
    int64_t shop_id;
    const char *from, *to;
    json_t *out;
};

static int
report_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct report_ctx *x = ctx;
    return returns_store_report(c, x->shop_id, x->from, x->to, &x->out, e);
}

void
returns_handle_report(struct req *r)
{
    struct report_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    x.from = req_query(r, "from");
    x.to = req_query(r, "to");
    if ((x.from && !date_ok(x.from)) || (x.to && !date_ok(x.to))) {
        reply_problem(r, ERR_MALFORMED, x.from && !date_ok(x.from) ? "from" : "to",
                      "from and to are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        return;
    }
    if (db_run(report_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    json_object_set_new(x.out, "from", x.from ? json_string(x.from) : json_null());
    json_object_set_new(x.out, "to", x.to ? json_string(x.to) : json_null());
    reply_json_take(r, 200, x.out);
}

void
returns_handle_list(struct req *r)
{
    static const char *const states[] = {"requested", "approved",  "rejected",
                                         "received",  "resolving", "resolution_failed",
                                         "resolved",  "closed",    "cancelled"};
    struct read_ctx x = {.shop_id = r->shop_id};
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
    reply_run_page_take(r, list_fn, &x, &x.out, &x.next_after);
}

/* ---- customers: a token of scope "returns" ------------------------------- */

struct customer {
    struct token_claims claims;
    struct returns_customer cust;
};

/* The bearer token of scope "returns" (minted by the plugin for a
 * logged-in customer, or by the portal); -1 after replying 401/403. */
static int
customer_or_reply(struct req *r, struct customer *cu)
{
    const char *token = auth_bearer(req_header(r, MHD_HTTP_HEADER_AUTHORIZATION));
    struct err e = {0};

    if (token == NULL) {
        reply_problem(r, ERR_UNAUTHORIZED, NULL, "send Authorization: Bearer <customer token>");
        return -1;
    }
    if (auth_token_verify(token, "returns", &cu->claims, &e) < 0) {
        reply_err(r, &e);
        return -1;
    }
    r->shop_id = cu->claims.shop_id;
    cu->cust.id = cu->claims.customer_id;
    cu->cust.email = cu->claims.email;
    if (cu->cust.id <= 0 && cu->claims.email[0] == '\0') {
        reply_problem(r, ERR_FORBIDDEN, NULL, "the token names no customer");
        return -1;
    }
    return 0;
}

static void
customer_actor(struct write_ctx *w, const struct customer *cu)
{
    w->shop_id = cu->claims.shop_id;
    w->cust = &cu->cust;
    if (cu->cust.id > 0)
        snprintf(w->actor, sizeof(w->actor), "customer:%" PRId64, cu->cust.id);
    else
        snprintf(w->actor, sizeof(w->actor), "customer");
}

void
returns_handle_me_create(struct req *r)
{
    struct customer cu;
    struct write_ctx w = {.body = r->json};

    if (customer_or_reply(r, &cu) < 0)
        return;
    if (json_object_get(r->json, "email") != NULL) {
        reply_problem(r, ERR_INVALID, "email", "unknown field 'email'");
        return;
    }
    customer_actor(&w, &cu);
    snprintf(w.route, sizeof(w.route), "me/returns");
    write_reply(r, &w);
}

void
returns_handle_me_cancel(struct req *r)
{
    struct customer cu;
    struct write_ctx w = {.action = "cancel"};

    if (customer_or_reply(r, &cu) < 0 || req_param_id_or_reply(r, "id", &w.id) < 0)
        return;
    customer_actor(&w, &cu);
    w.body = r->json;
    snprintf(w.route, sizeof(w.route), "me/returns/%" PRId64 "/cancel", w.id);
    write_reply(r, &w);
}

struct me_read {
    int64_t shop_id, id;
    const struct returns_customer *cust;
    json_t *out;
};

static int
me_get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct me_read *x = ctx;
    bool owned;

    if (returns_store_owned(c, x->shop_id, x->id, x->cust, &owned, e) < 0)
        return -1;
    return owned ? returns_store_get(c, x->shop_id, x->id, &x->out, e) : 0;
}

void
returns_handle_me_get(struct req *r)
{
    struct customer cu;
    struct me_read x = {0};

    if (customer_or_reply(r, &cu) < 0 || req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    x.shop_id = cu.claims.shop_id;
    x.cust = &cu.cust;
    reply_run_json_take(r, me_get_fn, &x, &x.out, "return request", x.id);
}

struct me_list {
    int64_t shop_id, before, next;
    int limit;
    const struct returns_customer *cust;
    json_t *out;
};

static int
me_list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct me_list *x = ctx;

    json_decref(x->out);
    x->out = NULL;
    return returns_store_list_customer(c, x->shop_id, x->cust, x->before, x->limit, &x->out,
                                       &x->next, e);
}

/* GET /v1/me/returns: the token's customer's requests, newest first (the
 * cursor carries the last id given: the next page is below it). */
void
returns_handle_me_list(struct req *r)
{
    struct customer cu;
    struct me_list x = {0};

    if (customer_or_reply(r, &cu) < 0 || req_page_or_reply(r, &x.limit, &x.before) < 0)
        return;
    x.shop_id = cu.claims.shop_id;
    x.cust = &cu.cust;
    reply_run_page_take(r, me_list_fn, &x, &x.out, &x.next);
}

/* ---- photos ------------------------------------------------------------------ */

struct photo_ctx {
    int64_t shop_id, id, photo_id;
    const struct returns_customer *cust; /* NULL: the shop */
    const char *type;
    const unsigned char *bytes;
    size_t len;
    char got_type[32];
    unsigned char *got; /* owned */
    json_t *out;
};

static int
photo_add_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct photo_ctx *x = ctx;
    bool owned;

    json_decref(x->out);
    x->out = NULL;
    if (returns_store_owned(c, x->shop_id, x->id, x->cust, &owned, e) < 0)
        return -1;
    if (!owned)
        return err_set(e, ERR_NOT_FOUND, NULL, "no return request %" PRId64, x->id);
    if (returns_store_photo_add(c, x->shop_id, x->id, 0, x->type, x->bytes, x->len,
                                &x->photo_id, e) < 0)
        return -1;
    x->out = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)x->photo_id, "media_type", x->type,
                       "size", (json_int_t)x->len);
    return 0;
}

/* The body is the image itself (Content-Type image/...); its type is read
 * from its first bytes, never from the name or the header. */
/* The customer routes of photos: x for the token's customer (x->cust
 * borrows cu), so the return must be theirs; -1 after replying 401/403. */
static int
me_photo_or_reply(struct req *r, struct customer *cu, struct photo_ctx *x)
{
    if (customer_or_reply(r, cu) < 0)
        return -1;
    x->shop_id = cu->claims.shop_id;
    x->cust = &cu->cust;
    return 0;
}

static void
photo_add(struct req *r, struct photo_ctx *x)
{
    const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x->id) < 0)
        return;
    if (ct == NULL || strncasecmp(ct, "image/", 6) != 0) {
        reply_problem(r, ERR_MEDIA_TYPE, NULL,
                      "send the photo itself as the body, Content-Type: image/jpeg, image/png or "
                      "image/webp");
        return;
    }
    if (r->body.len > (size_t)RETURNS_PHOTO_MAX_BYTES) {
        reply_problem(r, ERR_TOO_LARGE, NULL, "a photo is at most %ld bytes",
                      RETURNS_PHOTO_MAX_BYTES);
        return;
    }
    x->bytes = (const unsigned char *)r->body.data;
    x->len = r->body.len;
    x->type = returns_photo_type(x->bytes, x->len);
    if (x->type == NULL) {
        reply_problem(r, ERR_INVALID, "photo", "the body is not a JPEG, PNG or WebP image");
        return;
    }
    if (db_tx(photo_add_fn, x, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 201, x->out);
}

void
returns_handle_photo_add(struct req *r)
{
    struct photo_ctx x = {.shop_id = r->shop_id};
    photo_add(r, &x);
}

void
returns_handle_me_photo_add(struct req *r)
{
    struct customer cu;
    struct photo_ctx x = {0};

    if (me_photo_or_reply(r, &cu, &x) == 0)
        photo_add(r, &x);
}

static int
photo_get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct photo_ctx *x = ctx;
    bool owned;

    free(x->got);
    x->got = NULL;
    if (returns_store_owned(c, x->shop_id, x->id, x->cust, &owned, e) < 0)
        return -1;
    if (!owned)
        return 0;
    return returns_store_photo_get(c, x->shop_id, x->id, x->photo_id, x->got_type, &x->got, &x->len,
                                   e);
}

static void
photo_get(struct req *r, struct photo_ctx *x)
{
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x->id) < 0 ||
        req_param_id_or_reply(r, "photo_id", &x->photo_id) < 0)
        return;
    if (db_run(photo_get_fn, x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (x->got == NULL) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no photo %" PRId64, x->photo_id);
        return;
    }
    /* the customer's own photo: never cached by a shared cache, never
     * sniffed as something else */
    req_add_header(r, "Cache-Control", "private, no-store");
    req_add_header(r, "X-Content-Type-Options", "nosniff");
    reply_text_take(r, 200, x->got_type, (char *)x->got, x->len);
}

void
returns_handle_photo_get(struct req *r)
{
    struct photo_ctx x = {.shop_id = r->shop_id};
    photo_get(r, &x);
}

void
returns_handle_me_photo_get(struct req *r)
{
    struct customer cu;
    struct photo_ctx x = {0};

    if (me_photo_or_reply(r, &cu, &x) == 0)
        photo_get(r, &x);
}
