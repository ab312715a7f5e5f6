/*
 * preview.h - what a cart would earn: POST /v1/loyalty/preview.
 *
 * The plugin shows "earn N points with this order" on product and cart
 * pages, so this runs on every cart render (the plugin caches it per cart
 * hash). It reads only: the shop's settings, its currency and, when a
 * customer is named, that account's lifetime points for the tier
 * multiplier. It never creates an account or writes anything. The
 * arithmetic is loyalty_preview_points(), the same rules.c functions the
 * earning job uses, so a preview and the later earning agree.
 */
#ifndef AFTERSALE_LOYALTY_PREVIEW_H
#define AFTERSALE_LOYALTY_PREVIEW_H

#include <jansson.h>
#include <stdint.h>
#include "aftersale/core/err.h"
#include "aftersale/http/req.h"
#include "aftersale/loyalty/rules.h"

#define LOYALTY_PREVIEW_MAX_LINES 500

/* Pure: the points a cart of `lines` ([{product_id, quantity, total}],
 * already validated) in `currency` earns under `s` for an account with
 * `lifetime` points (-1: no account, no tier), the shop's currency being
 * `shop_currency`. `total` (may be NULL) is the order total for the
 * "total" basis; without it the lines' sum is used. Fills *amount_milli
 * (in `currency`), *tier (index or -1) and *points; *converted false when
 * the currency has no rate (then 0 points). -1 with 422 on a bad amount. */
int loyalty_preview_points(const struct loyalty_settings *s, const char *shop_currency,
                           const char *currency, const json_t *lines, const char *total,
                           int64_t lifetime, int64_t *amount_milli, int *tier, bool *converted,
                           int64_t *points, struct err *e);

/* POST /v1/loyalty/preview (AUTH_SHOP, JSON). */
void loyalty_handle_preview(struct req *r);

#endif
