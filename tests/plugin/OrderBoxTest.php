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

    private function routes(): void
    {
        wpt_routes(array(
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
        ));
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

    public function test_service_down_says_so(): void
    {
        ob_start();
        (new Aftersale_Order_Box())->render(wc_get_order(42));
        $this->assertStringContainsString('The aftersale service cannot be reached right now.', (string) ob_get_clean());
    }
}
