<?php
/*
 * Step 3: WooCommerce settings, a REST key (read_write, user 1), an
 * Application Password for the admin (merchant replies through wp/v2) and a
 * few products. Prints what the tests need as one JSON line.
 */
require __DIR__ . '/boot.php';
require_once '/usr/share/wordpress/wp-load.php';

global $wpdb;
if (!class_exists('WooCommerce')) {
	realwoo_fail('WooCommerce is not loaded');
}
if (!$wpdb->get_var("SHOW TABLES LIKE '{$wpdb->prefix}woocommerce_api_keys'")) {
	WC_Install::install(); /* activation did not create the tables */
}

$options = [
	'woocommerce_currency' => 'EUR',
	'woocommerce_default_country' => 'ES:B',
	'woocommerce_calc_taxes' => 'no',
	'woocommerce_enable_reviews' => 'yes',
	'woocommerce_review_rating_verification_label' => 'yes',
	'woocommerce_review_rating_verification_required' => 'no',
	'woocommerce_enable_review_rating' => 'yes',
	'woocommerce_allow_tracking' => 'no',
	'woocommerce_show_marketplace_suggestions' => 'no',
	'woocommerce_task_list_hidden' => 'yes',
	'woocommerce_onboarding_profile' => ['skipped' => true],
	/* reviews and replies are published at once */
	'comment_moderation' => '0',
	'comment_previously_approved' => '0',
	'require_name_email' => '1',
];
foreach ($options as $k => $v) {
	update_option($k, $v);
}

$ck = getenv('REALWOO_CK');
$cs = getenv('REALWOO_CS');
$ok = $wpdb->insert($wpdb->prefix . 'woocommerce_api_keys', [
	'user_id' => 1,
	'description' => 'aftersale tests',
	'permissions' => 'read_write',
	'consumer_key' => wc_api_hash($ck),
	'consumer_secret' => $cs,
	'truncated_key' => substr($ck, -7),
]);
if (!$ok) {
	realwoo_fail('REST key insert failed: ' . $wpdb->last_error);
}

$app = WP_Application_Passwords::create_new_application_password(1, ['name' => 'aftersale']);
if (is_wp_error($app)) {
	realwoo_fail('application password: ' . $app->get_error_message());
}

$products = [];
foreach ([['Mug', '13.00'], ['Teapot', '40.00'], ['Tea towel', '7.50']] as $i => $def) {
	$p = new WC_Product_Simple();
	$p->set_name($def[0]);
	$p->set_regular_price($def[1]);
	$p->set_status('publish');
	$p->set_reviews_allowed(true);
	$p->set_sku('AS-' . ($i + 1));
	$id = $p->save();
	if (!$id) {
		realwoo_fail('product save failed');
	}
	$products[] = ['id' => $id, 'name' => $def[0], 'price' => $def[1]];
}

echo json_encode(['app_password' => $app[0], 'products' => $products]), "\n";
