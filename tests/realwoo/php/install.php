<?php
/* Step 1: create WordPress's tables, the admin user, pretty permalinks, the theme. */
require __DIR__ . '/boot.php';
define('WP_INSTALLING', true);
require_once '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$r = wp_install('aftersale test shop', 'admin', 'admin@example.com', false, '',
	getenv('REALWOO_ADMIN_PASSWORD'));
if (is_wp_error($r) || empty($r['user_id'])) {
	realwoo_fail('wp_install failed: ' . print_r($r, true));
}
update_option('permalink_structure', '/%postname%/');
update_option('timezone_string', 'UTC');
update_option('blog_public', '0');
switch_theme('twentytwentythree');
echo json_encode(['admin_id' => (int) $r['user_id']]), "\n";
