/*
 * test_reviews_rules.c - the pure rules of review requests: ISO 8601
 * durations (parse and format, every refusal), settings (defaults, merge,
 * round trip, one named field per error with the struct left untouched,
 * templates checked by mail_template_check), the delay per country,
 * exclusions by product and category, and the contact policy's next slot
 * (outreach's, under its reviews name).
 * The figures are the examples of docs/reviews.md; if one changes here,
 * change it there. Pure: no database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/reviews/rules.h"

#define DAY 86400
#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

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

/* Merge `text` over the defaults; returns the rc, settings in *s (the
 * caller frees them with reviews_settings_free). */
static int
apply(struct reviews_settings *s, const char *text, struct err *e)
{
    json_t *v = parse(text);
    int rc;

    reviews_settings_default(s);
    err_clear(e);
    rc = reviews_settings_from_json(s, v, e);
    json_decref(v);
    return rc;
}

static void
settings_with(struct reviews_settings *s, const char *text)
{
    struct err e;

    if (apply(s, text, &e) != 0)
        fail_msg("settings %s refused: %s: %s", text, e.field, e.detail);
}

/* `text` must be refused with a 422 naming exactly `field`, and leave the
 * settings untouched, templates (owned strings) included. */
static void
refused(const char *text, const char *field)
{
    struct reviews_settings s, before;
    struct err e;
    json_t *v = parse(text);

    settings_with(&s, "{\"reminder_count\":2,\"templates\":[{\"locale\":\"de\","
                      "\"subject\":\"Wie war's bei {{shop_name}}?\"}]}");
    memcpy(&before, &s, sizeof(s));
    err_clear(&e);
    if (reviews_settings_from_json(&s, v, &e) != -1)
        fail_msg("accepted: %s", text);
    json_decref(v);
    if (e.kind != ERR_INVALID || strcmp(e.field, field) != 0)
        fail_msg("%s: expected 422 on '%s', got kind %d field '%s' (%s)", text, field, e.kind,
                 e.field, e.detail);
    assert_true(strlen(e.detail) > 0);
    assert_memory_equal(&s, &before, sizeof(s));
    /* The old template strings are still ours and alive (ASan would see). */
    assert_string_equal(s.templates[0].subject, "Wie war's bei {{shop_name}}?");
    reviews_settings_free(&s);
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

/* ---- durations ---------------------------------------------------------- */

static void
durations_parse(void **state)
{
    static const struct {
        const char *text;
        int64_t seconds;
    } ok[] = {
        {"PT0S", 0},
        {"P0D", 0},
        {"PT30S", 30},
        {"PT1M", 60},
        {"PT90M", 5400},
        {"PT1H30M", 5400},
        {"PT12H", 43200},
        {"P1D", DAY},
        {"P7D", 7 * DAY},
        {"P007D", 7 * DAY},
        {"P1W", 7 * DAY},
        {"P2W", 14 * DAY},
        {"P1W2D", 9 * DAY},
        {"P1DT12H", DAY + 43200},
        {"P1DT2H3M4S", DAY + 7384},
        {"PT86400S", DAY},
        {"P365D", 365 * DAY},
        {"PT9223372036854775807S", INT64_MAX},
        {"P106751991167300D", 106751991167300LL * DAY},
    };
    struct err e;
    int64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        err_clear(&e);
        v = -1;
        if (reviews_duration_parse(ok[i].text, &v, "delay", &e) != 0)
            fail_msg("refused '%s': %s", ok[i].text, e.detail);
        if (v != ok[i].seconds)
            fail_msg("'%s' -> %lld, expected %lld", ok[i].text, (long long)v,
                     (long long)ok[i].seconds);
    }
}

static void
durations_refused(void **state)
{
    static const struct {
        const char *text;
        const char *says; /* a phrase the detail must contain */
    } bad[] = {
        {"", "not an ISO 8601 duration"},
        {"P", "empty"},
        {"PT", "empty"},
        {"P1DT", "'T' must be followed"},
        {"P1M", "months and years"},
        {"P1Y", "months and years"},
        {"P1Y2D", "months and years"},
        {"PT1Y", "months and years"},
        {"P1DT1M1Y", "months and years"},
        {"-P1D", "no sign"},
        {"+P1D", "no sign"},
        {"p7d", "upper case"},
        {"P7d", "only W and D"},
        {"7D", "not an ISO 8601 duration"},
        {"P7", "without a unit"},
        {"PD", "expected a number"},
        {"PT-1S", "expected a number"},
        {"P1.5D", "fractions"},
        {"PT0.5S", "fractions"},
        {"P1DT0.5S", "fractions"},
        {"PT1,5H", "fractions"},
        {"P1D2W", "in the order"},
        {"PT1S1H", "in the order"},
        {"P1D1D", "in the order"},
        {"PT1H1H", "in the order"},
        {"P1H", "only W and D"},
        {"PT1D", "only H, M and S"},
        {"PT1W", "only H, M and S"},
        {"P 7D", "expected a number"},
        {"P7D ", "expected a number"},
        {"PTT1S", "two 'T's"},
        {"P1DTT1H", "two 'T's"},
        {"PT9223372036854775808S", "too large"},
        {"P106751991167301D", "too large"},
        {"P15250284452472W", "too large"},
        {"PT9223372036854775807S1S", "in the order"},
        {"P106751991167300DT86400S", "too large"},
        {"P99999999999999999999D", "too large"},
    };
    struct err e;
    int64_t v;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        v = 42;
        if (reviews_duration_parse(bad[i].text, &v, "reminder_delay", &e) != -1)
            fail_msg("accepted '%s' as %lld", bad[i].text, (long long)v);
        assert_int_equal(v, 42); /* untouched */
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, "reminder_delay");
        if (strstr(e.detail, bad[i].says) == NULL)
            fail_msg("'%s': detail '%s' does not say '%s'", bad[i].text, e.detail, bad[i].says);
        assert_non_null(strstr(e.detail, "reminder_delay"));
    }
    err_clear(&e);
    assert_int_equal(reviews_duration_parse(NULL, &v, "expiry", &e), -1);
    assert_string_equal(e.field, "expiry");
}

