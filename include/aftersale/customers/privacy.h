/*
 * privacy.h - a customer's personal data across every programme: export
 * and erase (GET /v1/customers/export, POST /v1/customers/erase).
 *
 * A customer is named by an email (matched without regard to case), by a
 * WooCommerce customer id, or both; every query is limited to one shop.
 * What is erased, what is kept and why: docs/privacy.md.
 */
#ifndef AFTERSALE_CUSTOMERS_PRIVACY_H
#define AFTERSALE_CUSTOMERS_PRIVACY_H

#include <jansson.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/req.h"

/* Who: `email` normalised (trimmed, lower case) or NULL; `customer_id`
 * 0 when not given. At least one of the two is set. */
struct customer_ref {
    int64_t shop_id;
    const char *email;
    int64_t customer_id;
};

/* Everything stored about the customer, grouped by programme; photos and
 * webhook bodies as metadata only. Runs on `c` (read only).
 * Returns: 0 and *out a new reference; -1 with e filled. */
int customers_store_export(struct db_conn *c, const struct customer_ref *who, json_t **out,
                           struct err *e);

/* Replace names, emails and texts with tombstones and delete photos and
 * webhook bodies of the customer, keeping every amount; then record the
 * erasure (by tombstone, with `actor`). Must run inside one transaction
 * (db_tx). A second call for the same customer changes nothing and
 * reports zero counts. Returns: 0 and *counts a new object {table: n};
 * -1 with e filled. */
int customers_store_erase(struct db_conn *c, const struct customer_ref *who, const char *actor,
                          json_t **counts, struct err *e);

/* The routes (shop API key). */
void customers_handle_export(struct req *r);
void customers_handle_erase(struct req *r);

#endif
