/*
 * test_hooks.c - the pure parts of outbound webhooks: Standard Webhooks
 * signatures (the spec's published vector, secrets, the body's exact
 * bytes), the classification of target addresses (every refused IPv4 and
 * IPv6 range, the embedded-IPv4 forms, public addresses), the
 * WEBHOOK_ALLOW_PRIVATE parser and the URL check. No database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "aftersale/core/config.h"
#include "aftersale/hooks/hooks.h"

/* ---- signatures ---------------------------------------------------------- */

static void
test_sign_spec_vector(void **state)
{
    /* The example of the Standard Webhooks specification (and Svix's docs). */
    const char *body = "{\"test\": 2432232314}";
    char *sig = hooks_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                           1614265330, body, strlen(body));
    (void)state;
    assert_non_null(sig);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    free(sig);
    /* Without the prefix the key is the same. */
    sig = hooks_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                     body, strlen(body));
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    free(sig);
}

static void
test_sign_covers_id_timestamp_and_body(void **state)
{
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const char *base = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const char *body = "{\"test\": 2432232314}";
    char *a = hooks_sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJel", 1614265330, body, strlen(body));
    char *b = hooks_sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body));
    char *c =
        hooks_sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body) - 1);
    (void)state;
    assert_string_not_equal(a, base);
    assert_string_not_equal(b, base);
    assert_string_not_equal(c, base);
    free(a);
    free(b);
    free(c);
    assert_null(hooks_sign("whsec_", "msg_x", 1, "{}", 2));
    assert_null(hooks_sign("whsec_!!!!", "msg_x", 1, "{}", 2));
}

static void
test_secret_new(void **state)
{
    char *s1 = hooks_secret_new(), *s2 = hooks_secret_new();
    uint8_t *key = NULL;
    size_t n = 0;

    (void)state;
    assert_memory_equal(s1, "whsec_", 6);
    assert_string_not_equal(s1, s2);
    assert_int_equal(hooks_secret_key(s1, &key, &n), 0);
    assert_int_equal(n, HOOKS_KEY_LEN);
    free(key);
    free(s1);
    free(s2);
}

/* ---- addresses ----------------------------------------------------------- */

static bool
priv(const char *text)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

    if (inet_pton(AF_INET, text, &s4.sin_addr) == 1)
        return hooks_addr_is_private((const struct sockaddr *)&s4);
    if (inet_pton(AF_INET6, text, &s6.sin6_addr) == 1)
        return hooks_addr_is_private((const struct sockaddr *)&s6);
    fail_msg("bad address in test: %s", text);
    return false;
}

static bool
allowed(const char *spec, const char *text)
{
    struct hooks_allow a;
    struct err e = {0};
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

    assert_int_equal(hooks_allow_parse(spec, &a, &e), 0);
    if (inet_pton(AF_INET, text, &s4.sin_addr) == 1)
        return hooks_addr_allowed(&a, (const struct sockaddr *)&s4);
    assert_int_equal(inet_pton(AF_INET6, text, &s6.sin6_addr), 1);
    return hooks_addr_allowed(&a, (const struct sockaddr *)&s6);
}

