/*
 * returns.h - return requests (RMA): the store (SQL) behind the handlers
 * and the jobs. Every function runs in the caller's transaction on `c`
 * and fills `e`; none logs. JSON results are new references.
 *
 * A request's shape (GET /v1/returns/{id}): id, rma, order_id,
 * customer_id, email, state, resolution, created_by, lines, photos,
 * result, failure_message, history (the transitions), created_at,
 * updated_at.
 */
#ifndef AFTERSALE_RETURNS_RETURNS_H
#define AFTERSALE_RETURNS_RETURNS_H

#include <jansson.h>
#include <time.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"

/* The shop's policy: the stored document merged over the defaults. */
int returns_settings_load(struct db_conn *c, int64_t shop_id, json_t **doc, struct err *e);

/* A customer, from a token of scope "returns": the order must be theirs
 * (its customer_id, or its billing email, case-insensitive). */
struct returns_customer {
    int64_t id;        /* 0 for a guest */
    const char *email; /* "" when absent */
};

/* A new request as the API takes it (body of POST /v1/returns, borrowed):
 * order_id, resolution, lines[{line_item_id, quantity, reason, note,
 * exchange_product_id, exchange_variation_id}]; `email` non-NULL when the
 * caller is a customer (must be the order's). Checks the policy and the
 * quantities under a lock on the order row, numbers it, records the
 * first event(s). *out = the request. */
int returns_store_create(struct db_conn *c, int64_t shop_id, const json_t *body,
                         const struct returns_customer *cust, const char *actor, json_t **out,
                         struct err *e);

/* Before a creation, in its own transaction: when the policy excludes
 * categories and a line's product has categories the service never
 * learnt, ask the shop (a woo.product_categories job, committed) and fail
 * with ERR_UNAVAILABLE naming lines[i].line_item_id: the caller answers
 * 503 with Retry-After (RETURNS_CATEGORIES_RETRY_S). 0 when the creation
 * can decide. Takes its own pool connection: call it with none held. */
#define RETURNS_CATEGORIES_RETRY_S "30"
int returns_categories_ready(int64_t shop_id, const json_t *body,
                             const struct returns_customer *cust, struct err *e);

/* True when request `id` exists and belongs to `cust` (NULL: the shop,
 * always true when it exists). */
int returns_store_owned(struct db_conn *c, int64_t shop_id, int64_t id,
                        const struct returns_customer *cust, bool *owned, struct err *e);

/* Add a photo (bytes already checked) to request `id`, of its line
 * `line_item_id` (0: of the whole request): 409 naming the state after
 * approval, 422 `photos` past RETURNS_PHOTOS_MAX (per line; the photos of
 * the whole request count apart). The line is not checked here: the
 * caller passes one of the request's lines. */
int returns_store_photo_add(struct db_conn *c, int64_t shop_id, int64_t id, int64_t line_item_id,
                            const char *type, const unsigned char *bytes, size_t len,
                            int64_t *photo_id, struct err *e);
/* *bytes = new buffer (caller frees with free), NULL when not found. */
int returns_store_photo_get(struct db_conn *c, int64_t shop_id, int64_t id, int64_t photo_id,
                            char type[32], unsigned char **bytes, size_t *len, struct err *e);

/* *out = the request, or NULL when the shop has no such request. */
int returns_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out, struct err *e);

struct returns_filter {
    const char *state, *email, *reason, *created_after, *created_before;
    int64_t order_id;
};
int returns_store_list(struct db_conn *c, int64_t shop_id, const struct returns_filter *f,
                       int64_t after, int limit, json_t **items, int64_t *next_after,
                       struct err *e);

/* The requests of `cust` (the same ownership as returns_store_owned),
 * newest first: ids below `before` (0: from the newest), at most `limit`;
 * *next_before = the last id given when there are more, else 0. */
int returns_store_list_customer(struct db_conn *c, int64_t shop_id,
                                const struct returns_customer *cust, int64_t before, int limit,
                                json_t **items, int64_t *next_before, struct err *e);

/* The report over requests created in [from, to) (dates or RFC 3339 times,
 * NULL = open): counts by state, resolution and reason (lines and units),
 * the money refunded and credited, and the median hours from request to
 * resolved. *out = new object. */
int returns_store_report(struct db_conn *c, int64_t shop_id, const char *from, const char *to,
                         json_t **out, struct err *e);

/* Apply an action (approve, reject, receive, resolve, cancel, close; and
 * the job's "resolved" / "failed") to request `id`: 404 when absent, 409
 * naming the current state when not allowed, 422 for a bad `body`
 * (borrowed, may be NULL). Records the event, the customer message and,
 * for resolve, the resolution job. *out = the request after the change. */
int returns_store_transition(struct db_conn *c, int64_t shop_id, int64_t id, const char *action,
                             const json_t *body, const char *actor, json_t **out, struct err *e);

/*
 * The customer message for a transition, recorded in return_outbox in the
 * transition's transaction with the returns.notify job that sends it
 * (outbox pattern; transactional: no contact cap, no unsubscribe; see
 * notify.c).
 */
int returns_notify_transition(struct db_conn *c, int64_t shop_id, int64_t request_id,
                              int64_t event_id, const char *to_state, struct err *e);

/* The customer's locale of a request (the portal's page language), in
 * the creating transaction, before its messages are sent. */
int returns_store_set_locale(struct db_conn *c, int64_t shop_id, int64_t id, const char *locale,
                             struct err *e);

/*
 * The customer's page of a request (status and history, page.c): the path
 * "/returns/requests/<id>?token=<jwt>" with a token of scope "return_view"
 * naming the request (rid) and the customer's email, signed with the
 * shop's token secret. It lives the return window (window_days) plus
 * RETURNS_VIEW_MARGIN_S, but never past max_lifetime_s (TOKEN_MAX_LIFETIME_S). Returns: new
 * string, or NULL when the secret is missing. *exp = the token's expiry.
 */
#define RETURNS_VIEW_MARGIN_S (30L * 86400)
char *returns_view_path(const char *token_secret, int64_t shop_id, int64_t request_id,
                        const char *email, long window_days, long max_lifetime_s,
                        time_t *exp);

/* The merchant's alert of a new request: a returns.alert job, in the
 * caller's transaction (sent to the messaging settings' alert_email). */
int returns_alert_new_request(struct db_conn *c, int64_t shop_id, int64_t request_id,
                              struct err *e);

/*
 * Item 5 of the returns issue: is this item under a return? True when a
 * line of the order (line_item_id > 0), or any line of the order with
 * this product (product_id > 0, line_item_id 0), is in a request that is
 * open or ended with the items back (requested, approved, received,
 * resolving, resolution_failed, resolved, closed); not when the request
 * was rejected or cancelled. Reviews (no request, no incentive for it)
 * and surveys (no invitation) call it in their own transaction.
 */
int returns_line_blocked(struct db_conn *c, int64_t shop_id, int64_t order_id, int64_t line_item_id,
                         int64_t product_id, bool *blocked, struct err *e);

#endif
