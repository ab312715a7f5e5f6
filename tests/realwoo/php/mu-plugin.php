<?php
/*
 * Plugin Name: aftersale real-WooCommerce test shop
 * Description: deliver webhooks at once and to 127.0.0.1 (any port), as the
 *              tests of aftersale need. Never install this on a real shop.
 */
/* Deliver inside the request that triggers the webhook, not through
 * Action Scheduler / WP-Cron on some later request. */
add_filter('woocommerce_webhook_deliver_async', '__return_false');
/* The service listens on 127.0.0.1, which WordPress treats as internal. */
add_filter('http_request_host_is_external', function ($external, $host) {
	return $host === '127.0.0.1' ? true : $external;
}, 10, 2);
/* WordPress delivers only to ports 80, 443 and 8080 otherwise. */
add_filter('http_allowed_safe_ports', function ($ports, $host, $url) {
	$port = parse_url($url, PHP_URL_PORT);
	if ($host === '127.0.0.1' && $port) {
		$ports[] = (int) $port;
	}
	return $ports;
}, 10, 3);
