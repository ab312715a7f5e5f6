<?php
/**
 * WooCommerce > Settings > Aftersale: the service URL, the shop's API key
 * and token secret, and the health of the link.
 *
 * The two secrets are rendered as empty password fields with a mask of the
 * stored value as placeholder (never the value itself); an empty field
 * keeps the stored secret. They are saved with autoload off. Saving checks
 * the key against the service (GET /v1/shop) and remembers the shop id the
 * customer tokens need.
 *
 * Loaded from the woocommerce_get_settings_pages filter, when
 * WC_Settings_Page exists.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The settings tab.
 */
class Aftersale_Settings extends WC_Settings_Page
{
    /** @var Aftersale_Client|null */
    private $client;

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->id     = 'aftersale';
        $this->label  = __('Aftersale', 'aftersale');
        $this->client = $client;
        parent::__construct();
        add_action('woocommerce_admin_field_aftersale_secret', array($this, 'render_secret_field'));
        add_action('woocommerce_admin_field_aftersale_health', array($this, 'render_health'));
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The fields WooCommerce saves itself (no secrets among them).
     *
     * @return array
     */
    public function plain_settings(): array
    {
        return array(
            array(
                'title' => __('Aftersale service', 'aftersale'),
                'type'  => 'title',
                'desc'  => __('Where the aftersale service runs and how this shop signs in to it.', 'aftersale'),
                'id'    => 'aftersale_service',
            ),
            array(
                'title'       => __('Service URL', 'aftersale'),
                'id'          => Aftersale_Options::SERVICE_URL,
                'type'        => 'url',
                'placeholder' => 'https://aftersale.example.com',
                'default'     => '',
                'autoload'    => true,
            ),
            array(
                'title'             => __('Timeout (seconds)', 'aftersale'),
                'desc'              => __('The longest a page waits for the service. Checkout never waits longer.', 'aftersale'),
                'id'                => Aftersale_Options::TIMEOUT,
                'type'              => 'number',
                'default'           => (string) Aftersale_Options::DEFAULT_TIMEOUT,
                'custom_attributes' => array('min' => 1, 'max' => 10, 'step' => 1),
            ),
        );
    }

    /**
     * All fields, as the tab shows them (WooCommerce's get_settings()
     * applies the woocommerce_get_settings_aftersale filter to them).
     *
     * @return array
     */
    public function get_settings_for_default_section()
    {
        $fields   = $this->plain_settings();
        $fields[] = array(
            'title' => __('API key', 'aftersale'),
            'id'    => Aftersale_Options::API_KEY,
            'type'  => 'aftersale_secret',
            'desc'  => __('The shop API key the service issued (ask_...).', 'aftersale'),
        );
        $fields[] = array(
            'title' => __('Token secret', 'aftersale'),
            'id'    => Aftersale_Options::TOKEN_SECRET,
            'type'  => 'aftersale_secret',
            'desc'  => __('Signs the short-lived tokens of your customers. Shown once by the service.', 'aftersale'),
        );
        $fields[] = array('type' => 'sectionend', 'id' => 'aftersale_service');
        $fields[] = array('type' => 'aftersale_health', 'id' => 'aftersale_health');
        return $fields;
    }

    /**
     * A secret: an empty password field, the mask as placeholder.
     *
     * @param array $field The field.
     */
    public function render_secret_field(array $field): void
    {
        $id     = (string) $field['id'];
        $masked = Aftersale_Options::mask((string) get_option($id, ''));
        $hint   = $masked !== '' ? __('Stored. Leave empty to keep it.', 'aftersale') : __('Not set.', 'aftersale');
        ?>
        <tr valign="top">
            <th scope="row" class="titledesc">
                <label for="<?php echo esc_attr($id); ?>"><?php echo esc_html((string) $field['title']); ?></label>
            </th>
            <td class="forminp">
                <input type="password" autocomplete="new-password" name="<?php echo esc_attr($id); ?>" id="<?php echo esc_attr($id); ?>" value="" placeholder="<?php echo esc_attr($masked); ?>" />
                <p class="description"><?php echo esc_html((string) $field['desc'] . ' ' . $hint); ?></p>
            </td>
        </tr>
        <?php
    }

