/*
 * client.h - the one way aftersale talks to a shop's WooCommerce REST API.
 *
 * libcurl, one CURL handle per struct woo_client, and one woo_client per
 * worker thread (never shared between threads; never used on an HTTP
 * request thread). Base URL: <shop url>/wp-json/wc/v3. Credentials: HTTP
 * Basic with the consumer key and secret when the shop URL is https;
 * OAuth 1.0a one-legged HMAC-SHA256 in the query string when it is plain
 * http (WooCommerce ignores Basic there). JSON in and out, connect and
 * total timeouts, `User-Agent: aftersale/<version>`.
 *
 * Results: WOO_OK with the parsed body; WOO_RETRY for what may succeed
 * later (timeouts, connection errors, 429, 5xx, including WooCommerce's
 * HTTP 500 with a bare-number `data`); WOO_FAIL for what will not (other
 * 4xx, a 2xx body that is not JSON). On failure e->detail reads like
 * "HTTP 404 woocommerce_rest_shop_order_invalid_id: Invalid ID." so the
 * job's last_error tells an operator what the shop said; e->kind is
 * ERR_UNAVAILABLE (retry) or ERR_INVALID / ERR_NOT_FOUND / ERR_CONFLICT /
 * ERR_UNAUTHORIZED (fail).
 */
#ifndef AFTERSALE_WOO_CLIENT_H
#define AFTERSALE_WOO_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aftersale/core/err.h"

/* A shop as the client needs it; all borrowed from the caller. */
struct woo_shop {
    int64_t id;
    const char *url; /* "https://shop.example" (no trailing slash) */
    const char *consumer_key;
    const char *consumer_secret;
};

struct woo_param {
    const char *key, *value;
};

enum woo_result { WOO_OK = 0, WOO_RETRY, WOO_FAIL };

struct woo_reply {
    long status;           /* HTTP status, 0 when no answer */
    json_t *body;          /* parsed JSON body (new reference) or NULL */
    long total, total_pages; /* X-WP-Total / X-WP-TotalPages, -1 when absent */
    char code[96];         /* WooCommerce error `code`, "" when none */
};

struct woo_client;

/* Returns: new client (owns a CURL handle). Timeouts in milliseconds. */
struct woo_client *woo_client_new(long connect_timeout_ms, long total_timeout_ms);
void woo_client_free(struct woo_client *wc);

/* Shutdown: make every call in flight, and every later one, end at once
 * with WOO_RETRY ("interrupted"). Thread-safe; irreversible. */
void woo_client_abort_all(void);

/* Free what a reply owns (body) and reset it. */
void woo_reply_clear(struct woo_reply *reply);

/*
 * One request. `path` is relative to /wp-json/wc/v3 ("/orders/727");
 * `query` params are URL-encoded (and signed under OAuth); `body` is sent
 * as JSON when non-NULL (borrowed). The reply is filled in every case
 * where the shop answered.
 */
enum woo_result woo_request(struct woo_client *wc, const struct woo_shop *shop,
                            const char *method, const char *path, const struct woo_param *query,
                            size_t nquery, const json_t *body, struct woo_reply *reply,
                            struct err *e);

/* Operations. Each returns the parsed JSON in *out (new reference). */
enum woo_result woo_order_get(struct woo_client *wc, const struct woo_shop *shop,
                              int64_t order_id, json_t **out, struct err *e);
/* One page of orders modified after `modified_after_gmt` (ISO 8601, UTC;
 * NULL = all), oldest modification first; *total_pages from X-WP-TotalPages. */
enum woo_result woo_orders_list(struct woo_client *wc, const struct woo_shop *shop,
                                const char *modified_after_gmt, int page, int per_page,
                                json_t **out, long *total_pages, struct err *e);
enum woo_result woo_order_note_add(struct woo_client *wc, const struct woo_shop *shop,
                                   int64_t order_id, const char *note, bool customer_note,
                                   json_t **out, struct err *e);
enum woo_result woo_refund_create(struct woo_client *wc, const struct woo_shop *shop,
                                  int64_t order_id, const json_t *refund, json_t **out,
                                  struct err *e);
enum woo_result woo_coupon_create(struct woo_client *wc, const struct woo_shop *shop,
                                  const json_t *coupon, json_t **out, struct err *e);
enum woo_result woo_review_create(struct woo_client *wc, const struct woo_shop *shop,
                                  const json_t *review, json_t **out, struct err *e);
enum woo_result woo_review_update(struct woo_client *wc, const struct woo_shop *shop,
                                  int64_t review_id, const json_t *changes, json_t **out,
                                  struct err *e);
enum woo_result woo_webhooks_list(struct woo_client *wc, const struct woo_shop *shop,
                                  json_t **out, struct err *e);
enum woo_result woo_webhook_create(struct woo_client *wc, const struct woo_shop *shop,
                                   const json_t *webhook, json_t **out, struct err *e);

/* WordPress's own REST API (/wp-json/wp/v2/comments), authenticated with
 * HTTP Basic and a WordPress Application Password: how a merchant's reply
 * to a product review is published (a comment whose parent is the
 * review). WooCommerce keys do not authenticate wp/v2 routes. */
enum woo_result woo_wp_comment_create(struct woo_client *wc, const struct woo_shop *shop,
                                      const char *wp_user, const char *wp_password,
                                      const json_t *comment, json_t **out, struct err *e);

#endif
