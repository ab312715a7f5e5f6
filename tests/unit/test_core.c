/*
 * test_core.c - unit tests of the pure core: errors, JSON checks, cursors,
 * currencies, configuration and crypto. No database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/core/config.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/err.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/money.h"

/* ---- err ---------------------------------------------------------------- */

static void
err_kinds_map_to_status_and_type(void **state)
{
    (void)state;
    assert_int_equal(err_status(ERR_MALFORMED), 400);
    assert_int_equal(err_status(ERR_UNAUTHORIZED), 401);
    assert_int_equal(err_status(ERR_ADMIN_DISABLED), 403);
    assert_int_equal(err_status(ERR_NOT_FOUND), 404);
    assert_int_equal(err_status(ERR_METHOD), 405);
    assert_int_equal(err_status(ERR_CONFLICT), 409);
    assert_int_equal(err_status(ERR_TOO_LARGE), 413);
    assert_int_equal(err_status(ERR_MEDIA_TYPE), 415);
    assert_int_equal(err_status(ERR_INVALID), 422);
    assert_int_equal(err_status(ERR_UNAVAILABLE), 503);
    assert_string_equal(err_type(ERR_INVALID), "/problems/invalid-field");
    assert_string_equal(err_type(ERR_ADMIN_DISABLED), "/problems/admin-disabled");
    /* Out-of-range kinds are bugs and must read as 500, not crash. */
    assert_int_equal(err_status((enum err_kind)999), 500);
    assert_int_equal(err_status(ERR_NONE), 500);
}

static void
err_set_fills_field_and_detail(void **state)
{
    struct err e = {0};
    (void)state;
    assert_int_equal(err_set(&e, ERR_INVALID, "name", "too long by %d", 3), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "name");
    assert_string_equal(e.detail, "too long by 3");
    assert_int_equal(err_set(NULL, ERR_INVALID, NULL, "x"), -1);
}

/* ---- jx ----------------------------------------------------------------- */

static const struct jx_field fields[] = {
    {"name", JX_STRING, true, 1, 5},
    {"count", JX_INTEGER, false, 0, 0},
};

static void
jx_parse_rejects_bad_bodies(void **state)
{
    struct err e = {0};
    const char bad_utf8[] = "{\"name\":\"\xff\xfe\"}";
    (void)state;
    assert_null(jx_parse("{", 1, &e));
    assert_int_equal(e.kind, ERR_MALFORMED);
    assert_null(jx_parse("[1]", 3, &e));
    assert_null(jx_parse("\"x\"", 3, &e));
    assert_null(jx_parse("", 0, &e));
    assert_null(jx_parse(bad_utf8, sizeof(bad_utf8) - 1, &e));
    assert_null(jx_parse("{\"a\":1,\"a\":2}", 13, &e));
    assert_null(jx_parse("{} x", 4, &e));
    json_t *ok = jx_parse("{\"a\":1}", 7, &e);
    assert_non_null(ok);
    json_decref(ok);
}

static void
check_one(const char *text, int expect_rc, const char *expect_field)
{
    struct err e = {0};
    json_t *v = jx_parse(text, strlen(text), &e);
    assert_non_null(v);
    assert_int_equal(jx_check(v, fields, 2, NULL, &e), expect_rc);
    if (expect_field) {
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, expect_field);
    }
    json_decref(v);
}

static void
jx_check_names_the_field(void **state)
{
    (void)state;
    check_one("{\"name\":\"abc\"}", 0, NULL);
    check_one("{\"name\":\"abc\",\"count\":2}", 0, NULL);
    check_one("{}", -1, "name");
    check_one("{\"name\":5}", -1, "name");
    check_one("{\"name\":null}", -1, "name");
    check_one("{\"name\":\"\"}", -1, "name");
    check_one("{\"name\":\"abcdef\"}", -1, "name");
    /* five characters of two bytes each: lengths count characters */
    check_one("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", 0, NULL);
    check_one("{\"name\":\"abc\",\"count\":\"2\"}", -1, "count");
    check_one("{\"name\":\"abc\",\"count\":2.5}", -1, "count");
    check_one("{\"name\":\"abc\",\"colour\":1}", -1, "colour");
}

