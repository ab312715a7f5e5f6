<?php
/* Step 2: activate WooCommerce (its activation hook runs WC_Install::install()). */
require __DIR__ . '/boot.php';
require_once '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$r = activate_plugin('woocommerce/woocommerce.php');
if (is_wp_error($r)) {
	realwoo_fail('activate_plugin: ' . $r->get_error_message());
}
echo json_encode(['active' => is_plugin_active('woocommerce/woocommerce.php')]), "\n";
