/*
 * test_loyalty_rules.c - exact figures for every loyalty rule: decimals,
 * settings (defaults, merge, round trip, one named field per error),
 * earning and rounding, tiers, currency rates, refund reversal,
 * redemption and FIFO expiry. The figures are the worked examples of
 * docs/loyalty.md; if one changes here, change it there. Pure: no
 * database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/loyalty/rules.h"

/* ---- helpers ------------------------------------------------------------ */

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return v;
}

/* Merge `text` over the defaults; returns the rc, settings in *s. */
static int
apply(struct loyalty_settings *s, const char *text, struct err *e)
{
    json_t *v = parse(text);
    int rc;

    loyalty_settings_default(s);
    err_clear(e);
    rc = loyalty_settings_from_json(s, v, e);
    json_decref(v);
    return rc;
}

static struct loyalty_settings
settings_with(const char *text)
{
    struct loyalty_settings s;
    struct err e;

    if (apply(&s, text, &e) != 0)
        fail_msg("settings %s refused: %s: %s", text, e.field, e.detail);
    return s;
}

/* `text` must be refused with a 422 naming exactly `field`, and leave the
 * settings untouched. */
static void
refused(const char *text, const char *field)
{
    struct loyalty_settings s, before;
    struct err e;
    json_t *v = parse(text);

    loyalty_settings_default(&s);
    s.bonus_signup = 7; /* something not default, to see it survive */
    memcpy(&before, &s, sizeof(s));
    err_clear(&e);
    if (loyalty_settings_from_json(&s, v, &e) != -1)
        fail_msg("accepted: %s", text);
    json_decref(v);
    if (e.kind != ERR_INVALID || strcmp(e.field, field) != 0)
        fail_msg("%s: expected 422 on '%s', got kind %d field '%s' (%s)", text, field, e.kind,
                 e.field, e.detail);
    assert_true(strlen(e.detail) > 0);
    assert_memory_equal(&s, &before, sizeof(s));
}

static void
assert_json_is(json_t *got, const char *expect_text)
{
    json_t *expect = parse(expect_text);
    if (!json_equal(got, expect)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        char *x = json_dumps(expect, JSON_SORT_KEYS | JSON_COMPACT);
        fail_msg("got %s\nexpected %s", g, x);
    }
    json_decref(expect);
}

static int64_t
milli(const char *s)
{
    int64_t v = 0;
    struct err e;
    if (loyalty_milli_parse(s, &v, &e) != 0)
        fail_msg("milli(%s): %s", s, e.detail);
    return v;
}

/* ---- decimals ----------------------------------------------------------- */

static void
milli_parse_exact_and_rounded(void **state)
{
    (void)state;
    assert_int_equal(milli("29.35"), 29350);
    assert_int_equal(milli("0.125"), 125);
    assert_int_equal(milli("-10.00"), -10000);
    assert_int_equal(milli("-10"), -10000);
    assert_int_equal(milli("0"), 0);
    assert_int_equal(milli("-0"), 0);
    assert_int_equal(milli("007.5"), 7500);
    assert_int_equal(milli("999999999999999"), 999999999999999000LL); /* 15 digits */
    /* More than 3 decimals: half-up (away from zero) on the 4th digit. */
    assert_int_equal(milli("0.0005"), 1);
    assert_int_equal(milli("0.000499"), 0);
    assert_int_equal(milli("-0.0005"), -1);
    assert_int_equal(milli("1.23449"), 1234);
    assert_int_equal(milli("1.23456"), 1235);
    assert_int_equal(milli("999999999999999.9995"), 1000000000000000000LL);
}

static void
milli_parse_rejects_non_decimals(void **state)
{
    static const char *const bad[] = {
        "",     "1e3", "1E3", " 1",    "1 ",  "+1",        "1.",  ".5",  "1,5",
        "0x10", "--1", "-",   "1.2.3", "abc", "1.1234567", "NaN", "inf", "1234567890123456",
    };
    struct err e;
    int64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        v = 42;
        if (loyalty_milli_parse(bad[i], &v, &e) != -1)
            fail_msg("accepted '%s' as %lld", bad[i], (long long)v);
        assert_int_equal(e.kind, ERR_INVALID);
    }
    assert_int_equal(loyalty_milli_parse(NULL, &v, &e), -1);
}