static void
test_private_ipv4(void **state)
{
    static const char *const refused[] = {
        "0.0.0.0",         "0.255.255.255",   "10.0.0.1",        "10.255.255.255",  "100.64.0.1",
        "100.127.255.254", "127.0.0.1",       "127.255.255.255", "169.254.169.254", "172.16.0.1",
        "172.31.255.255",  "192.168.0.1",     "192.168.255.255", "192.0.2.1",       "198.18.0.1",
        "224.0.0.1",       "239.255.255.250", "240.0.0.1",       "255.255.255.255",
    };
    static const char *const public_[] = {
        "1.1.1.1",        "8.8.8.8",    "100.63.255.255",  "100.128.0.1",
        "172.15.255.255", "172.32.0.1", "169.253.255.255", "192.167.255.255",
        "192.169.0.1",    "11.0.0.1",   "93.184.216.34",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (!priv(refused[i]))
            fail_msg("%s should be refused", refused[i]);
    for (size_t i = 0; i < sizeof(public_) / sizeof(public_[0]); i++)
        if (priv(public_[i]))
            fail_msg("%s should be public", public_[i]);
}

static void
test_private_ipv6(void **state)
{
    static const char *const refused[] = {
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "2002:c0a8:101::1",
        "2001::1",
    };
    static const char *const public_[] = {
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        "fbff::1",
        "fe7f::1",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (!priv(refused[i]))
            fail_msg("%s should be refused", refused[i]);
    for (size_t i = 0; i < sizeof(public_) / sizeof(public_[0]); i++)
        if (priv(public_[i]))
            fail_msg("%s should be public", public_[i]);
}

static void
test_allow_private(void **state)
{
    struct hooks_allow a;
    struct err e = {0};

    (void)state;
    /* off (the default): public only */
    assert_true(allowed("off", "8.8.8.8"));
    assert_false(allowed("off", "127.0.0.1"));
    assert_false(allowed(NULL, "::1"));
    /* on: every unicast address */
    assert_true(allowed("on", "127.0.0.1"));
    assert_true(allowed("on", "fe80::1"));
    /* a list: only those nets, IPv4-mapped forms included */
    assert_true(allowed("127.0.0.0/8", "127.0.0.1"));
    assert_true(allowed("127.0.0.0/8", "::ffff:127.0.0.1"));
    assert_false(allowed("127.0.0.0/8", "10.0.0.1"));
    assert_false(allowed("127.0.0.0/8", "169.254.169.254"));
    assert_false(allowed("127.0.0.0/8", "::1"));
    assert_true(allowed("10.1.0.0/16, fd00::/8", "10.1.200.3"));
    assert_false(allowed("10.1.0.0/16, fd00::/8", "10.2.0.1"));
    assert_true(allowed("10.1.0.0/16, fd00::/8", "fd00::5"));
    assert_false(allowed("10.1.0.0/16, fd00::/8", "fc00::5"));
    assert_true(allowed("::1", "::1"));
    assert_true(allowed("192.168.1.7", "192.168.1.7"));
    assert_false(allowed("192.168.1.7", "192.168.1.8"));
    assert_true(allowed("127.0.0.0/8", "8.8.8.8"));
    /* refused values name the variable */
    assert_int_equal(hooks_allow_parse("yes", &a, &e), -1);
    assert_string_equal(e.field, "WEBHOOK_ALLOW_PRIVATE");
    assert_int_equal(hooks_allow_parse("10.0.0.0/33", &a, &e), -1);
    assert_int_equal(hooks_allow_parse("10.0.0.0/", &a, &e), -1);
    assert_int_equal(hooks_allow_parse("10.0.0.0/8,", &a, &e), -1);
    assert_int_equal(hooks_allow_parse("", &a, &e), -1);
}

static void
test_url_valid(void **state)
{
    (void)state;
    assert_true(hooks_url_valid("https://hooks.example.com/in"));
    assert_true(hooks_url_valid("http://127.0.0.1:8080/hook?x=1"));
    assert_true(hooks_url_valid("https://[::1]:8443/"));
    assert_true(hooks_url_valid("https://example.com"));
    assert_false(hooks_url_valid("ftp://example.com/"));
    assert_false(hooks_url_valid("http://"));
    assert_false(hooks_url_valid("http:///path"));
    assert_false(hooks_url_valid("https://user:pw@example.com/"));
    assert_false(hooks_url_valid("https://exa mple.com/"));
    assert_false(hooks_url_valid("https://example.com/\r\nX: y"));
    assert_false(hooks_url_valid("example.com"));
    assert_false(hooks_url_valid(""));
}

static void
test_event_types(void **state)
{
    (void)state;
    assert_true(hooks_event_type_known("review.created"));
    assert_true(hooks_event_type_known("customer.erased"));
    assert_true(hooks_event_type_known("survey.detractor"));
    assert_false(hooks_event_type_known("*"));
    assert_false(hooks_event_type_known("review"));
}

static const char *allow_value;

static const char *
fake_env(const char *name)
{
    if (strcmp(name, "WEBHOOK_ALLOW_PRIVATE") == 0)
        return allow_value;
    return NULL;
}

static void
test_config_checks_allow_private(void **state)
{
    struct config c;
    struct err e = {0};

    (void)state;
    allow_value = NULL; /* default */
    assert_int_equal(config_load(&c, fake_env, &e), 0);
    assert_string_equal(c.webhook_allow_private, "off");
    assert_int_equal(c.webhook_disable_after_s, 86400);
    config_free(&c);
    allow_value = "127.0.0.0/8";
    assert_int_equal(config_load(&c, fake_env, &e), 0);
    config_free(&c);
    allow_value = "private please";
    assert_int_equal(config_load(&c, fake_env, &e), -1);
    assert_string_equal(e.field, "WEBHOOK_ALLOW_PRIVATE");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_spec_vector),
        cmocka_unit_test(test_sign_covers_id_timestamp_and_body),
        cmocka_unit_test(test_secret_new),
        cmocka_unit_test(test_private_ipv4),
        cmocka_unit_test(test_private_ipv6),
        cmocka_unit_test(test_allow_private),
        cmocka_unit_test(test_url_valid),
        cmocka_unit_test(test_event_types),
        cmocka_unit_test(test_config_checks_allow_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
