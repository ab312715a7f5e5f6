/*
 * test_preview.c - the pure parts of the plugin's service routes: the
 * points a cart would earn (loyalty_preview_points: basis, rate, rounding,
 * tiers, currency rates, bad amounts) and the shape of a WooCommerce
 * authorisation state (woo_auth_state_valid). No database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/loyalty/preview.h"
#include "aftersale/woo/auth_callback.h"

static void
settings(struct loyalty_settings *s, const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    struct err e = {0};

    assert_non_null(v);
    loyalty_settings_default(s);
    assert_int_equal(loyalty_settings_from_json(s, v, &e), 0);
    json_decref(v);
}

static int64_t
points(const struct loyalty_settings *s, const char *currency, const char *lines_json,
       const char *total, int64_t lifetime, int *tier, bool *conv, int64_t *amount)
{
    json_t *lines = json_loads(lines_json, 0, NULL);
    int64_t p = -1;
    struct err e = {0};

    assert_non_null(lines);
    assert_int_equal(loyalty_preview_points(s, "EUR", currency, lines, total, lifetime, amount, tier,
                                            conv, &p, &e),
                     0);
    json_decref(lines);
    return p;
}

static void
preview_sums_lines_and_rounds(void **state)
{
    struct loyalty_settings s;
    int tier;
    bool conv;
    int64_t amount;

    (void)state;
    settings(&s, "{\"points_per_unit\": \"1.5\", \"rounding\": \"half_up\"}");
    assert_int_equal(points(&s, "EUR", "[{\"total\": \"13.00\"}, {\"total\": \"3.33\"}]", NULL, -1,
                            &tier, &conv, &amount),
                     24); /* 16.33 * 1.5 = 24.495 -> 24 */
    assert_int_equal(amount, 16330);
    assert_int_equal(tier, -1);
    assert_true(conv);
    assert_int_equal(points(&s, "EUR", "[]", NULL, -1, &tier, &conv, &amount), 0);
}

static void
preview_applies_the_tier_of_the_lifetime(void **state)
{
    struct loyalty_settings s;
    int tier;
    bool conv;
    int64_t amount;

    (void)state;
    settings(&s, "{\"tiers\": [{\"name\": \"Silver\", \"threshold\": 100, \"multiplier\": \"1.5\"},"
                 " {\"name\": \"Gold\", \"threshold\": 200, \"multiplier\": \"2\"}]}");
    assert_int_equal(points(&s, "EUR", "[{\"total\": \"10.00\"}]", NULL, 99, &tier, &conv, &amount),
                     10);
    assert_int_equal(tier, -1);
    assert_int_equal(points(&s, "EUR", "[{\"total\": \"10.00\"}]", NULL, 100, &tier, &conv, &amount),
                     15);
    assert_int_equal(tier, 0);
    assert_int_equal(points(&s, "EUR", "[{\"total\": \"10.00\"}]", NULL, 5000, &tier, &conv, &amount),
                     20);
    assert_int_equal(tier, 1);
}

static void
preview_currency_and_total_basis(void **state)
{
    struct loyalty_settings s;
    int tier;
    bool conv;
    int64_t amount;

    (void)state;
    settings(&s, "{\"currency_rates\": {\"USD\": \"0.92\"}, \"earn_basis\": \"total\"}");
    assert_int_equal(points(&s, "CZK", "[{\"total\": \"100\"}]", NULL, -1, &tier, &conv, &amount), 0);
    assert_false(conv);
    assert_int_equal(points(&s, "USD", "[{\"total\": \"50\"}]", "61.50", -1, &tier, &conv, &amount),
                     56); /* 61.50 * 0.92 = 56.58 -> 56 */
    assert_true(conv);
    assert_int_equal(amount, 61500);
    /* no total: the lines */
    assert_int_equal(points(&s, "EUR", "[{\"total\": \"50\"}]", NULL, -1, &tier, &conv, &amount), 50);
}

static void
preview_refuses_bad_amounts(void **state)
{
    struct loyalty_settings s;
    json_t *lines = json_loads("[{\"total\": \"1.00\"}, {\"total\": \"-2\"}]", 0, NULL);
    int64_t amount, p;
    int tier;
    bool conv;
    struct err e = {0};

    (void)state;
    loyalty_settings_default(&s);
    assert_int_equal(
        loyalty_preview_points(&s, "EUR", "EUR", lines, NULL, -1, &amount, &tier, &conv, &p, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "lines[1].total");
    json_decref(lines);
    lines = json_loads("[{\"total\": \"1,00\"}]", 0, NULL);
    assert_int_equal(
        loyalty_preview_points(&s, "EUR", "EUR", lines, NULL, -1, &amount, &tier, &conv, &p, &e), -1);
    assert_string_equal(e.field, "lines[0].total");
    json_decref(lines);
}

static void
auth_state_shape(void **state)
{
    (void)state;
    assert_true(woo_auth_state_valid("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"));
    assert_false(woo_auth_state_valid(NULL));
    assert_false(woo_auth_state_valid(""));
    assert_false(woo_auth_state_valid("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"));   /* 42 */
    assert_false(woo_auth_state_valid("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf")); /* 44 */
    assert_false(woo_auth_state_valid("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdE"));  /* base64 */
    assert_false(woo_auth_state_valid("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd="));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(preview_sums_lines_and_rounds),
        cmocka_unit_test(preview_applies_the_tier_of_the_lifetime),
        cmocka_unit_test(preview_currency_and_total_basis),
        cmocka_unit_test(preview_refuses_bad_amounts),
        cmocka_unit_test(auth_state_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