static void
milli_format_two_or_three_decimals(void **state)
{
    char buf[32];
    static const struct {
        int64_t m;
        const char *s;
    } cases[] = {
        {29350, "29.35"},
        {125, "0.125"},
        {-10000, "-10.00"},
        {0, "0.00"},
        {-5, "-0.005"},
        {1000, "1.00"},
        {10, "0.01"},
        {1, "0.001"},
        {92000, "92.00"},
        {33335, "33.335"},
        {INT64_MAX, "9223372036854775.807"},
        {INT64_MIN, "-9223372036854775.808"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        loyalty_milli_format(cases[i].m, buf);
        assert_string_equal(buf, cases[i].s);
        if (cases[i].m != INT64_MIN && cases[i].m != INT64_MAX)
            assert_int_equal(milli(buf), cases[i].m); /* and back */
    }
}

/* ---- settings ----------------------------------------------------------- */

static const char default_json[] =
    "{\"points_per_unit\":\"1\",\"rounding\":\"down\",\"earn_basis\":\"subtotal\","
    "\"earn_status\":\"completed\","
    "\"bonuses\":{\"signup\":0,\"review\":0,\"survey\":0,\"birthday\":0,\"anniversary\":0,"
    "\"referrer\":0,\"referee\":0},"
    "\"redemption\":{\"points_per_unit\":100,\"min_points\":100,\"max_discount\":null,"
    "\"coupon_validity_days\":90},"
    "\"expiry_months\":0,\"tiers\":[],\"currency_rates\":{}}";

static void
settings_defaults(void **state)
{
    struct loyalty_settings s;
    json_t *j;
    (void)state;
    loyalty_settings_default(&s);
    assert_int_equal(s.points_per_unit_milli, 1000);
    assert_int_equal(s.rounding, LOYALTY_ROUND_DOWN);
    assert_int_equal(s.basis, LOYALTY_BASIS_SUBTOTAL);
    assert_string_equal(s.earn_status, "completed");
    assert_int_equal(s.bonus_signup + s.bonus_review + s.bonus_survey + s.bonus_birthday +
                         s.bonus_anniversary + s.bonus_referrer + s.bonus_referee,
                     0);
    assert_int_equal(s.redeem_points_per_unit, 100);
    assert_int_equal(s.redeem_min_points, 100);
    assert_int_equal(s.redeem_max_discount_milli, 0);
    assert_int_equal(s.coupon_validity_days, 90);
    assert_int_equal(s.expiry_months, 0);
    assert_int_equal(s.ntiers, 0);
    assert_int_equal(s.nrates, 0);
    j = loyalty_settings_to_json(&s);
    assert_json_is(j, default_json);
    json_decref(j);
}

static const char full_json[] =
    "{\"points_per_unit\":\"1.5\",\"rounding\":\"half_up\",\"earn_basis\":\"total\","
    "\"earn_status\":\"processing\","
    "\"bonuses\":{\"signup\":50,\"review\":20,\"survey\":10,\"birthday\":100,"
    "\"anniversary\":75,\"referrer\":200,\"referee\":100},"
    "\"redemption\":{\"points_per_unit\":150,\"min_points\":300,\"max_discount\":\"50.00\","
    "\"coupon_validity_days\":30},"
    "\"expiry_months\":12,"
    "\"tiers\":[{\"name\":\"Bronze\",\"threshold\":0,\"multiplier\":\"1\"},"
    "{\"name\":\"Silver\",\"threshold\":1000,\"multiplier\":\"1.25\"},"
    "{\"name\":\"Gold\",\"threshold\":5000,\"multiplier\":\"1.5\"},"
    "{\"name\":\"\xc3\x89lite\",\"threshold\":20000,\"multiplier\":\"2.125\"}],"
    "\"currency_rates\":{\"GBP\":\"1.17\",\"USD\":\"0.92\",\"CHF\":\"1.044\"}}";

static void
settings_round_trip(void **state)
{
    struct loyalty_settings s = settings_with(full_json), again;
    struct err e;
    json_t *j, *j2;
    (void)state;
    assert_int_equal(s.points_per_unit_milli, 1500);
    assert_int_equal(s.rounding, LOYALTY_ROUND_HALF_UP);
    assert_int_equal(s.basis, LOYALTY_BASIS_TOTAL);
    assert_string_equal(s.earn_status, "processing");
    assert_int_equal(s.bonus_signup, 50);
    assert_int_equal(s.bonus_referee, 100);
    assert_int_equal(s.redeem_points_per_unit, 150);
    assert_int_equal(s.redeem_min_points, 300);
    assert_int_equal(s.redeem_max_discount_milli, 50000);
    assert_int_equal(s.coupon_validity_days, 30);
    assert_int_equal(s.expiry_months, 12);
    assert_int_equal(s.ntiers, 4);
    assert_string_equal(s.tiers[1].name, "Silver");
    assert_int_equal(s.tiers[1].threshold, 1000);
    assert_int_equal(s.tiers[1].multiplier_milli, 1250);
    assert_int_equal(s.tiers[3].multiplier_milli, 2125);
    /* Rates come back sorted by code whatever the key order was. */
    assert_int_equal(s.nrates, 3);
    assert_string_equal(s.rates[0].currency, "CHF");
    assert_int_equal(s.rates[0].per_unit_milli, 1044);
    assert_string_equal(s.rates[2].currency, "USD");
    assert_int_equal(s.rates[2].per_unit_milli, 920);

    j = loyalty_settings_to_json(&s);
    assert_json_is(j, full_json);
    /* What we show, stored and loaded over the defaults, is what we had. */
    loyalty_settings_default(&again);
    assert_int_equal(loyalty_settings_from_json(&again, j, &e), 0);
    j2 = loyalty_settings_to_json(&again);
    assert_true(json_equal(j, j2));
    json_decref(j);
    json_decref(j2);
}

static void
settings_put_merges(void **state)
{
    struct loyalty_settings s = settings_with(full_json);
    struct err e;
    json_t *v;
    (void)state;
    /* Bonuses and redemption merge key by key; other keys stay. */
    v = parse("{\"bonuses\":{\"review\":5},\"redemption\":{\"max_discount\":null},"
              "\"rounding\":\"up\"}");
    assert_int_equal(loyalty_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.bonus_review, 5);
    assert_int_equal(s.bonus_signup, 50);
    assert_int_equal(s.redeem_max_discount_milli, 0);
    assert_int_equal(s.redeem_points_per_unit, 150);
    assert_int_equal(s.rounding, LOYALTY_ROUND_UP);
    assert_int_equal(s.points_per_unit_milli, 1500);
    assert_int_equal(s.ntiers, 4);
    /* A given tiers array and currency_rates object replace all. */
    v = parse("{\"tiers\":[{\"name\":\"VIP\",\"threshold\":100}],\"currency_rates\":{}}");
    assert_int_equal(loyalty_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.ntiers, 1);
    assert_string_equal(s.tiers[0].name, "VIP");
    assert_int_equal(s.tiers[0].multiplier_milli, 1000); /* multiplier defaults to 1 */
    assert_int_equal(s.nrates, 0);
    v = parse("{}");
    assert_int_equal(loyalty_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.ntiers, 1);
}

static void
settings_accepts_edges(void **state)
{
    struct loyalty_settings s;
    char name[400], *p;
    json_t *v;
    struct err e;
    (void)state;
    s = settings_with("{\"points_per_unit\":\"0\"}"); /* earning off */
    assert_int_equal(s.points_per_unit_milli, 0);
    s = settings_with("{\"points_per_unit\":\"1000\"}");
    assert_int_equal(s.points_per_unit_milli, 1000000);
    s = settings_with("{\"points_per_unit\":2}"); /* a JSON integer is exact */
    assert_int_equal(s.points_per_unit_milli, 2000);
    s = settings_with("{\"points_per_unit\":2.0}"); /* so is a whole real */
    assert_int_equal(s.points_per_unit_milli, 2000);
    s = settings_with("{\"points_per_unit\":\"0.001\"}");
    assert_int_equal(s.points_per_unit_milli, 1);
    s = settings_with("{\"points_per_unit\":\"1.2500\"}"); /* zeros past 3 decimals */
    assert_int_equal(s.points_per_unit_milli, 1250);
    s = settings_with("{\"bonuses\":{\"signup\":1000000,\"birthday\":100.0}}");
    assert_int_equal(s.bonus_signup, 1000000);
    assert_int_equal(s.bonus_birthday, 100);
    s = settings_with("{\"redemption\":{\"points_per_unit\":1000000,\"min_points\":1000000000,"
                      "\"coupon_validity_days\":3650,\"max_discount\":1000}}");
    assert_int_equal(s.redeem_max_discount_milli, 1000000); /* 10^9 points buy 1000.00 */
    s = settings_with("{\"redemption\":{\"max_discount\":50}}");
    assert_int_equal(s.redeem_max_discount_milli, 50000);
    s = settings_with("{\"redemption\":{\"points_per_unit\":100,\"min_points\":1,"
                      "\"max_discount\":\"0.01\"}}");
    assert_int_equal(s.redeem_max_discount_milli, 10);
    s = settings_with("{\"expiry_months\":120}");
    assert_int_equal(s.expiry_months, 120);
    s = settings_with("{\"tiers\":[{\"name\":\"A\",\"threshold\":0,\"multiplier\":\"10\"},"
                      "{\"name\":\"B\",\"threshold\":1,\"multiplier\":10}]}");
    assert_int_equal(s.tiers[0].multiplier_milli, 10000);
    assert_int_equal(s.tiers[1].multiplier_milli, 10000);
    s = settings_with("{\"currency_rates\":{\"JPY\":\"0.006\",\"IDR\":10000000}}");
    assert_int_equal(s.nrates, 2);
    assert_int_equal(s.rates[0].per_unit_milli, 10000000000LL); /* IDR sorts first */
    /* A 64-character name of 4-byte characters (256 bytes) fits. */
    p = name + sprintf(name, "{\"tiers\":[{\"name\":\"");
    for (int i = 0; i < 64; i++)
        p += sprintf(p, "\xf0\x9f\x98\x80");
    sprintf(p, "\",\"threshold\":0}]}");
    v = parse(name);
    loyalty_settings_default(&s);
    assert_int_equal(loyalty_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(strlen(s.tiers[0].name), 256);
}

static void
settings_errors_name_their_field(void **state)
{
    char many[2048], *p;
    (void)state;
    refused("{\"colour\":1}", "colour");
    refused("{\"points_per_unit\":\"1001\"}", "points_per_unit");
    refused("{\"points_per_unit\":\"-1\"}", "points_per_unit");
    refused("{\"points_per_unit\":1.5}", "points_per_unit");
    refused("{\"points_per_unit\":\"1.0005\"}", "points_per_unit");
    refused("{\"points_per_unit\":\"1e3\"}", "points_per_unit");
    refused("{\"points_per_unit\":\"\"}", "points_per_unit");
    refused("{\"points_per_unit\":null}", "points_per_unit");
    refused("{\"points_per_unit\":true}", "points_per_unit");
    refused("{\"points_per_unit\":1e300}", "points_per_unit");
    refused("{\"rounding\":\"nearest\"}", "rounding");
    refused("{\"rounding\":1}", "rounding");
    refused("{\"earn_basis\":\"net\"}", "earn_basis");
    refused("{\"earn_status\":\"on-hold\"}", "earn_status");
    refused("{\"bonuses\":[]}", "bonuses");
    refused("{\"bonuses\":{\"sign_up\":5}}", "bonuses.sign_up");
    refused("{\"bonuses\":{\"signup\":-1}}", "bonuses.signup");
    refused("{\"bonuses\":{\"signup\":1000001}}", "bonuses.signup");
    refused("{\"bonuses\":{\"review\":\"5\"}}", "bonuses.review");
    refused("{\"bonuses\":{\"survey\":null}}", "bonuses.survey");
    refused("{\"bonuses\":{\"birthday\":1.5}}", "bonuses.birthday");
    refused("{\"bonuses\":{\"referee\":99999999999999999}}", "bonuses.referee");
    refused("{\"redemption\":7}", "redemption");
    refused("{\"redemption\":{\"rate\":1}}", "redemption.rate");
    refused("{\"redemption\":{\"points_per_unit\":0}}", "redemption.points_per_unit");
    refused("{\"redemption\":{\"points_per_unit\":1000001}}", "redemption.points_per_unit");
    refused("{\"redemption\":{\"min_points\":0}}", "redemption.min_points");
    refused("{\"redemption\":{\"min_points\":1000000001}}", "redemption.min_points");
    refused("{\"redemption\":{\"max_discount\":\"0\"}}", "redemption.max_discount");
    refused("{\"redemption\":{\"max_discount\":\"abc\"}}", "redemption.max_discount");
    refused("{\"redemption\":{\"max_discount\":49.99}}", "redemption.max_discount");
    /* Valid alone, but 100 points (the minimum) buy 1.00 > 0.50: nothing redeemable. */
    refused("{\"redemption\":{\"max_discount\":\"0.50\"}}", "redemption.max_discount");
    refused("{\"redemption\":{\"coupon_validity_days\":0}}", "redemption.coupon_validity_days");
    refused("{\"redemption\":{\"coupon_validity_days\":3651}}", "redemption.coupon_validity_days");
    refused("{\"expiry_months\":121}", "expiry_months");
    refused("{\"expiry_months\":-1}", "expiry_months");
    refused("{\"expiry_months\":\"12\"}", "expiry_months");
    refused("{\"tiers\":{}}", "tiers");
    refused("{\"tiers\":null}", "tiers");
    refused("{\"tiers\":[5]}", "tiers[0]");
    refused("{\"tiers\":[{\"threshold\":0}]}", "tiers[0].name");
    refused("{\"tiers\":[{\"name\":\"\",\"threshold\":0}]}", "tiers[0].name");
    refused("{\"tiers\":[{\"name\":\"a\\tb\",\"threshold\":0}]}", "tiers[0].name");
    refused("{\"tiers\":[{\"name\":\"12345678901234567890123456789012345678901234567890"
            "123456789012345\",\"threshold\":0}]}",
            "tiers[0].name");
    refused("{\"tiers\":[{\"name\":\"A\"}]}", "tiers[0].threshold");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":-1}]}", "tiers[0].threshold");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":0,\"colour\":\"red\"}]}", "tiers[0].colour");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":0},{\"name\":\"B\",\"threshold\":0}]}",
            "tiers[1].threshold");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":10},{\"name\":\"B\",\"threshold\":5}]}",
            "tiers[1].threshold");
    refused("{\"tiers\":[{\"name\":\"Gold\",\"threshold\":0},"
            "{\"name\":\"gold\",\"threshold\":5}]}",
            "tiers[1].name");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":0},"
            "{\"name\":\"B\",\"threshold\":5,\"multiplier\":\"0.5\"}]}",
            "tiers[1].multiplier");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":0},"
            "{\"name\":\"B\",\"threshold\":5,\"multiplier\":\"10.001\"}]}",
            "tiers[1].multiplier");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":0},"
            "{\"name\":\"B\",\"threshold\":5,\"multiplier\":\"1.0005\"}]}",
            "tiers[1].multiplier");
    refused("{\"tiers\":[{\"name\":\"A\",\"threshold\":0},"
            "{\"name\":\"B\",\"threshold\":5,\"multiplier\":1.25}]}",
            "tiers[1].multiplier");
    p = many + sprintf(many, "{\"tiers\":[");
    for (int i = 0; i < LOYALTY_MAX_TIERS + 1; i++)
        p += sprintf(p, "%s{\"name\":\"T%d\",\"threshold\":%d}", i ? "," : "", i, i);
    sprintf(p, "]}");
    refused(many, "tiers");
    refused("{\"currency_rates\":[]}", "currency_rates");
    refused("{\"currency_rates\":{\"usd\":\"0.92\"}}", "currency_rates.usd");
    refused("{\"currency_rates\":{\"XYZ\":\"1\"}}", "currency_rates.XYZ");
    refused("{\"currency_rates\":{\"USD\":\"0\"}}", "currency_rates.USD");
    refused("{\"currency_rates\":{\"USD\":\"-1\"}}", "currency_rates.USD");
    refused("{\"currency_rates\":{\"USD\":0.92}}", "currency_rates.USD");
    refused("{\"currency_rates\":{\"USD\":\"0.0001\"}}", "currency_rates.USD");
    refused("{\"currency_rates\":{\"USD\":null}}", "currency_rates.USD");
    refused("{\"currency_rates\":{\"USD\":\"10000000.001\"}}", "currency_rates.USD");
    p = many + sprintf(many, "{\"currency_rates\":{");
    static const char *const codes[] = {"AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK",
                                        "GBP", "HKD", "HUF", "INR", "JPY", "KRW", "MXN",
                                        "NOK", "NZD", "PLN", "SEK", "SGD", "USD", "ZAR"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        p += sprintf(p, "%s\"%s\":\"1\"", i ? "," : "", codes[i]);
    sprintf(p, "}}");
    refused(many, "currency_rates");
}

