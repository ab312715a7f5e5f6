<?php

use PHPUnit\Framework\TestCase;

/**
 * The plugin's webhook endpoint over its life: deleted at the service on
 * uninstall and when the merchant changes the service URL or API key (or
 * clears the URL), registered again with new settings; a webhook-id is
 * claimed atomically (add_option) and the claims expire.
 */
final class WebhookLifecycleTest extends TestCase
{
    private const SECRET = 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0';

    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
        update_option(Aftersale_Webhooks::ENDPOINT_ID, 9, false);
        add_option(Aftersale_Webhooks::SECRET, self::SECRET, '', 'no');
        unset($GLOBALS['wpdb']);
    }

    protected function tearDown(): void
    {
        unset($GLOBALS['wpdb']);
    }

    /** A $wpdb that records its queries and answers $rows. */
    private static function wpdb(int $rows = 0)
    {
        return new class ($rows) {
            public $options = 'wp_options';
            public $queries = array();
            private $rows;

            public function __construct(int $rows)
            {
                $this->rows = $rows;
            }

            public function esc_like($s)
            {
                return addcslashes($s, '_%\\');
            }

            public function prepare($sql, ...$args)
            {
                return vsprintf(str_replace('%s', "'%s'", $sql), $args);
            }

            public function query($sql)
            {
                $this->queries[] = $sql;
                return $this->rows;
            }
        };
    }

    /** [method url, bearer, timeout] of every request made. */
    private static function calls(): array
    {
        return array_map(
            function ($r) {
                return array($r['args']['method'] . ' ' . $r['url'], $r['args']['headers']['Authorization'], $r['args']['timeout']);
            },
            $GLOBALS['wpt']['requests']
        );
    }

    private static function save(array $post): void
    {
        (new Aftersale_Webhooks())->register();
        $_POST = $post;
        (new Aftersale_Settings())->save();
    }

    private static function routes(int $delete_status = 204): void
    {
        wpt_routes(
            array(
                'DELETE /v1/webhook-endpoints/9' => array($delete_status, $delete_status === 204 ? null : array('detail' => 'down')),
                'GET /v1/shop'                   => array(200, array('id' => 7)),
                'POST /v1/webhook-endpoints'     => array(201, array('id' => 10, 'secret' => 'whsec_bmV3c2VjcmV0bmV3c2VjcmV0')),
            )
        );
    }

    public function test_uninstall_deletes_the_endpoint_at_the_service_with_a_short_timeout(): void
    {
        self::routes();
        update_option(Aftersale_Options::TIMEOUT, 10);
        $GLOBALS['wpdb'] = self::wpdb();
        if (! defined('WP_UNINSTALL_PLUGIN')) {
            define('WP_UNINSTALL_PLUGIN', 'aftersale/aftersale.php');
        }
        require AFTERSALE_TEST_PLUGIN . '/uninstall.php';
        $this->assertSame(
            array(array('DELETE https://svc.test/v1/webhook-endpoints/9', 'Bearer ask_testkey0123456789', Aftersale_Webhooks::UNREGISTER_TIMEOUT)),
            self::calls()
        );
        $this->assertSame(array('date_format' => 'Y-m-d'), $GLOBALS['wpt']['options']);
        $this->assertSame(array(), $GLOBALS['wpt']['transients'], 'nor the "service down" mark of a failed call');
        $this->assertStringContainsString("LIKE 'aftersale\\_seen\\_%'", $GLOBALS['wpdb']->queries[0]);
    }

    public function test_uninstall_with_the_service_down_still_removes_everything(): void
    {
        // The default responder: every request fails as if the host were down.
        $GLOBALS['wpdb'] = self::wpdb();
        if (! defined('WP_UNINSTALL_PLUGIN')) {
            define('WP_UNINSTALL_PLUGIN', 'aftersale/aftersale.php');
        }
        require AFTERSALE_TEST_PLUGIN . '/uninstall.php';
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertSame(array('date_format' => 'Y-m-d'), $GLOBALS['wpt']['options']);
        $this->assertSame(array(), $GLOBALS['wpt']['transients']);
    }

    public function test_a_new_service_url_deletes_the_old_endpoint_there_and_registers_at_the_new_one(): void
    {
        self::routes();
        self::save(array('aftersale_service_url' => 'https://svc2.test', 'aftersale_api_key' => ''));
        $calls = self::calls();
        $this->assertSame(array('DELETE https://svc.test/v1/webhook-endpoints/9', 'Bearer ask_testkey0123456789', Aftersale_Webhooks::UNREGISTER_TIMEOUT), $calls[1]);
        $this->assertSame('POST https://svc2.test/v1/webhook-endpoints', $calls[2][0]);
        $this->assertCount(3, $calls);
        $this->assertSame(10, get_option(Aftersale_Webhooks::ENDPOINT_ID));
        $this->assertSame('whsec_bmV3c2VjcmV0bmV3c2VjcmV0', get_option(Aftersale_Webhooks::SECRET));
        $this->assertSame('no', $GLOBALS['wpt']['autoload'][Aftersale_Webhooks::SECRET]);
    }

    public function test_a_new_api_key_deletes_with_the_old_key_and_registers_with_the_new(): void
    {
        self::routes();
        self::save(array('aftersale_service_url' => 'https://svc.test/', 'aftersale_api_key' => 'ask_otherkey0123456789'));
        $calls = self::calls();
        $this->assertSame(array('DELETE https://svc.test/v1/webhook-endpoints/9', 'Bearer ask_testkey0123456789', Aftersale_Webhooks::UNREGISTER_TIMEOUT), $calls[1]);
        $this->assertSame(array('POST https://svc.test/v1/webhook-endpoints', 'Bearer ask_otherkey0123456789'), array_slice($calls[2], 0, 2));
        $this->assertSame(10, get_option(Aftersale_Webhooks::ENDPOINT_ID));
    }

    public function test_clearing_the_url_disconnects_the_endpoint_and_registers_nothing(): void
    {
        self::routes();
        self::save(array('aftersale_service_url' => '', 'aftersale_api_key' => ''));
        $this->assertSame(array(array('DELETE https://svc.test/v1/webhook-endpoints/9', 'Bearer ask_testkey0123456789', Aftersale_Webhooks::UNREGISTER_TIMEOUT)), self::calls());
        $this->assertFalse(get_option(Aftersale_Webhooks::ENDPOINT_ID));
        $this->assertFalse(get_option(Aftersale_Webhooks::SECRET));
    }

    public function test_saving_the_same_settings_keeps_the_endpoint(): void
    {
        self::routes();
        self::save(array('aftersale_service_url' => 'https://svc.test/', 'aftersale_api_key' => ''));
        $this->assertSame(array('GET https://svc.test/v1/shop'), array_column(self::calls(), 0));
        $this->assertSame(9, get_option(Aftersale_Webhooks::ENDPOINT_ID));
        $this->assertSame(self::SECRET, get_option(Aftersale_Webhooks::SECRET));
    }

    public function test_a_failed_delete_does_not_stop_the_change(): void
    {
        self::routes(500);
        self::save(array('aftersale_service_url' => 'https://svc2.test', 'aftersale_api_key' => ''));
        $this->assertSame(array('GET https://svc2.test/v1/shop', 'DELETE https://svc.test/v1/webhook-endpoints/9', 'POST https://svc2.test/v1/webhook-endpoints'), array_column(self::calls(), 0));
        $this->assertSame(10, get_option(Aftersale_Webhooks::ENDPOINT_ID));
        // A 404 (already gone) counts as deleted, a 500 does not.
        update_option(Aftersale_Webhooks::ENDPOINT_ID, 9);
        $old = new Aftersale_Client('https://svc.test', 'ask_testkey0123456789', 3);
        $this->assertFalse(Aftersale_Webhooks::unregister($old));
        update_option(Aftersale_Webhooks::ENDPOINT_ID, 9);
        wpt_respond_json(404, array('detail' => 'no such endpoint'));
        $this->assertTrue(Aftersale_Webhooks::unregister($old));
    }

    private static function signed(string $id, int $ts, string $body): array
    {
        $key = base64_decode(substr(self::SECRET, 6));
        $sig = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$ts.$body", $key, true));
        return array('webhook-id' => $id, 'webhook-timestamp' => (string) $ts, 'webhook-signature' => $sig);
    }

    public function test_an_id_claimed_by_a_concurrent_delivery_is_not_applied_again(): void
    {
        $now  = 1764694800;
        $body = '{"data":{"account_id":3,"delta":5},"timestamp":"x","type":"loyalty.points_changed"}';
        // Another request (another PHP process) claimed msg_x between this
        // one's checks: only the option exists, no transient.
        $this->assertTrue(Aftersale_Webhooks::claim('msg_x', $now));
        $w = new Aftersale_Webhooks();
        $this->assertSame(array(200, array('duplicate' => true)), $w->receive(self::signed('msg_x', $now, $body), $body, $now));
        $this->assertSame(0, Aftersale_Webhooks::generation());
        $this->assertSame(array(200, array('ok' => true)), $w->receive(self::signed('msg_y', $now, $body), $body, $now));
        $this->assertSame(1, Aftersale_Webhooks::generation());
        // The claim: one unautoloaded option per id, its value the expiry
        // from the message's own timestamp (the same for both racers).
        $name = Aftersale_Webhooks::SEEN_PREFIX . md5('msg_y');
        $this->assertSame((string) ($now + Aftersale_Webhooks::SEEN_TTL), get_option($name));
        $this->assertSame('no', $GLOBALS['wpt']['autoload'][$name]);
        $this->assertFalse(Aftersale_Webhooks::claim('msg_y', $now + 1));
    }

    public function test_expired_claims_are_purged_at_most_once_an_hour(): void
    {
        $this->assertSame(-1, Aftersale_Webhooks::purge_seen(5000), 'no database: nothing to do');
        $GLOBALS['wpdb'] = self::wpdb(3);
        $this->assertSame(3, Aftersale_Webhooks::purge_seen(5000));
        $this->assertSame(-1, Aftersale_Webhooks::purge_seen(5001));
        $this->assertCount(1, $GLOBALS['wpdb']->queries);
        $sql = $GLOBALS['wpdb']->queries[0];
        $this->assertStringContainsString("option_name LIKE 'aftersale\\_seen\\_%'", $sql);
        $this->assertStringContainsString('CAST(option_value AS UNSIGNED) < 5000', $sql);
        // receive() purges too (the hour has passed).
        delete_transient(Aftersale_Webhooks::PURGE_TRANSIENT);
        $now  = time();
        $body = '{"data":{},"timestamp":"x","type":"review.created"}';
        (new Aftersale_Webhooks())->receive(self::signed('msg_p', $now, $body), $body, $now);
        $this->assertCount(2, $GLOBALS['wpdb']->queries);
    }
}
