<?php

use PHPUnit\Framework\TestCase;

/**
 * Aftersale > Loyalty: the settings form writes back the document it read
 * (fields it does not know included) and refuses a lost update; the
 * adjustment needs a note and sends an Idempotency-Key; both actions check
 * the capability first and then their nonce, and call nothing otherwise;
 * the ledger is paged and printed escaped.
 */
final class AdminLoyaltyTest extends TestCase
{
    private const DOC = array(
        'points_per_unit' => '1.5',
        'rounding' => 'down',
        'earn_basis' => 'subtotal',
        'earn_status' => 'completed',
        'bonuses' => array('signup' => 0, 'review' => 50, 'survey' => 0, 'birthday' => 0, 'anniversary' => 0, 'referrer' => 0, 'referee' => 0),
        'redemption' => array('points_per_unit' => 100, 'min_points' => 100, 'max_discount' => null, 'coupon_validity_days' => 90),
        'expiry_months' => 0,
        'tiers' => array(array('name' => 'Gold', 'threshold' => 1000, 'multiplier' => '1.5')),
        'currency_rates' => array('USD' => '0.92'),
        'email_tokens_reach_registered' => false,
        'a_future_field' => array('kept' => true),
    );

    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
    }

    private function screen(): Aftersale_Admin_Loyalty
    {
        $s = new Aftersale_Admin_Loyalty();
        $s->register();
        return $s;
    }

    /** Run an admin-post handler; the redirect it ends in, and the flash notice. */
    private function run_action(callable $cb): array
    {
        try {
            $cb();
        } catch (Aftersale_Test_Redirect $r) {
            return array($r->url, get_transient('aftersale_flash_1'));
        }
        $this->fail('the action did not redirect');
    }

    /** The form as the screen prints it, posted back unchanged. */
    private function form_of(string $html): array
    {
        $doc = new DOMDocument();
        libxml_use_internal_errors(true);
        $doc->loadHTML('<?xml encoding="utf-8"?>' . $html);
        libxml_clear_errors();
        $xp   = new DOMXPath($doc);
        $post = '';
        foreach ($xp->query('//form[contains(@class,"aftersale-settings")]//input | //form[contains(@class,"aftersale-settings")]//select') as $el) {
            $name = $el->getAttribute('name');
            if ($name === '' || ($el->getAttribute('type') === 'checkbox' && ! $el->hasAttribute('checked'))) {
                continue;
            }
            if ($el->nodeName === 'select') {
                $value = '';
                foreach ($xp->query('.//option', $el) as $o) {
                    if ($o->hasAttribute('selected')) {
                        $value = $o->getAttribute('value');
                    }
                }
            } else {
                $value = $el->getAttribute('value');
            }
            $post .= rawurlencode($name) . '=' . rawurlencode($value) . '&';
        }
        parse_str($post, $out);
        return $out;
    }

    public function test_settings_form_writes_back_what_it_read(): void
    {
        wpt_routes(array('GET /v1/loyalty/settings' => array(200, self::DOC), 'PUT /v1/loyalty/settings' => array(200, self::DOC)));
        $screen = $this->screen();
        $_GET   = array('tab' => 'settings');
        ob_start();
        $screen->render();
        $html = (string) ob_get_clean();
        $_POST = $_REQUEST = $this->form_of($html);
        $this->assertSame('aftersale_loyalty_settings', $_POST['action']);
        list($url, $flash) = $this->run_action(array($screen, 'handle_settings'));
        $this->assertSame(array('success', 'Loyalty settings saved.'), $flash);
        $this->assertStringContainsString('page=aftersale-loyalty&tab=settings', $url);
        $put = end($GLOBALS['wpt']['requests']);
        $this->assertSame('PUT', $put['args']['method']);
        $this->assertSame(json_decode(json_encode(self::DOC), true), json_decode($put['args']['body'], true));
        $this->assertStringContainsString('"currency_rates":{"USD":"0.92"}', $put['args']['body']);
    }

    public function test_settings_changes_are_sent_as_typed_and_empty_rows_dropped(): void
    {
        $doc = self::DOC;
        $doc['currency_rates'] = array();
        wpt_routes(array('GET /v1/loyalty/settings' => array(200, $doc), 'PUT /v1/loyalty/settings' => array(200, $doc)));
        $_POST = $_REQUEST = array(
            '_wpnonce'       => wp_create_nonce('aftersale_loyalty_settings'),
            'aftersale_hash' => Aftersale_Admin_Loyalty::doc_hash(json_decode(json_encode($doc), true)),
            's'              => array(
                'points_per_unit' => '2',
                'expiry_months'   => '12',
                'bonuses'         => array('review' => 'ten'),
                'redemption'      => array('max_discount' => '', 'min_points' => '200'),
                'tiers'           => array(array('name' => 'Gold', 'threshold' => '1000', 'multiplier' => '2'), array('name' => '', 'threshold' => '', 'multiplier' => '1')),
                'rates'           => array(array('currency' => '', 'rate' => '')),
            ),
        );
        $this->run_action(array($this->screen(), 'handle_settings'));
        $sent = json_decode(end($GLOBALS['wpt']['requests'])['args']['body'], true);
        $this->assertSame('2', $sent['points_per_unit']);
        $this->assertSame(12, $sent['expiry_months']);
        $this->assertSame('ten', $sent['bonuses']['review']); // the service says what is wrong
        $this->assertSame(200, $sent['redemption']['min_points']);
        $this->assertNull($sent['redemption']['max_discount']);
        $this->assertSame(array(array('name' => 'Gold', 'threshold' => 1000, 'multiplier' => '2')), $sent['tiers']);
        $this->assertStringContainsString('"currency_rates":{}', end($GLOBALS['wpt']['requests'])['args']['body']);
        $this->assertFalse($sent['email_tokens_reach_registered']);
        $this->assertSame(array('kept' => true), $sent['a_future_field']);
    }

    public function test_settings_refused_when_changed_meanwhile_and_422_names_the_field(): void
    {
        $changed                    = self::DOC;
        $changed['points_per_unit'] = '3';
        wpt_routes(array('GET /v1/loyalty/settings' => array(200, $changed)));
        $_POST = $_REQUEST = array('_wpnonce' => wp_create_nonce('aftersale_loyalty_settings'), 'aftersale_hash' => Aftersale_Admin_Loyalty::doc_hash(self::DOC), 's' => array('points_per_unit' => '1'));
        list(, $flash) = $this->run_action(array($this->screen(), 'handle_settings'));
        $this->assertSame('error', $flash[0]);
        $this->assertStringContainsString('changed since this form was opened', $flash[1]);
        $this->assertCount(1, $GLOBALS['wpt']['requests']); // no PUT

        $GLOBALS['wpt']['requests'] = array();
        wpt_routes(array('GET /v1/loyalty/settings' => array(200, self::DOC), 'PUT /v1/loyalty/settings' => array(422, array('detail' => 'must be 0 to 1000', 'field' => 'points_per_unit'))));
        $_POST['aftersale_hash'] = $_REQUEST['aftersale_hash'] = Aftersale_Admin_Loyalty::doc_hash(self::DOC);
        list(, $flash) = $this->run_action(array($this->screen(), 'handle_settings'));
        $this->assertSame('error', $flash[0]);
        $this->assertStringContainsString('points_per_unit', $flash[1]);
        $this->assertStringContainsString('must be 0 to 1000', $flash[1]);
    }

    public function test_adjustment_needs_a_note_and_sends_an_idempotency_key(): void
    {
        wpt_routes(array('POST /v1/loyalty/accounts/5/adjustments' => array(201, array('id' => 9, 'delta' => 150, 'balance_after' => 450))));
        $base  = array('_wpnonce' => wp_create_nonce('aftersale_loyalty_adjust_5'), 'account' => '5', 'points' => '150', 'aftersale_key' => 'k-123');
        $_POST = $_REQUEST = $base + array('note' => '   ');
        list($url, $flash) = $this->run_action(array($this->screen(), 'handle_adjust'));
        $this->assertSame(array('error', 'A note is required: say why the points change.'), $flash);
        $this->assertStringContainsString('account=5', $url);
        $_POST = $_REQUEST = array_merge($base, array('points' => '0', 'note' => 'x'));
        list(, $flash) = $this->run_action(array($this->screen(), 'handle_adjust'));
        $this->assertSame('error', $flash[0]);
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);

        $_POST = $_REQUEST = $base + array('note' => "Late <b>parcel</b>\n sorry");
        list(, $flash) = $this->run_action(array($this->screen(), 'handle_adjust'));
        $this->assertSame(array('success', 'Added 150 points. The balance is now 450.'), $flash);
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame(array('points' => 150, 'reason' => "Late parcel\n sorry"), json_decode($req['args']['body'], true));
        $this->assertSame('wp-adjust-k-123', $req['args']['headers']['Idempotency-Key']);
    }

    public function test_actions_check_the_capability_then_the_nonce_and_call_nothing(): void
    {
        $screen = $this->screen();
        $this->assertArrayHasKey('admin_post_aftersale_loyalty_settings', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('admin_post_aftersale_loyalty_adjust', $GLOBALS['wpt']['actions']);
        $this->assertArrayNotHasKey('admin_post_nopriv_aftersale_loyalty_adjust', $GLOBALS['wpt']['actions']);
        $cases = array(
            'handle_settings' => array('_wpnonce' => wp_create_nonce('aftersale_loyalty_settings'), 's' => array('points_per_unit' => '1')),
            'handle_adjust'   => array('_wpnonce' => wp_create_nonce('aftersale_loyalty_adjust_5'), 'account' => '5', 'points' => '10', 'note' => 'n'),
        );
        foreach ($cases as $method => $post) {
            // No capability, good nonce: refused.
            $GLOBALS['wpt']['caps'] = array('read');
            $_POST = $_REQUEST = $post;
            try {
                $screen->$method();
                $this->fail("$method ran without the capability");
            } catch (Aftersale_Test_Die $e) {
                $this->assertStringContainsString('not allowed', $e->getMessage());
            }
            // Capability, nonce of another action (or account): refused.
            $GLOBALS['wpt']['caps'] = array('manage_woocommerce');
            $_POST = $_REQUEST = array_merge($post, array('_wpnonce' => wp_create_nonce('aftersale_loyalty_adjust_6')));
            try {
                $screen->$method();
                $this->fail("$method ran with a wrong nonce");
            } catch (Aftersale_Test_Die $e) {
                $this->assertStringContainsString('expired', $e->getMessage());
            }
        }
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }

    public function test_account_ledger_is_paged_and_escaped(): void
    {
        $GLOBALS['wpt']['options']['time_format'] = 'H:i';
        $entry = array('id' => 77, 'delta' => -20, 'reason' => 'adjustment', 'note' => '<script>alert(1)</script>', 'order_id' => null, 'balance_after' => 430, 'actor' => 'api_key:3', 'created_at' => '2026-12-01T10:00:00Z');
        wpt_routes(array(
            'GET /v1/loyalty/accounts/5'        => array(200, array('id' => 5, 'email' => 'ann@example.com', 'balance' => 430, 'lifetime_points' => 600, 'tier' => null)),
            'GET /v1/loyalty/accounts/5/ledger' => array(200, array('items' => array($entry), 'next_cursor' => 'abc+/=')),
        ));
        $_GET = array('account' => '5', 'cursor' => 'c1');
        ob_start();
        $this->screen()->render();
        $html = (string) ob_get_clean();
        $this->assertSame('https://svc.test/v1/loyalty/accounts/5/ledger?limit=20&cursor=c1', $GLOBALS['wpt']['requests'][1]['url']);
        $this->assertStringNotContainsString('<script>alert', $html);
        $this->assertStringContainsString('&lt;script&gt;alert(1)&lt;/script&gt;', $html);
        $this->assertStringContainsString('data-entry="77" data-delta="-20"', $html);
        $this->assertStringContainsString('cursor=abc%2B%2F%3D', $html);
        $this->assertStringContainsString('name="_wpnonce" value="' . wp_create_nonce('aftersale_loyalty_adjust_5') . '"', $html);
        $this->assertMatchesRegularExpression('/name="aftersale_key" value="[0-9a-f-]{36}"/', $html);
        $this->assertStringContainsString('Newest entries', $html);
    }

    public function test_accounts_search_by_email(): void
    {
        wpt_routes(array('GET /v1/loyalty/accounts' => array(200, array('items' => array(array('id' => 5, 'email' => 'ann@example.com', 'customer_id' => null, 'balance' => 3, 'lifetime_points' => 3)), 'next_cursor' => null))));
        $_GET = array('email' => 'Ann@Example.com');
        ob_start();
        $this->screen()->render();
        $html = (string) ob_get_clean();
        $this->assertSame('https://svc.test/v1/loyalty/accounts?limit=20&email=Ann%40Example.com', $GLOBALS['wpt']['requests'][0]['url']);
        $this->assertStringContainsString('data-account="5"', $html);
        $this->assertStringContainsString('page=aftersale-loyalty&#038;account=5', $html);
    }

    public function test_service_down_is_a_notice(): void
    {
        ob_start();
        $this->screen()->render();
        $html = (string) ob_get_clean();
        $this->assertStringContainsString('The aftersale service cannot be reached right now.', $html);
    }
}
