<?php
/**
 * The service's outbound webhooks, received by the plugin (docs/webhooks.md).
 *
 * When the shop is connected (and, for a shop configured by hand, on the
 * first admin page after that), the plugin registers this site's REST route
 * `aftersale/v1/events` as an endpoint of the service (POST
 * /v1/webhook-endpoints, every event type) and keeps the signing secret
 * the service shows once, stored like the other secrets (autoload off).
 *
 * A delivery is accepted only when it is signed as Standard Webhooks says:
 * `v1,` + base64 HMAC-SHA256 of "id.timestamp.body" with the secret's
 * decoded key, compared in constant time (hash_equals), the timestamp
 * within TOLERANCE seconds of this clock (a captured message cannot be
 * replayed later), and each `webhook-id` processed once: retries and
 * replays carry the same id. "Once" is claimed atomically, by add_option()
 * of one option per id (SEEN_PREFIX + md5(id)), which fails when the option
 * exists, even when two deliveries of one id arrive at the same time (see
 * claim()); a get-then-set would let both through. The options expire
 * after SEEN_TTL and are purged at most once an hour (purge_seen()).
 * The body is verified as received, before it is parsed.
 *
 * The endpoint is deleted at the service (best effort, short timeout) when
 * the plugin is uninstalled (uninstall.php) and when the merchant changes
 * the service URL or the API key or clears the URL to disconnect
 * (Aftersale_Settings::save() fires `aftersale_service_changed`); with new
 * settings the plugin then registers again.
 *
 * What the events do here: any loyalty event starts a new cache generation
 * (the "earn N points" previews are cached per generation, so they are
 * asked again), and a new return request raises an admin notice for the
 * merchants (manage_woocommerce) until one dismisses it.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Registration and the receiving route.
 */
class Aftersale_Webhooks
{
    public const REST_NAMESPACE = 'aftersale/v1';
    public const REST_ROUTE = '/events';
    public const ENDPOINT_ID = 'aftersale_webhook_endpoint_id';
    public const SECRET = 'aftersale_webhook_secret';
    public const GENERATION = 'aftersale_cache_generation';
    public const NOTICES = 'aftersale_admin_notices';
    /** Seconds a message's timestamp may be away from this clock. */
    public const TOLERANCE = 300;
    /** How long a processed webhook-id is remembered (longer than TOLERANCE). */
    public const SEEN_TTL = 86400;
    /** After a failed registration, the next try waits this long. */
    public const RETRY_AFTER = 3600;
    /** Seconds to wait for the service when deleting the endpoint. */
    public const UNREGISTER_TIMEOUT = 3;
    /** Option name prefix of a processed webhook-id (value: its expiry). */
    public const SEEN_PREFIX = 'aftersale_seen_';
    /** Transient that spaces the purges of expired ids. */
    public const PURGE_TRANSIENT = 'aftersale_seen_purge';

    /** @var Aftersale_Client|null */
    private $client;

