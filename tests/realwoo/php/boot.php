<?php
/*
 * Shared start of the three set-up steps (install.php, activate.php,
 * configure.php): pretend to be a request to the test shop so that Debian's
 * wp-config.php finds the run's /etc/wordpress/config-$WORDPRESS_CONFIG.php,
 * then load WordPress. Each step is its own PHP process because each needs
 * the previous one's state loaded from the database at start-up.
 */
$host = getenv('REALWOO_HOST'); /* 127.0.0.1:PORT */
$_SERVER['HTTP_HOST'] = $host;
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = substr($host, strpos($host, ':') + 1);
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');

function realwoo_fail($what)
{
	fwrite(STDERR, "realwoo: $what\n");
	exit(1);
}