static void
settings_error_asks_for_a_string(void **state)
{
    struct loyalty_settings s;
    struct err e;
    (void)state;
    assert_int_equal(
        apply(&s, "{\"tiers\":[{\"name\":\"A\",\"threshold\":0,\"multiplier\":1.1}]}", &e), -1);
    assert_non_null(strstr(e.detail, "string"));
    assert_int_equal(apply(&s, "{\"bonuses\":{\"colour\":1}}", &e), -1);
    assert_non_null(strstr(e.detail, "bonuses.colour"));
}

/* ---- earning ------------------------------------------------------------ */

static int64_t
points(enum loyalty_rounding r, const char *ppu, const char *amount, int64_t mult)
{
    struct loyalty_settings s;
    loyalty_settings_default(&s);
    s.rounding = r;
    s.points_per_unit_milli = milli(ppu);
    return loyalty_points_for(&s, milli(amount), mult);
}

#define DOWN LOYALTY_ROUND_DOWN
#define HALF LOYALTY_ROUND_HALF_UP
#define UP LOYALTY_ROUND_UP

static void
earning_rounds_by_rule(void **state)
{
    (void)state;
    /* 29.35 at 1 point per 1.00 = 29.35 points */
    assert_int_equal(points(DOWN, "1", "29.35", 1000), 29);
    assert_int_equal(points(HALF, "1", "29.35", 1000), 29);
    assert_int_equal(points(UP, "1", "29.35", 1000), 30);
    /* x1.5: 44.025 points */
    assert_int_equal(points(DOWN, "1", "29.35", 1500), 44);
    assert_int_equal(points(HALF, "1", "29.35", 1500), 44);
    assert_int_equal(points(UP, "1", "29.35", 1500), 45);
    /* x1.25: 36.6875 */
    assert_int_equal(points(DOWN, "1", "29.35", 1250), 36);
    assert_int_equal(points(HALF, "1", "29.35", 1250), 37);
    assert_int_equal(points(UP, "1", "29.35", 1250), 37);
    /* Exactly half a point: 0.005 at 100 points per 1.00 = 0.5 */
    assert_int_equal(points(DOWN, "100", "0.005", 1000), 0);
    assert_int_equal(points(HALF, "100", "0.005", 1000), 1);
    assert_int_equal(points(UP, "100", "0.005", 1000), 1);
    /* Just below half: 0.004 at 100 = 0.4; 29.499 at 1 = 29.499 */
    assert_int_equal(points(HALF, "100", "0.004", 1000), 0);
    assert_int_equal(points(UP, "100", "0.004", 1000), 1);
    assert_int_equal(points(HALF, "1", "29.499", 1000), 29);
    assert_int_equal(points(HALF, "1", "29.50", 1000), 30);
    /* Whole results are not rounded up. */
    assert_int_equal(points(UP, "1", "30.00", 1000), 30);
    assert_int_equal(points(UP, "1", "0.001", 1000), 1);
    /* Fractional rates: 10.01 at 1.5 = 15.015; 999.999 at 0.001 = 0.999999 */
    assert_int_equal(points(DOWN, "1.5", "10.01", 1000), 15);
    assert_int_equal(points(UP, "1.5", "10.01", 1000), 16);
    assert_int_equal(points(DOWN, "0.001", "999.999", 1000), 0);
    assert_int_equal(points(HALF, "0.001", "999.999", 1000), 1);
    /* 0.001 * 0.001 * 1.001 is the smallest fraction there is: 1 / 10^9 * 1001 */
    assert_int_equal(points(UP, "0.001", "0.001", 1001), 1);
    /* Nothing for nothing, never negative, 0 points_per_unit disables. */
    assert_int_equal(points(UP, "1", "0", 1000), 0);
    assert_int_equal(points(UP, "1", "-10.00", 1000), 0);
    assert_int_equal(points(UP, "0", "100.00", 1000), 0);
}

