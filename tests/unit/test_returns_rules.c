/*
 * test_returns_rules.c - the pure rules of returns: money parsing and
 * rounding, the policy document (defaults, merge, one named field per
 * error, round trip), auto-approval, the state machine table and the
 * refund computation with the worked figures of docs/returns.md (tax,
 * a discount, a restocking fee, refunds made before, the order cap). If a
 * figure changes here, change it there. Pure: no database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/returns/rules.h"

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return v;
}

/* ---- money ---------------------------------------------------------------- */

static void
test_money(void **state)
{
    int64_t m, bp;
    char out[32];

    (void)state;
    assert_int_equal(returns_money_parse("12.5", &m), 0);
    assert_int_equal(m, 12500000);
    assert_int_equal(returns_money_parse("-3.10", &m), 0);
    assert_int_equal(m, -3100000);
    assert_int_equal(returns_money_parse("0.633333", &m), 0);
    assert_int_equal(returns_money_parse("1.2345678", &m), -1);
    assert_int_equal(returns_money_parse("1.", &m), -1);
    assert_int_equal(returns_money_parse(".5", &m), -1);
    assert_int_equal(returns_money_parse("1e3", &m), -1);
    assert_int_equal(returns_money_parse("", &m), -1);
    returns_money_format(633333, out);
    assert_string_equal(out, "0.63");
    returns_money_format(5000, out); /* half a cent rounds up */
    assert_string_equal(out, "0.01");
    returns_money_format(-5000, out);
    assert_string_equal(out, "-0.01");
    returns_money_format(12000000, out);
    assert_string_equal(out, "12.00");
    assert_int_equal(returns_percent_parse("12.5", &bp), 0);
    assert_int_equal(bp, 1250);
    assert_int_equal(returns_percent_parse("100", &bp), 0);
    assert_int_equal(returns_percent_parse("100.01", &bp), -1);
    assert_int_equal(returns_percent_parse("1.005", &bp), -1);
    assert_int_equal(returns_percent_parse("-1", &bp), -1);
}

/* ---- policy ------------------------------------------------------------------ */

static void
expect_422(const char *patch, const char *field)
{
    json_t *p = parse(patch), *out = NULL;
    struct err e = {0};

    assert_int_equal(returns_settings_merge(NULL, p, &out, &e), -1);
    assert_null(out);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, field);
    json_decref(p);
}

static void
test_settings_defaults_and_round_trip(void **state)
{
    json_t *d = returns_settings_default(), *empty = json_object(), *out = NULL, *again = NULL;
    struct err e = {0};

    (void)state;
    assert_int_equal(returns_settings_merge(NULL, empty, &out, &e), 0);
    assert_true(json_equal(out, d));
    /* the whole document written back is the same document */
    assert_int_equal(returns_settings_merge(out, out, &again, &e), 0);
    assert_true(json_equal(again, d));
    assert_int_equal(json_integer_value(json_object_get(d, "window_days")), 30);
    assert_string_equal(json_string_value(json_object_get(d, "refund_method")), "api_refund");
    json_decref(d);
    json_decref(empty);
    json_decref(out);
    json_decref(again);
}

static void
test_settings_merge(void **state)
{
    json_t *p = parse("{\"window_days\": 14, \"resolutions\": {\"store_credit_bonus_percent\": "
                      "\"10\"}, \"auto_approve\": {\"enabled\": true, \"max_order_total\": "
                      "\"50.00\", \"reasons\": [\"wrong_item\"]}}");
    json_t *out = NULL;
    struct err e = {0};

    (void)state;
    assert_int_equal(returns_settings_merge(NULL, p, &out, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "window_days")), 14);
    /* the small objects merge field by field */
    assert_true(json_is_true(json_object_get(json_object_get(out, "resolutions"), "refund")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "resolutions"),
                                                          "store_credit_bonus_percent")),
                        "10");
    {
        const char *r1[] = {"wrong_item"}, *r2[] = {"wrong_item", "damaged"};
        assert_true(returns_auto_approve(out, "49.99", r1, 1));
        assert_false(returns_auto_approve(out, "50.00", r1, 1));
        assert_false(returns_auto_approve(out, "10.00", r2, 2));
    }
    json_decref(p);
    json_decref(out);
}

