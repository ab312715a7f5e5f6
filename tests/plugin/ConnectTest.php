<?php

use PHPUnit\Framework\TestCase;

final class ConnectTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
        update_option('permalink_structure', '/%postname%/');
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
    }

    private function nonce(string $action): void
    {
        $_REQUEST['_wpnonce'] = wp_create_nonce($action);
        $_GET['_wpnonce']     = $_REQUEST['_wpnonce'];
    }

    private function redirect(callable $fn): string
    {
        try {
            $fn();
        } catch (Aftersale_Test_Redirect $r) {
            return $r->url;
        }
        $this->fail('no redirect');
    }

    public function test_connect_asks_for_a_state_and_sends_the_admin_to_wc_auth(): void
    {
        $callback = 'https://svc.test/v1/woocommerce/auth-callback/AbC_-123';
        wpt_routes(array('POST /v1/woocommerce/auth-requests' => array(201, array(
            'state' => 'AbC_-123', 'callback_url' => $callback, 'expires_at' => '2026-01-01T00:00:00Z', 'callback_https' => true,
        ))));
        $this->nonce('aftersale_connect');
        $url = $this->redirect(function () {
            (new Aftersale_Connect())->handle_connect();
        });
        $this->assertStringStartsWith('https://shop.test/wc-auth/v1/authorize?', $url);
        $q = wpt_query($url); // decoded once, as PHP fills $_GET for WooCommerce
        $this->assertSame('read_write', $q['scope']);
        $this->assertSame('aftersale', $q['app_name']);
        $this->assertSame('1', $q['user_id']);
        $this->assertSame($callback, $q['callback_url']);
        $this->assertStringStartsWith('https://shop.test/wp-admin/admin-post.php?action=aftersale_connected&_wpnonce=', $q['return_url']);
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertSame('{}', $GLOBALS['wpt']['requests'][0]['args']['body']);
    }

    public function test_plain_permalinks_use_wc_auths_query_arguments(): void
    {
        update_option('permalink_structure', '');
        wpt_respond_json(201, array('state' => 's', 'callback_url' => 'https://svc.test/v1/woocommerce/auth-callback/s', 'expires_at' => 'x', 'callback_https' => true));
        $this->nonce('aftersale_connect');
        $url = $this->redirect(function () {
            (new Aftersale_Connect())->handle_connect();
        });
        $this->assertStringStartsWith('https://shop.test/?', $url);
        $q = wpt_query($url);
        $this->assertSame('1', $q['wc-auth-version']);
        $this->assertSame('authorize', $q['wc-auth-route']);
        $this->assertSame('read_write', $q['scope']);
    }

    public function test_connect_refuses_without_capability_or_nonce(): void
    {
        wpt_respond_json(201, array());
        $GLOBALS['wpt']['caps'] = array();
        $this->nonce('aftersale_connect');
        try {
            (new Aftersale_Connect())->handle_connect();
            $this->fail('no wp_die');
        } catch (Aftersale_Test_Die $e) {
            $this->assertStringContainsString('not allowed', $e->getMessage());
        }
        $GLOBALS['wpt']['caps'] = array('manage_woocommerce');
        $this->nonce('another_action');
        try {
            (new Aftersale_Connect())->handle_connect();
            $this->fail('no wp_die');
        } catch (Aftersale_Test_Die $e) {
            $this->assertStringContainsString('expired', $e->getMessage());
        }
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }

    public function test_connect_stops_on_an_http_callback_and_on_a_dead_service(): void
    {
        wpt_respond_json(201, array('state' => 's', 'callback_url' => 'http://svc.test/cb/s', 'expires_at' => 'x', 'callback_https' => false));
        $this->nonce('aftersale_connect');
        $url = $this->redirect(function () {
            (new Aftersale_Connect())->handle_connect();
        });
        $this->assertSame('callback_not_https', wpt_query($url)['aftersale_notice']);
        $GLOBALS['wpt']['responder'] = function () {
            return new WP_Error('http_request_failed', 'cURL error 7: Failed to connect');
        };
        $url = $this->redirect(function () {
            (new Aftersale_Connect())->handle_connect();
        });
        $q = wpt_query($url);
        $this->assertSame('service_error', $q['aftersale_notice']);
        $this->assertStringContainsString('Failed to connect', $q['aftersale_detail']);
    }

    public function test_return_from_wc_auth_installs_the_webhooks_and_remembers_the_job(): void
    {
        wpt_routes(array('POST /v1/woocommerce/webhooks' => array(202, array('job_id' => 31, 'kind' => 'woo.webhooks_setup', 'status' => 'pending'))));
        $this->nonce('aftersale_connected');
        $_GET['success'] = '1';
        $url             = $this->redirect(function () {
            (new Aftersale_Connect())->handle_connected();
        });
        $this->assertSame('connected', wpt_query($url)['aftersale_notice']);
        $this->assertSame(31, get_option('aftersale_webhooks_job'));
        $this->assertSame('https://svc.test/v1/woocommerce/webhooks', $GLOBALS['wpt']['requests'][0]['url']);
    }

    public function test_declined_authorisation_calls_nothing(): void
    {
        $this->nonce('aftersale_connected');
        $_GET['success'] = '0';
        $url             = $this->redirect(function () {
            (new Aftersale_Connect())->handle_connected();
        });
        $this->assertSame('connect_declined', wpt_query($url)['aftersale_notice']);
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }

    public function test_retry_needs_the_nonce_of_that_job(): void
    {
        wpt_routes(array('POST /v1/jobs/9/retry' => array(202, array('job_id' => 9, 'kind' => 'loyalty.coupon', 'status' => 'pending'))));
        $_GET['job_id'] = '9';
        $this->nonce('aftersale_retry_job_8');
        try {
            (new Aftersale_Connect())->handle_retry_job();
            $this->fail('no wp_die');
        } catch (Aftersale_Test_Die $e) {
            $this->assertSame(array(), $GLOBALS['wpt']['requests']);
        }
        $this->nonce('aftersale_retry_job_9');
        $url = $this->redirect(function () {
            (new Aftersale_Connect())->handle_retry_job();
        });
        $this->assertSame('job_retried', wpt_query($url)['aftersale_notice']);
        $this->assertSame('https://svc.test/v1/jobs/9/retry', $GLOBALS['wpt']['requests'][0]['url']);
        // the URL the health panel links to carries exactly that nonce
        $link = wpt_query(Aftersale_Connect::action_url('aftersale_retry_job', array('job_id' => 9), 'aftersale_retry_job_9'));
        $this->assertSame(wp_create_nonce('aftersale_retry_job_9'), $link['_wpnonce']);
    }

    public function test_notices_are_escaped_and_the_down_notice_shows(): void
    {
        $_GET['aftersale_notice'] = 'service_error';
        $_GET['aftersale_detail'] = '<script>alert(1)</script> db away';
        set_transient('aftersale_service_down', time());
        ob_start();
        (new Aftersale_Connect())->notices();
        $html = ob_get_clean();
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringContainsString('db away', $html);
        $this->assertStringContainsString('not answering', $html);
        $GLOBALS['wpt']['caps'] = array();
        ob_start();
        (new Aftersale_Connect())->notices();
        $this->assertSame('', ob_get_clean());
    }
}
