/*
 * req.c - request state and the reply functions.
 *
 * Every response leaves through reply_buffer(), which attaches the
 * request id and any pending headers, queues the response and records the
 * status for the access log. MHD takes the body buffer over (free
 * callback), so nothing is copied twice. Problem bodies are built here,
 * from the single kind table in core/err.c.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/log.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/req.h"
#include "aftersale/woo/link.h" /* woo_rfc3339_valid: pure */

/* A client-chosen request id is kept when it is short and plain. */
static bool
request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || strchr("._:-", s[n])))
            return false;
    return n >= 1 && n <= 128;
}

struct req *
req_new(struct MHD_Connection *con, const char *method, const char *path)
{
    struct req *r = xcalloc(1, sizeof(*r));
    const char *given;

    r->con = con;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    snprintf(r->method, sizeof(r->method), "%s", method);
    r->path = xstrdup(path);
    given = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Request-Id");
    if (given && request_id_ok(given)) {
        snprintf(r->id, sizeof(r->id), "%s", given);
    } else {
        uint8_t raw[16];
        crypto_random(raw, sizeof(raw));
        crypto_hex(raw, sizeof(raw), r->id);
    }
    return r;
}

void
req_free(struct req *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->nheaders; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    json_decref(r->json);
    buf_free(&r->body);
    free(r->path);
    free(r);
}

const char *
req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, name);
}

const char *
req_query(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
}

const char *
req_param(struct req *r, const char *name)
{
    return router_param(&r->params, name);
}

int
req_param_id_or_reply(struct req *r, const char *name, int64_t *out)
{
    if (cursor_parse_id(req_param(r, name), out) == 0)
        return 0;
    reply_problem(r, ERR_MALFORMED, name, "path parameter %s must be an integer from 1 to %lld",
                  name, (long long)INT64_MAX);
    return -1;
}

void
req_add_header(struct req *r, const char *name, const char *value)
{
    if (r->nheaders == REQ_MAX_HEADERS)
        return;
    r->header_names[r->nheaders] = xstrdup(name);
    r->header_values[r->nheaders] = xstrdup(value);
    r->nheaders++;
}

static void
reply_buffer(struct req *r, int status, const char *content_type, char *body, size_t len)
{
    struct MHD_Response *resp;

    if (r->replied) {
        /* A second reply is a bug in a handler; keep the first. */
        free(body);
        log_msg(LOG_ERROR, "second reply for request %s ignored", r->id);
        return;
    }
    r->replied = true;
    r->status = status;
    if (body == NULL)
        resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (resp == NULL) {
        free(body);
        return; /* MHD closes the connection: the only thing left to do */
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->header_names[i], r->header_values[i]);
    MHD_queue_response(r->con, (unsigned int)status, resp);
    MHD_destroy_response(resp);
}

void
reply_text_take(struct req *r, int status, const char *content_type, char *text, size_t len)
{
    reply_buffer(r, status, content_type, text, len);
}

void
reply_json_take(struct req *r, int status, json_t *obj)
{
    char *s;

    if (obj == NULL) {
        reply_problem(r, ERR_INTERNAL, NULL, "response could not be built");
        return;
    }
    s = jx_dump(obj);
    json_decref(obj);
    reply_buffer(r, status, "application/json", s, strlen(s));
}

void
reply_empty(struct req *r, int status)
{
    reply_buffer(r, status, NULL, NULL, 0);
}