static void
earning_clamps_absurd_inputs(void **state)
{
    struct loyalty_settings s;
    (void)state;
    loyalty_settings_default(&s);
    /* Multiplier out of range: 0 reads as x1.0, 50.0 as x10.0. */
    assert_int_equal(loyalty_points_for(&s, 29350, 0), 29);
    assert_int_equal(loyalty_points_for(&s, 29350, -5), 29);
    assert_int_equal(loyalty_points_for(&s, 29350, 50000), 293);
    /* 10^18 milli * 1000 points * x10 = 10^19 points: clamped, no overflow. */
    s.points_per_unit_milli = 1000000;
    assert_int_equal(loyalty_points_for(&s, INT64_MAX, 10000), INT64_MAX);
    s.points_per_unit_milli = INT64_MAX;
    s.rounding = (enum loyalty_rounding)99; /* unknown rule rounds down */
    assert_int_equal(loyalty_points_for(&s, 1500, 1000), 1500);
}

static void
tiers_selected_at_thresholds(void **state)
{
    struct loyalty_settings s = settings_with(
        "{\"tiers\":[{\"name\":\"Silver\",\"threshold\":1000,\"multiplier\":\"1.25\"},"
        "{\"name\":\"Gold\",\"threshold\":5000,\"multiplier\":\"1.5\"}]}");
    struct loyalty_settings none;
    int t;
    (void)state;
    assert_int_equal(loyalty_tier_for(&s, 0), -1);
    assert_int_equal(loyalty_tier_for(&s, 999), -1);
    assert_int_equal(loyalty_tier_for(&s, 1000), 0);
    assert_int_equal(loyalty_tier_for(&s, 4999), 0);
    assert_int_equal(loyalty_tier_for(&s, 5000), 1);
    assert_int_equal(loyalty_tier_for(&s, INT64_MAX), 1);
    assert_int_equal(loyalty_tier_for(&s, -1), -1);
    loyalty_settings_default(&none);
    assert_int_equal(loyalty_tier_for(&none, 1000000), -1);
    /* Silver customer, 29.35 order: 36.6875 -> 36 (round down) */
    t = loyalty_tier_for(&s, 1200);
    assert_int_equal(loyalty_points_for(&s, 29350, s.tiers[t].multiplier_milli), 36);
    s = settings_with("{\"tiers\":[{\"name\":\"Member\",\"threshold\":0}]}");
    assert_int_equal(loyalty_tier_for(&s, 0), 0);
}

