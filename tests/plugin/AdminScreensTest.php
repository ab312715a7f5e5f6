<?php

use PHPUnit\Framework\TestCase;

/*
 * The Reviews, Returns and Surveys screens of wp-admin: what they print
 * (escaped), what they ask the service, and that every action refuses a
 * user without manage_woocommerce or without the action's nonce before
 * calling the service.
 */

require_once AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-admin-reviews.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-admin-returns.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-admin-surveys.php';

if (! function_exists('wc_get_product')) {
    function wc_get_product($id)
    {
        $names = $GLOBALS['wpt']['products'] ?? array();
        if (! isset($names[$id])) {
            return false;
        }
        return new class ($names[$id]) {
            private $name;

            public function __construct($name)
            {
                $this->name = $name;
            }

            public function get_name()
            {
                return $this->name;
            }
        };
    }
}
if (! function_exists('wp_remote_retrieve_header')) {
    function wp_remote_retrieve_header($response, $header)
    {
        return is_array($response) ? ($response['headers'][strtolower($header)] ?? '') : '';
    }
}
if (! function_exists('wp_tempnam')) {
    /* As WordPress's: the file is created (and so stat()ed) before it is returned. */
    function wp_tempnam($name = '')
    {
        $f = (string) tempnam(sys_get_temp_dir(), 'wpt');
        touch($f);
        filesize($f);
        return $f;
    }
}
if (! function_exists('wp_delete_file')) {
    function wp_delete_file($file)
    {
        if (is_file($file)) {
            unlink($file);
        }
    }
}