static void
test_settings_refusals_name_the_field(void **state)
{
    (void)state;
    expect_422("{\"windowdays\": 3}", "windowdays");
    expect_422("{\"window_days\": -1}", "window_days");
    expect_422("{\"window_start\": \"shipped\"}", "window_start");
    expect_422("{\"refund_method\": \"cash\"}", "refund_method");
    expect_422("{\"restocking_fee_percent\": \"101\"}", "restocking_fee_percent");
    expect_422("{\"excluded_products\": [1, 0]}", "excluded_products");
    expect_422("{\"resolutions\": {\"refnd\": true}}", "resolutions.refnd");
    expect_422(
        "{\"resolutions\": {\"refund\": false, \"store_credit\": false, \"exchange\": false}}",
        "resolutions");
    expect_422("{\"reasons\": [{\"code\": \"a\", \"labels\": {\"en\": \"A\"}, \"note_required\": "
               "false, \"photo_required\": false, \"customer_pays_shipping\": false}, {\"code\": "
               "\"a\", \"labels\": {\"en\": \"B\"}, \"note_required\": false, \"photo_required\": "
               "false, \"customer_pays_shipping\": false}]}",
               "reasons[1].code");
    expect_422("{\"reasons\": [{\"code\": \"a\", \"labels\": {\"en\": \"A\"}, \"note_required\": "
               "1, \"photo_required\": false, \"customer_pays_shipping\": false}]}",
               "reasons[0].note_required");
    expect_422("{\"auto_approve\": {\"reasons\": [\"nope\"]}}", "auto_approve.reasons");
    expect_422("{\"instructions\": 5}", "instructions");
}

/* ---- state machine ------------------------------------------------------ */

static void
test_state_machine(void **state)
{
    (void)state;
    assert_string_equal(returns_next_state("requested", "approve"), "approved");
    assert_string_equal(returns_next_state("requested", "reject"), "rejected");
    assert_string_equal(returns_next_state("requested", "cancel"), "cancelled");
    assert_string_equal(returns_next_state("approved", "cancel"), "cancelled");
    assert_string_equal(returns_next_state("approved", "receive"), "received");
    assert_string_equal(returns_next_state("received", "resolve"), "resolving");
    assert_string_equal(returns_next_state("resolution_failed", "resolve"), "resolving");
    assert_string_equal(returns_next_state("resolving", "resolved"), "resolved");
    assert_string_equal(returns_next_state("resolving", "failed"), "resolution_failed");
    assert_string_equal(returns_next_state("resolved", "close"), "closed");
    assert_null(returns_next_state("requested", "receive"));
    assert_null(returns_next_state("received", "cancel"));
    assert_null(returns_next_state("resolved", "resolve"));
    assert_null(returns_next_state("closed", "approve"));
    assert_null(returns_next_state("cancelled", "approve"));
    assert_null(returns_next_state("resolving", "resolve"));
}

/* ---- refunds -------------------------------------------------------------- */

/* docs/returns.md: 3 units, 12.00 before a 2.00 discount -> total 10.00,
 * 19% tax 1.90 (WooCommerce sends the rate's unrounded "1.9"). */
#define ORDER                                                                                      \
    "{\"id\": 50, \"total\": \"11.90\", \"line_items\": [{\"id\": 7, \"quantity\": 3,"             \
    " \"subtotal\": \"12.00\", \"total\": \"10.00\", \"total_tax\": \"1.90\","                     \
    " \"taxes\": [{\"id\": 1, \"total\": \"1.9\", \"subtotal\": \"2.28\"}]},"                      \
    " {\"id\": 8, \"quantity\": 1, \"total\": \"0.00\", \"total_tax\": \"0.00\", \"taxes\": []}]}"

