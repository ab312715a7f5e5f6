<?php
/**
 * Start-up: text domain, the settings tab, and the parts that need
 * WooCommerce. Activation registers the My Account endpoint and flushes
 * the rewrite rules once (never on every request).
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Wiring.
 */
class Aftersale_Plugin
{
    public static function boot(): void
    {
        load_plugin_textdomain('aftersale', false, dirname(plugin_basename(AFTERSALE_FILE)) . '/languages');
        if (! class_exists('WooCommerce')) {
            add_action('admin_notices', array(__CLASS__, 'woocommerce_missing'));
            return;
        }
        add_filter('woocommerce_get_settings_pages', array(__CLASS__, 'settings_page'));
        (new Aftersale_Connect())->register();
        (new Aftersale_Account())->register();
        (new Aftersale_Preview())->register();
        (new Aftersale_Returns())->register();
        (new Aftersale_Order_Box())->register();
        (new Aftersale_Survey())->register();
        (new Aftersale_Review_Requests())->register();
        (new Aftersale_Webhooks())->register();
        if (is_admin()) {
            require_once AFTERSALE_DIR . 'includes/admin/class-aftersale-admin-menu.php';
            (new Aftersale_Admin_Menu())->register();
        }
    }

    /**
     * @param array $pages WooCommerce's settings pages.
     * @return array
     */
    public static function settings_page($pages)
    {
        require_once AFTERSALE_DIR . 'includes/class-aftersale-settings.php';
        $pages[] = new Aftersale_Settings();
        return $pages;
    }

    public static function woocommerce_missing(): void
    {
        if (current_user_can('activate_plugins')) {
            printf('<div class="notice notice-error"><p>%s</p></div>', esc_html__('Aftersale needs WooCommerce 7.9 or later.', 'aftersale'));
        }
    }

    public static function activate(): void
    {
        Aftersale_Account::add_endpoint();
        Aftersale_Returns::add_endpoint();
        Aftersale_Review_Requests::add_endpoint();
        flush_rewrite_rules();
        update_option(Aftersale_Review_Requests::REWRITE_OPTION, Aftersale_Review_Requests::REWRITE_VERSION);
    }

    public static function deactivate(): void
    {
        flush_rewrite_rules();
    }
}
