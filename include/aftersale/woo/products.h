/*
 * products.h - the categories of a shop's products, which WooCommerce
 * order line items do not carry.
 *
 * A cache per shop (table product_categories: product id -> category ids,
 * fetched_at, gone) filled by the outbound job woo.product_categories
 * (GET /products?include=...&per_page=100), never on a request thread.
 * Ingesting an order (webhook or sync) enqueues the job for the order's
 * products whose categories are unknown or older than
 * PRODUCT_CATEGORIES_TTL_S. A line item of a variation names its parent
 * product (product_id), and the parent's categories are the variation's.
 *
 * Store-level functions: borrowed connection, the caller's transaction,
 * 0/-1 with e.
 */
#ifndef AFTERSALE_WOO_PRODUCTS_H
#define AFTERSALE_WOO_PRODUCTS_H

#include <stdbool.h>
#include <stdint.h>

#include "aftersale/db/pool.h"
#include "aftersale/jobs/worker.h"

#define WOO_PRODUCTS_MAX_CATEGORIES 64

/* Enqueue woo.product_categories for the products of `order_id` (from
 * order_items) whose categories are unknown or stale; nothing when every
 * one is fresh. `dedupe_key` (may be NULL) makes the enqueue idempotent.
 * *enqueued (may be NULL) tells whether a job was written. */
int woo_products_want(struct db_conn *c, int64_t shop_id, int64_t order_id, const char *dedupe_key,
                      bool *enqueued, struct err *e);

/* The categories of one product as the cache knows them (stale or not):
 * *known false when the service never learnt them (then *ncats = 0). A
 * product the shop deleted is known, with no category. */
int woo_product_categories_get(struct db_conn *c, int64_t shop_id, int64_t product_id,
                               int64_t cats[WOO_PRODUCTS_MAX_CATEGORIES], int *ncats, bool *known,
                               struct err *e);

/* The union of the categories of an order's products (at most `max`,
 * ascending) and how many of its products have unknown categories. */
int woo_order_categories(struct db_conn *c, int64_t shop_id, int64_t order_id, int64_t *cats,
                         int max, int *ncats, int *nunknown, struct err *e);

/* The job kind (outbound): payload {"product_ids": [..]}. */
void woo_job_product_categories(struct job_env *env, const struct job *job,
                                struct job_outcome *out);

#endif