static void
durations_format_shortest(void **state)
{
    static const struct {
        int64_t seconds;
        const char *text;
    } cases[] = {
        {0, "PT0S"},
        {1, "PT1S"},
        {30, "PT30S"},
        {60, "PT1M"},
        {61, "PT1M1S"},
        {3600, "PT1H"},
        {5400, "PT1H30M"},
        {43200, "PT12H"},
        {DAY, "P1D"},
        {DAY + 1, "P1DT1S"},
        {DAY + 7200, "P1DT2H"},
        {DAY + 3661, "P1DT1H1M1S"},
        {7 * DAY, "P7D"},
        {14 * DAY, "P14D"}, /* weeks are never written */
        {365 * DAY, "P365D"},
        {-60, "-PT1M"},
        {INT64_MAX, "P106751991167300DT15H30M7S"},
        {INT64_MIN, "-P106751991167300DT15H30M8S"},
    };
    char out[32];
    int64_t back;
    struct err e;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(out, 'x', sizeof(out));
        reviews_duration_format(cases[i].seconds, out);
        assert_string_equal(out, cases[i].text);
        /* Every non-negative value reads back as itself. */
        if (cases[i].seconds >= 0) {
            assert_int_equal(reviews_duration_parse(out, &back, "d", &e), 0);
            assert_int_equal(back, cases[i].seconds);
        }
    }
    /* P2W and P14D are one value with one spelling. */
    assert_int_equal(reviews_duration_parse("P2W", &back, "d", &e), 0);
    reviews_duration_format(back, out);
    assert_string_equal(out, "P14D");
    assert_int_equal(reviews_duration_parse("PT36H", &back, "d", &e), 0);
    reviews_duration_format(back, out);
    assert_string_equal(out, "P1DT12H");
}

/* ---- settings ----------------------------------------------------------- */

static const char default_json[] =
    "{\"delay\":\"P7D\",\"reminder_delay\":\"P5D\",\"reminder_count\":1,\"expiry\":\"P30D\","
    "\"channel\":\"email\",\"trigger\":\"completed\",\"excluded_product_ids\":[],"
    "\"excluded_category_ids\":[],"
    "\"auto_approve_min_rating\":4,\"sender_name\":\"\",\"sender_email\":\"\","
    "\"link_base_url\":\"\",\"locale\":\"\",\"country_delays\":{},"
    "\"incentive\":{\"kind\":\"none\",\"coupon_amount\":null,\"coupon_validity_days\":30},"
    "\"templates\":[]}";

static void
settings_defaults(void **state)
{
    struct reviews_settings s;
    json_t *j;
    (void)state;
    reviews_settings_default(&s);
    assert_int_equal(s.delay_s, 7 * DAY);
    assert_int_equal(s.reminder_delay_s, 5 * DAY);
    assert_int_equal(s.reminder_count, 1);
    assert_int_equal(s.expiry_s, 30 * DAY);
    assert_int_equal(s.channel, REVIEWS_EMAIL);
    assert_false(s.trigger_delivered); /* order.completed, as before the setting */
    assert_int_equal(s.nexcluded_products + s.nexcluded_categories + s.noverrides, 0);
    assert_int_equal(s.auto_approve_min, 4);
    assert_string_equal(s.sender_name, "");
    assert_string_equal(s.sender_email, "");
    assert_string_equal(s.link_base_url, "");
    assert_string_equal(s.locale, ""); /* the shop's default_locale */
    assert_int_equal(s.incentive, REVIEWS_INCENTIVE_NONE);
    assert_string_equal(s.coupon_amount, "");
    assert_int_equal(s.coupon_validity_days, 30);
    assert_int_equal(s.ntemplates, 0);
    j = reviews_settings_to_json(&s);
    assert_json_is(j, default_json);
    json_decref(j);
    reviews_settings_free(&s); /* nothing to free: harmless */
}

