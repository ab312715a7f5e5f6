/*
 * link.h - shop-side state of the WooCommerce link: credentials, sync
 * state, snapshots and events. Store-level functions: borrowed connection,
 * caller's transaction, 0/-1 with e.
 */
#ifndef AFTERSALE_WOO_LINK_H
#define AFTERSALE_WOO_LINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/crypto.h"
#include "aftersale/db/pool.h"

struct job;
#include "aftersale/woo/client.h"

/* Topics aftersale subscribes to and processes. */
extern const char *const woo_topics[];
extern const size_t woo_ntopics;
bool woo_topic_handled(const char *topic);

/* A shop's credentials, decrypted. Strings owned; free with woo_creds_clear. */
struct woo_creds {
    struct woo_shop shop; /* points into the fields below */
    char *url, *consumer_key, *consumer_secret, *webhook_secret;
};
/* ERR_NOT_FOUND when there is no such shop; ERR_INTERNAL when a secret
 * does not decrypt (AFTERSALE_SECRET_KEY changed). */
int woo_creds_load(struct db_conn *c, int64_t shop_id, const uint8_t key[CRYPTO_KEY_LEN],
                   struct woo_creds *out, struct err *e);
void woo_creds_clear(struct woo_creds *cr);
/* Only the webhook secret (the receiver's hot path). *secret = NULL when
 * there is no such shop; else a new string the caller wipes and frees. */
int woo_webhook_secret_load(struct db_conn *c, int64_t shop_id, const uint8_t key[CRYPTO_KEY_LEN],
                            char **secret, struct err *e);

/* New shop: sync state (watermark = now) and its periodic sync job. */
int woo_shop_init(struct db_conn *c, int64_t shop_id, struct err *e);

/* Apply an order as WooCommerce returns it (GET /orders/{id} shape) to the
 * snapshot and emit the events of its real transitions, exactly once.
 * *outcome (static string): "applied", "stale", "ignored: ..."; a body
 * that is not an order is ERR_INVALID. *modified_gmt (may be NULL, 20 bytes)
 * gets the order's date_modified_gmt. */
int woo_orders_apply(struct db_conn *c, int64_t shop_id, const json_t *order,
                     const char **outcome, char *modified_gmt, struct err *e);
/* order.delivered for an order of the snapshot, once per order (dedupe key
 * "order.delivered:<id>", whoever says it first): payload the order summary
 * (as the other order events) plus `source` ("api", "woocommerce") and
 * `delivered_at` (`at`, a WooCommerce GMT date, or now when NULL). *found
 * false: no such order (nothing emitted); *emitted false: said before. */
int woo_orders_delivered(struct db_conn *c, int64_t shop_id, int64_t order_id, const char *at,
                         const char *source, bool *found, bool *emitted, struct err *e);
int woo_orders_mark_deleted(struct db_conn *c, int64_t shop_id, int64_t order_id,
                            struct err *e);
int woo_customers_apply(struct db_conn *c, int64_t shop_id, const json_t *customer, bool created,
                        const char **outcome, struct err *e);
int woo_customers_mark_deleted(struct db_conn *c, int64_t shop_id, int64_t customer_id,
                               struct err *e);

/* Insert an event unless its dedupe_key exists; enqueue its subscribers.
 * payload borrowed. *emitted tells whether it was new. */
int woo_events_emit(struct db_conn *c, int64_t shop_id, const char *kind, int64_t order_id,
                    int64_t customer_id, const json_t *payload, const char *dedupe_key,
                    bool *emitted, struct err *e);
/* One event: kind (64 bytes) and payload (new reference); *payload NULL
 * when there is no such event. */
int woo_events_load(struct db_conn *c, int64_t shop_id, int64_t event_id, char kind[64],
                    json_t **payload, struct err *e);
/* For a job enqueued on order.refunded / order.cancelled (payload
 * event_id): *order_id is the order when the customer no longer has it (a
 * cancellation or a full refund), with *reason "order cancelled" or "order
 * refunded"; 0 for a partial refund or a missing event. */
int woo_events_order_gone(struct db_conn *c, const struct job *job, int64_t *order_id,
                          const char **reason, struct err *e);
int woo_events_list(struct db_conn *c, int64_t shop_id, const char *kind, int64_t order_id,
                    int64_t after, int limit, json_t **items, int64_t *next_after,
                    struct err *e);

/* True for "YYYY-MM-DDTHH:MM:SS" (WooCommerce's *_gmt format). Pure. */
bool woo_date_valid(const char *s);
/* True for an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", optional
 * fraction, then "Z" or "+HH:MM"/"-HH:MM". Shape only; pure. */
bool woo_rfc3339_valid(const char *s);

#endif
