/*
 * money.h - currencies (and, later, decimal amounts).
 *
 * Money never travels as double in aftersale: amounts are decimal strings
 * into PostgreSQL numeric. This module holds the pure checks.
 */
#ifndef AFTERSALE_CORE_MONEY_H
#define AFTERSALE_CORE_MONEY_H

#include <stdbool.h>

/* True when `code` is an active ISO 4217 alphabetic code (upper case). */
bool money_currency_valid(const char *code);

/* True for a decimal string as WooCommerce sends money: optional '-',
 * 1-15 digits, optional '.' and 1-6 digits ("29.35", "-10.00", "0"). */
bool money_decimal_valid(const char *s);

#endif