static json_t *
compute(const char *refunds, int64_t line, int qty, int64_t fee_bp, char amount[32], int *rc,
        struct err *e)
{
    json_t *order = parse(ORDER), *rf = parse(refunds), *out = json_array();
    struct returns_refund_line l = {.line_item_id = line, .quantity = qty};

    *rc = returns_refund_compute(order, rf, &l, 1, fee_bp, false, out, amount, e);
    json_decref(order);
    json_decref(rf);
    return out;
}

static const char *
field(const json_t *lines, const char *key)
{
    return json_string_value(json_object_get(json_array_get(lines, 0), key));
}

static const char *
tax(const json_t *lines)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(json_array_get(lines, 0), "refund_tax"), 0),
                        "refund_total"));
}

#define ONE_REFUNDED                                                                               \
    "[{\"id\": 60, \"amount\": \"3.96\", \"line_items\": [{\"id\": 61, \"quantity\": -1,"          \
    " \"total\": \"-3.33\", \"taxes\": [{\"id\": 1, \"total\": \"-0.63\"}],"                       \
    " \"meta_data\": [{\"key\": \"_refunded_item_id\", \"value\": \"7\"}]}]}]"

static void
test_refund_proportional(void **state)
{
    char amount[32];
    struct err e = {0};
    int rc;
    json_t *l = compute("[]", 7, 1, 0, amount, &rc, &e);

    (void)state;
    assert_int_equal(rc, 0);
    assert_string_equal(field(l, "refund_total"), "3.33"); /* 10.00 / 3 */
    assert_string_equal(tax(l), "0.63");                   /* 1.90 / 3 = 0.6333 */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 0), "quantity")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(json_object_get(json_array_get(l, 0), "refund_tax"), 0), "id")),
        1);
    assert_string_equal(amount, "3.96");
    json_decref(l);
}

static void
test_refund_restocking_fee(void **state)
{
    char amount[32];
    struct err e = {0};
    int rc;
    json_t *l = compute("[]", 7, 1, 1000, amount, &rc, &e); /* 10% */

    (void)state;
    assert_int_equal(rc, 0);
    assert_string_equal(field(l, "refund_total"), "3.00"); /* 3.33 - 0.33 */
    assert_string_equal(tax(l), "0.57");                   /* 0.63 - 0.06 */
    assert_string_equal(amount, "3.57");
    json_decref(l);
}

static void
test_refund_last_units_take_the_remainder(void **state)
{
    char amount[32];
    struct err e = {0};
    int rc;
    json_t *l = compute(ONE_REFUNDED, 7, 2, 0, amount, &rc, &e);

    (void)state;
    assert_int_equal(rc, 0);
    assert_string_equal(field(l, "refund_total"), "6.67"); /* 10.00 - 3.33 */
    assert_string_equal(tax(l), "1.27");                   /* 1.90 - 0.63 */
    assert_string_equal(amount, "7.94");                   /* 3.96 + 7.94 = 11.90 */
    json_decref(l);
}

static void
test_refund_more_than_left_is_refused(void **state)
{
    char amount[32];
    struct err e = {0};
    int rc;
    json_t *l = compute(ONE_REFUNDED, 7, 3, 0, amount, &rc, &e);

    (void)state;
    assert_int_equal(rc, -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "lines[0].quantity");
    json_decref(l);
    l = compute("[]", 99, 1, 0, amount, &rc, &e);
    assert_int_equal(rc, -1);
    json_decref(l);
}

