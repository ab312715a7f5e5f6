<?php
/**
 * Uninstall: remove every option and transient the plugin created.
 *
 * WordPress runs this file (not the plugin) when the plugin is deleted.
 *
 * @package Aftersale
 */

if (! defined('WP_UNINSTALL_PLUGIN')) {
    exit;
}

require_once __DIR__ . '/includes/class-aftersale-options.php';

foreach (Aftersale_Options::all_names() as $aftersale_option) {
    delete_option($aftersale_option);
}
delete_transient(Aftersale_Options::DOWN_TRANSIENT);

// The cart previews are transients named aftersale_pv_<hash>; there is one
// per cart seen, so they are removed by prefix.
global $wpdb;
if (isset($wpdb)) {
    $wpdb->query(
        $wpdb->prepare(
            "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s",
            $wpdb->esc_like('_transient_aftersale_') . '%',
            $wpdb->esc_like('_transient_timeout_aftersale_') . '%'
        )
    );
}