final class AdminScreensTest extends TestCase
{
    private const XSS = '<script>alert(1)</script>';

    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id']  = 1;
        $GLOBALS['wpt']['caps']     = array('manage_woocommerce');
        $GLOBALS['wpt']['products'] = array(27 => 'Mug <b>big</b>');
        $GLOBALS['aftersale_test_headers'] = array();
    }

    protected function tearDown(): void
    {
        unset($GLOBALS['aftersale_test_headers']);
    }

    private static function html(callable $fn): string
    {
        ob_start();
        try {
            $fn();
        } finally {
            $out = (string) ob_get_clean();
        }
        return $out;
    }

    /** The paths the plugin asked the service for, with their method. */
    private static function asked(): array
    {
        return array_map(function ($r) {
            $q = (string) parse_url($r['url'], PHP_URL_QUERY);
            return $r['args']['method'] . ' ' . parse_url($r['url'], PHP_URL_PATH) . ($q !== '' ? '?' . $q : '');
        }, $GLOBALS['wpt']['requests']);
    }

    private static function post(array $fields): void
    {
        $_POST    = $fields;
        $_REQUEST = $fields;
    }

    private static function review(array $over = array()): array
    {
        return array_merge(array(
            'id' => 12, 'request_id' => 9, 'order_id' => 1042, 'product_id' => 27, 'rating' => 2,
            'title' => 'Chipped ' . self::XSS, 'body' => 'Handle <img src=x onerror=alert(2)>',
            'reviewer_name' => 'Ann', 'reviewer_email' => 'ann@example.com', 'status' => 'pending',
            'woo_review_id' => null, 'verified' => null, 'published_at' => null, 'reply' => null,
            'replied_at' => null, 'created_at' => '2026-11-30T09:12:00Z', 'moderated_at' => null,
        ), $over);
    }

    private static function stats(): array
    {
        return array(
            'from' => '2026-11-01T00:00:00Z', 'to' => '2026-12-01T00:00:00Z', 'requests_sent' => 40,
            'reminders_sent' => 22, 'reviews_received' => 18, 'requests_answered' => 15,
            'conversion_rate' => 0.375, 'average_rating' => 4.25,
            'distribution' => array('1' => 1, '2' => 1, '3' => 2, '4' => 4, '5' => 10), 'products' => array(),
        );
    }

    // ---- reviews ------------------------------------------------------------

    public function test_review_queue_escapes_and_carries_the_nonce(): void
    {
        wpt_routes(array('GET /v1/reviews' => array(200, array('items' => array(self::review()), 'next_cursor' => null))));
        $html = self::html(function () {
            (new Aftersale_Admin_Reviews())->render();
        });
        $this->assertSame(array('GET /v1/reviews?limit=50&status=pending'), self::asked());
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringNotContainsString('<img src=x', $html);
        $this->assertStringContainsString('Chipped &lt;script&gt;alert(1)&lt;/script&gt;', $html);
        $this->assertStringContainsString('Mug &lt;b&gt;big&lt;/b&gt;', $html);
        $this->assertStringContainsString('value="approve:12"', $html);
        $this->assertStringContainsString('value="reject:12"', $html);
        $this->assertStringContainsString('name="reply[12]"', $html);
        $this->assertStringContainsString('name="_wpnonce" value="' . wp_create_nonce('aftersale_reviews') . '"', $html);
        $this->assertStringNotContainsString('ask_testkey', $html);
    }

    public function test_review_screen_says_when_the_service_is_down(): void
    {
        $html = self::html(function () {
            (new Aftersale_Admin_Reviews())->render();
        });
        $this->assertStringContainsString('notice-error', $html);
        $this->assertStringContainsString('The aftersale service is not answering right now', $html);
    }

    /** @return array<string, array{string, array}> */
    public static function screens(): array
    {
        return array(
            'reviews queue'   => array('Aftersale_Admin_Reviews', array()),
            'reviews stats'   => array('Aftersale_Admin_Reviews', array('tab' => 'stats')),
            'returns queue'   => array('Aftersale_Admin_Returns', array()),
            'a return'        => array('Aftersale_Admin_Returns', array('return' => '7')),
            'returns report'  => array('Aftersale_Admin_Returns', array('tab' => 'report')),
            'surveys'         => array('Aftersale_Admin_Surveys', array()),
            'new survey'      => array('Aftersale_Admin_Surveys', array('view' => 'new')),
            'a survey report' => array('Aftersale_Admin_Surveys', array('view' => 'report', 'survey' => '3')),
        );
    }

    /** @dataProvider screens */
    public function test_every_screen_says_when_the_service_is_down(string $class, array $get): void
    {
        $_GET = $get;
        $html = self::html(function () use ($class) {
            (new $class())->render();
        });
        $this->assertSame(1, substr_count($html, 'The aftersale service is not answering right now'), $html);
        $this->assertStringContainsString('notice-error', $html);
        $this->assertStringNotContainsString('<svg', $html);
    }

    /** @dataProvider screens */
    public function test_every_screen_refuses_a_user_without_the_capability(string $class, array $get): void
    {
        $_GET                   = $get;
        $GLOBALS['wpt']['caps'] = array('edit_posts');
        try {
            self::html(function () use ($class) {
                (new $class())->render();
            });
            $this->fail('rendered without the capability');
        } catch (Aftersale_Test_Die $e) {
            $this->assertStringContainsString('not allowed', $e->getMessage());
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
    }

    public function test_review_screen_refuses_a_user_without_the_capability(): void
    {
        $GLOBALS['wpt']['caps'] = array('read');
        $this->expectException(Aftersale_Test_Die::class);
        try {
            self::html(function () {
                (new Aftersale_Admin_Reviews())->render();
            });
        } finally {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
    }

    public function test_review_actions_refuse_without_capability_or_nonce(): void
    {
        wpt_respond_json(200, self::review(array('status' => 'approved')));
        $screen = new Aftersale_Admin_Reviews();
        self::post(array('do' => 'approve:12', '_wpnonce' => wp_create_nonce('aftersale_reviews')));
        $GLOBALS['wpt']['caps'] = array();
        try {
            $screen->handle();
            $this->fail('no capability, yet it went on');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
        $GLOBALS['wpt']['caps'] = array('manage_woocommerce');
        self::post(array('do' => 'approve:12', '_wpnonce' => 'forged'));
        try {
            $screen->handle();
            $this->fail('no nonce, yet it went on');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
    }

    public function test_bulk_approve_and_reply(): void
    {
        wpt_respond_json(200, self::review(array('status' => 'approved')));
        $screen = new Aftersale_Admin_Reviews();
        self::post(array('do' => 'bulk', 'bulk' => 'approve', 'ids' => array('12', '13'), '_wpnonce' => wp_create_nonce('aftersale_reviews')));
        try {
            $screen->handle();
            $this->fail('no redirect');
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertStringContainsString('page=aftersale-reviews', $r->url);
        }
        $this->assertSame(array('POST /v1/reviews/12/approve', 'POST /v1/reviews/13/approve'), self::asked());
        $this->assertSame(array('success', '2 reviews updated.'), get_transient('aftersale_flash_1'));

        $GLOBALS['wpt']['requests'] = array();
        self::post(array('do' => 'reply:13', 'reply' => array('13' => 'Thank you <b>Ann</b>'), '_wpnonce' => wp_create_nonce('aftersale_reviews')));
        try {
            $screen->handle();
        } catch (Aftersale_Test_Redirect $r) {
            // back to the queue
        }
        $this->assertSame(array('POST /v1/reviews/13/reply'), self::asked());
        $this->assertSame(array('body' => 'Thank you Ann'), json_decode($GLOBALS['wpt']['requests'][0]['args']['body'], true));
    }

    public function test_a_failed_action_is_reported_not_hidden(): void
    {
        wpt_respond_json(409, array('detail' => 'review 12 is approved already'));
        self::post(array('do' => 'reject:12', '_wpnonce' => wp_create_nonce('aftersale_reviews')));
        try {
            (new Aftersale_Admin_Reviews())->handle();
        } catch (Aftersale_Test_Redirect $r) {
            // back
        }
        $flash = get_transient('aftersale_flash_1');
        $this->assertSame('error', $flash[0]);
        $this->assertStringContainsString('review 12 is approved already', $flash[1]);
        // The next page prints it once, escaped.
        set_transient('aftersale_flash_1', array('error', self::XSS));
        wpt_routes(array('GET /v1/reviews' => array(200, array('items' => array(), 'next_cursor' => null))));
        $html = self::html(function () {
            (new Aftersale_Admin_Reviews())->render();
        });
        $this->assertStringContainsString('&lt;script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertFalse(get_transient('aftersale_flash_1'));
    }

    public function test_published_reviews_link_to_woocommerce(): void
    {
        $_GET = array('tab' => 'published');
        wpt_routes(array('GET /v1/reviews' => array(200, array('items' => array(self::review(array('status' => 'approved', 'woo_review_id' => 88, 'reply' => 'Sorry ' . self::XSS))), 'next_cursor' => null))));
        $html = self::html(function () {
            (new Aftersale_Admin_Reviews())->render();
        });
        $this->assertSame(array('GET /v1/reviews?limit=50&status=approved'), self::asked());
        $this->assertStringContainsString('comment.php?action=editcomment&#038;c=88', $html);
        $this->assertStringContainsString('Sorry &lt;script&gt;', $html);
    }

    public function test_review_statistics_with_a_chart_and_its_table(): void
    {
        $_GET = array('tab' => 'stats');
        wpt_routes(array('GET /v1/reviews/stats' => array(200, self::stats())));
        $html = self::html(function () {
            (new Aftersale_Admin_Reviews())->render();
        });
        $this->assertCount(1 + Aftersale_Admin_Reviews::WEEKS, $GLOBALS['wpt']['requests']);
        foreach (self::asked() as $q) {
            // RFC 3339 times, as the route requires (a date alone is 400).
            $this->assertMatchesRegularExpression('#^GET /v1/reviews/stats\?from=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ&to=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$#', $q);
        }
        $this->assertStringContainsString('<svg', $html);
        $this->assertStringContainsString('role="img"', $html);
        $this->assertStringContainsString('Review requests sent per week', $html);
        $this->assertStringContainsString('<table', $html);
        $this->assertStringContainsString('37.50 %', $html);   // conversion
        $this->assertStringContainsString('4.25', $html);      // average rating
    }

    // ---- returns ------------------------------------------------------------

    private static function ret(array $over = array()): array
    {
        return array_merge(array(
            'id' => 7, 'rma' => 'R-1001', 'order_id' => 42, 'customer_id' => 15, 'email' => 'ann@example.com',
            'state' => 'requested', 'resolution' => 'refund', 'created_by' => 'customer', 'result' => null, 'failure_message' => null,
            'lines' => array(array('line_item_id' => 11, 'product_id' => 27, 'name' => 'Mug <i>big</i>', 'quantity' => 2, 'reason' => 'damaged',
                'note' => self::XSS, 'quantity_received' => null, 'condition' => null,
                'restock' => null, 'exchange_product_id' => null, 'exchange_variation_id' => null)),
            'photos' => array(array('id' => 3, 'media_type' => 'image/png', 'size' => 70)),
            'history' => array(array('actor' => 'customer:15', 'from' => null, 'to' => 'requested', 'changes' => array('note' => 'Broken <b>x</b>'), 'at' => '2026-12-01T10:00:00Z')),
            'created_at' => '2026-12-01T10:00:00Z', 'updated_at' => '2026-12-01T10:00:00Z',
        ), $over);
    }

    private static function settings(): array
    {
        return array('reasons' => array(array('code' => 'damaged', 'labels' => array('en' => 'Damaged ' . self::XSS))));
    }

    public function test_return_page_escapes_serves_photos_through_the_plugin_and_offers_its_actions(): void
    {
        $_GET = array('return' => '7');
        wpt_routes(array('GET /v1/returns/7' => array(200, self::ret()), 'GET /v1/returns/settings' => array(200, self::settings())));
        $html = self::html(function () {
            (new Aftersale_Admin_Returns())->render();
        });
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringContainsString('Damaged &lt;script&gt;', $html);
        $this->assertStringContainsString('Mug &lt;i&gt;big&lt;/i&gt;', $html);
        $this->assertStringContainsString('Broken &lt;b&gt;x&lt;/b&gt;', $html);
        // The photo comes from admin-post.php with a nonce; the service and its key stay hidden.
        $this->assertStringContainsString('admin-post.php?action=aftersale_return_photo&#038;return=7&#038;photo=3&#038;_wpnonce=' . wp_create_nonce('aftersale_return_photo_7'), $html);
        $this->assertStringNotContainsString('svc.test', $html);
        $this->assertStringNotContainsString('ask_testkey', $html);
        // requested: approve (with instructions), reject, cancel; no receive or resolve.
        $this->assertStringContainsString('name="do" value="approve"', $html);
        $this->assertStringContainsString('name="do" value="reject"', $html);
        $this->assertStringContainsString('name="do" value="cancel"', $html);
        $this->assertStringNotContainsString('name="do" value="receive"', $html);
        $this->assertStringNotContainsString('name="do" value="resolve"', $html);
        $this->assertStringContainsString('value="' . wp_create_nonce('aftersale_returns_7') . '"', $html);
    }

    public function test_received_return_shows_the_services_figures_before_confirming(): void
    {
        $_GET = array('return' => '7', 'resolution' => 'store_credit');
        $ret  = self::ret(array('state' => 'received'));
        wpt_routes(array(
            'GET /v1/returns/7' => array(200, $ret),
            'GET /v1/returns/settings' => array(200, self::settings()),
            'GET /v1/returns/7/resolution-preview' => array(200, array(
                'return_id' => 7, 'state' => 'received', 'resolution' => 'store_credit', 'refund_shipping' => false,
                'currency' => 'EUR', 'amount' => '3.96', 'credit' => '4.36', 'basis' => 'snapshot',
                'lines' => array(array('id' => 11, 'quantity' => 1, 'refund_total' => '3.33', 'refund_tax' => array(array('id' => 0, 'refund_total' => '0.63')))),
            )),
        ));
        $html = self::html(function () {
            (new Aftersale_Admin_Returns())->render();
        });
        $this->assertContains('GET /v1/returns/7/resolution-preview?resolution=store_credit&refund_shipping=false', self::asked());
        $this->assertMatchesRegularExpression('/aftersale-refund-amount">3\.96 EUR/', $html);
        $this->assertStringContainsString('Mug &lt;i&gt;big&lt;/i&gt; × 1', $html);
        $this->assertMatchesRegularExpression('/aftersale-credit-amount">4\.36 EUR/', $html);
        $this->assertStringContainsString('name="do" value="resolve"', $html);
        $this->assertStringContainsString('name="resolution" value="store_credit"', $html);
        $this->assertStringContainsString('Confirm: Store credit', $html);
    }

    public function test_receive_posts_the_inspection_with_an_idempotency_key(): void
    {
        wpt_respond_json(200, self::ret(array('state' => 'received')));
        self::post(array(
            'action' => 'aftersale_returns', 'return' => '7', 'do' => 'receive', 'key' => 'k-1',
            '_wpnonce' => wp_create_nonce('aftersale_returns_7'),
            'lines' => array('11' => array('quantity_received' => '1', 'condition' => 'damaged')),
        ));
        try {
            (new Aftersale_Admin_Returns())->handle();
            $this->fail('no redirect');
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertStringContainsString('return=7', $r->url);
        }
        $this->assertSame(array('POST /v1/returns/7/receive'), self::asked());
        $args = $GLOBALS['wpt']['requests'][0]['args'];
        $this->assertSame('wp-admin-receive-k-1', $args['headers']['Idempotency-Key']);
        $this->assertSame(array('lines' => array(array('line_item_id' => 11, 'quantity_received' => 1, 'condition' => 'damaged', 'restock' => false))), json_decode($args['body'], true));
    }

    public function test_return_actions_refuse_without_capability_or_with_another_returns_nonce(): void
    {
        wpt_respond_json(200, self::ret(array('state' => 'approved')));
        $screen = new Aftersale_Admin_Returns();
        // The nonce of request 8 does not act on request 7.
        self::post(array('return' => '7', 'do' => 'approve', '_wpnonce' => wp_create_nonce('aftersale_returns_8')));
        try {
            $screen->handle();
            $this->fail('another request\'s nonce was taken');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
        $GLOBALS['wpt']['caps'] = array('edit_posts');
        self::post(array('return' => '7', 'do' => 'approve', '_wpnonce' => wp_create_nonce('aftersale_returns_7')));
        try {
            $screen->handle();
            $this->fail('no capability, yet it went on');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
    }

    public function test_photo_is_sent_on_with_its_type_and_never_cached(): void
    {
        $png = "\x89PNG\r\n\x1A\nrest";
        $GLOBALS['wpt']['responder'] = function ($url, $args) use ($png) {
            file_put_contents($args['filename'], $png); // phpcs:ignore
            return array('response' => array('code' => 200), 'headers' => array('content-type' => 'image/png'), 'body' => '');
        };
        $_GET = array('return' => '7', 'photo' => '3', '_wpnonce' => wp_create_nonce('aftersale_return_photo_7'));
        $out  = self::html(function () {
            (new Aftersale_Admin_Returns())->photo();
        });
        $this->assertSame($png, $out);
        $this->assertSame(array('GET /v1/returns/7/photos/3'), self::asked());
        $this->assertSame('Bearer ask_testkey0123456789', $GLOBALS['wpt']['requests'][0]['args']['headers']['Authorization']);
        $this->assertContains('Content-Type: image/png', $GLOBALS['aftersale_test_headers']);
        $this->assertContains('Content-Length: ' . strlen($png), $GLOBALS['aftersale_test_headers']);
        $this->assertContains('Cache-Control: private, no-store', $GLOBALS['aftersale_test_headers']);
        $this->assertContains('X-Content-Type-Options: nosniff', $GLOBALS['aftersale_test_headers']);
    }

    public function test_photo_refuses_a_forged_link_and_anything_but_an_image(): void
    {
        $GLOBALS['wpt']['responder'] = function ($url, $args) {
            file_put_contents($args['filename'], self::XSS); // phpcs:ignore
            return array('response' => array('code' => 200), 'headers' => array('content-type' => 'text/html'), 'body' => '');
        };
        $_GET = array('return' => '7', 'photo' => '3', '_wpnonce' => wp_create_nonce('aftersale_return_photo_8'));
        try {
            self::html(function () {
                (new Aftersale_Admin_Returns())->photo();
            });
            $this->fail('forged link served');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
        $_GET['_wpnonce'] = wp_create_nonce('aftersale_return_photo_7');
        $this->expectException(Aftersale_Test_Die::class);
        self::html(function () {
            (new Aftersale_Admin_Returns())->photo();
        });
    }

    public function test_queue_filters_reach_the_service(): void
    {
        $_GET = array('state' => 'approved', 'email' => 'ann@example.com', 'created_after' => '2026-11-01', 'created_before' => 'junk', 'reason' => 'Bad Reason!');
        wpt_routes(array('GET /v1/returns' => array(200, array('items' => array(self::ret(array('rma' => 'R-<b>1</b>'))), 'next_cursor' => null))));
        $html = self::html(function () {
            (new Aftersale_Admin_Returns())->render();
        });
        $this->assertSame(array('GET /v1/returns?limit=50&state=approved&email=ann%40example.com&reason=badreason&created_after=2026-11-01'), self::asked());
        $this->assertStringContainsString('R-&lt;b&gt;1&lt;/b&gt;', $html);
        $this->assertStringContainsString('page=aftersale-returns&#038;return=7', $html);
    }

    public function test_returns_report_with_reasons_and_products_returned_most(): void
    {
        $_GET = array('tab' => 'report', 'from' => '2026-11-01', 'to' => '2026-12-01');
        $b    = self::ret(array('id' => 8, 'lines' => array(array_merge(self::ret()['lines'][0], array('product_id' => 30, 'name' => 'Plate', 'quantity' => 1)))));
        $c    = self::ret(array('id' => 9, 'state' => 'cancelled', 'lines' => array(array_merge(self::ret()['lines'][0], array('product_id' => 30, 'name' => 'Plate', 'quantity' => 9)))));
        wpt_routes(array(
            'GET /v1/returns/report' => array(200, array('from' => '2026-11-01', 'to' => '2026-12-01', 'requests' => 3,
                'by_state' => array('requested' => 2, 'cancelled' => 1), 'by_resolution' => array('refund' => 3),
                'by_reason' => array(array('reason' => 'damaged', 'lines' => 3, 'units' => 12)),
                'refunded' => '12.50', 'credited' => '0.00', 'exchanges' => 0, 'median_hours_to_resolve' => null)),
            'GET /v1/returns/settings' => array(200, self::settings()),
            'GET /v1/returns' => array(200, array('items' => array(self::ret(), $b, $c), 'next_cursor' => null)),
        ));
        $html = self::html(function () {
            (new Aftersale_Admin_Returns())->render();
        });
        $this->assertContains('GET /v1/returns/report?from=2026-11-01&to=2026-12-01', self::asked());
        $this->assertContains('GET /v1/returns?limit=100&created_after=2026-11-01&created_before=2026-12-01', self::asked());
        $this->assertStringContainsString('12.50', $html);
        $this->assertStringContainsString('Units returned by reason', $html);
        $this->assertStringContainsString('Damaged &lt;script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        // Mug 2 units first, Plate 1 (the cancelled request's 9 do not count).
        $this->assertMatchesRegularExpression('/aftersale-top-products.*Mug &lt;i&gt;big&lt;\/i&gt;<\/td><td>2<.*Plate<\/td><td>1</s', $html);
    }

    // ---- surveys ------------------------------------------------------------

    private static function survey(array $over = array()): array
    {
        return array_merge(array(
            'id' => 3, 'name' => 'After purchase ' . self::XSS, 'status' => 'active', 'version' => 2, 'current_version' => 2,
            'questions' => array(array('id' => 'nps', 'kind' => 'nps', 'label' => array('en' => 'How likely <i>are</i> you?')),
                array('id' => 'why', 'kind' => 'text', 'label' => array('en' => 'Why?'))),
            'trigger' => array(), 'audience' => array(), 'sampling_rate' => 0.5, 'recontact_days' => 90, 'expiry' => 'P14D',
            'created_at' => '2026-11-01T00:00:00Z', 'updated_at' => '2026-11-02T00:00:00Z',
        ), $over);
    }

    private static function metrics(array $over = array()): array
    {
        return array_merge(array(
            'invitations_sent' => 40, 'responses' => 20, 'response_rate' => 0.5,
            'nps' => array('question' => 'nps', 'score' => 30.0, 'margin_of_error' => 12.5, 'promoters' => 10, 'passives' => 6, 'detractors' => 4, 'n' => 20),
            'csat' => null, 'ces' => null,
            'questions' => array(array('id' => 'nps', 'kind' => 'nps', 'answered' => 20, 'mean' => 7.5, 'distribution' => array('10' => 6, '9' => 4, '7' => 6, '2' => 4))),
        ), $over);
    }

    public function test_survey_list_escapes_and_links_each_view(): void
    {
        wpt_routes(array('GET /v1/surveys' => array(200, array('items' => array(self::survey()), 'next_cursor' => null))));
        $html = self::html(function () {
            (new Aftersale_Admin_Surveys())->render();
        });
        $this->assertStringContainsString('After purchase &lt;script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        foreach (array('report', 'responses', 'edit') as $v) {
            $this->assertStringContainsString('view=' . $v . '&#038;survey=3', $html);
        }
        $this->assertStringContainsString('50 %', $html);
    }

    public function test_new_survey_from_a_template(): void
    {
        $_GET = array('view' => 'new');
        wpt_routes(array('GET /v1/survey-templates' => array(200, array('items' => array(
            array('name' => 'post_purchase_nps', 'title' => 'NPS <b>after</b> purchase', 'questions' => self::survey()['questions'], 'settings' => array()),
        )))));
        $html = self::html(function () {
            (new Aftersale_Admin_Surveys())->render();
        });
        $this->assertStringContainsString('value="post_purchase_nps"', $html);
        $this->assertStringContainsString('NPS &lt;b&gt;after&lt;/b&gt; purchase', $html);
        $this->assertStringContainsString('value="' . wp_create_nonce('aftersale_surveys_create') . '"', $html);

        wpt_respond_json(201, self::survey(array('id' => 5)));
        self::post(array('do' => 'create', 'template' => 'post_purchase_nps', 'name' => 'Mine', 'status' => 'active', '_wpnonce' => wp_create_nonce('aftersale_surveys_create')));
        try {
            (new Aftersale_Admin_Surveys())->handle();
            $this->fail('no redirect');
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertStringContainsString('view=report&survey=5', $r->url);
        }
        $last = end($GLOBALS['wpt']['requests']);
        $this->assertSame('https://svc.test/v1/surveys', $last['url']);
        $this->assertSame(array('template' => 'post_purchase_nps', 'name' => 'Mine', 'status' => 'active'), json_decode($last['args']['body'], true));
    }

    public function test_survey_actions_refuse_without_capability_or_nonce(): void
    {
        wpt_respond_json(200, self::survey());
        self::post(array('do' => 'create', 'template' => 'post_purchase_nps', '_wpnonce' => 'forged'));
        try {
            (new Aftersale_Admin_Surveys())->handle();
            $this->fail('forged nonce taken');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
        $GLOBALS['wpt']['caps'] = array();
        self::post(array('do' => 'follow_up', 'response' => '4', 'follow_up' => 'contacted', '_wpnonce' => wp_create_nonce('aftersale_surveys_response_4')));
        try {
            (new Aftersale_Admin_Surveys())->handle();
            $this->fail('no capability, yet it went on');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
    }

    public function test_survey_report_draws_nps_with_its_margin_and_the_scores(): void
    {
        $_GET = array('view' => 'report', 'survey' => '3', 'from' => '2026-10-01', 'to' => '2026-10-31', 'interval' => 'month');
        wpt_routes(array(
            'GET /v1/surveys/3' => array(200, self::survey()),
            'GET /v1/surveys/3/report' => array(200, array(
                'survey_id' => 3, 'from' => '2026-10-01', 'to' => '2026-10-31', 'interval' => 'month', 'timezone' => 'UTC', 'version' => null,
                'totals' => self::metrics(),
                'over_time' => array(self::metrics(array('period' => '2026-09')), self::metrics(array('period' => '2026-10', 'nps' => array('question' => 'nps', 'score' => 50.0, 'margin_of_error' => 10.0, 'promoters' => 6, 'passives' => 2, 'detractors' => 2, 'n' => 10)))),
                'by_country' => array(self::metrics(array('country' => 'D<b>E</b>'))),
                'by_customer' => array(self::metrics(array('customer' => 'first'))),
                'by_product' => array(self::metrics(array('product_id' => 27, 'product_name' => 'Mug'))),
            )),
        ));
        $html = self::html(function () {
            (new Aftersale_Admin_Surveys())->render();
        });
        $this->assertContains('GET /v1/surveys/3/report?from=2026-10-01&to=2026-10-31&interval=month', self::asked());
        $this->assertStringContainsString('NPS over time, with its 95% margin of error', $html);
        $this->assertStringContainsString('<polygon', $html);                  // the margin band
        $this->assertStringContainsString('95% range', $html);                 // and its column
        $this->assertMatchesRegularExpression('/40\s*–\s*60/u', $html);         // 50 ± 10
        $this->assertStringContainsString('Scores of nps', $html);
        $this->assertStringContainsString('30 ± 12.50', $html);
        $this->assertStringContainsString('D&lt;b&gt;E&lt;/b&gt;', $html);
        $this->assertStringContainsString('First order', $html);
        $this->assertSame(2, substr_count($html, '<svg'));
    }

    public function test_the_fallback_chart_draws_the_band_of_a_single_period(): void
    {
        $html = self::html(function () {
            Aftersale_Admin_Base::svg_chart('line', 'NPS <b>x</b>', 'Period', 'NPS', array(array('2026-W45', 50.0, 40.0, 60.0)));
        });
        $this->assertStringContainsString('<polygon', $html);
        $this->assertStringContainsString('<title id="aftersale-chart-', $html);
        $this->assertStringContainsString('NPS &lt;b&gt;x&lt;/b&gt;', $html);
        $this->assertMatchesRegularExpression('/<td>40\s*–\s*60<\/td>/u', $html);
        $html = self::html(function () {
            Aftersale_Admin_Base::svg_chart('bars', 'Scores', 'Score', 'Responses', array(array('3', 1), array('9', 2)));
        });
        $this->assertSame(2, substr_count($html, '<rect'));
        $this->assertStringNotContainsString('<polygon', $html);
    }

    public function test_edit_shows_versions_and_patches_only_what_changed(): void
    {
        $_GET = array('view' => 'edit', 'survey' => '3', 'version' => '1');
        wpt_routes(array('GET /v1/surveys/3' => array(200, self::survey())));
        $html = self::html(function () {
            (new Aftersale_Admin_Surveys())->render();
        });
        $this->assertContains('GET /v1/surveys/3?version=1', self::asked());
        $this->assertStringContainsString('Version 2', $html);
        $this->assertStringContainsString('Version 1', $html);
        $this->assertStringContainsString('value="How likely &lt;i&gt;are&lt;/i&gt; you?"', $html);

        $seen = array();
        $GLOBALS['wpt']['responder'] = function ($url, $args) use (&$seen) {
            $seen[] = array($args['method'], (string) parse_url($url, PHP_URL_PATH), $args['body'] ?? null);
            return array('response' => array('code' => 200), 'body' => json_encode(self::survey(array('name' => 'After purchase'))));
        };
        self::post(array('do' => 'update', 'survey' => '3', 'name' => 'After purchase', 'status' => 'paused', 'sampling' => '50',
            'labels' => array('nps' => 'How likely are you to recommend us?', 'why' => 'Why?'), '_wpnonce' => wp_create_nonce('aftersale_surveys_3')));
        try {
            (new Aftersale_Admin_Surveys())->handle();
        } catch (Aftersale_Test_Redirect $r) {
            // back to the form
        }
        $this->assertSame('PATCH', $seen[1][0]);
        $patch = json_decode($seen[1][2], true);
        $this->assertSame(array('status', 'questions'), array_keys($patch));
        $this->assertSame('How likely are you to recommend us?', $patch['questions'][0]['label']['en']);
    }

    public function test_follow_up_is_patched(): void
    {
        wpt_respond_json(200, array('id' => 4));
        self::post(array('do' => 'follow_up', 'response' => '4', 'survey' => '3', 'follow_up' => 'contacted', 'note' => 'Called <b>her</b>', '_wpnonce' => wp_create_nonce('aftersale_surveys_response_4')));
        try {
            (new Aftersale_Admin_Surveys())->handle();
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertStringContainsString('view=responses&survey=3', $r->url);
        }
        $this->assertSame(array('PATCH /v1/survey-responses/4'), self::asked());
        $this->assertSame(array('note' => 'Called her', 'follow_up' => 'contacted'), json_decode($GLOBALS['wpt']['requests'][0]['args']['body'], true));
    }

    public function test_responses_with_filters_and_the_csv_link(): void
    {
        $_GET = array('view' => 'responses', 'survey' => '3', 'score_max' => '6', 'follow_up' => 'new');
        wpt_routes(array(
            'GET /v1/surveys/3' => array(200, self::survey()),
            'GET /v1/surveys/3/responses' => array(200, array('items' => array(array(
                'id' => 4, 'survey_id' => 3, 'invitation_id' => 9, 'order_id' => 42, 'version' => 2,
                'answers' => array('nps' => 2, 'why' => 'Slow ' . self::XSS), 'other' => array(), 'complete' => true, 'score' => 2,
                'country' => 'DE', 'first_order' => true, 'email' => 'ann@example.com', 'follow_up' => 'new', 'note' => null,
                'created_at' => '2026-11-03T00:00:00Z', 'updated_at' => '2026-11-03T00:00:00Z',
            )), 'next_cursor' => null)),
        ));
        $html = self::html(function () {
            (new Aftersale_Admin_Surveys())->render();
        });
        $this->assertContains('GET /v1/surveys/3/responses?limit=50&score_max=6&follow_up=new', self::asked());
        $this->assertStringContainsString('Slow &lt;script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringContainsString('admin-post.php?action=aftersale_survey_csv&#038;survey=3&#038;_wpnonce=' . wp_create_nonce('aftersale_survey_csv_3'), $html);
        $this->assertStringContainsString('value="' . wp_create_nonce('aftersale_surveys_response_4') . '"', $html);
    }

    public function test_csv_is_streamed_through_the_plugin(): void
    {
        $csv = "response_id,email\n4,ann@example.com\n";
        $GLOBALS['wpt']['responder'] = function ($url, $args) use ($csv) {
            // WordPress writes a streamed body to the file it was given.
            file_put_contents($args['filename'], $csv); // phpcs:ignore
            return array('response' => array('code' => 200), 'headers' => array('content-type' => 'text/csv'), 'body' => '');
        };
        $_GET = array('survey' => '3', '_wpnonce' => wp_create_nonce('aftersale_survey_csv_3'));
        $out  = self::html(function () {
            (new Aftersale_Admin_Surveys())->csv();
        });
        $this->assertSame($csv, $out);
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/surveys/3/responses.csv', $req['url']);
        $this->assertTrue($req['args']['stream']);
        $this->assertFileDoesNotExist($req['args']['filename']);
        $this->assertContains('Content-Disposition: attachment; filename="survey-3-responses.csv"', $GLOBALS['aftersale_test_headers']);

        $GLOBALS['wpt']['requests'] = array();
        $_GET = array('survey' => '3', '_wpnonce' => wp_create_nonce('aftersale_survey_csv_4'));
        try {
            (new Aftersale_Admin_Surveys())->csv();
            $this->fail('forged link served');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
    }
}