    /** @var bool Whether $client was given (else built from the options). */
    private $injected;

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client   = $client;
        $this->injected = $client !== null;
    }

    public function register(): void
    {
        add_action('rest_api_init', array($this, 'rest_routes'));
        add_action('aftersale_connected', array($this, 'register_endpoint'));
        add_action('admin_init', array($this, 'maybe_register'));
        add_action('admin_notices', array($this, 'notices'));
        add_action('admin_post_aftersale_dismiss_events', array($this, 'handle_dismiss'));
        add_action('aftersale_service_changed', array($this, 'service_changed'), 10, 2);
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The previews' cache generation: part of their transient keys.
     */
    public static function generation(): int
    {
        return (int) get_option(self::GENERATION, 0);
    }

    public function rest_routes(): void
    {
        register_rest_route(
            self::REST_NAMESPACE,
            self::REST_ROUTE,
            array(
                'methods'             => 'POST',
                'callback'            => array($this, 'rest_receive'),
                /* The signature is the credential, checked in receive(). */
                'permission_callback' => '__return_true',
            )
        );
    }

    /**
     * Register this site as an endpoint of the service, once. Returns
     * true when registered (now or before).
     */
    public function register_endpoint(): bool
    {
        if (! Aftersale_Options::configured()) {
            return false;
        }
        if ((int) get_option(self::ENDPOINT_ID, 0) > 0 && (string) get_option(self::SECRET, '') !== '') {
            return true;
        }
        $answer = $this->client()->post(
            '/v1/webhook-endpoints',
            array(
                'url'         => rest_url(self::REST_NAMESPACE . self::REST_ROUTE),
                'event_types' => array('*'),
                'description' => 'WordPress plugin: ' . home_url('/'),
            )
        );
        if (is_wp_error($answer) || empty($answer['id']) || empty($answer['secret'])) {
            set_transient('aftersale_webhook_retry', is_wp_error($answer) ? $answer->get_error_message() : 'no secret', self::RETRY_AFTER);
            return false;
        }
        update_option(self::ENDPOINT_ID, (int) $answer['id'], false);
        Aftersale_Options::set_secret(self::SECRET, (string) $answer['secret']);
        delete_transient('aftersale_webhook_retry');
        return true;
    }

    /**
     * Delete this site's endpoint at the service, best effort (a short
     * timeout; a service that is gone or refuses does not stop an
     * uninstall or a change of settings), and forget it here: the id, the
     * signing secret and a pending retry. A 404 counts as deleted.
     *
     * @param Aftersale_Client $client A client with the settings the endpoint was registered with.
     * @return bool Whether the service confirmed (or there was nothing to delete).
     */
    public static function unregister(Aftersale_Client $client): bool
    {
        $id = (int) get_option(self::ENDPOINT_ID, 0);
        $ok = true;
        if ($id > 0) {
            $answer = $client->request('DELETE', '/v1/webhook-endpoints/' . $id, null, null, self::UNREGISTER_TIMEOUT);
            if (is_wp_error($answer)) {
                $data = $answer->get_error_data();
                $ok   = is_array($data) && (int) ($data['status'] ?? 0) === 404;
            }
        }
        delete_option(self::ENDPOINT_ID);
        delete_option(self::SECRET);
        delete_transient('aftersale_webhook_retry');
        return $ok;
    }

    /**
     * The merchant changed the service URL or the API key (or cleared the
     * URL): the endpoint registered with the old settings is deleted with
     * them, and, when still configured, registered again with the new ones.
     *
     * @param string $old_url The service URL before the change.
     * @param string $old_key The API key before the change.
     */
    public function service_changed(string $old_url, string $old_key): void
    {
        if ($old_url !== '' && $old_key !== '') {
            self::unregister(new Aftersale_Client($old_url, $old_key, self::UNREGISTER_TIMEOUT));
        } else {
            delete_option(self::ENDPOINT_ID);
            delete_option(self::SECRET);
            delete_transient('aftersale_webhook_retry');
        }
        if (! $this->injected) {
            $this->client = null;
        }
        $this->register_endpoint();
    }

    /**
     * Claim a webhook-id: true for the first caller, false for every later
     * one, also a concurrent one. add_option() fails when the option exists;
     * when two requests both find it missing, both INSERT ... ON DUPLICATE
     * KEY UPDATE, and the second one affects no row (MySQL counts a row set
     * to the values it already holds as 0 affected), so add_option() fails
     * for it too. That needs the same value from both: the expiry is
     * therefore computed from the message's own timestamp, not this clock.
     *
     * @param string $id        webhook-id.
     * @param int    $timestamp webhook-timestamp (verified).
     */
    public static function claim(string $id, int $timestamp): bool
    {
        return add_option(self::SEEN_PREFIX . md5($id), (string) ($timestamp + self::SEEN_TTL), '', 'no');
    }

    /**
     * Delete the claims of ids older than SEEN_TTL (their messages are far
     * outside the tolerance, so they cannot come back), at most once per
     * PURGE_TRANSIENT period. Returns the number deleted, or -1 when skipped.
     *
     * @param int $now This clock.
     */
    public static function purge_seen(int $now): int
    {
        global $wpdb;
        if (get_transient(self::PURGE_TRANSIENT) !== false || ! isset($wpdb)) {
            return -1;
        }
        set_transient(self::PURGE_TRANSIENT, $now, self::RETRY_AFTER);
        // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a prefix of many options, no API for it.
        return (int) $wpdb->query(
            $wpdb->prepare(
                "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s AND CAST(option_value AS UNSIGNED) < %d",
                $wpdb->esc_like(self::SEEN_PREFIX) . '%',
                $now
            )
        );
    }

    /**
     * On an admin page of a merchant: register when connected but not yet
     * registered (a shop configured by hand), at most once an hour.
     */
    public function maybe_register(): void
    {
        $registered = (int) get_option(self::ENDPOINT_ID, 0) > 0;
        $waiting    = get_transient('aftersale_webhook_retry') !== false;
        if ($registered || $waiting || ! current_user_can('manage_woocommerce') || ! Aftersale_Options::configured()) {
            return;
        }
        $this->register_endpoint();
    }

    /**
     * Whether a message is signed with the secret: [true, ''] or [false, why].
     *
     * @param string $secret    The endpoint's secret, whsec_<base64 key>.
     * @param string $id        webhook-id.
     * @param string $timestamp webhook-timestamp (Unix seconds).
     * @param string $signature webhook-signature: "v1,<b64> v1,<b64>" (several after a rotation).
     * @param string $body      The raw body as received.
     * @param int    $now       This clock.
     * @return array{0: bool, 1: string}
     */
    public static function verify(string $secret, string $id, string $timestamp, string $signature, string $body, int $now): array
    {
        if ($id === '' || $signature === '' || ! preg_match('/^[0-9]{1,12}$/', $timestamp)) {
            return array(false, 'missing webhook headers');
        }
        if (abs($now - (int) $timestamp) > self::TOLERANCE) {
            return array(false, 'timestamp outside the tolerance');
        }
        $key = strpos($secret, 'whsec_') === 0 ? base64_decode(substr($secret, 6), true) : false;
        if ($key === false || $key === '') {
            return array(false, 'no usable secret');
        }
        $expected = base64_encode(hash_hmac('sha256', $id . '.' . $timestamp . '.' . $body, $key, true));
        $valid    = false;
        foreach (explode(' ', $signature) as $part) {
            $pair = explode(',', $part, 2);
            // Every candidate is compared (no early exit): the time does not
            // say which one matched.
            if (count($pair) === 2 && $pair[0] === 'v1' && hash_equals($expected, $pair[1])) {
                $valid = true;
            }
        }
        return $valid ? array(true, '') : array(false, 'bad signature');
    }

    /**
     * Receive one delivery: [status, body]. Verified, then deduplicated by
     * webhook-id, then acted on.
     *
     * @param array  $headers Lower-case header names => values.
     * @param string $body    The raw body.
     * @param int|null $now   This clock (tests).
     * @return array{0: int, 1: array}
     */
    public function receive(array $headers, string $body, ?int $now = null): array
    {
        $now    = $now !== null ? $now : time();
        $id     = (string) ($headers['webhook-id'] ?? '');
        $result = self::verify(
            (string) get_option(self::SECRET, ''),
            $id,
            (string) ($headers['webhook-timestamp'] ?? ''),
            (string) ($headers['webhook-signature'] ?? ''),
            $body,
            $now
        );
        if (! $result[0]) {
            return array(401, array('error' => $result[1]));
        }
        $event = json_decode($body, true);
        if (! is_array($event) || ! isset($event['type'])) {
            return array(400, array('error' => 'not an event'));
        }
        self::purge_seen($now);
        if (! self::claim($id, (int) ($headers['webhook-timestamp'] ?? 0))) {
            return array(200, array('duplicate' => true));
        }
        $this->apply((string) $event['type'], is_array($event['data'] ?? null) ? $event['data'] : array());
        return array(200, array('ok' => true));
    }

    /**
     * What an event changes here.
     *
     * @param string $type The event type.
     * @param array  $data Its data.
     */
    private function apply(string $type, array $data): void
    {
        if (strpos($type, 'loyalty.') === 0) {
            // A balance or a tier moved: the cached previews may be stale.
            update_option(self::GENERATION, self::generation() + 1, false);
        }
        if ($type === 'return.created') {
            $notices   = (array) get_option(self::NOTICES, array());
            $notices[] = array(
                'type'      => $type,
                'return_id' => (int) ($data['return_id'] ?? 0),
                'rma'       => (string) ($data['rma'] ?? ''),
            );
            update_option(self::NOTICES, array_slice($notices, -20), false);
        }
    }

    /**
     * The REST callback.
     *
     * @param WP_REST_Request $request The delivery.
     * @return WP_REST_Response
     */
    public function rest_receive($request)
    {
        $headers = array();
        foreach (array('webhook-id', 'webhook-timestamp', 'webhook-signature') as $name) {
            $headers[$name] = (string) $request->get_header($name);
        }
        list($status, $body) = $this->receive($headers, (string) $request->get_body());
        return new WP_REST_Response($body, $status);
    }

    /**
     * The merchants' notice of new return requests.
     */
    public function notices(): void
    {
        if (! current_user_can('manage_woocommerce')) {
            return;
        }
        $this->registration_notice();
        $notices = (array) get_option(self::NOTICES, array());
        if ($notices === array()) {
            return;
        }
        $dismiss = add_query_arg(
            array(
                'action'   => 'aftersale_dismiss_events',
                '_wpnonce' => wp_create_nonce('aftersale_dismiss_events'),
            ),
            admin_url('admin-post.php')
        );
        $last = end($notices);
        $text = count($notices) === 1
            /* translators: %s: the return's id */
            ? sprintf(__('Aftersale: a new return request (%s) waits for you.', 'aftersale'), $last['rma'] !== '' ? $last['rma'] : '#' . $last['return_id'])
            /* translators: %d: number of return requests */
            : sprintf(_n('Aftersale: %d new return request waits for you.', 'Aftersale: %d new return requests wait for you.', count($notices), 'aftersale'), count($notices));
        printf(
            '<div class="notice notice-info aftersale-events-notice"><p>%s <a href="%s">%s</a></p></div>',
            esc_html($text),
            esc_url($dismiss),
            esc_html__('Dismiss', 'aftersale')
        );
    }

    /**
     * On the Aftersale settings tab: why the last registration failed (the
     * service refuses private addresses unless WEBHOOK_ALLOW_PRIVATE allows
     * them, for example), until the next try an hour later.
     */
    private function registration_notice(): void
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- which screen, read only.
        $tab = isset($_GET['tab']) ? sanitize_key(wp_unslash($_GET['tab'])) : '';
        $why = get_transient('aftersale_webhook_retry');
        if ($tab !== 'aftersale' || $why === false) {
            return;
        }
        printf(
            '<div class="notice notice-warning aftersale-webhook-notice"><p>%s</p></div>',
            /* translators: %s: the service's answer */
            esc_html(sprintf(__('The aftersale service could not register this shop\'s webhook endpoint: %s', 'aftersale'), (string) $why))
        );
    }

    /**
     * Dismiss the notices (capability and nonce checked).
     */
    public function handle_dismiss(): void
    {
        if (! current_user_can('manage_woocommerce')) {
            wp_die(esc_html__('You are not allowed to do this.', 'aftersale'), '', array('response' => 403));
        }
        check_admin_referer('aftersale_dismiss_events');
        delete_option(self::NOTICES);
        wp_safe_redirect(wp_get_referer() ? wp_get_referer() : admin_url());
        exit;
    }
}
