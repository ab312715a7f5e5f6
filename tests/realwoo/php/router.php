<?php
/*
 * Router for PHP's built-in server (php -S ... router.php) in front of
 * Debian's WordPress (/usr/share/wordpress) for the real-WooCommerce tests.
 *
 * - /wp-content/... is served from the run's private WP_CONTENT_DIR
 *   (REALWOO_CONTENT_DIR), PHP files there are never executed directly;
 * - an existing file under the WordPress tree is served (.php run) as is;
 * - everything else goes to index.php (pretty permalinks, /wp-json/...).
 *
 * WORDPRESS_CONFIG comes from the environment: Debian's wp-config.php reads
 * it from $_SERVER and loads /etc/wordpress/config-$WORDPRESS_CONFIG.php.
 */
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');
$root = '/usr/share/wordpress';
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
if (strpos($path, '..') !== false) {
	http_response_code(400);
	return true;
}
if (strncmp($path, '/wp-content/', 12) === 0) {
	$file = getenv('REALWOO_CONTENT_DIR') . substr($path, 11);
	if (!is_file($file) || substr($file, -4) === '.php') {
		http_response_code(404);
		return true;
	}
	$types = ['css' => 'text/css', 'js' => 'application/javascript', 'png' => 'image/png',
		'jpg' => 'image/jpeg', 'svg' => 'image/svg+xml', 'woff2' => 'font/woff2'];
	$ext = strtolower(pathinfo($file, PATHINFO_EXTENSION));
	header('Content-Type: ' . ($types[$ext] ?? 'application/octet-stream'));
	readfile($file);
	return true;
}
if ($path !== '/' && is_file($root . $path)) {
	if (substr($path, -4) !== '.php') {
		return false; /* static file: the built-in server sends it */
	}
	chdir(dirname($root . $path));
	$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $path;
	$_SERVER['SCRIPT_FILENAME'] = $root . $path;
	require $root . $path;
	return true;
}
chdir($root);
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
require $root . '/index.php';
