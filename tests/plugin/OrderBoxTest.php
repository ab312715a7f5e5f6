<?php

use PHPUnit\Framework\TestCase;

final class OrderBoxTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
        $GLOBALS['wpt']['orders'][42] = new Wpt_Order(array(
            'id' => 42, 'customer_id' => 15, 'email' => 'ann@example.com', 'currency' => 'EUR', 'total' => '30.00',
            'items' => array(11 => array('product_id' => 5, 'quantity' => 3, 'total' => '30.00', 'name' => 'Mug')),
        ));
    }

    private static function entry(int $id, int $delta, string $reason, ?int $order): array
    {
        return array('id' => $id, 'delta' => $delta, 'reason' => $reason, 'source' => array('kind' => 'order', 'id' => (string) $order),
            'order_id' => $order, 'balance_after' => 100, 'uncollected' => 0, 'expires_at' => null, 'note' => '', 'actor' => 'webhook',
            'created_at' => '2026-12-01T10:00:00Z');
    }

    private function routes(array $override = array()): void
    {
        wpt_routes(array_merge(array(
            'GET /v1/returns' => array(200, array('items' => array(array(
                'id' => 7, 'rma' => 'R-1001', 'order_id' => 42, 'customer_id' => 15, 'email' => 'ann@example.com', 'state' => 'requested',
                'resolution' => 'refund', 'created_by' => 'customer', 'result' => null, 'failure_message' => null,
                'lines' => array(array('line_item_id' => 11, 'product_id' => 5, 'name' => 'Mug', 'quantity' => 1, 'reason' => 'damaged',
                    'note' => '<script>alert(1)</script>', 'quantity_received' => null, 'condition' => null, 'restock' => null,
                    'exchange_product_id' => null, 'exchange_variation_id' => null)),
                'photos' => array(array('id' => 1, 'media_type' => 'image/png', 'size' => 70)), 'history' => array(),
                'created_at' => '2026-12-01T10:00:00Z', 'updated_at' => '2026-12-01T10:00:00Z',
            )), 'next_cursor' => null)),
            'GET /v1/loyalty/accounts' => array(200, array('items' => array(
                array('id' => 2, 'customer_id' => null, 'email' => 'ann@example.com', 'balance' => 5, 'lifetime_points' => 5, 'created_at' => '2026-01-01T00:00:00Z'),
                array('id' => 3, 'customer_id' => 15, 'email' => 'ann@example.com', 'balance' => 250, 'lifetime_points' => 300, 'created_at' => '2026-01-01T00:00:00Z'),
            ), 'next_cursor' => null)),
            'GET /v1/loyalty/accounts/3/ledger' => array(200, array('items' => array(
                self::entry(9, -10, 'refund', 42), self::entry(8, 60, 'earn', 41), self::entry(7, 30, 'earn', 42),
            ), 'next_cursor' => null)),
            'GET /v1/review-requests' => array(200, array('items' => array(array(
                'id' => 9, 'order_id' => 42, 'email' => 'ann@example.com', 'first_name' => 'Ann', 'status' => 'answered',
                'due_at' => '2026-11-29T06:20:11Z', 'sent_at' => '2026-11-29T06:20:14Z', 'reminders_sent' => 0,
                'expires_at' => '2026-12-29T06:20:14Z', 'answered_at' => '2026-11-30T09:12:00Z', 'cancel_reason' => null,
                'created_at' => '2026-11-22T06:20:13Z', 'locale' => null,
                'products' => array(
                    array('product_id' => 5, 'name' => 'Mug <b>XL</b>', 'reviewed' => true),
                    array('product_id' => 6, 'name' => 'Pot', 'reviewed' => true),
                ),
                'reviews' => array(
                    self::review(12, 5, 2, 'pending', null),
                    self::review(13, 6, 5, 'approved', 311),
                ),
            )), 'next_cursor' => null)),
            'GET /v1/survey-responses' => array(200, array('items' => array(array(
                'id' => 77, 'survey_id' => 4, 'invitation_id' => 70, 'order_id' => 42, 'version' => 1, 'answers' => array('nps' => 3),
                'other' => array(), 'complete' => true, 'score' => 3, 'country' => 'SK', 'first_order' => true,
                'email' => 'ann@example.com', 'follow_up' => 'contacted', 'note' => null, 'created_at' => '2026-12-01T11:00:00Z',
                'updated_at' => '2026-12-01T11:00:00Z', 'survey_name' => 'After <em>delivery</em>',
            )), 'next_cursor' => null)),
        ), $override));
    }

    private static function review(int $id, int $product, int $rating, string $status, ?int $woo): array
    {
        return array('id' => $id, 'request_id' => 9, 'order_id' => 42, 'product_id' => $product, 'rating' => $rating,
            'title' => 't', 'body' => 'b', 'reviewer_name' => 'Ann', 'reviewer_email' => 'ann@example.com', 'status' => $status,
            'woo_review_id' => $woo, 'verified' => null, 'published_at' => null, 'reply' => null, 'replied_at' => null,
            'created_at' => '2026-11-30T09:12:00Z', 'moderated_at' => null);
    }

    private function box_html(): string
    {
        ob_start();
        (new Aftersale_Order_Box())->render(wc_get_order(42));
        return (string) ob_get_clean();
    }

    public function test_the_box_is_on_the_hpos_order_screen_for_shop_managers_only(): void
    {
        $box = new Aftersale_Order_Box();
        $box->register();
        do_action('add_meta_boxes');
        $this->assertSame(array(array('aftersale-order', 'Aftersale', 'woocommerce_page_wc-orders', 'side')), $GLOBALS['wpt']['meta_boxes']);
        $GLOBALS['wpt']['caps']       = array();
        $GLOBALS['wpt']['meta_boxes'] = array();
        do_action('add_meta_boxes');
        $this->assertSame(array(), $GLOBALS['wpt']['meta_boxes']);
        ob_start();
        $box->render(wc_get_order(42));
        $this->assertSame('', ob_get_clean());
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }

    public function test_points_of_the_order_and_its_returns_escaped(): void
    {
        $this->routes();
        $post     = new stdClass();
        $post->ID = 42;
        ob_start();
        (new Aftersale_Order_Box())->render($post);
        $html = (string) ob_get_clean();
        $this->assertStringContainsString('data-delta="30"', $html);
        $this->assertStringContainsString('data-delta="-10"', $html);
        $this->assertStringNotContainsString('data-delta="60"', $html, 'another order\'s entry');
        $this->assertStringContainsString('Account #3, balance 250', $html, 'the customer\'s account, not the guest one');
        $this->assertStringContainsString('R-1001', $html);
        $this->assertStringContainsString('data-state="requested"', $html);
        $this->assertStringContainsString('&lt;script&gt;alert(1)&lt;/script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringContainsString('1 photo', $html);
        $urls = array_column($GLOBALS['wpt']['requests'], 'url');
        $this->assertContains('https://svc.test/v1/returns?limit=100&order_id=42', $urls);
        $this->assertContains('https://svc.test/v1/loyalty/accounts?limit=100&email=ann%40example.com', $urls);
        $this->assertSame('Bearer ask_testkey0123456789', $GLOBALS['wpt']['requests'][0]['args']['headers']['Authorization']);
    }

    public function test_review_request_reviews_survey_response_and_links(): void
    {
        $this->routes();
        $html = $this->box_html();
        $urls = array_column($GLOBALS['wpt']['requests'], 'url');
        $this->assertContains('https://svc.test/v1/review-requests?limit=100&order_id=42', $urls);
        $this->assertContains('https://svc.test/v1/survey-responses?limit=100&order_id=42', $urls);
        $this->assertStringNotContainsString('aftersale-order-box__error', $html);

        // The request: status, sent and answered.
        $this->assertStringContainsString('data-status="answered"', $html);
        $this->assertStringContainsString('>Answered</a>', $html);
        $this->assertStringContainsString('Sent ' . date_i18n(get_option('date_format'), strtotime('2026-11-29T06:20:14Z')), $html);
        $this->assertStringContainsString('Answered ' . date_i18n(get_option('date_format'), strtotime('2026-11-30T09:12:00Z')), $html);
        $this->assertStringContainsString('href="https://shop.test/wp-admin/admin.php?page=aftersale-reviews&#038;tab=stats"', $html);

        // Its reviews: stars, status, product name escaped, links on.
        $this->assertStringContainsString('aria-label="2 of 5 stars">★★☆☆☆</span>', $html);
        $this->assertStringContainsString('aria-label="5 of 5 stars">★★★★★</span>', $html);
        $this->assertStringContainsString('Mug &lt;b&gt;XL&lt;/b&gt;', $html);
        $this->assertStringNotContainsString('<b>XL', $html);
        $this->assertMatchesRegularExpression('~data-review="12" data-status="pending">.*?<a href="https://shop\.test/wp-admin/admin\.php\?page=aftersale-reviews">Waiting for moderation</a>~s', $html);
        $this->assertMatchesRegularExpression('~data-review="13" data-status="approved">.*?href="https://shop\.test/wp-admin/admin\.php\?page=aftersale-reviews&#038;tab=published">Approved</a>.*?href="https://shop\.test/wp-admin/comment\.php\?action=editcomment&#038;c=311">Open the review</a>~s', $html);
        $this->assertSame(1, substr_count($html, 'comment.php?action=editcomment'), 'only the published review opens in WordPress');

        // The survey response: name escaped, score, follow-up, link to the survey's responses.
        $this->assertStringContainsString('After &lt;em&gt;delivery&lt;/em&gt;', $html);
        $this->assertStringNotContainsString('<em>delivery', $html);
        $this->assertStringContainsString('score 3', $html);
        $this->assertStringContainsString('data-follow-up="contacted"', $html);
        $this->assertStringContainsString('Contacted', $html);
        $this->assertStringContainsString('href="https://shop.test/wp-admin/admin.php?page=aftersale-surveys&#038;view=responses&#038;survey=4#aftersale-response-77"', $html);

        // The return and the loyalty account link to their screens.
        $this->assertStringContainsString('href="https://shop.test/wp-admin/admin.php?page=aftersale-returns&#038;return=7"><strong>R-1001</strong></a>', $html);
        $this->assertStringContainsString('href="https://shop.test/wp-admin/admin.php?page=aftersale-loyalty&#038;account=3"', $html);
    }

    public function test_nothing_yet_says_so_per_section(): void
    {
        wpt_routes(array(
            'GET /v1/returns'            => array(200, array('items' => array(), 'next_cursor' => null)),
            'GET /v1/review-requests'    => array(200, array('items' => array(), 'next_cursor' => null)),
            'GET /v1/survey-responses'   => array(200, array('items' => array(), 'next_cursor' => null)),
            'GET /v1/loyalty/accounts'   => array(200, array('items' => array(), 'next_cursor' => null)),
        ));
        $html = $this->box_html();
        $this->assertStringContainsString('No points for this order.', $html);
        $this->assertStringContainsString('No review request for this order.', $html);
        $this->assertStringContainsString('No survey response for this order.', $html);
        $this->assertStringContainsString('No return requests.', $html);
        $this->assertStringNotContainsString('aftersale-order-box__error', $html);
        $this->assertStringNotContainsString('no look-up by order', $html);
    }

    public function test_one_lookup_failing_leaves_the_rest_and_one_notice(): void
    {
        $this->routes(array('GET /v1/survey-responses' => array(503, array('type' => 'unavailable', 'title' => 'down', 'status' => 503))));
        $html = $this->box_html();
        $this->assertSame(1, substr_count($html, 'The aftersale service cannot be reached right now.'));
        $this->assertStringNotContainsString('Survey responses', $html);
        $this->assertStringContainsString('R-1001', $html);
        $this->assertStringContainsString('data-review="13"', $html);
        $this->assertStringContainsString('data-delta="30"', $html);
    }

    public function test_service_down_says_so(): void
    {
        ob_start();
        (new Aftersale_Order_Box())->render(wc_get_order(42));
        $html = (string) ob_get_clean();
        $this->assertSame(1, substr_count($html, 'The aftersale service cannot be reached right now.'), 'one notice');
        $this->assertStringNotContainsString('<h4>', $html, 'no empty sections');
    }
}