static void
currency_rates_convert(void **state)
{
    struct loyalty_settings s = settings_with("{\"currency_rates\":{\"USD\":\"0.92\"}}");
    int64_t out = -1;
    (void)state;
    /* 100.00 USD at 0.92 = 92.00 EUR = 92 points */
    assert_true(loyalty_convert(&s, "EUR", "USD", 100000, &out));
    assert_int_equal(out, 92000);
    assert_int_equal(loyalty_points_for(&s, out, 1000), 92);
    /* The shop's own currency is taken as is. */
    assert_true(loyalty_convert(&s, "EUR", "EUR", 29350, &out));
    assert_int_equal(out, 29350);
    /* 10.01 USD = 9.2092 -> 9.209 (half-up to thousandths); 0.005 USD = 0.0046 -> 0.005 */
    assert_true(loyalty_convert(&s, "EUR", "USD", 10010, &out));
    assert_int_equal(out, 9209);
    assert_true(loyalty_convert(&s, "EUR", "USD", 5, &out));
    assert_int_equal(out, 5);
    assert_true(loyalty_convert(&s, "EUR", "USD", -10010, &out));
    assert_int_equal(out, -9209);
    /* No rate, no earning. */
    assert_false(loyalty_convert(&s, "EUR", "GBP", 100000, &out));
    assert_int_equal(out, 0);
    assert_false(loyalty_convert(&s, "EUR", "usd", 100000, &out));
    assert_false(loyalty_convert(&s, "EUR", NULL, 100000, &out));
    assert_false(loyalty_convert(&s, "EUR", "", 100000, &out));
    assert_true(loyalty_convert(&s, NULL, "USD", 100000, &out));
    /* Too large to represent: refused, not wrapped. */
    s = settings_with("{\"currency_rates\":{\"IDR\":\"10000000\"}}");
    assert_false(loyalty_convert(&s, "EUR", "IDR", INT64_MAX, &out));
}

