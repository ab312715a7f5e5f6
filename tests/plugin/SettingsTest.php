<?php

use PHPUnit\Framework\TestCase;

final class SettingsTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
    }

    public function test_the_secret_field_never_prints_the_secret(): void
    {
        wpt_configure();
        $s = new Aftersale_Settings();
        ob_start();
        $s->render_secret_field(array('id' => 'aftersale_token_secret', 'title' => 'Token secret', 'desc' => 'd'));
        $html = (string) ob_get_clean();
        $this->assertStringNotContainsString('tok-secret-0123456789', $html);
        $this->assertStringContainsString('value=""', $html);
        $this->assertStringContainsString('placeholder="••••••••cdef"', $html);
        $this->assertStringContainsString('type="password"', $html);
    }

    public function test_save_keeps_an_empty_secret_stores_a_new_one_unautoloaded_and_learns_the_shop_id(): void
    {
        wpt_configure();
        wpt_routes(array('GET /v1/shop' => array(200, array('id' => 12, 'name' => 'Demo'))));
        $_POST = array(
            'aftersale_service_url'  => 'https://svc.test',
            'aftersale_timeout'      => '4',
            'aftersale_api_key'      => 'ask_brandnew0123456789',
            'aftersale_token_secret' => '',
        );
        (new Aftersale_Settings())->save();
        $this->assertSame('ask_brandnew0123456789', get_option('aftersale_api_key'));
        $this->assertSame('no', $GLOBALS['wpt']['autoload']['aftersale_api_key']);
        $this->assertSame('tok-secret-0123456789abcdef', get_option('aftersale_token_secret'));
        $this->assertSame('no', $GLOBALS['wpt']['autoload']['aftersale_token_secret']);
        $this->assertSame(12, get_option('aftersale_shop_id'));
        $this->assertSame('Bearer ask_brandnew0123456789', $GLOBALS['wpt']['requests'][0]['args']['headers']['Authorization']);
        $this->assertNotContains('aftersale_api_key', $GLOBALS['wpt']['saved_fields'], 'WooCommerce never saves the secrets itself');
        $this->assertSame(array('aftersale_service_url', 'aftersale_timeout'), $GLOBALS['wpt']['saved_fields']);
    }

    public function test_save_without_the_capability_changes_nothing(): void
    {
        wpt_configure();
        $GLOBALS['wpt']['caps'] = array();
        $_POST                  = array('aftersale_api_key' => 'ask_evil');
        (new Aftersale_Settings())->save();
        $this->assertSame('ask_testkey0123456789', get_option('aftersale_api_key'));
    }

    public function test_a_wrong_key_is_reported_on_save(): void
    {
        wpt_configure();
        wpt_respond_json(401, array('detail' => 'unknown API key'));
        $_POST = array();
        (new Aftersale_Settings())->save();
        $this->assertStringContainsString('unknown API key', $GLOBALS['wpt']['settings_errors'][0]);
    }

    public function test_health_lists_status_dead_jobs_with_retry_links_and_the_webhook_job(): void
    {
        wpt_configure();
        update_option('aftersale_webhooks_job', 31);
        wpt_routes(array(
            'GET /v1/woocommerce/status' => array(200, array(
                'sync' => array('interval_s' => 600, 'watermark' => 'w', 'last_started_at' => null, 'last_finished_at' => '2026-11-22T06:30:02Z', 'last_error' => null, 'last_orders' => 1),
                'deliveries' => array('last_received_at' => '2026-11-22T06:25:40Z', 'received' => 5, 'ignored' => 0, 'failed' => 0),
                'jobs' => array('pending' => 0, 'dead' => 1, 'last_error' => 'x'),
            )),
            'GET /v1/jobs' => array(200, array('items' => array(array('id' => 44, 'kind' => 'loyalty.coupon', 'last_error' => '<b>shop said 500</b>')), 'next_cursor' => null)),
            'GET /v1/jobs/31' => array(200, array('id' => 31, 'kind' => 'woo.webhooks_setup', 'status' => 'done')),
        ));
        $s = new Aftersale_Settings();
        ob_start();
        $s->render_health();
        $html = (string) ob_get_clean();
        $this->assertStringContainsString('2026-11-22T06:25:40Z', $html);
        $this->assertStringContainsString('2026-11-22T06:30:02Z', $html);
        $this->assertStringContainsString('(set-up job 31: done)', $html);
        $this->assertStringContainsString('&lt;b&gt;shop said 500', $html);
        $this->assertStringContainsString('action=aftersale_retry_job&#038;job_id=44&#038;_wpnonce=' . wp_create_nonce('aftersale_retry_job_44'), $html);
        $this->assertStringContainsString('Connect WooCommerce', $html);
        $this->assertStringEndsWith('/v1/jobs?status=dead&limit=20', $GLOBALS['wpt']['requests'][1]['url']);
    }

    public function test_health_with_the_service_down_says_so(): void
    {
        wpt_configure();
        $s = new Aftersale_Settings();
        ob_start();
        $s->render_health();
        $html = (string) ob_get_clean();
        $this->assertStringContainsString('cannot be reached', $html);
    }
}