void
reply_err(struct req *r, const struct err *e)
{
    enum err_kind kind = e->kind == ERR_NONE ? ERR_INTERNAL : e->kind;
    int status = err_status(kind);
    const char *detail = e->detail[0] ? e->detail : err_title(kind);
    json_t *body;
    char *s;

    if (status >= 500) {
        /* The detail may name tables or server messages: log it, show a
         * generic one that points at the log line. */
        log_take(LOG_ERROR, "request failed",
                 json_pack("{s:s, s:s, s:s, s:s}", "request_id", r->id, "kind", err_type(kind),
                           "detail", e->detail, "sqlstate", e->sqlstate));
        detail = status == 503 ? "the database is unavailable or busy; retry shortly"
                               : "internal error; the service log has the details";
        if (status == 503)
            req_add_header(r, "Retry-After", "1");
    }
    if (status == 401)
        req_add_header(r, "WWW-Authenticate", "Bearer realm=\"aftersale\"");
    body = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", err_type(kind), "title", err_title(kind),
                     "status", status, "detail", detail, "request_id", r->id);
    if (body == NULL) /* detail was not UTF-8 (it echoes input): say less */
        body = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", err_type(kind), "title",
                         err_title(kind), "status", status, "detail", err_title(kind),
                         "request_id", r->id);
    if (body == NULL)
        abort();
    if (e->field[0] && json_object_set_new(body, "field", json_string(e->field)) < 0)
        json_object_set_new(body, "field", json_string("?"));
    s = jx_dump(body);
    json_decref(body);
    reply_buffer(r, status, "application/problem+json", s, strlen(s));
}

void
reply_problem(struct req *r, enum err_kind kind, const char *field, const char *fmt, ...)
{
    struct err e = {0};
    va_list ap;

    e.kind = kind;
    snprintf(e.field, sizeof(e.field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
    va_end(ap);
    reply_err(r, &e);
}

int
req_page_or_reply(struct req *r, int *limit, int64_t *after)
{
    struct err e = {0};

    if (cursor_limit(req_query(r, "limit"), limit, &e) < 0 ||
        cursor_decode(req_query(r, "cursor"), after, &e) < 0) {
        reply_err(r, &e);
        return -1;
    }
    return 0;
}

int
req_order_page_or_reply(struct req *r, int64_t *order_id, int *limit, int64_t *after)
{
    const char *order = req_query(r, "order_id");

    if (req_page_or_reply(r, limit, after) < 0)
        return -1;
    if (order == NULL || cursor_parse_id(order, order_id) < 0) {
        reply_problem(r, ERR_MALFORMED, "order_id", "order_id must be a positive integer");
        return -1;
    }
    return 0;
}

int
req_time_range_or_reply(struct req *r, const char **from, const char **to)
{
    *from = req_query(r, "from");
    *to = req_query(r, "to");
    if (*from && !woo_rfc3339_valid(*from)) {
        reply_problem(r, ERR_MALFORMED, "from", "from must be an RFC 3339 time");
        return -1;
    }
    if (*to && !woo_rfc3339_valid(*to)) {
        reply_problem(r, ERR_MALFORMED, "to", "to must be an RFC 3339 time");
        return -1;
    }
    return 0;
}

void
reply_tx_json_take(struct req *r, db_fn fn, void *ctx, json_t **out)
{
    struct err e = {0};

    if (db_tx(fn, ctx, &e) < 0) {
        json_decref(*out);
        reply_err(r, &e);
    } else {
        reply_json_take(r, 200, *out);
    }
    *out = NULL;
}

void
reply_run_json_take(struct req *r, db_fn fn, void *ctx, json_t **out, const char *what,
                    int64_t id)
{
    struct err e = {0};

    if (db_run(fn, ctx, &e) < 0) {
        json_decref(*out);
        reply_err(r, &e);
    } else if (*out == NULL && what != NULL) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no %s %" PRId64, what, id);
    } else {
        reply_json_take(r, 200, *out);
    }
    *out = NULL;
}

void
reply_run_page_take(struct req *r, db_fn fn, void *ctx, json_t **items, const int64_t *next_after)
{
    struct err e = {0};

    if (db_run(fn, ctx, &e) < 0) {
        json_decref(*items);
        reply_err(r, &e);
    } else {
        reply_page_take(r, *items, *next_after);
    }
    *items = NULL;
}

void
reply_page_take(struct req *r, json_t *items, int64_t next_after)
{
    json_t *next = json_null();

    if (next_after > 0) {
        char *cur = cursor_encode(next_after);
        next = json_string(cur);
        free(cur);
    }
    reply_json_take(r, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}