static void
jx_without_read_only_drops_only_those_paths(void **state)
{
    static const char *const ro[] = {"computed", "wordpress.application_password_set",
                                     "missing.deep.path", NULL};
    json_error_t jerr;
    json_t *in = json_loads("{\"computed\":1,\"keep\":2,\"wordpress\":{\"username\":\"a\","
                            "\"application_password_set\":true},\"missing\":3}",
                            0, &jerr);
    json_t *out, *want;

    (void)state;
    assert_non_null(in);
    out = jx_without_read_only(in, ro);
    want = json_loads("{\"keep\":2,\"wordpress\":{\"username\":\"a\"},\"missing\":3}", 0, &jerr);
    assert_true(json_equal(out, want));
    /* The input is untouched: a copy. */
    assert_non_null(json_object_get(in, "computed"));
    assert_non_null(json_object_get(json_object_get(in, "wordpress"), "application_password_set"));
    json_decref(out);
    /* A parent that is not an object is left to the document's own checks. */
    json_object_set_new(in, "wordpress", json_string("x"));
    out = jx_without_read_only(in, ro);
    assert_string_equal(json_string_value(json_object_get(out, "wordpress")), "x");
    json_decref(out);
    json_decref(want);
    json_decref(in);
}

static void
jx_one_line_refuses_controls(void **state)
{
    (void)state;
    assert_true(jx_one_line(""));
    assert_true(jx_one_line("Acme & Co. \xc3\xa9\xe2\x80\x93 \xf0\x9f\x98\x80"));
    assert_false(jx_one_line("a\r\nBcc: x"));
    assert_false(jx_one_line("a\nb"));
    assert_false(jx_one_line("a\rb"));
    assert_false(jx_one_line("a\tb"));
    assert_false(jx_one_line("a\x7f"));
    assert_false(jx_one_line("a\xc2\x85" "b"));      /* NEL */
    assert_false(jx_one_line("a\xc2\x9f"));          /* last C1 */
    assert_true(jx_one_line("a\xc2\xa0" "b"));       /* NBSP is text */
    assert_false(jx_one_line("a\xe2\x80\xa8" "b"));  /* U+2028 */
    assert_false(jx_one_line("a\xe2\x80\xa9" "b"));  /* U+2029 */
    assert_true(jx_one_line("a\xe2\x80\xa6"));       /* U+2026 */
}

static void
jx_utf8_len_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(jx_utf8_len(""), 0);
    assert_int_equal(jx_utf8_len("abc"), 3);
    assert_int_equal(jx_utf8_len("\xc3\xa9t\xc3\xa9"), 3);
    assert_int_equal(jx_utf8_len("\xf0\x9f\x98\x80"), 1);
}

/* ---- cursor --------------------------------------------------------------- */

static void
cursor_round_trips_and_rejects_junk(void **state)
{
    struct err e = {0};
    int64_t id = -1;
    char *c = cursor_encode(12345);
    (void)state;
    assert_int_equal(cursor_decode(c, &id, &e), 0);
    assert_int_equal(id, 12345);
    free(c);
    assert_int_equal(cursor_decode(NULL, &id, &e), 0);
    assert_int_equal(id, 0);
    assert_int_equal(cursor_decode("!!", &id, &e), -1);
    assert_string_equal(e.field, "cursor");
    assert_int_equal(cursor_decode("MTIz", &id, &e), -1); /* "123": no version */
    assert_int_equal(cursor_decode("djE6LTE", &id, &e), -1); /* "v1:-1" */
}

static void
cursor_limit_bounds(void **state)
{
    struct err e = {0};
    int limit = 0;
    (void)state;
    assert_int_equal(cursor_limit(NULL, &limit, &e), 0);
    assert_int_equal(limit, 20);
    assert_int_equal(cursor_limit("100", &limit, &e), 0);
    assert_int_equal(limit, 100);
    assert_int_equal(cursor_limit("101", &limit, &e), -1);
    assert_string_equal(e.field, "limit");
    assert_int_equal(cursor_limit("0", &limit, &e), -1);
    assert_int_equal(cursor_limit("-1", &limit, &e), -1);
    assert_int_equal(cursor_limit("abc", &limit, &e), -1);
    assert_int_equal(cursor_limit("", &limit, &e), -1);
}

