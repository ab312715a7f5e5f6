<?php

use PHPUnit\Framework\TestCase;

/**
 * My Account > Reviews: the customer's token, the list, escaping, the
 * service down.
 */
final class ReviewRequestsTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id'] = 15;
    }

    private function html(): string
    {
        ob_start();
        (new Aftersale_Review_Requests())->render();
        return (string) ob_get_clean();
    }

    public function test_lists_the_open_requests_with_a_customer_token_of_scope_reviews(): void
    {
        $GLOBALS['wpt']['orders'][81] = new Wpt_Order(array('id' => 81, 'items' => array(), 'currency' => 'EUR', 'customer_id' => 15, 'email' => 'a@example.com', 'total' => '1'));
        wpt_routes(array('GET /v1/me/review-requests' => array(200, array(
            'items' => array(array(
                'id' => 5, 'order_id' => 81, 'status' => 'sent', 'due_at' => null, 'sent_at' => null,
                'expires_at' => '2027-01-01T00:00:00Z', 'review_url' => 'https://svc.test/review?token=a.b.c&x=<y>',
                'products' => array(
                    array('product_id' => 1, 'name' => 'Mug <script>alert(1)</script>', 'reviewed' => false),
                    array('product_id' => 2, 'name' => 'Teapot', 'reviewed' => true),
                ),
            )),
            'next_cursor' => null,
        ))));
        $html = $this->html();
        $req  = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/me/review-requests?limit=50', $req['url']);
        $claims = wpt_jwt_claims(substr($req['args']['headers']['Authorization'], 7));
        $this->assertSame(array('reviews', '15', 'shop:7'), array($claims['scope'], $claims['sub'], $claims['aud']));
        $this->assertStringContainsString('Order #81', $html);
        $this->assertStringContainsString('Mug &lt;script&gt;alert(1)&lt;/script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringContainsString('(reviewed)', $html);
        $this->assertStringContainsString('data-order="81"', $html);
        $this->assertStringContainsString('>Write a review</a>', $html);
        $this->assertStringContainsString('href="https://svc.test/review?token=a.b.c&#038;x=', $html);
    }

    public function test_none_and_service_down(): void
    {
        wpt_routes(array('GET /v1/me/review-requests' => array(200, array('items' => array(), 'next_cursor' => null))));
        $this->assertStringContainsString('You have no orders waiting for a review.', $this->html());
        wpt_respond_json(503, array('detail' => 'database away'));
        $this->assertStringContainsString('Your review requests cannot be shown right now.', $this->html());
    }

    public function test_a_visitor_gets_no_token_and_no_call(): void
    {
        $GLOBALS['wpt']['user_id'] = 0;
        $this->assertStringContainsString('Reviews are not available.', $this->html());
        $this->assertCount(0, $GLOBALS['wpt']['requests']);
    }

    public function test_menu_item_before_logout_and_one_flush_after_an_update(): void
    {
        $menu  = new Aftersale_Review_Requests();
        $items = $menu->menu_items(array('dashboard' => 'Dashboard', 'customer-logout' => 'Log out'));
        $this->assertSame(array('dashboard', 'write-reviews', 'customer-logout'), array_keys($items));
        $items = $menu->menu_items(array('dashboard' => 'D', 'orders' => 'O', 'returns' => 'R', 'points' => 'P', 'customer-logout' => 'L'));
        $this->assertSame(array('dashboard', 'orders', 'returns', 'write-reviews', 'points', 'customer-logout'), array_keys($items));
        $items = $menu->menu_items(array('orders' => 'O', 'customer-logout' => 'L'));
        $this->assertSame(array('orders', 'write-reviews', 'customer-logout'), array_keys($items));
        Aftersale_Review_Requests::maybe_flush();
        Aftersale_Review_Requests::maybe_flush();
        $this->assertSame(1, $GLOBALS['wpt']['flushed']);
        $this->assertSame('2', get_option('aftersale_rewrite_version'));
    }
}