/* What a merchant might send: ids unsorted with a repeat, P2W, "5". */
static const char full_input[] =
    "{\"delay\":\"P10D\",\"reminder_delay\":\"P3D\",\"reminder_count\":2,\"expiry\":\"P21D\","
    "\"channel\":\"order_note\",\"trigger\":\"delivered\",\"excluded_product_ids\":[99,5,12,5],"
    "\"excluded_category_ids\":[7.0],\"auto_approve_min_rating\":null,"
    "\"sender_name\":\"Zo\xc3\xab's Shop\",\"sender_email\":\"reviews@shop.example\","
    "\"link_base_url\":\"https://shop.example/review\",\"locale\":\"pt_BR\","
    "\"country_delays\":{\"US\":\"P2W\",\"DE\":\"PT12H\",\"AU\":\"P21D\"},"
    "\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":\"5\",\"coupon_validity_days\":60},"
    "\"templates\":[{\"locale\":\"en\",\"subject\":\"How was {{shop_name}}?\","
    "\"html\":\"<p>Hi {{first_name}}</p>{{#products}}<a href=\\\"{{product_link}}\\\">"
    "{{product_name}}</a>{{/products}}<a href=\\\"{{unsubscribe_link}}\\\">unsubscribe</a>\"},"
    "{\"locale\":\"de\",\"subject\":null,\"text\":\"Hallo {{first_name}}: {{review_link}}\"}]}";

/* ... and what aftersale shows for it. */
static const char full_json[] =
    "{\"delay\":\"P10D\",\"reminder_delay\":\"P3D\",\"reminder_count\":2,\"expiry\":\"P21D\","
    "\"channel\":\"order_note\",\"trigger\":\"delivered\",\"excluded_product_ids\":[5,12,99],"
    "\"excluded_category_ids\":[7],\"auto_approve_min_rating\":null,"
    "\"sender_name\":\"Zo\xc3\xab's Shop\",\"sender_email\":\"reviews@shop.example\","
    "\"link_base_url\":\"https://shop.example/review\",\"locale\":\"pt_BR\","
    "\"country_delays\":{\"AU\":\"P21D\",\"DE\":\"PT12H\",\"US\":\"P14D\"},"
    "\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":\"5.00\",\"coupon_validity_days\":60},"
    "\"templates\":[{\"locale\":\"en\",\"subject\":\"How was {{shop_name}}?\",\"text\":null,"
    "\"html\":\"<p>Hi {{first_name}}</p>{{#products}}<a href=\\\"{{product_link}}\\\">"
    "{{product_name}}</a>{{/products}}<a href=\\\"{{unsubscribe_link}}\\\">unsubscribe</a>\"},"
    "{\"locale\":\"de\",\"subject\":null,\"text\":\"Hallo {{first_name}}: {{review_link}}\","
    "\"html\":null}]}";

static void
settings_round_trip(void **state)
{
    struct reviews_settings s, again;
    struct err e;
    json_t *j, *j2;
    (void)state;
    settings_with(&s, full_input);
    assert_int_equal(s.delay_s, 10 * DAY);
    assert_int_equal(s.reminder_delay_s, 3 * DAY);
    assert_int_equal(s.reminder_count, 2);
    assert_int_equal(s.expiry_s, 21 * DAY);
    assert_int_equal(s.channel, REVIEWS_ORDER_NOTE);
    assert_true(s.trigger_delivered);
    assert_int_equal(s.nexcluded_products, 3); /* sorted, the repeat dropped */
    assert_int_equal(s.excluded_products[0], 5);
    assert_int_equal(s.excluded_products[2], 99);
    assert_int_equal(s.nexcluded_categories, 1);
    assert_int_equal(s.excluded_categories[0], 7);
    assert_int_equal(s.auto_approve_min, 6); /* null: never */
    assert_string_equal(s.locale, "pt_BR");
    assert_int_equal(s.noverrides, 3);
    assert_string_equal(s.overrides[0].country, "AU");
    assert_string_equal(s.overrides[2].country, "US");
    assert_int_equal(s.overrides[2].delay_s, 14 * DAY);
    assert_int_equal(s.incentive, REVIEWS_INCENTIVE_COUPON);
    assert_string_equal(s.coupon_amount, "5.00");
    assert_int_equal(s.coupon_validity_days, 60);
    assert_int_equal(s.ntemplates, 2);
    assert_string_equal(s.templates[0].locale, "en");
    assert_null(s.templates[0].text);
    assert_non_null(s.templates[0].html);
    assert_null(s.templates[1].subject);
    assert_string_equal(s.templates[1].text, "Hallo {{first_name}}: {{review_link}}");

    j = reviews_settings_to_json(&s);
    assert_json_is(j, full_json);
    /* What we show, stored and loaded over the defaults, is what we had. */
    reviews_settings_default(&again);
    assert_int_equal(reviews_settings_from_json(&again, j, &e), 0);
    j2 = reviews_settings_to_json(&again);
    assert_true(json_equal(j, j2));
    json_decref(j);
    json_decref(j2);
    reviews_settings_free(&again);
    reviews_settings_free(&s);
    assert_int_equal(s.ntemplates, 0);
}

