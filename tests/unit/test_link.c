/*
 * test_link.c - unit tests of the pure parts of the WooCommerce link and
 * the job queue: date and amount shapes, handled topics, backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aftersale/core/money.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/woo/link.h"

static void
woocommerce_gmt_dates(void **state)
{
    (void)state;
    assert_true(woo_date_valid("2017-03-22T19:28:02"));
    assert_false(woo_date_valid("2017-03-22 19:28:02"));
    assert_false(woo_date_valid("2017-03-22T19:28:02Z"));
    assert_false(woo_date_valid("2017-3-22T19:28:02"));
    assert_false(woo_date_valid(""));
    assert_false(woo_date_valid(NULL));
}

static void
rfc3339_times(void **state)
{
    (void)state;
    assert_true(woo_rfc3339_valid("2026-11-01T00:00:00Z"));
    assert_true(woo_rfc3339_valid("2026-11-01T00:00:00.123Z"));
    assert_true(woo_rfc3339_valid("2026-11-01T00:00:00+01:00"));
    assert_true(woo_rfc3339_valid("2026-11-01T00:00:00-05:30"));
    assert_false(woo_rfc3339_valid("2026-11-01T00:00:00"));
    assert_false(woo_rfc3339_valid("infinity"));
    assert_false(woo_rfc3339_valid("now"));
    assert_false(woo_rfc3339_valid("2026-11-01T00:00:00.Z"));
    assert_false(woo_rfc3339_valid("2026-11-01T00:00:00+0100"));
    assert_false(woo_rfc3339_valid("2026-11-01T00:00:00Zjunk"));
}

static void
decimal_amounts(void **state)
{
    (void)state;
    assert_true(money_decimal_valid("29.35"));
    assert_true(money_decimal_valid("-10.00"));
    assert_true(money_decimal_valid("0"));
    assert_true(money_decimal_valid("123456789012345.123456"));
    assert_false(money_decimal_valid(""));
    assert_false(money_decimal_valid("-"));
    assert_false(money_decimal_valid("1."));
    assert_false(money_decimal_valid(".5"));
    assert_false(money_decimal_valid("1e5"));
    assert_false(money_decimal_valid("1,5"));
    assert_false(money_decimal_valid("1.1234567"));
    assert_false(money_decimal_valid("NaN"));
    assert_false(money_decimal_valid(NULL));
}

static void
handled_topics(void **state)
{
    (void)state;
    assert_true(woo_topic_handled("order.updated"));
    assert_true(woo_topic_handled("action.woocommerce_order_status_completed"));
    assert_true(woo_topic_handled("customer.created"));
    assert_false(woo_topic_handled("product.updated"));
    assert_false(woo_topic_handled(""));
    assert_false(woo_topic_handled(NULL));
    assert_int_equal(woo_ntopics, 8);
}

static void
backoff_is_full_jitter_exponential(void **state)
{
    (void)state;
    /* The ceiling doubles per attempt and is capped; the delay is uniform
     * in [0, ceiling]: the random input picks where. */
    assert_int_equal(jobs_backoff_ms(1, 1000, 60000, UINT64_MAX), (long)(UINT64_MAX % 1001));
    assert_int_equal(jobs_backoff_ms(1, 1000, 60000, 1000), 1000);
    assert_int_equal(jobs_backoff_ms(2, 1000, 60000, 2000), 2000);
    assert_int_equal(jobs_backoff_ms(3, 1000, 60000, 4000), 4000);
    assert_int_equal(jobs_backoff_ms(3, 1000, 60000, 4001), 0);
    assert_int_equal(jobs_backoff_ms(30, 1000, 60000, 60000), 60000);
    assert_int_equal(jobs_backoff_ms(30, 1000, 60000, 60001), 0);
    assert_int_equal(jobs_backoff_ms(1, 1000, 60000, 0), 0);
    for (uint64_t r = 0; r < 5000; r += 7)
        assert_true(jobs_backoff_ms(5, 100, 1000, r * 2654435761u) <= 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(woocommerce_gmt_dates),
        cmocka_unit_test(rfc3339_times),
        cmocka_unit_test(decimal_amounts),
        cmocka_unit_test(handled_topics),
        cmocka_unit_test(backoff_is_full_jitter_exponential),
    };
    return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
