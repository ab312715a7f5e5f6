/*
 * req.h - one HTTP request from first byte to completion.
 *
 * A struct req is created by the server on MHD's first call for a
 * request, owns everything request-scoped (path copy, body, parsed JSON,
 * pending headers) and is freed only in the completion callback. Handlers
 * end in exactly one reply_* call; a handler that forgets is answered 500
 * by the server and logged as a bug. Replies add X-Request-Id, and problem
 * bodies follow RFC 9457 (see err.h). A struct req is used by one thread.
 */
#ifndef AFTERSALE_HTTP_REQ_H
#define AFTERSALE_HTTP_REQ_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/router.h"

#define REQ_MAX_HEADERS 6

struct req {
    struct MHD_Connection *con;
    const struct route *route;
    size_t route_index; /* nroutes when unmatched */
    char method[16];
    char *path;
    char id[129];
    struct timespec t0;
    struct route_params params;

    struct buf body;
    bool has_body, too_large;
    json_t *json; /* parsed body (BODY_JSON routes); owned */

    int64_t shop_id; /* AUTH_SHOP: the caller's shop; 0 otherwise */
    int64_t key_id;
    int64_t customer_id;      /* AUTH_CUSTOMER: the token's customer (0 for a guest) */
    char customer_email[256]; /* AUTH_CUSTOMER: the token's email, "" when absent */

    int status;
    bool replied;
    bool dispatched; /* the whole body arrived and the handler ran */
    int nheaders;
    char *header_names[REQ_MAX_HEADERS];
    char *header_values[REQ_MAX_HEADERS];
};

/* Returns: new request; freed with req_free (server.c only). */
struct req *req_new(struct MHD_Connection *con, const char *method, const char *path);
void req_free(struct req *r);

/* Borrowed request header / query argument, or NULL. */
const char *req_header(struct req *r, const char *name);
const char *req_query(struct req *r, const char *name);
/* Borrowed path parameter, or NULL. */
const char *req_param(struct req *r, const char *name);

/* Parse path parameter `name` as a positive id; on failure replies 400
 * (field = name) and returns -1. */
int req_param_id_or_reply(struct req *r, const char *name, int64_t *out);

/* The list query parameters `limit` and `cursor` (core/cursor.h); on a bad
 * value replies 400 (field named) and returns -1. */
int req_page_or_reply(struct req *r, int *limit, int64_t *after);
/* A list of one order's items: the required query parameter `order_id`
 * (a positive id) and the page (as req_page_or_reply); on a bad value
 * replies 400 (field named) and returns -1. */
int req_order_page_or_reply(struct req *r, int64_t *order_id, int *limit, int64_t *after);

/* The report query parameters `from` and `to`, each optional (NULL when
 * absent, borrowed from r) and an RFC 3339 time when given
 * (woo_rfc3339_valid); on a bad one replies 400 (field named) and
 * returns -1. */
int req_time_range_or_reply(struct req *r, const char **from, const char **to);

/* Run fn(ctx) in one transaction (db_tx, retried on serialisation
 * failures) and reply 200 with *out, the new reference fn left there
 * (stolen), or the error (*out released). The GET and PUT of every
 * settings document: the transaction reads the document (a PUT merges
 * and saves it first) and leaves what to show. */
void reply_tx_json_take(struct req *r, db_fn fn, void *ctx, json_t **out);

/* Run fn(ctx) on a pooled connection in autocommit (db_run) and reply:
 * the error; 404 "no <what> <id>" when `what` is given and fn left *out
 * NULL (no such object); else 200 with *out (stolen). The GET of one
 * object, or of a report fn always makes. */
void reply_run_json_take(struct req *r, db_fn fn, void *ctx, json_t **out, const char *what,
                         int64_t id);

/* Run fn(ctx) (db_run) and reply the page it left: 200 with *items
 * (stolen) and the cursor of *next_after (reply_page_take), or the error
 * (*items released). Every list route. */
void reply_run_page_take(struct req *r, db_fn fn, void *ctx, json_t **items,
                         const int64_t *next_after);

/* Reply 200 {"items": items, "next_cursor": cursor of next_after or null}
 * (items stolen). */
void reply_page_take(struct req *r, json_t *items, int64_t next_after);

/* Add a header to the coming reply (copied). */
void req_add_header(struct req *r, const char *name, const char *value);

/* Reply with JSON (obj stolen, even on failure). */
void reply_json_take(struct req *r, int status, json_t *obj);
/* Reply with a problem body built from e. A 500 is logged with e's detail
 * and answered with a generic one. */
void reply_err(struct req *r, const struct err *e);
/* Shorthand: build the error and reply. */
void reply_problem(struct req *r, enum err_kind kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reply with a body taken over (freed by MHD) of the given type. */
void reply_text_take(struct req *r, int status, const char *content_type, char *text, size_t len);
/* Reply with no body (204). */
void reply_empty(struct req *r, int status);

#endif