static void
settings_put_merges(void **state)
{
    struct reviews_settings s;
    struct err e;
    json_t *v;
    (void)state;
    settings_with(&s, full_input);
    /* Given keys change, the rest stay; incentive merges key by key. */
    v = parse("{\"delay\":\"P3D\",\"incentive\":{\"coupon_validity_days\":10},"
              "\"auto_approve_min_rating\":5}");
    assert_int_equal(reviews_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.delay_s, 3 * DAY);
    assert_int_equal(s.reminder_delay_s, 3 * DAY);
    assert_int_equal(s.incentive, REVIEWS_INCENTIVE_COUPON);
    assert_string_equal(s.coupon_amount, "5.00");
    assert_int_equal(s.coupon_validity_days, 10);
    assert_int_equal(s.auto_approve_min, 5);
    assert_int_equal(s.noverrides, 3);
    assert_int_equal(s.ntemplates, 2);
    /* Lists, country_delays and templates are replaced as a whole. */
    v = parse("{\"excluded_product_ids\":[],\"country_delays\":{\"FR\":\"P9D\"},"
              "\"templates\":[{\"locale\":\"fr\",\"subject\":\"Votre avis\"}]}");
    assert_int_equal(reviews_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.nexcluded_products, 0);
    assert_int_equal(s.nexcluded_categories, 1);
    assert_int_equal(s.noverrides, 1);
    assert_string_equal(s.overrides[0].country, "FR");
    assert_int_equal(s.ntemplates, 1);
    assert_string_equal(s.templates[0].locale, "fr");
    assert_null(s.templates[1].subject); /* the old second template is gone */
    /* Back to no incentive: the amount may be cleared then. */
    v = parse("{\"incentive\":{\"kind\":\"none\",\"coupon_amount\":null},\"templates\":[]}");
    assert_int_equal(reviews_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_string_equal(s.coupon_amount, "");
    assert_int_equal(s.ntemplates, 0);
    v = parse("{}");
    assert_int_equal(reviews_settings_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.delay_s, 3 * DAY);
    reviews_settings_free(&s);
}

static void
settings_accepts_edges(void **state)
{
    struct reviews_settings s;
    char *big, *p;
    (void)state;
    settings_with(&s, "{\"delay\":\"PT0S\",\"reminder_delay\":\"PT0S\",\"expiry\":\"PT1S\"}");
    assert_int_equal(s.delay_s, 0);
    assert_int_equal(s.expiry_s, 1); /* reminder at +0s: before the expiry */
    settings_with(&s, "{\"delay\":\"P365D\",\"reminder_delay\":\"P90D\",\"expiry\":\"P365D\","
                      "\"reminder_count\":3}");
    assert_int_equal(s.delay_s, 365 * DAY);
    assert_int_equal(s.reminder_delay_s, 90 * DAY);
    settings_with(&s, "{\"reminder_count\":0,\"reminder_delay\":\"P90D\",\"expiry\":\"PT1S\"}");
    assert_int_equal(s.reminder_count, 0); /* no reminder: nothing to fit before expiry */
    settings_with(&s, "{\"reminder_count\":3.0,\"auto_approve_min_rating\":1}");
    assert_int_equal(s.reminder_count, 3);
    assert_int_equal(s.auto_approve_min, 1);
    settings_with(&s, "{\"excluded_product_ids\":[9223372036854775807]}");
    assert_int_equal(s.excluded_products[0], INT64_MAX);
    settings_with(&s, "{\"country_delays\":{\"US\":\"PT0S\",\"NZ\":\"P365D\"}}");
    assert_int_equal(reviews_delay_for(&s, "US"), 0);
    settings_with(&s, "{\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":\"0.01\","
                      "\"coupon_validity_days\":3650}}");
    assert_string_equal(s.coupon_amount, "0.01");
    settings_with(&s, "{\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":12}}");
    assert_string_equal(s.coupon_amount, "12.00");
    settings_with(&s, "{\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":\"007.5\"}}");
    assert_string_equal(s.coupon_amount, "7.50");
    settings_with(&s, "{\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":"
                      "\"999999999999999.99\"}}");
    assert_string_equal(s.coupon_amount, "999999999999999.99");
    settings_with(&s, "{\"incentive\":{\"kind\":\"points\"}}"); /* loyalty's review bonus */
    assert_int_equal(s.incentive, REVIEWS_INCENTIVE_POINTS);
    /* "" = the shop's default locale; the catalogues' own tags are locales too. */
    settings_with(&s, "{\"locale\":\"\"}");
    assert_string_equal(s.locale, "");
    settings_with(&s, "{\"locale\":\"zh-Hans\"}");
    assert_string_equal(s.locale, "zh-Hans");
    settings_with(&s, "{\"locale\":\"de\",\"sender_name\":\"\",\"link_base_url\":"
                      "\"http://localhost:8080/review/\"}");
    assert_string_equal(s.link_base_url, "http://localhost:8080/review/");
    /* 127 bytes of name fit the buffer. */
    big = malloc(300);
    p = big + sprintf(big, "{\"sender_name\":\"");
    for (int i = 0; i < 127; i++)
        *p++ = 'n';
    sprintf(p, "\"}");
    settings_with(&s, big);
    assert_int_equal(strlen(s.sender_name), 127);
    free(big);
    /* Ten templates, subject of 200 characters (2-byte ones), a 100 KB body. */
    big = malloc(200 * 1024);
    p = big + sprintf(big, "{\"templates\":[");
    for (int i = 0; i < REVIEWS_MAX_TEMPLATES; i++)
        p += sprintf(p, "%s{\"locale\":\"%c%c\"}", i ? "," : "", 'a' + i, 'a' + i);
    sprintf(p, "]}");
    settings_with(&s, big);
    assert_int_equal(s.ntemplates, REVIEWS_MAX_TEMPLATES);
    reviews_settings_free(&s);
    p = big + sprintf(big, "{\"templates\":[{\"locale\":\"en\",\"subject\":\"");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "\xc3\xa9");
    p += sprintf(p, "\",\"text\":\"");
    memset(p, 't', 100 * 1024);
    p += 100 * 1024;
    sprintf(p, "\"}]}");
    settings_with(&s, big);
    assert_int_equal(strlen(s.templates[0].text), 100 * 1024);
    reviews_settings_free(&s);
    free(big);
}

