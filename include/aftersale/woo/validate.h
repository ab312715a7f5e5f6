/*
 * validate.h - every value aftersale takes from WooCommerce, checked
 * before any of it reaches SQL.
 *
 * A signed delivery (or an order the shop answers) can be well-formed JSON
 * of the right shape and still carry values PostgreSQL refuses: a date
 * that does not exist (2026-02-30), a year 0000, a quantity beyond int4.
 * Refused inside a job's transaction, such a value used to abort it and
 * the job was retried until dead. Checking here, in one place, turns each
 * of them into ERR_INVALID naming the field ("line_items[2].quantity"), so
 * the delivery is recorded as failed with that note in one attempt.
 *
 * All functions are pure (no I/O). The order and customer checks return
 * 0, or -1 with e: kind ERR_INVALID, e->field the JSON path of the value,
 * e->detail a sentence that starts with that path.
 */
#ifndef AFTERSALE_WOO_VALIDATE_H
#define AFTERSALE_WOO_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "aftersale/core/err.h"

/* Years a WooCommerce date may have: PostgreSQL takes far more, but a
 * shop's order from before 1970 or after 9999 is a corrupt value. */
#define WOO_YEAR_MIN 1970
#define WOO_YEAR_MAX 9999

/* True for "YYYY-MM-DDTHH:MM:SS" naming a real instant: year in
 * WOO_YEAR_MIN..WOO_YEAR_MAX, month 1-12, the day within that month
 * (leap years counted), hour 0-23, minute and second 0-59. */
bool woo_date_real(const char *s);

/* True for a decimal amount of sane size (money_decimal_valid). */
bool woo_money_valid(const char *s);

/* True for text PostgreSQL stores as it is: valid UTF-8 (no overlong
 * forms, no surrogates), no control characters, at most `max` bytes
 * (headers such as X-WC-Webhook-Topic arrive as raw bytes). */
bool woo_text_valid(const char *s, size_t max);

/* An order as WooCommerce sends it (webhook body, GET /orders/{id}). */
int woo_validate_order(const json_t *order, struct err *e);

/* A customer as WooCommerce sends it. */
int woo_validate_customer(const json_t *customer, struct err *e);

#endif
