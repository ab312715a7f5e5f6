<?php

use PHPUnit\Framework\TestCase;

/**
 * The Aftersale menu: its screens under manage_woocommerce, the count
 * bubble from GET /v1/counts (cached, failing open), the styles only on its
 * screens, and the guard of admin-post handlers.
 */
final class AdminMenuTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        $GLOBALS['menu']    = array();
        $GLOBALS['submenu'] = array();
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
    }

    private function menu(): Aftersale_Admin_Menu
    {
        $menu = new Aftersale_Admin_Menu();
        $menu->register();
        do_action('admin_menu');
        return $menu;
    }

    public function test_menu_and_screens_need_manage_woocommerce(): void
    {
        $this->menu();
        $pages = $GLOBALS['wpt']['pages'];
        $this->assertSame('manage_woocommerce', $pages['aftersale']['capability']);
        $this->assertSame(array('Aftersale', 'manage_woocommerce', 'aftersale', 'Aftersale'), $GLOBALS['menu'][0]);
        $this->assertSame('aftersale', $pages['aftersale']['parent']); // Overview: the first submenu
        foreach ($pages as $slug => $page) {
            $this->assertSame('manage_woocommerce', $page['capability'], $slug);
            $this->assertStringStartsWith('aftersale', $slug);
        }
        $this->assertContains('aftersale-loyalty', array_keys($pages));
        $expected = array_keys(Aftersale_Admin_Menu::screens());
        $this->assertSame(array_values(array_intersect($expected, array_keys($pages))), array_values(array_keys($pages)));
    }

    public function test_a_screen_refuses_a_user_without_the_capability(): void
    {
        $menu                       = $this->menu();
        $GLOBALS['wpt']['caps']     = array('read');
        $this->expectException(Aftersale_Test_Die::class);
        $menu->render_screen('aftersale');
    }

    public function test_bubble_counts_what_waits_and_is_cached(): void
    {
        wpt_configure();
        wpt_routes(array('GET /v1/counts' => array(200, array('reviews_to_moderate' => 2, 'returns_to_handle' => 1, 'detractors_to_contact' => 4, 'total' => 7))));
        $this->menu();
        $top = $GLOBALS['menu'][0][0];
        $this->assertSame('Aftersale <span class="awaiting-mod count-7"><span class="pending-count">7</span></span>', $top);
        $titles = array();
        foreach ($GLOBALS['submenu']['aftersale'] as $item) {
            $titles[$item[2]] = $item[0];
        }
        foreach (array('aftersale-reviews' => 2, 'aftersale-returns' => 1, 'aftersale-surveys' => 4) as $slug => $n) {
            if (isset($titles[$slug])) {
                $this->assertStringContainsString('<span class="pending-count">' . $n . '</span>', $titles[$slug]);
            }
        }
        $this->assertStringNotContainsString('awaiting-mod', $titles['aftersale-loyalty']);
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        // A second page within the minute does not ask again.
        $GLOBALS['menu'] = $GLOBALS['submenu'] = array();
        $this->menu();
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertStringContainsString('count-7', $GLOBALS['menu'][0][0]);
    }

    public function test_no_bubble_when_the_service_is_down_and_not_asked_again(): void
    {
        wpt_configure();
        $this->menu(); // the default responder fails like a dead network
        $this->assertSame('Aftersale', $GLOBALS['menu'][0][0]);
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $GLOBALS['menu'] = $GLOBALS['submenu'] = array();
        $this->menu();
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertSame(array(), Aftersale_Admin_Menu::bubble(0) === '' ? array() : array('x'));
    }

    public function test_styles_only_on_the_aftersale_screens(): void
    {
        $menu = $this->menu();
        $menu->assets('edit.php');
        $this->assertArrayNotHasKey('aftersale-admin', $GLOBALS['wpt']['styles'] ?? array());
        $menu->assets('aftersale_page_aftersale-loyalty');
        $this->assertSame('https://shop.test/wp-content/plugins/aftersale/assets/css/admin.css', $GLOBALS['wpt']['styles']['aftersale-admin']);
        $this->assertFileExists(AFTERSALE_TEST_PLUGIN . '/assets/css/admin.css');
    }

    public function test_guard_checks_the_capability_before_the_nonce(): void
    {
        $GLOBALS['wpt']['caps'] = array();
        $_REQUEST['_wpnonce']   = wp_create_nonce('aftersale_x');
        try {
            Aftersale_Admin_Menu::guard('aftersale_x');
            $this->fail('no capability, no action');
        } catch (Aftersale_Test_Die $e) {
            $this->assertStringContainsString('not allowed', $e->getMessage());
        }
        $GLOBALS['wpt']['caps'] = array('manage_woocommerce');
        $_REQUEST['_wpnonce']   = 'forged';
        try {
            Aftersale_Admin_Menu::guard('aftersale_x');
            $this->fail('a bad nonce passed');
        } catch (Aftersale_Test_Die $e) {
            $this->assertStringContainsString('expired', $e->getMessage());
        }
        $_REQUEST['_wpnonce'] = wp_create_nonce('aftersale_x');
        Aftersale_Admin_Menu::guard('aftersale_x');
        $this->addToAssertionCount(1);
    }

    public function test_flash_notice_is_shown_once_and_escaped(): void
    {
        try {
            Aftersale_Admin_Menu::back('aftersale-loyalty', 'error', 'No <b>way</b>', array('account' => 3));
        } catch (Aftersale_Test_Redirect $r) {
            $this->assertSame('https://shop.test/wp-admin/admin.php?page=aftersale-loyalty&account=3', $r->url);
        }
        ob_start();
        Aftersale_Admin_Menu::print_flash();
        Aftersale_Admin_Menu::print_flash();
        $html = (string) ob_get_clean();
        $this->assertSame('<div class="notice notice-error aftersale-notice"><p>No &lt;b&gt;way&lt;/b&gt;</p></div>', $html);
    }
}
