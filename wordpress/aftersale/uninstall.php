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
require_once __DIR__ . '/includes/class-aftersale-client.php';
require_once __DIR__ . '/includes/class-aftersale-webhooks.php';

// The service stops sending to this site: its webhook endpoint is deleted
// there, best effort (a short timeout; an unreachable service does not stop
// the uninstall, the endpoint then fails and the service disables it).
if (Aftersale_Options::configured()) {
    Aftersale_Webhooks::unregister(
        new Aftersale_Client(Aftersale_Options::service_url(), Aftersale_Options::api_key(), Aftersale_Webhooks::UNREGISTER_TIMEOUT)
    );
}

foreach (Aftersale_Options::all_names() as $aftersale_option) {
    delete_option($aftersale_option);
}
delete_transient(Aftersale_Options::DOWN_TRANSIENT);

// The cart previews are transients named aftersale_pv_<hash>; there is one
// per cart seen, and the processed webhook-ids are options named
// aftersale_seen_<hash>, one per message: both are removed by prefix.
global $wpdb;
if (isset($wpdb)) {
    $wpdb->query(
        $wpdb->prepare(
            "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s OR option_name LIKE %s",
            $wpdb->esc_like('_transient_aftersale_') . '%',
            $wpdb->esc_like('_transient_timeout_aftersale_') . '%',
            $wpdb->esc_like('aftersale_seen_') . '%'
        )
    );
}