/* ---- reversal ----------------------------------------------------------- */

static void
reversal_proportional_then_full(void **state)
{
    (void)state;
    /* Earned 100 on a 200.00 order; 50.00 refunded: 25 back. */
    assert_int_equal(loyalty_reversal(100, 0, 50000, 200000, false), 25);
    /* Then the rest is refunded in full: the 75 that remain. */
    assert_int_equal(loyalty_reversal(100, 25, 150000, 200000, true), 75);
    /* Everything already taken: nothing more, whatever the refund. */
    assert_int_equal(loyalty_reversal(100, 100, 50000, 200000, false), 0);
    assert_int_equal(loyalty_reversal(100, 100, 0, 200000, true), 0);
    assert_int_equal(loyalty_reversal(100, 130, 0, 200000, true), 0);
    /* Half-up: 6667 * 100.00 / 20000.00 = 33.335 -> 33; 67 * 100 / 200 = 33.5 -> 34 */
    assert_int_equal(loyalty_reversal(6667, 0, 100000, 20000000, false), 33);
    assert_int_equal(loyalty_reversal(67, 0, 100000, 200000, false), 34);
    assert_int_equal(loyalty_reversal(100, 0, 100000, 300000, false), 33); /* 33.33 */
    assert_int_equal(loyalty_reversal(100, 0, 200000, 300000, false), 67); /* 66.67 */
    /* Three thirds of a 300.00 order earning 100: 33 + 33 + the remaining 34. */
    assert_int_equal(loyalty_reversal(100, 0, 100000, 300000, false), 33);
    assert_int_equal(loyalty_reversal(100, 33, 100000, 300000, false), 33);
    assert_int_equal(loyalty_reversal(100, 66, 100000, 300000, true), 34);
    /* Never more than what remains. */
    assert_int_equal(loyalty_reversal(10, 9, 100000, 200000, false), 1);
    assert_int_equal(loyalty_reversal(100, 0, 250000, 200000, false), 100);
    /* Nothing earned, nothing refunded: nothing. */
    assert_int_equal(loyalty_reversal(0, 0, 50000, 200000, true), 0);
    assert_int_equal(loyalty_reversal(-5, 0, 50000, 200000, true), 0);
    assert_int_equal(loyalty_reversal(100, 0, 0, 200000, false), 0);
    assert_int_equal(loyalty_reversal(100, 0, -5000, 200000, false), 0);
    assert_int_equal(loyalty_reversal(100, -3, 0, 200000, true), 100);
    /* A refund on an order of no value: all that remains. */
    assert_int_equal(loyalty_reversal(100, 0, 5000, 0, false), 100);
    /* Largest values: exact, no overflow. */
    assert_int_equal(loyalty_reversal(INT64_MAX, 0, INT64_MAX - 1, INT64_MAX, false),
                     INT64_MAX - 1);
}

