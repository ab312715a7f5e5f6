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
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"

/* The shop's policy: the stored document merged over the defaults. */
int returns_settings_load(struct db_conn *c, int64_t shop_id, json_t **doc, struct err *e);

/* A new request as the API takes it (body of POST /v1/returns, borrowed):
 * order_id, resolution, lines[{line_item_id, quantity, reason, note,
 * exchange_product_id, exchange_variation_id}]; `email` non-NULL when the
 * caller is a customer (must be the order's). Checks the policy and the
 * quantities under a lock on the order row, numbers it, records the
 * first event(s). *out = the request. */
int returns_store_create(struct db_conn *c, int64_t shop_id, const json_t *body,
                         const char *customer_email, const char *actor, json_t **out,
                         struct err *e);

/* *out = the request, or NULL when the shop has no such request. */
int returns_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out,
                      struct err *e);

struct returns_filter {
    const char *state, *email, *reason, *created_after, *created_before;
    int64_t order_id;
};
int returns_store_list(struct db_conn *c, int64_t shop_id, const struct returns_filter *f,
                       int64_t after, int limit, json_t **items, int64_t *next_after,
                       struct err *e);

/* Apply an action (approve, reject, receive, resolve, cancel, close; and
 * the job's "resolved" / "failed") to request `id`: 404 when absent, 409
 * naming the current state when not allowed, 422 for a bad `body`
 * (borrowed, may be NULL). Records the event, the customer message and,
 * for resolve, the resolution job. *out = the request after the change. */
int returns_store_transition(struct db_conn *c, int64_t shop_id, int64_t id, const char *action,
                             const json_t *body, const char *actor, json_t **out,
                             struct err *e);

/*
 * The customer message for a transition, recorded in return_outbox in the
 * transition's transaction (transactional: no contact cap, no
 * unsubscribe). TODO(outreach): the outreach layer being built on another
 * branch sends the pending rows; nothing is sent from here.
 */
int returns_notify_transition(struct db_conn *c, int64_t shop_id, int64_t request_id,
                              int64_t event_id, const char *to_state, struct err *e);

#endif
