<?php
/*
 * The aftersale plugin in the test shop (tests/realwoo/test_plugin_shop.py,
 * through Shop.install_aftersale() and Shop.create_customer()):
 *
 *   php aftersale-plugin.php activate      activate_plugin() (its hook adds the
 *                                          My Account endpoint and flushes the
 *                                          rewrite rules), then a hard flush
 *   php aftersale-plugin.php deactivate    and delete its options and transients
 *   php aftersale-plugin.php customer LOGIN EMAIL PASSWORD
 *                                          a WooCommerce customer who can log in
 *
 * Prints one JSON line.
 */
require __DIR__ . '/boot.php';
require_once '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$plugin = 'aftersale/aftersale.php';
$what = $argv[1] ?? '';
if ($what === 'activate') {
	$r = activate_plugin($plugin);
	if (is_wp_error($r)) {
		realwoo_fail('activate_plugin: ' . $r->get_error_message());
	}
	$rules = (array) get_option('rewrite_rules', []);
	$points = array_values(array_filter(array_keys($rules), function ($k) {
		return strpos($k, '/points(/(.*))?/?$') !== false;
	}));
	echo json_encode(['active' => is_plugin_active($plugin), 'points_rules' => $points]), "\n";
} elseif ($what === 'deactivate') {
	deactivate_plugins($plugin);
	/* Every option and transient of the plugin, as uninstall.php removes
	 * them: the next module's service must start from a plugin that has
	 * registered no webhook endpoint and waits for no retry. */
	global $wpdb;
	$wpdb->query("DELETE FROM {$wpdb->options} WHERE option_name LIKE 'aftersale\\_%'"
		. " OR option_name LIKE '\\_transient\\_aftersale\\_%'"
		. " OR option_name LIKE '\\_transient\\_timeout\\_aftersale\\_%'");
	wp_cache_flush();
	echo json_encode(['active' => is_plugin_active($plugin)]), "\n";
} elseif ($what === 'customer') {
	[, , $login, $email, $password] = $argv;
	add_filter('pre_wp_mail', '__return_false'); /* no "your account" email from a CLI step */
	$id = wc_create_new_customer($email, $login, $password, ['first_name' => 'Carla', 'last_name' => 'Points']);
	if (is_wp_error($id)) {
		realwoo_fail('wc_create_new_customer: ' . $id->get_error_message());
	}
	echo json_encode(['id' => (int) $id]), "\n";
} else {
	realwoo_fail("usage: aftersale-plugin.php activate|deactivate|customer LOGIN EMAIL PASSWORD");
}