/* ---- redemption --------------------------------------------------------- */

static int64_t
redeem_ok(const struct loyalty_settings *s, int64_t pts)
{
    int64_t d = -1;
    struct err e;
    if (loyalty_redeem_value(s, pts, &d, &e) != 0)
        fail_msg("%lld points refused: %s", (long long)pts, e.detail);
    return d;
}

static void
redeem_refused(const struct loyalty_settings *s, int64_t pts, const char *detail_part)
{
    int64_t d = -1;
    struct err e;
    err_clear(&e);
    if (loyalty_redeem_value(s, pts, &d, &e) != -1)
        fail_msg("%lld points accepted", (long long)pts);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "points");
    assert_int_equal(d, 0);
    if (strstr(e.detail, detail_part) == NULL)
        fail_msg("'%s' does not say '%s'", e.detail, detail_part);
}

static void
redemption_values(void **state)
{
    struct loyalty_settings s;
    (void)state;
    loyalty_settings_default(&s); /* 100 points per 1.00, at least 100 */
    assert_int_equal(redeem_ok(&s, 100), 1000);
    assert_int_equal(redeem_ok(&s, 150), 1500);
    assert_int_equal(redeem_ok(&s, 155), 1550); /* 1.55 is a whole cent */
    assert_int_equal(redeem_ok(&s, 1000000), 10000000);
    redeem_refused(&s, 99, "at least 100");
    redeem_refused(&s, 0, "positive");
    redeem_refused(&s, -100, "positive");
    redeem_refused(&s, 10000000000000000LL, "at most");

    /* 3 points per 1.00: one point is 0.333..., only multiples of 3 buy whole cents. */
    s = settings_with("{\"redemption\":{\"points_per_unit\":3,\"min_points\":1}}");
    redeem_refused(&s, 1, "multiple of 3");
    redeem_refused(&s, 100, "99 or 102");
    assert_int_equal(redeem_ok(&s, 3), 1000);
    assert_int_equal(redeem_ok(&s, 300), 100000);
    s = settings_with("{\"redemption\":{\"points_per_unit\":3,\"min_points\":100}}");
    redeem_refused(&s, 100, "102 would do"); /* 99 is below the minimum */
    assert_int_equal(redeem_ok(&s, 102), 34000);

    /* 1000 points per 1.00: 10 points a cent. */
    s = settings_with("{\"redemption\":{\"points_per_unit\":1000,\"min_points\":10}}");
    redeem_refused(&s, 15, "multiple of 10 (10 points buy 0.01");
    assert_int_equal(redeem_ok(&s, 20), 20);
    /* 150 points per 1.00: 3 points buy 0.02. */
    s = settings_with("{\"redemption\":{\"points_per_unit\":150,\"min_points\":1}}");
    redeem_refused(&s, 4, "3 points buy 0.02");
    assert_int_equal(redeem_ok(&s, 3), 20);
    assert_int_equal(redeem_ok(&s, 300), 2000);
    /* 1 point per 1.00: any whole number of points. */
    s = settings_with("{\"redemption\":{\"points_per_unit\":1,\"min_points\":1}}");
    assert_int_equal(redeem_ok(&s, 7), 7000);

    /* Maximum discount 50.00 at 100 per 1.00: 5000 points at most. */
    s = settings_with("{\"redemption\":{\"max_discount\":\"50.00\"}}");
    assert_int_equal(redeem_ok(&s, 5000), 50000);
    redeem_refused(&s, 5001, "at most 5000 points");
    /* ... at 3 per 1.00 and 10.005: 30.015 points, so 30 (10.00) at most */
    s = settings_with("{\"redemption\":{\"points_per_unit\":3,\"min_points\":3,"
                      "\"max_discount\":\"10.005\"}}");
    assert_int_equal(redeem_ok(&s, 30), 10000);
    redeem_refused(&s, 33, "at most 30 points");

    /* Settings that bypassed validation are a bug, not the customer's fault. */
    s.redeem_points_per_unit = 0;
    {
        int64_t d;
        struct err e;
        assert_int_equal(loyalty_redeem_value(&s, 100, &d, &e), -1);
        assert_int_equal(e.kind, ERR_INTERNAL);
    }
}

