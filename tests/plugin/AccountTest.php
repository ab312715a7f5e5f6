<?php

use PHPUnit\Framework\TestCase;

final class AccountTest extends TestCase
{
    private const ACCOUNT = array(
        'id' => 3, 'customer_id' => 15, 'email' => 'ann@example.com', 'balance' => 1250, 'lifetime_points' => 1500,
        'tier' => array('name' => 'Silver <b>', 'threshold' => 1000, 'multiplier' => '1.5'),
        'next_tier' => array('name' => 'Gold', 'threshold' => 3000, 'points_needed' => 1500),
        'expiring_soon' => array('points' => 200, 'first_expiry' => '2027-01-31T00:00:00Z'),
        'birthday' => null, 'merged_into' => null, 'created_at' => '2026-01-01T00:00:00Z',
    );

    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id'] = 15;
    }

    private function ledger(): array
    {
        return array('items' => array(
            array('id' => 9, 'delta' => 50, 'reason' => 'earn', 'balance_after' => 1250, 'created_at' => '2026-11-02T10:00:00Z'),
            array('id' => 8, 'delta' => -500, 'reason' => 'redeem', 'balance_after' => 1200, 'created_at' => '2026-11-01T10:00:00Z'),
        ), 'next_cursor' => 'c8');
    }

    private function render(Aftersale_Account $a): string
    {
        ob_start();
        $a->render();
        return (string) ob_get_clean();
    }

    public function test_the_endpoint_and_the_menu(): void
    {
        $a = new Aftersale_Account();
        $a->register();
        do_action('init');
        $this->assertSame(array(array('points', EP_ROOT | EP_PAGES)), $GLOBALS['wpt']['endpoints']);
        $items = $a->menu_items(array('dashboard' => 'Dashboard', 'orders' => 'Orders', 'customer-logout' => 'Log out'));
        $this->assertSame(array('dashboard', 'orders', 'points', 'customer-logout'), array_keys($items));
        $this->assertContains('points', apply_filters('query_vars', array()));
    }

    public function test_points_page_shows_balance_tier_progress_expiry_and_history(): void
    {
        wpt_routes(array(
            'GET /v1/me/loyalty' => array(200, self::ACCOUNT),
            'GET /v1/me/loyalty/ledger' => array(200, $this->ledger()),
        ));
        $html = $this->render(new Aftersale_Account());
        $this->assertStringContainsString('You have 1,250 points.', $html);
        $this->assertStringContainsString('Silver &lt;b&gt;', $html);
        $this->assertStringNotContainsString('Silver <b>', $html);
        $this->assertStringContainsString('1,500 more points to reach Gold.', $html);
        $this->assertStringContainsString('value="50"', $html);
        $this->assertStringContainsString('200 points expire on', $html);
        $this->assertStringContainsString('+50', $html);
        $this->assertStringContainsString('-500', $html);
        $this->assertStringContainsString('points_cursor=c8', $html);
        // called as the customer: a token for sub 15, never the API key
        foreach ($GLOBALS['wpt']['requests'] as $req) {
            $auth = $req['args']['headers']['Authorization'];
            $this->assertStringNotContainsString('ask_', $auth);
            $this->assertSame('15', wpt_jwt_claims(substr($auth, 7))['sub']);
        }
        $this->assertStringEndsWith('/v1/me/loyalty/ledger?limit=10', $GLOBALS['wpt']['requests'][1]['url']);
    }

    public function test_older_page_passes_a_sanitised_cursor(): void
    {
        wpt_routes(array(
            'GET /v1/me/loyalty' => array(200, self::ACCOUNT),
            'GET /v1/me/loyalty/ledger' => array(200, array('items' => array(), 'next_cursor' => null)),
        ));
        $_GET['points_cursor'] = 'c8&limit=1000<x>';
        $this->render(new Aftersale_Account());
        $this->assertStringEndsWith('/v1/me/loyalty/ledger?limit=10&cursor=c8limit1000x', $GLOBALS['wpt']['requests'][1]['url']);
    }

    public function test_a_dead_service_leaves_a_message_not_an_error(): void
    {
        $html = $this->render(new Aftersale_Account());
        $this->assertStringContainsString('cannot be shown right now', $html);
        $this->assertStringNotContainsString('Redeem', $html);
    }

    public function test_redeem_posts_as_the_customer_and_shows_the_coupon_with_an_apply_link(): void
    {
        wpt_routes(array(
            'POST /v1/me/loyalty/redemptions' => array(201, array('id' => 4, 'code' => 'AS-7K2M9Q4X1B', 'points' => 500, 'amount' => '5.00', 'currency' => 'EUR', 'status' => 'pending', 'balance_after' => 750)),
            'GET /v1/me/loyalty' => array(200, self::ACCOUNT),
            'GET /v1/me/loyalty/ledger' => array(200, $this->ledger()),
        ));
        $form = (new Aftersale_Account())->view();
        $this->assertMatchesRegularExpression('/^[0-9a-f-]{36}$/', $form['redeem_key']);
        $GLOBALS['wpt']['requests'] = array();
        $_POST['aftersale_redeem_points'] = '500';
        $_POST['aftersale_redeem_nonce']  = wp_create_nonce('aftersale_redeem');
        $_POST['aftersale_redeem_key']    = $form['redeem_key'];
        $a                                = new Aftersale_Account();
        $a->handle_redeem();
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('wp-15-' . $form['redeem_key'], $req['args']['headers']['Idempotency-Key']);
        $this->assertSame('https://svc.test/v1/me/loyalty/redemptions', $req['url']);
        $this->assertSame('{"points":500}', $req['args']['body']);
        $this->assertSame('15', wpt_jwt_claims(substr($req['args']['headers']['Authorization'], 7))['sub']);
        $html = $this->render($a);
        $this->assertStringContainsString('Your coupon code: AS-7K2M9Q4X1B', $html);
        $this->assertMatchesRegularExpression('#href="https://shop.test/cart/\?aftersale_apply_coupon=AS-7K2M9Q4X1B&\#038;_wpnonce=n[0-9a-f]+"#', $html);
    }

    public function test_redeem_with_a_bad_nonce_calls_nothing(): void
    {
        $_POST['aftersale_redeem_points'] = '500';
        $_POST['aftersale_redeem_nonce']  = 'forged';
        $a                                = new Aftersale_Account();
        $a->handle_redeem();
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        $this->assertStringContainsString('expired', $a->view()['redeem_error']);
    }

    public function test_redeem_refused_by_the_service_shows_why(): void
    {
        wpt_respond_json(422, array('detail' => 'points: at least 100', 'field' => 'points'));
        $_POST['aftersale_redeem_points'] = '5';
        $_POST['aftersale_redeem_nonce']  = wp_create_nonce('aftersale_redeem');
        $a                                = new Aftersale_Account();
        $a->handle_redeem();
        $this->assertStringContainsString('at least 100', $a->view()['redeem_error']);
    }

    public function test_apply_link_applies_the_coupon_only_with_its_nonce(): void
    {
        $GLOBALS['wpt']['cart'] = new Wpt_Cart(array(), 'h');
        $url                    = Aftersale_Account::apply_url('AS-7K2M9Q4X1B');
        $_GET                   = wpt_query($url);
        try {
            (new Aftersale_Account())->handle_apply_coupon();
            $this->fail('no redirect');
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertSame('https://shop.test/cart/', $r->url);
        }
        $this->assertSame(array('as-7k2m9q4x1b'), $GLOBALS['wpt']['coupons_applied']);
        $this->assertSame(array(), $GLOBALS['wpt']['wc_notices']);
        $_GET['_wpnonce'] = 'forged';
        try {
            (new Aftersale_Account())->handle_apply_coupon();
            $this->fail('no redirect');
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertSame('https://shop.test/cart/', $r->url);
        }
        $this->assertCount(1, $GLOBALS['wpt']['coupons_applied']);
        // the customer is told why the cart has no discount
        $this->assertSame(array(array('error', 'This coupon link has expired. Enter the code in the cart instead.')), $GLOBALS['wpt']['wc_notices']);
    }

    public function test_a_theme_overrides_the_template(): void
    {
        $theme = sys_get_temp_dir() . '/aftersale-theme-' . getmypid();
        @mkdir($theme . '/aftersale/myaccount', 0777, true);
        file_put_contents($theme . '/aftersale/myaccount/points.php', '<?php echo "THEME:" . esc_html((string) $error);');
        $GLOBALS['wpt']['theme_dir'] = $theme;
        $html                        = $this->render(new Aftersale_Account());
        $this->assertStringStartsWith('THEME:', $html);
        unlink($theme . '/aftersale/myaccount/points.php');
        rmdir($theme . '/aftersale/myaccount');
        rmdir($theme . '/aftersale');
        rmdir($theme);
    }
}