static void
settings_errors_name_their_field(void **state)
{
    char *many, *p;
    (void)state;
    refused("{\"colour\":1}", "colour");
    refused("{\"delay\":\"P1M\"}", "delay");
    refused("{\"delay\":\"P366D\"}", "delay");
    refused("{\"delay\":\"-P1D\"}", "delay");
    refused("{\"delay\":\"\"}", "delay");
    refused("{\"delay\":7}", "delay");
    refused("{\"delay\":null}", "delay");
    refused("{\"reminder_delay\":\"P91D\"}", "reminder_delay");
    refused("{\"reminder_delay\":\"P1Y\"}", "reminder_delay");
    refused("{\"reminder_count\":4}", "reminder_count");
    refused("{\"reminder_count\":-1}", "reminder_count");
    refused("{\"reminder_count\":\"1\"}", "reminder_count");
    refused("{\"reminder_count\":1.5}", "reminder_count");
    refused("{\"expiry\":\"PT0S\"}", "expiry");
    refused("{\"expiry\":\"P366D\"}", "expiry");
    /* Valid alone, but 2 reminders 5 days apart need more than 10 days. */
    refused("{\"expiry\":\"P10D\"}", "expiry");
    refused("{\"reminder_count\":3,\"reminder_delay\":\"P10D\"}", "expiry");
    refused("{\"channel\":\"sms\"}", "channel");
    refused("{\"channel\":1}", "channel");
    refused("{\"trigger\":\"shipped\"}", "trigger");
    refused("{\"trigger\":null}", "trigger");
    refused("{\"excluded_product_ids\":{}}", "excluded_product_ids");
    refused("{\"excluded_product_ids\":null}", "excluded_product_ids");
    refused("{\"excluded_product_ids\":[0]}", "excluded_product_ids[0]");
    refused("{\"excluded_product_ids\":[1,-5]}", "excluded_product_ids[1]");
    refused("{\"excluded_product_ids\":[\"5\"]}", "excluded_product_ids[0]");
    refused("{\"excluded_product_ids\":[1.5]}", "excluded_product_ids[0]");
    refused("{\"excluded_product_ids\":[1e300]}", "excluded_product_ids[0]");
    refused("{\"excluded_category_ids\":[true]}", "excluded_category_ids[0]");
    many = malloc(8192);
    p = many + sprintf(many, "{\"excluded_category_ids\":[");
    for (int i = 0; i < REVIEWS_MAX_EXCLUDED + 1; i++)
        p += sprintf(p, "%s%d", i ? "," : "", i + 1);
    sprintf(p, "]}");
    refused(many, "excluded_category_ids");
    refused("{\"auto_approve_min_rating\":0}", "auto_approve_min_rating");
    refused("{\"auto_approve_min_rating\":6}", "auto_approve_min_rating");
    refused("{\"auto_approve_min_rating\":\"4\"}", "auto_approve_min_rating");
    refused("{\"auto_approve_min_rating\":4.5}", "auto_approve_min_rating");
    refused("{\"sender_name\":\"a\\nb\"}", "sender_name");
    refused("{\"sender_name\":\"a\\rBcc: x@y.example\"}", "sender_name");
    refused("{\"sender_name\":5}", "sender_name");
    refused("{\"sender_name\":null}", "sender_name");
    p = many + sprintf(many, "{\"sender_name\":\"");
    for (int i = 0; i < 128; i++)
        *p++ = 'n';
    sprintf(p, "\"}");
    refused(many, "sender_name");
    refused("{\"sender_email\":\"not-an-address\"}", "sender_email");
    refused("{\"sender_email\":\"a@localhost\"}", "sender_email");
    refused("{\"sender_email\":\"x y@example.com\"}", "sender_email");
    refused("{\"sender_email\":\"<a@example.com>\"}", "sender_email");
    refused("{\"sender_email\":\"a@example.com\\r\\nBcc: b@example.com\"}", "sender_email");
    refused("{\"sender_email\":null}", "sender_email");
    refused("{\"link_base_url\":\"ftp://shop.example/r\"}", "link_base_url");
    refused("{\"link_base_url\":\"https://\"}", "link_base_url");
    refused("{\"link_base_url\":\"https://shop.example/r?page=2\"}", "link_base_url");
    refused("{\"link_base_url\":\"https://shop.example/#r\"}", "link_base_url");
    refused("{\"link_base_url\":\"javascript:alert(1)\"}", "link_base_url");
    refused("{\"link_base_url\":\"https://user@shop.example/\"}", "link_base_url");
    refused("{\"link_base_url\":\"https://shop.example/a b\"}", "link_base_url");
    refused("{\"link_base_url\":null}", "link_base_url");
    p = many + sprintf(many, "{\"link_base_url\":\"https://shop.example/");
    for (int i = 0; i < 500; i++)
        *p++ = 'r';
    sprintf(p, "\"}");
    refused(many, "link_base_url"); /* 520 bytes */
    refused("{\"locale\":\"EN\"}", "locale");
    refused("{\"locale\":\"en-US\"}", "locale");
    refused("{\"locale\":\"en_us\"}", "locale");
    refused("{\"locale\":\"eng\"}", "locale");
    refused("{\"locale\":\"en_USA\"}", "locale");
    refused("{\"locale\":null}", "locale");
    refused("{\"country_delays\":[]}", "country_delays");
    refused("{\"country_delays\":{\"us\":\"P1D\"}}", "country_delays.us");
    refused("{\"country_delays\":{\"USA\":\"P1D\"}}", "country_delays.USA");
    refused("{\"country_delays\":{\"US\":\"P1M\"}}", "country_delays.US");
    refused("{\"country_delays\":{\"US\":7}}", "country_delays.US");
    refused("{\"country_delays\":{\"US\":\"P366D\"}}", "country_delays.US");
    refused("{\"country_delays\":{\"US\":null}}", "country_delays.US");
    p = many + sprintf(many, "{\"country_delays\":{");
    for (int i = 0; i < REVIEWS_MAX_OVERRIDES + 1; i++)
        p += sprintf(p, "%s\"%c%c\":\"P1D\"", i ? "," : "", 'A' + i / 26, 'A' + i % 26);
    sprintf(p, "}}");
    refused(many, "country_delays");
    refused("{\"incentive\":\"coupon\"}", "incentive");
    refused("{\"incentive\":{\"kind\":\"cash\"}}", "incentive.kind");
    refused("{\"incentive\":{\"amount\":\"5\"}}", "incentive.amount");
    refused("{\"incentive\":{\"kind\":\"coupon\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"kind\":\"coupon\",\"coupon_amount\":null}}",
            "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"0\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"0.00\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"-5\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"5.001\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"5.\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"1e3\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":5.5}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":0}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":true}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_amount\":\"1234567890123456\"}}", "incentive.coupon_amount");
    refused("{\"incentive\":{\"coupon_validity_days\":0}}", "incentive.coupon_validity_days");
    refused("{\"incentive\":{\"coupon_validity_days\":3651}}", "incentive.coupon_validity_days");
    /* The contact policy is the messaging settings' (test_outreach.c); the
     * reviews handler forwards it there before this parser sees the body. */
    refused("{\"contact_policy\":{\"max_messages\":2}}", "contact_policy");
    refused("{\"templates\":{}}", "templates");
    refused("{\"templates\":null}", "templates");
    refused("{\"templates\":[5]}", "templates[0]");
    refused("{\"templates\":[{}]}", "templates[0].locale");
    refused("{\"templates\":[{\"locale\":\"EN\"}]}", "templates[0].locale");
    refused("{\"templates\":[{\"locale\":\"en\",\"body\":\"x\"}]}", "templates[0].body");
    refused("{\"templates\":[{\"locale\":\"en\",\"subject\":\"\"}]}", "templates[0].subject");
    refused("{\"templates\":[{\"locale\":\"en\",\"subject\":\"a\\nb\"}]}", "templates[0].subject");
    refused("{\"templates\":[{\"locale\":\"en\",\"html\":5}]}", "templates[0].html");
    refused("{\"templates\":[{\"locale\":\"en\",\"text\":\"Hi {{#products}}x\"}]}",
            "templates[0].text");
    refused("{\"templates\":[{\"locale\":\"en\",\"subject\":\"{{voucher}}\"}]}",
            "templates[0].subject");
    refused("{\"templates\":[{\"locale\":\"en\"},{\"locale\":\"en\"}]}", "templates[1].locale");
    /* The second template fails after the first one's strings were made. */
    refused("{\"templates\":[{\"locale\":\"en\",\"subject\":\"ok {{shop_name}}\","
            "\"text\":\"{{review_link}}\"},{\"locale\":\"de\",\"html\":\"{{nope}}\"}]}",
            "templates[1].html");
    p = many + sprintf(many, "{\"templates\":[");
    for (int i = 0; i < REVIEWS_MAX_TEMPLATES + 1; i++)
        p += sprintf(p, "%s{\"locale\":\"%c%c\"}", i ? "," : "", 'a' + i, 'a' + i);
    sprintf(p, "]}");
    refused(many, "templates");
    p = many + sprintf(many, "{\"templates\":[{\"locale\":\"en\",\"subject\":\"");
    for (int i = 0; i < 201; i++)
        *p++ = 's';
    sprintf(p, "\"}]}");
    refused(many, "templates[0].subject");
    free(many);
    many = malloc(110 * 1024);
    p = many + sprintf(many, "{\"templates\":[{\"locale\":\"en\",\"html\":\"");
    memset(p, 'h', 100 * 1024 + 1);
    p += 100 * 1024 + 1;
    sprintf(p, "\"}]}");
    refused(many, "templates[0].html");
    free(many);
}

