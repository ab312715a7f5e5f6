/*
 * reviews.h - review requests and reviews in PostgreSQL (store), shared by
 * the handlers and the jobs. Every function runs on a borrowed connection
 * in the caller's transaction and returns 0/-1 with e.
 *
 * A request's life: scheduled (due at completion + delay) -> sent ->
 * answered | expired; or cancelled (order refunded or cancelled before it
 * was sent) or unsubscribed (the customer said no). Reviews: pending ->
 * approved (published to WooCommerce by a job) | rejected.
 */
#ifndef AFTERSALE_REVIEWS_REVIEWS_H
#define AFTERSALE_REVIEWS_REVIEWS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "aftersale/db/pool.h"
#include "aftersale/reviews/rules.h"

int reviews_settings_load(struct db_conn *c, int64_t shop_id, struct reviews_settings *s,
                          struct err *e);
int reviews_settings_save(struct db_conn *c, int64_t shop_id, const struct reviews_settings *s,
                          struct err *e);

/*
 * Create the review request of an order from an order summary (the
 * payload of order.completed, or one built from the order snapshot):
 * distinct products minus excluded ones and those this email already
 * reviewed; due at `due` (0: completion + the country's delay). Enqueues
 * the sending job. *request_id = 0 with *outcome saying why when no request
 * is made (no email, nothing to review, already requested).
 */
int reviews_request_create(struct db_conn *c, int64_t shop_id, const json_t *order,
                           const struct reviews_settings *s, time_t due, int64_t *request_id,
                           const char **outcome, struct err *e);

/* The request as the API shows it. *out NULL when missing. */
int reviews_request_json(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out,
                         struct err *e);

/* A review as the API shows it (new ref) from a row of REVIEW_COLS. */
#define REVIEW_COLS                                                                                \
    "id, request_id, order_id, product_id, rating, title, body, reviewer_name, reviewer_email,"  \
    " status, woo_review_id, verified, " DB_TS("published_at") ", reply, " DB_TS("replied_at")   \
    ", " DB_TS("created_at") ", " DB_TS("moderated_at")
json_t *reviews_review_json(const PGresult *res, int row);

#endif