/* ---- expiry ------------------------------------------------------------- */

static void
fifo_unspent(void **state)
{
    /*
     * Ledger, in time order:
     *   +100 (expires 2025-01-31)   -30 spent   +50 (expires 2025-03-31)
     *   -90 spent   +30 (never expires)
     * Sorted by expiry the credits are 100, 50, 30; 120 was debited in all.
     * The debits eat the first-expiring credit first, whenever they happened.
     */
    const int64_t credits[] = {100, 50, 30};
    int64_t left[3];
    (void)state;
    loyalty_fifo_unspent(credits, 3, 120, left);
    assert_int_equal(left[0], 0);
    assert_int_equal(left[1], 30);
    assert_int_equal(left[2], 30);
    /* On 2025-03-31 the 30 left of the second credit expire: an expiry debit of 30. */
    loyalty_fifo_unspent(credits, 3, 150, left);
    assert_int_equal(left[0], 0);
    assert_int_equal(left[1], 0);
    assert_int_equal(left[2], 30);
    /* Nothing debited: everything unspent. */
    loyalty_fifo_unspent(credits, 3, 0, left);
    assert_int_equal(left[0], 100);
    assert_int_equal(left[1], 50);
    assert_int_equal(left[2], 30);
    /* Partial first credit. */
    loyalty_fifo_unspent(credits, 3, 99, left);
    assert_int_equal(left[0], 1);
    assert_int_equal(left[1], 50);
    /* More debited than credited (a broken ledger; verify reports it): all spent. */
    loyalty_fifo_unspent(credits, 3, 500, left);
    assert_int_equal(left[0] + left[1] + left[2], 0);
    /* Negative inputs are read as zero. */
    {
        const int64_t odd[] = {-5, 10};
        loyalty_fifo_unspent(odd, 2, -7, left);
        assert_int_equal(left[0], 0);
        assert_int_equal(left[1], 10);
    }
    loyalty_fifo_unspent(credits, 0, 10, left); /* no credits: nothing written */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(milli_parse_exact_and_rounded),
        cmocka_unit_test(milli_parse_rejects_non_decimals),
        cmocka_unit_test(milli_format_two_or_three_decimals),
        cmocka_unit_test(settings_defaults),
        cmocka_unit_test(settings_round_trip),
        cmocka_unit_test(settings_put_merges),
        cmocka_unit_test(settings_accepts_edges),
        cmocka_unit_test(settings_errors_name_their_field),
        cmocka_unit_test(settings_error_asks_for_a_string),
        cmocka_unit_test(earning_rounds_by_rule),
        cmocka_unit_test(earning_clamps_absurd_inputs),
        cmocka_unit_test(tiers_selected_at_thresholds),
        cmocka_unit_test(currency_rates_convert),
        cmocka_unit_test(reversal_proportional_then_full),
        cmocka_unit_test(redemption_values),
        cmocka_unit_test(fifo_unspent),
    };
    return cmocka_run_group_tests_name("loyalty_rules", tests, NULL, NULL);
}
