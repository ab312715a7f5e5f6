/*
 * validate.c - the checks of validate.h: WooCommerce values before SQL.
 *
 * One rule per kind of value, each the bound of the column it ends in:
 *   ids            JSON integers > 0 (bigint); customer, product and
 *                  variation ids may be 0 (guest, none);
 *   quantities     JSON integers 0..2147483647 (integer column);
 *   money          decimal strings of sane size (numeric), "" or absent = 0;
 *   dates          "YYYY-MM-DDTHH:MM:SS" that exist on the calendar,
 *                  years 1970..9999 (timestamptz);
 *   currency       three capital letters (char(3));
 *   text           JSON strings: jansson already refuses NUL (\u0000)
 *                  and broken UTF-8 when it parses, so what reaches here
 *                  is text PostgreSQL accepts.
 * Lenient where nothing can break: a billing e-mail that is not a string
 * is read as "" by orders.c, as before.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aftersale/core/money.h"
#include "aftersale/woo/validate.h"

/* ---- pure value checks ------------------------------------------------ */

static int
digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool
woo_date_real(const char *s)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;

    if (s == NULL || strlen(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return false;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (y < WOO_YEAR_MIN || y > WOO_YEAR_MAX || mo < 1 || mo > 12 || d < 1)
        return false;
    if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return false;
    /* PostgreSQL would take 24:00:00 and a leap second; WooCommerce never
     * writes them, so they are as suspicious as 25:00. */
    return h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59;
}

bool
woo_money_valid(const char *s)
{
    return money_decimal_valid(s);
}

bool
woo_text_valid(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len;

    if (s == NULL || (len = strlen(s)) > max)
        return false;
    while (*p) {
        unsigned c = *p;
        int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                            : (c & 0xF8) == 0xF0 ? 3 : -1;
        unsigned cp = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;

        if (n < 0 || (n == 0 && (c < 0x20 || c == 0x7F)))
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))
            return false;
        p += n + 1;
    }
    return true;
}

/* ---- field checks: each names the JSON path it refuses ----------------- */

static bool
absent(const json_t *v)
{
    return v == NULL || json_is_null(v);
}

/* An integer in [min, max]; absent is fine unless `required`. */
static int
int_field(const json_t *obj, const char *key, const char *path, bool required, json_int_t min,
          json_int_t max, struct err *e)
{
    const json_t *v = json_object_get(obj, key);

    if (absent(v) && !required)
        return 0;
    if (!json_is_integer(v))
        return err_set(e, ERR_INVALID, path, "%s must be an integer", path);
    if (json_integer_value(v) < min || json_integer_value(v) > max)
        return err_set(e, ERR_INVALID, path,
                       "%s must be from %" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT
                       ", not %" JSON_INTEGER_FORMAT,
                       path, min, max, json_integer_value(v));
    return 0;
}

static int
date_field(const json_t *obj, const char *key, bool required, struct err *e)
{
    const json_t *v = json_object_get(obj, key);

    if (!required && (absent(v) || (json_is_string(v) && json_string_length(v) == 0)))
        return 0;
    if (absent(v))
        return err_set(e, ERR_INVALID, key, "%s is missing", key);
    if (!json_is_string(v))
        return err_set(e, ERR_INVALID, key, "%s must be a date string", key);
    if (!woo_date_real(json_string_value(v)))
        return err_set(e, ERR_INVALID, key,
                       "%s is not a real date YYYY-MM-DDTHH:MM:SS (years %d-%d): %.40s", key,
                       WOO_YEAR_MIN, WOO_YEAR_MAX, json_string_value(v));
    return 0;
}

static int
money_field(const json_t *obj, const char *key, const char *path, struct err *e)
{
    const json_t *v = json_object_get(obj, key);

    if (absent(v) || (json_is_string(v) && json_string_length(v) == 0))
        return 0;
    if (!json_is_string(v) || !woo_money_valid(json_string_value(v)))
        return err_set(e, ERR_INVALID, path,
                       "%s is not a decimal amount (up to 15 digits and 6 decimals)", path);
    return 0;
}

static int
string_field(const json_t *obj, const char *key, const char *path, size_t max, struct err *e)
{
    const json_t *v = json_object_get(obj, key);

    if (absent(v))
        return 0;
    if (!json_is_string(v))
        return err_set(e, ERR_INVALID, path, "%s must be a string", path);
    if (max > 0 && json_string_length(v) > max)
        return err_set(e, ERR_INVALID, path, "%s is longer than %zu bytes", path, max);
    return 0;
}

