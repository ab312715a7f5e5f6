<?php
/**
 * Plugin Name:          Aftersale
 * Plugin URI:           https://github.com/aftersale/aftersale
 * Description:          Loyalty points, review requests and the link to the aftersale service for WooCommerce.
 * Version:              0.1.0
 * Requires at least:    6.1
 * Requires PHP:         7.4
 * Author:               aftersale
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          aftersale
 * Domain Path:          /languages
 * Requires Plugins:     woocommerce
 * WC requires at least: 7.9
 * WC tested up to:      7.9
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

define('AFTERSALE_VERSION', '0.1.0');
define('AFTERSALE_FILE', __FILE__);
defined('AFTERSALE_DIR') || define('AFTERSALE_DIR', plugin_dir_path(__FILE__));

require_once AFTERSALE_DIR . 'includes/class-aftersale-options.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-client.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-tokens.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-templates.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-connect.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-account.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-preview.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-returns.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-order-box.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-plugin.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-privacy.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-survey.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-review-requests.php';
require_once AFTERSALE_DIR . 'includes/class-aftersale-webhooks.php';

/*
 * The plugin reads and writes orders only through WooCommerce's CRUD
 * objects (wc_get_order, WC_Order getters), never post meta, so it works
 * with the custom order tables (HPOS).
 */
add_action(
    'before_woocommerce_init',
    static function () {
        if (class_exists('\Automattic\WooCommerce\Utilities\FeaturesUtil')) {
            \Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility(
                'custom_order_tables',
                AFTERSALE_FILE,
                true
            );
        }
    }
);

register_activation_hook(__FILE__, array('Aftersale_Plugin', 'activate'));
register_deactivation_hook(__FILE__, array('Aftersale_Plugin', 'deactivate'));

add_action('plugins_loaded', array('Aftersale_Plugin', 'boot'));
add_action('plugins_loaded', array('Aftersale_Privacy', 'init'));
