<?php

use PHPUnit\Framework\TestCase;

/**
 * The main file, activation and uninstall.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class PluginTest extends TestCase
{
    public function test_main_file_declares_hpos_and_boots_with_woocommerce(): void
    {
        require AFTERSALE_TEST_PLUGIN . '/aftersale.php';
        do_action('before_woocommerce_init');
        $this->assertSame(
            array(array('custom_order_tables', AFTERSALE_TEST_PLUGIN . '/aftersale.php', true)),
            \Automattic\WooCommerce\Utilities\FeaturesUtil::$declared
        );
        do_action('plugins_loaded');
        $this->assertSame(array('aftersale', 'aftersale/languages'), $GLOBALS['wpt']['textdomain']);
        $this->assertArrayHasKey('admin_post_aftersale_connect', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('woocommerce_account_points_endpoint', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('woocommerce_before_cart_totals', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('woocommerce_account_returns_endpoint', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('add_meta_boxes', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('woocommerce_account_write-reviews_endpoint', $GLOBALS['wpt']['actions']);
        $this->assertArrayHasKey('woocommerce_thankyou', $GLOBALS['wpt']['actions']);
        $pages = apply_filters('woocommerce_get_settings_pages', array());
        $this->assertInstanceOf(Aftersale_Settings::class, $pages[0]);
        $this->assertSame(array('aftersale' => 'Aftersale'), apply_filters('woocommerce_settings_tabs_array', array()));
        call_user_func($GLOBALS['wpt']['activation']);
        $this->assertSame(array(array('points', EP_ROOT | EP_PAGES), array('returns', EP_ROOT | EP_PAGES), array('write-reviews', EP_ROOT | EP_PAGES)), $GLOBALS['wpt']['endpoints']);
        $this->assertSame(1, $GLOBALS['wpt']['flushed']);
    }

    public function test_header_has_the_required_versions(): void
    {
        $head = file_get_contents(AFTERSALE_TEST_PLUGIN . '/aftersale.php', false, null, 0, 2000);
        $this->assertMatchesRegularExpression('/^ \* Requires at least:\s+6\.1$/m', $head);
        $this->assertMatchesRegularExpression('/^ \* Requires PHP:\s+7\.4$/m', $head);
        $this->assertMatchesRegularExpression('/^ \* WC requires at least:\s+7\.9$/m', $head);
        $this->assertMatchesRegularExpression('/^ \* Text Domain:\s+aftersale$/m', $head);
        $readme = file_get_contents(AFTERSALE_TEST_PLUGIN . '/readme.txt');
        $this->assertMatchesRegularExpression('/^=== Aftersale ===$/m', $readme);
        $this->assertMatchesRegularExpression('/^Stable tag: 0\.1\.0$/m', $readme);
        $this->assertStringContainsString("define('AFTERSALE_VERSION', '0.1.0')", file_get_contents(AFTERSALE_TEST_PLUGIN . '/aftersale.php'));
    }

    public function test_uninstall_removes_the_options_and_transients(): void
    {
        wpt_configure();
        update_option('aftersale_webhooks_job', 3);
        update_option('unrelated', 'kept');
        set_transient('aftersale_service_down', 1);
        $GLOBALS['wpdb'] = new class {
            public $options = 'wp_options';
            public $queries = array();

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
                return 0;
            }
        };
        define('WP_UNINSTALL_PLUGIN', 'aftersale/aftersale.php');
        require AFTERSALE_TEST_PLUGIN . '/uninstall.php';
        $this->assertSame(array('date_format' => 'Y-m-d', 'unrelated' => 'kept'), $GLOBALS['wpt']['options']);
        $this->assertSame(array(), $GLOBALS['wpt']['transients']);
        $this->assertStringContainsString("LIKE '\\_transient\\_aftersale\\_%'", $GLOBALS['wpdb']->queries[0]);
    }
}
