<?php

use PHPUnit\Framework\TestCase;

final class PreviewTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id'] = 15;
        $GLOBALS['wpt']['cart']    = new Wpt_Cart(array(
            'k1' => array('product_id' => 93, 'quantity' => 2, 'line_total' => 26.0),
            'k2' => array('product_id' => 94, 'quantity' => 1, 'line_total' => 3.3),
        ), 'hash-a');
    }

    private function cart_html(Aftersale_Preview $p): string
    {
        ob_start();
        $p->render_cart();
        return (string) ob_get_clean();
    }

    public function test_cart_preview_sends_the_lines_and_shows_the_points(): void
    {
        wpt_respond_json(200, array('points' => 29, 'amount' => '29.30', 'currency' => 'EUR', 'tier' => null, 'multiplier' => '1.00', 'basis' => 'subtotal', 'currency_earns' => true));
        $html = $this->cart_html(new Aftersale_Preview());
        $this->assertStringContainsString('Earn 29 points with this order.', $html);
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/loyalty/preview', $req['url']);
        $this->assertSame(2, $req['args']['timeout']);
        $this->assertSame(
            array('currency' => 'EUR', 'lines' => array(
                array('product_id' => 93, 'quantity' => 2, 'total' => '26.00'),
                array('product_id' => 94, 'quantity' => 1, 'total' => '3.30'),
            ), 'customer_id' => 15),
            json_decode($req['args']['body'], true)
        );
    }

    public function test_cart_preview_is_cached_per_cart_hash(): void
    {
        wpt_respond_json(200, array('points' => 29));
        $p = new Aftersale_Preview();
        $this->cart_html($p);
        $this->cart_html($p);
        $this->assertCount(1, $GLOBALS['wpt']['requests'], 'same cart: from the cache');
        $GLOBALS['wpt']['cart']->hash = 'hash-b';
        $this->cart_html($p);
        $this->assertCount(2, $GLOBALS['wpt']['requests'], 'changed cart: asked again');
        $GLOBALS['wpt']['user_id'] = 16;
        $this->cart_html($p);
        $this->assertCount(3, $GLOBALS['wpt']['requests'], 'another customer: asked again');
    }

    public function test_fails_open_and_then_does_not_even_try(): void
    {
        $GLOBALS['wpt']['responder'] = function () {
            return new WP_Error('http_request_failed', 'Operation timed out after 2000 milliseconds');
        };
        $p = new Aftersale_Preview();
        $this->assertSame('', $this->cart_html($p));
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $GLOBALS['wpt']['cart']->hash = 'hash-c';
        $this->assertSame('', $this->cart_html($p));
        $this->assertCount(1, $GLOBALS['wpt']['requests'], 'down: no second wait');
        $this->assertSame(array('aftersale_service_down'), array_keys($GLOBALS['wpt']['transients']), 'a failure is not cached as a preview');
    }

    public function test_an_error_answer_shows_nothing(): void
    {
        wpt_respond_json(422, array('detail' => 'bad'));
        $this->assertSame('', $this->cart_html(new Aftersale_Preview()));
    }

    public function test_thankyou_previews_the_order_with_its_total(): void
    {
        $GLOBALS['wpt']['orders'][77] = new Wpt_Order(array(
            'items' => array(array('product_id' => 5, 'quantity' => 3, 'total' => '30')),
            'currency' => 'CZK', 'customer_id' => 0, 'email' => 'g@example.com', 'total' => '36.3',
        ));
        wpt_respond_json(200, array('points' => 30));
        ob_start();
        (new Aftersale_Preview())->render_thankyou(77);
        $html = (string) ob_get_clean();
        $this->assertStringContainsString('This order earns you 30 points once it is completed.', $html);
        $this->assertSame(
            array('currency' => 'CZK', 'lines' => array(array('product_id' => 5, 'quantity' => 3, 'total' => '30.00')),
                  'email' => 'g@example.com', 'total' => '36.30'),
            json_decode($GLOBALS['wpt']['requests'][0]['args']['body'], true)
        );
    }

    public function test_zero_points_show_nothing(): void
    {
        wpt_respond_json(200, array('points' => 0));
        $this->assertSame('', $this->cart_html(new Aftersale_Preview()));
    }

    public function test_product_preview_is_cached_per_product_price_and_customer(): void
    {
        $GLOBALS['product'] = new class {
            public $price = '13';

            public function get_price()
            {
                return $this->price;
            }

            public function get_id()
            {
                return 93;
            }
        };
        wpt_respond_json(200, array('points' => 13));
        $p = new Aftersale_Preview();
        ob_start();
        $p->render_product();
        $p->render_product();
        $html = (string) ob_get_clean();
        $this->assertSame(2, substr_count($html, 'Earn 13 points when you buy this.'));
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertSame(array(array('product_id' => 93, 'quantity' => 1, 'total' => '13.00')), json_decode($GLOBALS['wpt']['requests'][0]['args']['body'], true)['lines']);
        $GLOBALS['product']->price = '14';
        ob_start();
        $p->render_product();
        ob_end_clean();
        $this->assertCount(2, $GLOBALS['wpt']['requests']);
        unset($GLOBALS['product']);
    }
}