    /**
     * Save: WooCommerce has checked its settings nonce before calling this;
     * the capability is checked again here.
     */
    public function save()
    {
        if (! current_user_can('manage_woocommerce')) {
            return;
        }
        $old_url = Aftersale_Options::service_url();
        $old_key = Aftersale_Options::api_key();
        WC_Admin_Settings::save_fields($this->plain_settings());
        // phpcs:disable WordPress.Security.NonceVerification -- checked by WC_Admin_Settings::save().
        foreach (array(Aftersale_Options::API_KEY, Aftersale_Options::TOKEN_SECRET) as $name) {
            $value = isset($_POST[$name]) ? trim(sanitize_text_field(wp_unslash($_POST[$name]))) : '';
            Aftersale_Options::set_secret($name, $value);
        }
        // phpcs:enable
        $this->client = null;
        $this->refresh_shop_id();
        // Another service or another key (or none: disconnected): the
        // webhook endpoint of the old settings goes, a new one is registered.
        if ($old_url !== Aftersale_Options::service_url() || ! hash_equals($old_key, Aftersale_Options::api_key())) {
            do_action('aftersale_service_changed', $old_url, $old_key);
        }
        do_action('woocommerce_update_options_' . $this->id);
    }

    /**
     * Learn the shop id (for the tokens' audience) from GET /v1/shop.
     */
    public function refresh_shop_id(): void
    {
        if (! Aftersale_Options::configured()) {
            return;
        }
        $shop = $this->client()->get('/v1/shop');
        if (is_wp_error($shop)) {
            WC_Admin_Settings::add_error($shop->get_error_message());
            return;
        }
        if (isset($shop['id'])) {
            update_option(Aftersale_Options::SHOP_ID, (int) $shop['id']);
        }
    }

    /**
     * The link's health: connect and webhook buttons, webhooks active in
     * this shop, last delivery, last reconciliation, dead jobs.
     */
    public function render_health(): void
    {
        $health = $this->health();
        Aftersale_Templates::render('admin/health.php', $health);
    }

    /**
     * What the health panel shows.
     *
     * @return array
     */
    public function health(): array
    {
        $out = array(
            'configured'    => Aftersale_Options::configured(),
            'error'         => '',
            'status'        => null,
            'dead_jobs'     => array(),
            'webhooks_job'  => null,
            'webhooks'      => self::active_webhooks(Aftersale_Options::service_url()),
            'connect_url'   => Aftersale_Connect::action_url('aftersale_connect'),
            'webhooks_url'  => Aftersale_Connect::action_url('aftersale_webhooks'),
        );
        if (! $out['configured']) {
            return $out;
        }
        $status = $this->client()->get('/v1/woocommerce/status');
        if (is_wp_error($status)) {
            $out['error'] = $status->get_error_message();
            return $out;
        }
        $out['status'] = $status;
        $dead          = $this->client()->get('/v1/jobs?status=dead&limit=20');
        if (! is_wp_error($dead) && isset($dead['items']) && is_array($dead['items'])) {
            foreach ($dead['items'] as $job) {
                $job_id              = (int) $job['id'];
                $out['dead_jobs'][] = array(
                    'id'         => $job_id,
                    'kind'       => (string) ($job['kind'] ?? ''),
                    'last_error' => (string) ($job['last_error'] ?? ''),
                    'retry_url'  => Aftersale_Connect::action_url('aftersale_retry_job', array('job_id' => $job_id), 'aftersale_retry_job_' . $job_id),
                );
            }
        }
        $job_id = (int) get_option(Aftersale_Options::WEBHOOKS_JOB, 0);
        if ($job_id > 0) {
            $job = $this->client()->get('/v1/jobs/' . $job_id);
            if (! is_wp_error($job)) {
                $out['webhooks_job'] = $job;
            }
        }
        return $out;
    }

    /**
     * Active webhooks of this shop that deliver to the service.
     *
     * @param string $service_url The service URL.
     */
    public static function active_webhooks(string $service_url): int
    {
        if ($service_url === '' || ! function_exists('wc_get_webhook') || ! class_exists('WC_Data_Store')) {
            return 0;
        }
        $store = WC_Data_Store::load('webhook');
        $ids   = $store->search_webhooks(array('status' => 'active', 'limit' => -1));
        $n     = 0;
        foreach ((array) $ids as $id) {
            $hook = wc_get_webhook($id);
            if ($hook && strpos((string) $hook->get_delivery_url(), $service_url . '/') === 0) {
                $n++;
            }
        }
        return $n;
    }
}
