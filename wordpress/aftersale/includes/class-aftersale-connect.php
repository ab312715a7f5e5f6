<?php
/**
 * Connecting the shop to the service, in one click, and the admin actions
 * of the link: install the webhooks, retry a dead job.
 *
 * Connect: the admin presses "Connect WooCommerce"; this asks the service
 * for an authorisation request (a one-time state and the callback URL) and
 * sends the admin to WooCommerce's own /wc-auth/v1/authorize with
 * scope=read_write. When the admin approves, WooCommerce creates a key pair
 * and posts it straight to the service's callback, then brings the admin
 * back to return_url (our 'aftersale_connected' action), which installs the
 * webhooks. The merchant never sees or copies a WooCommerce key.
 *
 * Every action checks the manage_woocommerce capability and its own nonce,
 * and ends in a redirect to the settings tab with a notice code.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The admin-post actions of the link.
 */
class Aftersale_Connect
{
    public const CAPABILITY = 'manage_woocommerce';

    /** @var Aftersale_Client|null */
    private $client;

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    public function register(): void
    {
        add_action('admin_post_aftersale_connect', array($this, 'handle_connect'));
        add_action('admin_post_aftersale_connected', array($this, 'handle_connected'));
        add_action('admin_post_aftersale_webhooks', array($this, 'handle_webhooks'));
        add_action('admin_post_aftersale_retry_job', array($this, 'handle_retry_job'));
        add_action('admin_notices', array($this, 'notices'));
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The settings tab's URL.
     *
     * @param array $args Extra query arguments.
     */
    public static function settings_url(array $args = array()): string
    {
        return add_query_arg(
            array_merge(array('page' => 'wc-settings', 'tab' => 'aftersale'), $args),
            admin_url('admin.php')
        );
    }

    /**
     * A nonce-protected link to one of the actions, as a raw URL (escape it
     * with esc_url() where it is printed). Not wp_nonce_url(): that one
     * returns the URL HTML-escaped ("&amp;_wpnonce="), which is right in an
     * href but breaks the URL anywhere else: as WooCommerce's return_url it
     * came back as "amp;_wpnonce" and the nonce check answered 403.
     *
     * @param string $action Action name without the admin_post_ prefix.
     * @param array  $args   Extra query arguments.
     * @param string $nonce_action The nonce's action (default: $action).
     */
    public static function action_url(string $action, array $args = array(), string $nonce_action = ''): string
    {
        $args = array_merge(array('action' => $action), $args);
        $args['_wpnonce'] = wp_create_nonce($nonce_action !== '' ? $nonce_action : $action);
        return add_query_arg($args, admin_url('admin-post.php'));
    }

    /**
     * Capability first, then the nonce: wp_die() for anything else.
     *
     * @param string $nonce_action The nonce's action.
     */
    private function guard(string $nonce_action): void
    {
        if (! current_user_can(self::CAPABILITY)) {
            wp_die(esc_html__('You are not allowed to manage the aftersale link.', 'aftersale'), '', array('response' => 403));
        }
        check_admin_referer($nonce_action);
    }

    /**
     * Back to the settings tab with a notice.
     *
     * @param string $notice Notice code (see notices()).
     * @param string $detail Optional detail text.
     */
    protected function back(string $notice, string $detail = ''): void
    {
        $args = array('aftersale_notice' => $notice);
        if ($detail !== '') {
            $args['aftersale_detail'] = rawurlencode(substr($detail, 0, 300));
        }
        wp_safe_redirect(self::settings_url($args));
        exit;
    }

    public function handle_connect(): void
    {
        $this->guard('aftersale_connect');
        if (! Aftersale_Options::configured()) {
            $this->back('not_configured');
        }
        $answer = $this->client()->post('/v1/woocommerce/auth-requests');
        if (is_wp_error($answer)) {
            $this->back('service_error', $answer->get_error_message());
        }
        if (empty($answer['callback_url']) || empty($answer['callback_https'])) {
            // WooCommerce refuses a callback_url that is not https.
            $this->back('callback_not_https');
        }
        $return_url = self::action_url('aftersale_connected', array(), 'aftersale_connected');
        $authorize  = add_query_arg(
            array(
                'app_name'     => rawurlencode('aftersale'),
                'scope'        => 'read_write',
                'user_id'      => rawurlencode((string) get_current_user_id()),
                'return_url'   => rawurlencode($return_url),
                'callback_url' => rawurlencode((string) $answer['callback_url']),
            ),
            self::authorize_endpoint()
        );
        wp_safe_redirect($authorize);
        exit;
    }

    /**
     * WooCommerce's authorize page: /wc-auth/v1/authorize with pretty
     * permalinks; with plain ones that path does not route, and WC_Auth
     * reads the same route from the wc-auth-version and wc-auth-route
     * query arguments instead.
     */
    public static function authorize_endpoint(): string
    {
        if ((string) get_option('permalink_structure', '') === '') {
            return add_query_arg(array('wc-auth-version' => 1, 'wc-auth-route' => 'authorize'), home_url('/'));
        }
        return home_url('/wc-auth/v1/authorize');
    }

    /**
     * WooCommerce brings the admin back here, with success=1 when the keys
     * were posted to the service (and success=0 when the admin declined).
     */
    public function handle_connected(): void
    {
        $this->guard('aftersale_connected');
        $success = isset($_GET['success']) ? absint(wp_unslash($_GET['success'])) : 0; // phpcs:ignore
        if ($success !== 1) {
            $this->back('connect_declined');
        }
        /* Aftersale_Webhooks registers this site for the service's events. */
        do_action('aftersale_connected');
        $this->install_webhooks('connected');
    }

    public function handle_webhooks(): void
    {
        $this->guard('aftersale_webhooks');
        $this->install_webhooks('webhooks_started');
    }

    /**
     * Ask the service to create the webhooks; its job is followed on the
     * settings tab.
     *
     * @param string $notice Notice on success.
     */
    private function install_webhooks(string $notice): void
    {
        $answer = $this->client()->post('/v1/woocommerce/webhooks');
        if (is_wp_error($answer)) {
            $this->back('service_error', $answer->get_error_message());
        }
        update_option(Aftersale_Options::WEBHOOKS_JOB, isset($answer['job_id']) ? (int) $answer['job_id'] : 0, false);
        $this->back($notice);
    }

    public function handle_retry_job(): void
    {
        $job_id = isset($_GET['job_id']) ? absint(wp_unslash($_GET['job_id'])) : 0; // phpcs:ignore
        $this->guard('aftersale_retry_job_' . $job_id);
        if ($job_id <= 0) {
            $this->back('service_error', __('No job to retry.', 'aftersale'));
        }
        $answer = $this->client()->post('/v1/jobs/' . $job_id . '/retry');
        if (is_wp_error($answer)) {
            $this->back('service_error', $answer->get_error_message());
        }
        $this->back('job_retried');
    }

    /**
     * The notices of the actions, on the settings tab; and a notice on
     * every WooCommerce screen while the service is unreachable.
     */
    public function notices(): void
    {
        if (! current_user_can(self::CAPABILITY)) {
            return;
        }
        if (Aftersale_Client::recently_down()) {
            printf(
                '<div class="notice notice-warning"><p>%s</p></div>',
                esc_html__('The aftersale service is not answering. The shop keeps working; points and previews are hidden until it is back.', 'aftersale')
            );
        }
        $code = isset($_GET['aftersale_notice']) ? sanitize_key(wp_unslash($_GET['aftersale_notice'])) : ''; // phpcs:ignore
        if ($code === '') {
            return;
        }
        $detail   = isset($_GET['aftersale_detail']) ? sanitize_text_field(wp_unslash($_GET['aftersale_detail'])) : ''; // phpcs:ignore
        $messages = array(
            'not_configured'     => array('error', __('Enter the service URL and the API key first.', 'aftersale')),
            'service_error'      => array('error', __('The aftersale service could not do that.', 'aftersale')),
            'callback_not_https' => array('error', __('WooCommerce only posts its keys to an https address: the service needs an https PUBLIC_URL.', 'aftersale')),
            'connect_declined'   => array('warning', __('The connection was not approved.', 'aftersale')),
            'connected'          => array('success', __('WooCommerce is connected. The webhooks are being installed.', 'aftersale')),
            'webhooks_started'   => array('success', __('The webhooks are being installed.', 'aftersale')),
            'job_retried'        => array('success', __('The job will run again.', 'aftersale')),
        );
        if (! isset($messages[$code])) {
            return;
        }
        list($type, $text) = $messages[$code];
        printf(
            '<div class="notice notice-%1$s"><p>%2$s%3$s</p></div>',
            esc_attr($type),
            esc_html($text),
            $detail !== '' ? ' ' . esc_html($detail) : ''
        );
    }
}