static void
cursor_parse_id_accepts_only_positive_int64(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(cursor_parse_id("1", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(cursor_parse_id("9223372036854775807", &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(cursor_parse_id("9223372036854775808", &v), -1);
    assert_int_equal(cursor_parse_id("99999999999999999999999", &v), -1);
    assert_int_equal(cursor_parse_id("0", &v), -1);
    assert_int_equal(cursor_parse_id("-1", &v), -1);
    assert_int_equal(cursor_parse_id("1.5", &v), -1);
    assert_int_equal(cursor_parse_id(" 1", &v), -1);
    assert_int_equal(cursor_parse_id("", &v), -1);
    assert_int_equal(cursor_parse_id(NULL, &v), -1);
}

/* ---- money ---------------------------------------------------------------- */

static void
currencies_are_iso_4217(void **state)
{
    (void)state;
    assert_true(money_currency_valid("EUR"));
    assert_true(money_currency_valid("USD"));
    assert_true(money_currency_valid("AED"));
    assert_true(money_currency_valid("ZWG"));
    assert_false(money_currency_valid("eur"));
    assert_false(money_currency_valid("XYZ"));
    assert_false(money_currency_valid("EURO"));
    assert_false(money_currency_valid(""));
    assert_false(money_currency_valid(NULL));
}

/* ---- config --------------------------------------------------------------- */

static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
    for (const char *const *p = fake_env; p && *p; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static int
load_with(const char *const *vars, struct config *c, struct err *e)
{
    fake_env = vars;
    return config_load(c, fake_getenv, e);
}

static void
config_defaults(void **state)
{
    struct config c;
    struct err e = {0};
    const char *const none[] = {NULL};
    (void)state;
    assert_int_equal(load_with(none, &c, &e), 0);
    assert_int_equal(c.port, 8080);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_int_equal(c.db_pool_size, c.threads + c.workers + c.webhook_workers + 3);
    assert_int_equal(c.webhook_workers, 2);
    assert_null(c.admin_token);
    assert_false(c.has_secret_key);
    assert_int_equal(c.log_level, LOG_INFO);
    config_free(&c);
}

static void
config_parses_values(void **state)
{
    struct config c;
    struct err e = {0};
    const char *const vars[] = {"PORT", "9000", "THREADS", "4", "ADMIN_TOKEN", "t",
                                "AFTERSALE_SECRET_KEY",
                                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                "LOG_LEVEL", "warn", "DB_POOL_SIZE", "7", NULL};
    (void)state;
    assert_int_equal(load_with(vars, &c, &e), 0);
    assert_int_equal(c.port, 9000);
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.db_pool_size, 7);
    assert_string_equal(c.admin_token, "t");
    assert_true(c.has_secret_key);
    assert_int_equal(c.secret_key[31], 0x1f);
    assert_int_equal(c.log_level, LOG_WARN);
    config_free(&c);
}

static void
expect_bad(const char *name, const char *value)
{
    struct config c;
    struct err e = {0};
    const char *const vars[] = {name, value, NULL};
    assert_int_equal(load_with(vars, &c, &e), -1);
    assert_string_equal(e.field, name);
    assert_non_null(strstr(e.detail, name));
}

static void
config_bad_values_name_the_variable(void **state)
{
    (void)state;
    expect_bad("PORT", "abc");
    expect_bad("PORT", "0");
    expect_bad("PORT", "65536");
    expect_bad("PORT", "80x");
    expect_bad("PORT", "");
    expect_bad("THREADS", "0");
    expect_bad("MAX_BODY_BYTES", "-1");
    expect_bad("AFTERSALE_SECRET_KEY", "short");
    expect_bad("AFTERSALE_SECRET_KEY",
               "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    expect_bad("LOG_LEVEL", "loud");
    expect_bad("DATABASE_URL", "");
    expect_bad("MAIL_FROM", "shop@example.com\r\nBcc: x@example.com");
    expect_bad("MAIL_FROM", "shop@example.com\n");
    expect_bad("TOKEN_MAX_LIFETIME_S", "0");
    expect_bad("TOKEN_MAX_LIFETIME_S", "9223372036854775807");
}

/* ---- crypto --------------------------------------------------------------- */

static void
hmac_matches_woocommerce_vector(void **state)
{
    /* ../shared/woocommerce-api.md section 4.3 */
    const char *secret = "my-webhook-secret";
    const char *body = "{\"id\":727,\"status\":\"completed\"}";
    uint8_t mac[CRYPTO_SHA256_LEN];
    char *b64;
    (void)state;
    crypto_hmac_sha256(secret, strlen(secret), body, strlen(body), mac);
    b64 = crypto_base64(mac, sizeof(mac));
    assert_string_equal(b64, "r5KebFeCbUZYRzC7x6RK4+MJMZ79PecgGUy+lmsEeKw=");
    free(b64);
}

static void
sha256_and_hex(void **state)
{
    uint8_t d[CRYPTO_SHA256_LEN], back[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    (void)state;
    crypto_sha256("abc", 3, d);
    crypto_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(crypto_unhex(hex, back, sizeof(back)), 0);
    assert_memory_equal(d, back, sizeof(d));
    assert_int_equal(crypto_unhex("abc", back, sizeof(back)), -1);
}

static void
base64url_round_trip(void **state)
{
    const uint8_t data[] = {0xfb, 0xff, 0x00, 0x10, 0x3e};
    uint8_t *out = NULL;
    size_t n = 0;
    char *s;
    (void)state;
    for (size_t len = 0; len <= sizeof(data); len++) {
        s = crypto_base64url(data, len);
        assert_null(strchr(s, '='));
        assert_null(strchr(s, '+'));
        assert_null(strchr(s, '/'));
        assert_int_equal(crypto_unbase64url(s, &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, data, len);
        free(out);
        free(s);
    }
    assert_int_equal(crypto_unbase64url("a", &out, &n), -1);
    assert_int_equal(crypto_unbase64url("ab=c", &out, &n), -1);
}

static void
seal_round_trip_and_tamper(void **state)
{
    uint8_t key[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];
    size_t n = 0;
    uint8_t *sealed;
    char *plain;
    (void)state;
    crypto_random(key, sizeof(key));
    crypto_random(other, sizeof(other));
    sealed = crypto_seal(key, "consumer_secret", "cs_secret", 9, &n);
    assert_int_equal(n, 1 + 12 + 16 + 9);
    assert_null(memmem(sealed, n, "cs_secret", 9));
    plain = crypto_open(key, "consumer_secret", sealed, n);
    assert_non_null(plain);
    assert_string_equal(plain, "cs_secret");
    free(plain);
    assert_null(crypto_open(other, "consumer_secret", sealed, n));
    assert_null(crypto_open(key, "webhook_secret", sealed, n));
    sealed[n - 1] ^= 1;
    assert_null(crypto_open(key, "consumer_secret", sealed, n));
    assert_null(crypto_open(key, "consumer_secret", sealed, 5));
    free(sealed);
}

static void
random_alnum_and_equal(void **state)
{
    char a[65], b[65];
    (void)state;
    crypto_random_alnum(a, 64);
    crypto_random_alnum(b, 64);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                     64);
    assert_false(crypto_equal(a, 64, b, 64));
    assert_true(crypto_equal(a, 64, a, 64));
    assert_false(crypto_equal(a, 64, a, 63));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(err_kinds_map_to_status_and_type),
        cmocka_unit_test(err_set_fills_field_and_detail),
        cmocka_unit_test(jx_parse_rejects_bad_bodies),
        cmocka_unit_test(jx_check_names_the_field),
        cmocka_unit_test(jx_utf8_len_counts_code_points),
        cmocka_unit_test(jx_without_read_only_drops_only_those_paths),
        cmocka_unit_test(jx_one_line_refuses_controls),
        cmocka_unit_test(cursor_round_trips_and_rejects_junk),
        cmocka_unit_test(cursor_limit_bounds),
        cmocka_unit_test(cursor_parse_id_accepts_only_positive_int64),
        cmocka_unit_test(currencies_are_iso_4217),
        cmocka_unit_test(config_defaults),
        cmocka_unit_test(config_parses_values),
        cmocka_unit_test(config_bad_values_name_the_variable),
        cmocka_unit_test(hmac_matches_woocommerce_vector),
        cmocka_unit_test(sha256_and_hex),
        cmocka_unit_test(base64url_round_trip),
        cmocka_unit_test(seal_round_trip_and_tamper),
        cmocka_unit_test(random_alnum_and_equal),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