static void
settings_errors_explain(void **state)
{
    struct reviews_settings s;
    struct err e;
    json_t *v;
    (void)state;
    assert_int_equal(apply(&s, "{\"delay\":\"P1M\"}", &e), -1);
    assert_non_null(strstr(e.detail, "months and years vary"));
    assert_int_equal(apply(&s, "{\"incentive\":{\"colour\":1}}", &e), -1);
    assert_non_null(strstr(e.detail, "incentive.colour"));
    assert_int_equal(apply(&s, "{\"expiry\":\"P10D\",\"reminder_count\":2}", &e), -1);
    assert_non_null(strstr(e.detail, "P10D"));
    assert_int_equal(apply(&s, "{\"incentive\":{\"coupon_amount\":4.99}}", &e), -1);
    assert_non_null(strstr(e.detail, "string"));
    /* The body must be an object. */
    reviews_settings_default(&s);
    v = parse("[]");
    assert_int_equal(reviews_settings_from_json(&s, v, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    json_decref(v);
}

/* mail_template_check decides what a template may say; the field is ours. */
static void
templates_checked_by_mail(void **state)
{
    struct reviews_settings s;
    struct err e;
    (void)state;
    assert_int_equal(apply(&s,
                           "{\"templates\":[{\"locale\":\"en\",\"html\":\"<p>{{first_name}}, "
                           "use {{coupon_code}}</p>\"}]}",
                           &e),
                     -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "templates[0].html");
    assert_non_null(strstr(e.detail, "coupon_code"));
    assert_int_equal(s.ntemplates, 0);
    settings_with(&s, "{\"templates\":[{\"locale\":\"en\",\"subject\":\"{{shop_name}}\","
                      "\"text\":\"{{first_name}} {{review_link}} {{unsubscribe_link}}\\n"
                      "{{#products}}{{product_name}} {{product_image}} {{product_link}} "
                      "{{star_link_1}} {{star_link_5}}\\n{{/products}}\"}]}");
    assert_int_equal(s.ntemplates, 1);
    reviews_settings_free(&s);
}

/* ---- scheduling --------------------------------------------------------- */

static void
delay_per_country(void **state)
{
    struct reviews_settings s;
    (void)state;
    settings_with(&s, "{\"delay\":\"P7D\",\"country_delays\":{\"US\":\"P14D\",\"AU\":\"P21D\","
                      "\"DE\":\"P5D\"}}");
    assert_int_equal(reviews_delay_for(&s, "US"), 14 * DAY);
    assert_int_equal(reviews_delay_for(&s, "AU"), 21 * DAY);
    assert_int_equal(reviews_delay_for(&s, "DE"), 5 * DAY);
    assert_int_equal(reviews_delay_for(&s, "us"), 14 * DAY); /* case does not matter */
    assert_int_equal(reviews_delay_for(&s, "FR"), 7 * DAY);
    assert_int_equal(reviews_delay_for(&s, ""), 7 * DAY); /* no shipping country */
    assert_int_equal(reviews_delay_for(&s, NULL), 7 * DAY);
    assert_int_equal(reviews_delay_for(&s, "USA"), 7 * DAY);
    assert_int_equal(reviews_delay_for(&s, "U"), 7 * DAY);
    reviews_settings_default(&s);
    assert_int_equal(reviews_delay_for(&s, "US"), 7 * DAY);
}

static void
exclusion_by_product_and_category(void **state)
{
    struct reviews_settings s;
    const int64_t shirts[] = {3, 15}, gifts[] = {42}, none[] = {0};
    (void)state;
    settings_with(&s, "{\"excluded_product_ids\":[101,55],\"excluded_category_ids\":[42,7]}");
    assert_true(reviews_product_excluded(&s, 101, NULL, 0));
    assert_true(reviews_product_excluded(&s, 55, shirts, 2));
    assert_false(reviews_product_excluded(&s, 102, shirts, 2));
    assert_true(reviews_product_excluded(&s, 102, gifts, 1)); /* by category */
    {
        const int64_t mixed[] = {3, 7};
        assert_true(reviews_product_excluded(&s, 9, mixed, 2)); /* any category */
    }
    assert_false(reviews_product_excluded(&s, 9, none, 1));
    assert_false(reviews_product_excluded(&s, 9, gifts, 0)); /* count wins over the array */
    reviews_settings_default(&s);
    assert_false(reviews_product_excluded(&s, 101, gifts, 1));
}

/* ---- contact policy ----------------------------------------------------- */

static time_t
slot(const time_t *sent, int n, int max, int64_t period)
{
    return reviews_contact_next_slot(sent, n, max, period, NOW);
}

static void
contact_policy_examples(void **state)
{
    const int64_t P14D = 14 * DAY;
    (void)state;
    /* Nothing sent: now. */
    assert_int_equal(slot(NULL, 0, 2, P14D), NOW);
    {
        /* One sent, at most 2: now. */
        const time_t sent[] = {NOW - DAY};
        assert_int_equal(slot(sent, 1, 2, P14D), NOW);
        /* At most 1: when that one is 14 days old, 13 days from now. */
        assert_int_equal(slot(sent, 1, 1, P14D), NOW + 13 * DAY);
    }
    {
        /* Two sent, 3 days and 1 day ago, at most 2 per P14D: the older
         * leaves the window 14 - 3 = 11 days from now. */
        const time_t sent[] = {NOW - 3 * DAY, NOW - DAY};
        const time_t reversed[] = {NOW - DAY, NOW - 3 * DAY};
        assert_int_equal(slot(sent, 2, 2, P14D), NOW + 11 * DAY);
        assert_int_equal(slot(reversed, 2, 2, P14D), NOW + 11 * DAY);
        assert_int_equal(slot(sent, 2, 3, P14D), NOW); /* at most 3: one more now */
    }
    {
        /* Old sends do not count; exactly one period ago is out of the window. */
        const time_t sent[] = {NOW - 20 * DAY, NOW - 14 * DAY, NOW - DAY};
        assert_int_equal(slot(sent, 3, 2, P14D), NOW);
    }
    {
        /* Three in the window, at most 2: the last two are 5 and 1 days
         * old, so 9 days from now. */
        const time_t sent[] = {NOW - DAY, NOW - 10 * DAY, NOW - 5 * DAY};
        assert_int_equal(slot(sent, 3, 2, P14D), NOW + 9 * DAY);
        assert_int_equal(slot(sent, 3, 1, P14D), NOW + 13 * DAY);
        assert_int_equal(slot(sent, 3, 3, P14D), NOW + 4 * DAY);
    }
    {
        /* Ties count one each. */
        const time_t same[] = {NOW - 5 * DAY, NOW - 5 * DAY, NOW - DAY};
        const time_t twice[] = {NOW - DAY, NOW - DAY};
        const time_t newest[] = {NOW - 5 * DAY, NOW - DAY, NOW - DAY};
        assert_int_equal(slot(same, 3, 2, P14D), NOW + 9 * DAY);
        assert_int_equal(slot(same, 3, 3, P14D), NOW + 9 * DAY);
        assert_int_equal(slot(twice, 2, 2, P14D), NOW + 13 * DAY);
        assert_int_equal(slot(newest, 3, 2, P14D), NOW + 13 * DAY);
    }
    {
        /* A message sent right now takes the whole period. */
        const time_t sent[] = {NOW};
        assert_int_equal(slot(sent, 1, 1, P14D), NOW + P14D);
    }
    {
        /* A send stamped in the future (a clock ahead) counts as sent now. */
        const time_t sent[] = {NOW + 3600};
        assert_int_equal(slot(sent, 1, 1, P14D), NOW + P14D);
        assert_int_equal(slot(sent, 1, 2, P14D), NOW);
    }
    {
        /* Seconds, as the integration tests use them. */
        const time_t sent[] = {NOW - 30, NOW - 10};
        assert_int_equal(slot(sent, 2, 2, 60), NOW + 30);
        assert_int_equal(slot(sent, 2, 2, 20), NOW); /* the older one is out */
    }
    {
        /* No policy (max or period not positive): always now. */
        const time_t sent[] = {NOW - 1};
        assert_int_equal(slot(sent, 1, 0, P14D), NOW);
        assert_int_equal(slot(sent, 1, 1, 0), NOW);
        /* Absurd inputs do not overflow. */
        assert_int_equal(slot(sent, 1, 1, INT64_MAX), INT64_MAX);
    }
}

/* Brute force over small random histories: the slot is free, and the
 * second before it (when later than now) was not. */
static int
sends_in_window(const time_t *sent, int n, int64_t period, time_t t)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        if (sent[i] <= t && t - sent[i] < period)
            c++;
    return c;
}

static void
contact_policy_brute_force(void **state)
{
    unsigned seed = 12345;
    time_t sent[12];
    (void)state;
    for (int round = 0; round < 5000; round++) {
        int n, max;
        int64_t period;
        time_t r;
        seed = seed * 1103515245u + 12345u;
        n = (int)(seed >> 16) % 12;
        seed = seed * 1103515245u + 12345u;
        max = 1 + (int)(seed >> 16) % 4;
        seed = seed * 1103515245u + 12345u;
        period = 1 + (int64_t)((seed >> 16) % 40);
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            sent[i] = NOW - (time_t)((seed >> 16) % 50);
        }
        r = slot(sent, n, max, period);
        assert_true(r >= NOW);
        if (sends_in_window(sent, n, period, r) >= max)
            fail_msg("round %d: slot %lld is full", round, (long long)(r - NOW));
        if (r > NOW && sends_in_window(sent, n, period, r - 1) < max)
            fail_msg("round %d: slot %lld is not the earliest", round, (long long)(r - NOW));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_parse),
        cmocka_unit_test(durations_refused),
        cmocka_unit_test(durations_format_shortest),
        cmocka_unit_test(settings_defaults),
        cmocka_unit_test(settings_round_trip),
        cmocka_unit_test(settings_put_merges),
        cmocka_unit_test(settings_accepts_edges),
        cmocka_unit_test(settings_errors_name_their_field),
        cmocka_unit_test(settings_errors_explain),
        cmocka_unit_test(templates_checked_by_mail),
        cmocka_unit_test(delay_per_country),
        cmocka_unit_test(exclusion_by_product_and_category),
        cmocka_unit_test(contact_policy_examples),
        cmocka_unit_test(contact_policy_brute_force),
    };
    return cmocka_run_group_tests_name("reviews_rules", tests, NULL, NULL);
}