static void
test_refund_order_cap(void **state)
{
    char amount[32];
    struct err e = {0};
    int rc;
    /* a manual refund of 10.00 without lines: 1.90 left on the order */
    json_t *l = compute("[{\"id\": 70, \"amount\": \"10.00\", \"line_items\": []}]", 7, 1, 0,
                        amount, &rc, &e);

    (void)state;
    assert_int_equal(rc, 0);
    assert_string_equal(amount, "1.90");
    assert_string_equal(tax(l), "0.00"); /* the excess comes off tax first */
    assert_string_equal(field(l, "refund_total"), "1.90");
    json_decref(l);
}

static void
test_photo_type_from_the_bytes(void **state)
{
    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10};
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0};
    static const unsigned char webp[] = "RIFF\x10\0\0\0WEBPVP8 ";
    static const unsigned char gif[] = "GIF89a......";
    static const unsigned char riff[] = "RIFF\x10\0\0\0WAVEfmt ";

    (void)state;
    assert_string_equal(returns_photo_type(jpeg, sizeof(jpeg)), "image/jpeg");
    assert_string_equal(returns_photo_type(png, sizeof(png)), "image/png");
    assert_string_equal(returns_photo_type(webp, sizeof(webp) - 1), "image/webp");
    assert_null(returns_photo_type(gif, sizeof(gif) - 1));
    assert_null(returns_photo_type(riff, sizeof(riff) - 1));
    assert_null(returns_photo_type(png, 7)); /* cut short */
    assert_null(returns_photo_type(jpeg, 2));
    assert_null(returns_photo_type(NULL, 0));
}

/* Shipping 4.90 + 0.93 tax (rate 1): the whole remainder, no fee; a
 * shipping refund made before counts. */
static void
test_refund_with_shipping(void **state)
{
    json_t *order =
        parse("{\"id\": 50, \"total\": \"17.73\", \"line_items\": [{\"id\": 7,"
              " \"quantity\": 3, \"total\": \"10.00\", \"taxes\": [{\"id\": 1,"
              " \"total\": \"1.9\"}]}], \"shipping_lines\": [{\"id\": 9,"
              " \"total\": \"4.90\", \"taxes\": [{\"id\": 1, \"total\": \"0.931\"}]}]}");
    json_t *none = parse("[]"), *out = json_array(), *before, *out2 = json_array();
    struct returns_refund_line l = {.line_item_id = 7, .quantity = 1};
    struct err e = {0};
    char amount[32];

    (void)state;
    assert_int_equal(returns_refund_compute(order, none, &l, 1, 1000, true, out, amount, &e), 0);
    assert_int_equal(json_array_size(out), 2);
    /* 3.00 + 0.57 (fee 10%) + 4.90 + 0.93 (no fee on shipping) */
    assert_string_equal(amount, "9.40");
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "refund_total")),
                        "4.90");
    before = parse("[{\"id\": 80, \"amount\": \"2.00\", \"line_items\": [{\"id\": 81,"
                   " \"quantity\": 0, \"total\": \"-2.00\", \"taxes\": [], \"meta_data\":"
                   " [{\"key\": \"_refunded_item_id\", \"value\": 9}]}]}]");
    assert_int_equal(returns_refund_compute(order, before, &l, 1, 0, true, out2, amount, &e), 0);
    /* 3.33 + 0.63 + (4.90 - 2.00) + 0.93 */
    assert_string_equal(amount, "7.79");
    json_decref(order);
    json_decref(none);
    json_decref(before);
    json_decref(out);
    json_decref(out2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_settings_defaults_and_round_trip),
        cmocka_unit_test(test_settings_merge),
        cmocka_unit_test(test_settings_refusals_name_the_field),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_refund_proportional),
        cmocka_unit_test(test_refund_restocking_fee),
        cmocka_unit_test(test_refund_last_units_take_the_remainder),
        cmocka_unit_test(test_refund_more_than_left_is_refused),
        cmocka_unit_test(test_refund_order_cap),
        cmocka_unit_test(test_photo_type_from_the_bytes),
        cmocka_unit_test(test_refund_with_shipping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
