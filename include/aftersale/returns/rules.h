/*
 * rules.h - the pure parts of returns: the policy document, the state
 * machine and the refund computation. No I/O; thread-safe.
 *
 * Money is handled in integer micro-units (1e-6 of the currency unit) read
 * from WooCommerce's decimal strings and rounded to cents (2 decimals, the
 * WooCommerce default) half up; never double. docs/returns.md has the
 * rules with worked figures, which tests/unit/test_returns_rules.c checks.
 */
#ifndef AFTERSALE_RETURNS_RULES_H
#define AFTERSALE_RETURNS_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aftersale/core/err.h"

#define RETURNS_MAX_LINES 100

/* ---- policy (the settings document) ------------------------------------ */

/* Returns: new reference, the default policy as the API shows it. */
json_t *returns_settings_default(void);

/* Merge a PUT body (top-level fields replace the current ones) over
 * `current` (borrowed; NULL = defaults) and validate the result: unknown
 * fields and bad values are a 422 naming the field ("reasons[1].code").
 * Read-only fields must have been removed by the caller. Returns 0 with
 * *out a new reference, or -1 with e. */
int returns_settings_merge(const json_t *current, const json_t *patch, json_t **out, struct err *e);

/* The read-only fields of the document (NULL-terminated, for
 * jx_without_read_only). */
extern const char *const returns_settings_read_only[];

/* The reason object with this code, borrowed from `settings`, or NULL. */
const json_t *returns_reason_find(const json_t *settings, const char *code);

/* True when the auto-approve rule of `settings` accepts a request on an
 * order of `order_total` (decimal string) whose lines have these reasons. */
bool returns_auto_approve(const json_t *settings, const char *order_total,
                          const char *const *reasons, int nreasons);

/* ---- the state machine --------------------------------------------------- */

/* The state an action leads to from `from`, or NULL when the action is not
 * allowed there. Actions: approve, reject, receive, resolve, cancel, close,
 * and the job's own "resolved" and "failed" (from resolving). */
const char *returns_next_state(const char *from, const char *action);

/* ---- money --------------------------------------------------------------- */

/* Decimal string ("12.5", "-3.10", "0.333333") to micro-units; -1 when it
 * is not one (more than 6 decimals, or 12 integer digits). */
int returns_money_parse(const char *s, int64_t *micros);
/* Micro-units to a 2-decimal string ("12.50"), rounded half up (away from
 * zero). */
void returns_money_format(int64_t micros, char out[32]);
/* Round micro-units to whole cents, half up (away from zero). */
int64_t returns_money_round(int64_t micros);
/* A percentage ("10", "12.5", 0..100, at most 2 decimals) as basis points;
 * -1 when invalid. */
int returns_percent_parse(const char *s, int64_t *bp);

/* ---- the refund ---------------------------------------------------------- */

struct returns_refund_line {
    int64_t line_item_id; /* the order's line_items[].id */
    int quantity;         /* units to refund (> 0) */
};

/*
 * Compute what to refund for these lines of `order` (GET /orders/{id}
 * shape) given every refund made so far (`refunds`, GET
 * /orders/{id}/refunds; manual ones count), minus a restocking fee of
 * `fee_bp` basis points. With `shipping`, what is left of each of the
 * order's shipping_lines (total and tax per rate; no fee) is added as a
 * line of its own. Writes into `out_lines` (an array, new items
 * appended) one object per line as WooCommerce's refund body wants it:
 * {"id", "quantity", "refund_total", "refund_tax": [{"id", "refund_total"}]}
 * and the sum into `amount` (2 decimals). 422 naming "lines[i].quantity"
 * when a line asks more than is left to refund on it, or the line is not
 * in the order.
 */
int returns_refund_compute(const json_t *order, const json_t *refunds,
                           const struct returns_refund_line *lines, int nlines, int64_t fee_bp,
                           bool shipping, json_t *out_lines, char amount[32], struct err *e);

/* ---- photos ---------------------------------------------------------------- */

#define RETURNS_PHOTO_MAX_BYTES (5L * 1024 * 1024)
#define RETURNS_PHOTOS_MAX 5

/* The media type of an image from its first bytes (JPEG FF D8 FF, PNG
 * 89 50 4E 47 0D 0A 1A 0A, WebP "RIFF" ... "WEBP"), whatever it is called;
 * NULL for anything else. */
const char *returns_photo_type(const unsigned char *bytes, size_t len);

#endif
