<?php

use PHPUnit\Framework\TestCase;

final class ReturnsTest extends TestCase
{
    private const SETTINGS = array(
        'window_days' => 30, 'window_start' => 'completed', 'eligible_statuses' => array('completed'),
        'excluded_products' => array(), 'excluded_categories' => array(),
        'reasons' => array(
            array('code' => 'damaged', 'labels' => array('en' => 'Damaged <script>alert(1)</script>', 'de' => 'Beschädigt'), 'note_required' => false, 'photo_required' => true, 'customer_pays_shipping' => false),
            array('code' => 'changed_mind', 'labels' => array('en' => 'Changed my mind'), 'note_required' => false, 'photo_required' => false, 'customer_pays_shipping' => true),
        ),
        'resolutions' => array('refund' => true, 'store_credit' => true, 'exchange' => true),
        'instructions' => 'Send it <b>back</b>',
    );

    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id']    = 15;
        $GLOBALS['wpt']['user_email'] = 'ann@example.com';
        $GLOBALS['wpt']['orders'][42] = new Wpt_Order(array(
            'id' => 42, 'customer_id' => 15, 'email' => 'ann@example.com', 'currency' => 'EUR', 'total' => '30.00',
            'status' => 'completed', 'completed' => time() - 86400,
            'items' => array(
                11 => array('product_id' => 5, 'quantity' => 3, 'total' => '30.00', 'name' => 'Mug <i>big</i>'),
                12 => array('product_id' => 6, 'quantity' => 1, 'total' => '5.00', 'name' => 'Spoon'),
            ),
        ));
        $GLOBALS['wpt']['orders'][43] = new Wpt_Order(array(
            'id' => 43, 'customer_id' => 99, 'email' => 'bob@example.com', 'currency' => 'EUR', 'total' => '9.00',
            'status' => 'completed', 'completed' => time() - 86400,
            'items' => array(21 => array('product_id' => 5, 'quantity' => 1, 'total' => '9.00', 'name' => 'Mug')),
        ));
    }

    private static function request(array $over = array()): array
    {
        return array_merge(array(
            'id' => 7, 'rma' => 'R-1001', 'order_id' => 42, 'customer_id' => 15, 'email' => 'ann@example.com',
            'state' => 'requested', 'resolution' => 'refund', 'created_by' => 'customer', 'result' => null, 'failure_message' => null,
            'lines' => array(array('line_item_id' => 11, 'product_id' => 5, 'name' => 'Mug <i>big</i>', 'quantity' => 1, 'reason' => 'damaged',
                'note' => '<script>alert("x")</script><img src=x onerror=alert(2)>', 'quantity_received' => null, 'condition' => null,
                'restock' => null, 'exchange_product_id' => null, 'exchange_variation_id' => null)),
            'photos' => array(array('id' => 1, 'media_type' => 'image/png', 'size' => 70)),
            'history' => array(array('actor' => 'customer:15', 'from' => null, 'to' => 'requested', 'changes' => (object) array(), 'at' => '2026-12-01T10:00:00Z')),
            'created_at' => '2026-12-01T10:00:00Z', 'updated_at' => '2026-12-01T10:00:00Z',
        ), $over);
    }

    private function render(Aftersale_Returns $r): string
    {
        ob_start();
        $r->render();
        return (string) ob_get_clean();
    }

    public function test_endpoint_menu_and_hooks(): void
    {
        $r = new Aftersale_Returns();
        $r->register();
        do_action('init');
        $this->assertSame(array(array('returns', EP_ROOT | EP_PAGES)), $GLOBALS['wpt']['endpoints']);
        $items = $r->menu_items(array('dashboard' => 'Dashboard', 'orders' => 'Orders', 'points' => 'Points', 'customer-logout' => 'Log out'));
        $this->assertSame(array('dashboard', 'orders', 'returns', 'points', 'customer-logout'), array_keys($items));
        $items = $r->menu_items(array('dashboard' => 'Dashboard', 'customer-logout' => 'Log out'));
        $this->assertSame(array('dashboard', 'returns', 'customer-logout'), array_keys($items));
        $this->assertArrayHasKey('woocommerce_my_account_my_orders_actions', $GLOBALS['wpt']['filters']);
    }

    public function test_request_a_return_only_on_own_eligible_orders(): void
    {
        wpt_routes(array('GET /v1/returns/settings' => array(200, self::SETTINGS)));
        $r = new Aftersale_Returns();
        $own = $r->order_actions(array(), wc_get_order(42));
        $this->assertSame('Request a return', $own['aftersale-return']['name']);
        $this->assertStringContainsString('aftersale_return_order=42', $own['aftersale-return']['url']);
        $this->assertSame(array(), $r->order_actions(array(), wc_get_order(43)), 'another customer\'s order');

        $GLOBALS['wpt']['orders'][44] = new Wpt_Order(array('id' => 44, 'customer_id' => 15, 'email' => 'a', 'currency' => 'EUR',
            'total' => '1', 'status' => 'processing', 'items' => array()));
        $this->assertSame(array(), $r->order_actions(array(), wc_get_order(44)), 'status not eligible');
        $GLOBALS['wpt']['orders'][45] = new Wpt_Order(array('id' => 45, 'customer_id' => 15, 'email' => 'a', 'currency' => 'EUR',
            'total' => '1', 'status' => 'completed', 'completed' => time() - 40 * 86400, 'items' => array()));
        $this->assertSame(array(), $r->order_actions(array(), wc_get_order(45)), 'window over');
    }

    public function test_no_action_when_the_service_is_down(): void
    {
        $r = new Aftersale_Returns();
        $this->assertSame(array('view' => 1), $r->order_actions(array('view' => 1), wc_get_order(42)));
    }

    public function test_form_lists_quantities_left_reasons_and_escapes(): void
    {
        wpt_routes(array(
            'GET /v1/returns/settings' => array(200, self::SETTINGS),
            'GET /v1/returns' => array(200, array('items' => array(
                self::request(),
                self::request(array('id' => 8, 'state' => 'cancelled', 'lines' => array(array_merge(self::request()['lines'][0], array('quantity' => 2))))),
            ), 'next_cursor' => null)),
        ));
        $_GET['aftersale_return_order'] = '42';
        $html = $this->render(new Aftersale_Returns());
        $this->assertStringContainsString('Request a return for order #42', $html);
        $this->assertStringContainsString('enctype="multipart/form-data"', $html);
        // 3 bought, 1 held by the open request, the cancelled one holds none: 0..2.
        $this->assertStringContainsString('name="aftersale_lines[11][quantity]"', $html);
        $this->assertMatchesRegularExpression('/aftersale-qty-11.*value="2".*<\/select>/s', $html);
        $this->assertDoesNotMatchRegularExpression('/aftersale-qty-11"[^>]*>(?:(?!<\/select>).)*value="3"/s', $html);
        $this->assertStringContainsString('Mug &lt;i&gt;big&lt;/i&gt;', $html);
        $this->assertStringContainsString('Damaged &lt;script&gt;alert(1)&lt;/script&gt; (photo needed)', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringContainsString('Send it &lt;b&gt;back&lt;/b&gt;', $html);
        $this->assertStringContainsString('value="refund"', $html);
        $this->assertStringContainsString('value="store_credit"', $html);
        $this->assertStringNotContainsString('value="exchange"', $html);
        $this->assertStringContainsString('value="' . wp_create_nonce('aftersale_return_42') . '"', $html);
    }

    public function test_form_of_another_customers_order_is_refused(): void
    {
        wpt_routes(array('GET /v1/returns/settings' => array(200, self::SETTINGS), 'GET /v1/returns' => array(200, array('items' => array(), 'next_cursor' => null))));
        $_GET['aftersale_return_order'] = '43';
        $html = $this->render(new Aftersale_Returns());
        $this->assertStringContainsString('This order cannot be returned.', $html);
        $this->assertStringNotContainsString('<form', $html);
        $this->assertSame(array(), array_filter($GLOBALS['wpt']['requests'], function ($r) {
            return strpos($r['url'], 'order_id=43') !== false;
        }));
    }

    public function test_submit_creates_the_request_with_a_returns_token(): void
    {
        $seen = array();
        $GLOBALS['wpt']['responder'] = function ($url, $args) use (&$seen) {
            $seen[] = array($url, $args);
            return array('response' => array('code' => 201), 'body' => json_encode(self::request()));
        };
        $_POST = array(
            'aftersale_return_order' => '42',
            'aftersale_return_nonce' => wp_create_nonce('aftersale_return_42'),
            'aftersale_return_key' => 'k-1',
            'aftersale_resolution' => 'store_credit',
            'aftersale_lines' => array(
                11 => array('quantity' => '1', 'reason' => 'damaged', 'note' => 'Broken <script>alert(1)</script> handle'),
                12 => array('quantity' => '0', 'reason' => 'damaged', 'note' => ''),
                99 => array('quantity' => '5', 'reason' => 'damaged'),
            ),
        );
        try {
            (new Aftersale_Returns())->handle_submit();
            $this->fail('no redirect');
        } catch (Aftersale_Test_Redirect $e) {
            $this->assertSame('redirect to https://shop.test/my-account/returns/?aftersale_requested=7', $e->getMessage());
        }
        $this->assertCount(1, $seen);
        $this->assertSame('https://svc.test/v1/me/returns', $seen[0][0]);
        $body = json_decode($seen[0][1]['body'], true);
        $this->assertSame(42, $body['order_id']);
        $this->assertSame('store_credit', $body['resolution']);
        $this->assertCount(1, $body['lines'], 'only the order\'s own lines with a quantity');
        $this->assertSame(11, $body['lines'][0]['line_item_id']);
        $this->assertStringNotContainsString('<script>', $body['lines'][0]['note']);
        $claims = wpt_jwt_claims(substr($seen[0][1]['headers']['Authorization'], 7));
        $this->assertSame('returns', $claims['scope']);
        $this->assertSame('15', $claims['sub']);
        $this->assertSame('wp-return-15-k-1', $seen[0][1]['headers']['Idempotency-Key']);
        $this->assertSame(array(), $GLOBALS['wpt']['wc_notices']);
    }

    public function test_submit_with_a_bad_nonce_or_another_customers_order_posts_nothing(): void
    {
        $_POST = array('aftersale_return_order' => '42', 'aftersale_return_nonce' => 'bad',
            'aftersale_lines' => array(11 => array('quantity' => '1', 'reason' => 'damaged')));
        (new Aftersale_Returns())->handle_submit();
        $_POST = array('aftersale_return_order' => '43', 'aftersale_return_nonce' => wp_create_nonce('aftersale_return_43'),
            'aftersale_lines' => array(21 => array('quantity' => '1', 'reason' => 'damaged')));
        (new Aftersale_Returns())->handle_submit();
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }

    public function test_list_shows_own_requests_escaped_with_state_and_history(): void
    {
        wpt_routes(array('GET /v1/returns' => array(200, array('items' => array(
            self::request(),
            self::request(array('id' => 9, 'rma' => 'R-1002', 'customer_id' => 99)),
        ), 'next_cursor' => null)), 'GET /v1/returns/settings' => array(200, self::SETTINGS)));
        $_GET['aftersale_requested'] = '7';
        $html = $this->render(new Aftersale_Returns());
        $this->assertStringContainsString('Your return R-1001 was requested.', $html);
        $_GET['aftersale_requested'] = '9';
        $this->assertStringNotContainsString('was requested', $this->render(new Aftersale_Returns()), 'another customer\'s request');
        $_GET['aftersale_requested'] = '7';
        $this->assertStringContainsString('(Damaged &lt;script&gt;alert(1)&lt;/script&gt;)', $html, 'the reason\'s label, escaped');
        $this->assertStringContainsString('href="https://shop.test/my-account/view-order/42/"', $html);
        $this->assertStringContainsString('Return R-1001, order #42', $html);
        $this->assertStringNotContainsString('R-1002', $html, 'another customer\'s request with the same email');
        $this->assertStringContainsString('data-state="requested"', $html);
        $this->assertStringContainsString('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringNotContainsString('<img', $html);
        $this->assertStringContainsString('1 photo', $html);
        $this->assertStringContainsString('<time datetime="2026-12-01T10:00:00Z">', $html);
        $this->assertContains('https://svc.test/v1/returns?limit=100&email=ann%40example.com', array_column($GLOBALS['wpt']['requests'], 'url'));
    }

    public function test_list_when_the_service_is_down_says_so(): void
    {
        $html = $this->render(new Aftersale_Returns());
        $this->assertStringContainsString('Your returns cannot be shown right now.', $html);
    }

    public function test_image_type_is_read_from_the_bytes(): void
    {
        $this->assertSame('image/png', Aftersale_Returns::image_type("\x89PNG\r\n\x1A\n...."));
        $this->assertSame('image/jpeg', Aftersale_Returns::image_type("\xFF\xD8\xFF\xE0"));
        $this->assertSame('image/webp', Aftersale_Returns::image_type('RIFF1234WEBPVP8 '));
        $this->assertSame('', Aftersale_Returns::image_type('<?php echo 1;'));
    }

    public function test_a_photo_is_posted_raw_with_its_type(): void
    {
        $seen = array();
        $GLOBALS['wpt']['responder'] = function ($url, $args) use (&$seen) {
            $seen[] = array($url, $args);
            return array('response' => array('code' => 201), 'body' => json_encode(array('id' => 1, 'media_type' => 'image/png', 'size' => 9)));
        };
        $client = Aftersale_Client::from_options();
        $answer = $client->post_raw('/v1/me/returns/7/photos', "\x89PNG\r\n\x1A\nX", 'image/png', 'tok');
        $this->assertSame(1, $answer['id']);
        $this->assertSame("\x89PNG\r\n\x1A\nX", $seen[0][1]['body']);
        $this->assertSame('image/png', $seen[0][1]['headers']['Content-Type']);
        $this->assertSame('Bearer tok', $seen[0][1]['headers']['Authorization']);
    }
}