static int
array_field(const json_t *obj, const char *key, struct err *e)
{
    const json_t *v = json_object_get(obj, key);

    if (!absent(v) && !json_is_array(v))
        return err_set(e, ERR_INVALID, key, "%s is not an array", key);
    return 0;
}

static int
line_item(const json_t *item, size_t i, struct err *e)
{
    char p[64];

#define PATH(k) (snprintf(p, sizeof(p), "line_items[%zu].%s", i, k), p)
    if (!json_is_object(item)) {
        snprintf(p, sizeof(p), "line_items[%zu]", i);
        return err_set(e, ERR_INVALID, p, "%s is not an object", p);
    }
    if (int_field(item, "id", PATH("id"), true, 1, INT64_MAX, e) < 0 ||
        int_field(item, "product_id", PATH("product_id"), false, 0, INT64_MAX, e) < 0 ||
        int_field(item, "variation_id", PATH("variation_id"), false, 0, INT64_MAX, e) < 0 ||
        int_field(item, "quantity", PATH("quantity"), false, 0, INT32_MAX, e) < 0 ||
        string_field(item, "name", PATH("name"), 0, e) < 0 ||
        money_field(item, "subtotal", PATH("subtotal"), e) < 0 ||
        money_field(item, "total", PATH("total"), e) < 0 ||
        money_field(item, "total_tax", PATH("total_tax"), e) < 0)
        return -1;
    return 0;
#undef PATH
}

static int
refund(const json_t *r, size_t i, struct err *e)
{
    char p[64];

#define PATH(k) (snprintf(p, sizeof(p), "refunds[%zu].%s", i, k), p)
    if (!json_is_object(r)) {
        snprintf(p, sizeof(p), "refunds[%zu]", i);
        return err_set(e, ERR_INVALID, p, "%s is not an object", p);
    }
    if (int_field(r, "id", PATH("id"), true, 1, INT64_MAX, e) < 0 ||
        money_field(r, "total", PATH("total"), e) < 0 ||
        string_field(r, "reason", PATH("reason"), 0, e) < 0)
        return -1;
    return 0;
#undef PATH
}

static bool
currency_ok(const char *s)
{
    return s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
           s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

int
woo_validate_order(const json_t *o, struct err *e)
{
    static const char *const dates[] = {"date_created_gmt", "date_paid_gmt",
                                        "date_completed_gmt"};
    static const char *const money[] = {"total", "total_tax", "shipping_total", "discount_total"};
    const json_t *id = json_object_get(o, "id"), *status = json_object_get(o, "status");
    const json_t *v;
    size_t i;

    if (!json_is_object(o) || !json_is_integer(id) || json_integer_value(id) <= 0 ||
        !json_is_string(status) || json_string_length(status) == 0 ||
        json_string_length(status) > 40)
        return err_set(e, ERR_INVALID, "order", "order is not a WooCommerce order (id, status)");
    if (int_field(o, "customer_id", "customer_id", false, 0, INT64_MAX, e) < 0 ||
        date_field(o, "date_modified_gmt", true, e) < 0)
        return -1;
    for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
        if (date_field(o, dates[i], false, e) < 0)
            return -1;
    for (i = 0; i < sizeof(money) / sizeof(money[0]); i++)
        if (money_field(o, money[i], money[i], e) < 0)
            return -1;
    if (!currency_ok(json_string_value(json_object_get(o, "currency"))))
        return err_set(e, ERR_INVALID, "currency", "currency must be three capital letters");
    if (array_field(o, "line_items", e) < 0 || array_field(o, "refunds", e) < 0)
        return -1;
    json_array_foreach(json_object_get(o, "line_items"), i, v)
        if (line_item(v, i, e) < 0)
            return -1;
    json_array_foreach(json_object_get(o, "refunds"), i, v)
        if (refund(v, i, e) < 0)
            return -1;
    return 0;
}

int
woo_validate_customer(const json_t *cu, struct err *e)
{
    const json_t *id = json_object_get(cu, "id");

    if (!json_is_object(cu) || !json_is_integer(id) || json_integer_value(id) <= 0)
        return err_set(e, ERR_INVALID, "customer", "customer is not a WooCommerce customer (id)");
    if (date_field(cu, "date_created_gmt", false, e) < 0 ||
        date_field(cu, "date_modified_gmt", false, e) < 0)
        return -1;
    return 0;
}
