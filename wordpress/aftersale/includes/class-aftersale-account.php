<?php
/**
 * My Account > Points: balance, tier and progress to the next, points
 * expiring soon, the ledger (paged), and redeeming points for a coupon
 * that one button applies to the cart.
 *
 * The page calls the service as the logged-in customer, with a token minted
 * here (sub = the customer's id); the shop's API key is not used. When the
 * service is down the page says so and the rest of My Account works.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The My Account endpoint.
 */
class Aftersale_Account
{
    public const ENDPOINT = 'points';
    public const PAGE_SIZE = 10;

    /** @var Aftersale_Client|null */
    private $client;

    /** @var array|null The last redemption of this request (shown once). */
    private $redemption = null;

    /** @var string Error of the last redemption. */
    private $redeem_error = '';

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    public function register(): void
    {
        add_action('init', array(__CLASS__, 'add_endpoint'));
        add_filter('query_vars', array($this, 'query_vars'));
        add_filter('woocommerce_get_query_vars', array($this, 'wc_query_vars'));
        add_filter('woocommerce_account_menu_items', array($this, 'menu_items'));
        add_filter('woocommerce_endpoint_' . self::ENDPOINT . '_title', array($this, 'title'));
        add_action('woocommerce_account_' . self::ENDPOINT . '_endpoint', array($this, 'render'));
        add_action('template_redirect', array($this, 'handle_redeem'));
        add_action('wp_loaded', array($this, 'handle_apply_coupon'), 30);
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The rewrite endpoint (on init; flushed on activation).
     */
    public static function add_endpoint(): void
    {
        add_rewrite_endpoint(self::ENDPOINT, EP_ROOT | EP_PAGES);
    }

    /**
     * @param array $vars Query vars.
     * @return array
     */
    public function query_vars($vars)
    {
        $vars[] = self::ENDPOINT;
        return $vars;
    }

    /**
     * @param array $vars WooCommerce's endpoint query vars.
     * @return array
     */
    public function wc_query_vars($vars)
    {
        $vars[self::ENDPOINT] = self::ENDPOINT;
        return $vars;
    }

    /**
     * "Points" before "Log out".
     *
     * @param array $items Menu items.
     * @return array
     */
    public function menu_items($items)
    {
        $out = array();
        foreach ((array) $items as $key => $label) {
            if ($key === 'customer-logout') {
                $out[self::ENDPOINT] = __('Points', 'aftersale');
            }
            $out[$key] = $label;
        }
        if (! isset($out[self::ENDPOINT])) {
            $out[self::ENDPOINT] = __('Points', 'aftersale');
        }
        return $out;
    }

    public function title(): string
    {
        return __('Points', 'aftersale');
    }

    /**
     * POST from the points page: redeem N points. Nonce-checked, for the
     * logged-in customer only; the result is shown by render().
     */
    public function handle_redeem(): void
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified just below.
        if (! isset($_POST['aftersale_redeem_points'])) {
            return;
        }
        if (! is_user_logged_in()) {
            return;
        }
        $nonce = isset($_POST['aftersale_redeem_nonce']) ? sanitize_text_field(wp_unslash($_POST['aftersale_redeem_nonce'])) : '';
        if (! wp_verify_nonce($nonce, 'aftersale_redeem')) {
            $this->redeem_error = __('The form expired. Please try again.', 'aftersale');
            return;
        }
        $points = absint(wp_unslash($_POST['aftersale_redeem_points']));
        $token  = Aftersale_Tokens::for_current_user();
        if ($points <= 0 || $token === null) {
            $this->redeem_error = __('Enter the number of points to redeem.', 'aftersale');
            return;
        }
        // The form's one-time key makes a resubmitted form (reload, double
        // click) replay the first redemption instead of spending twice.
        $key     = isset($_POST['aftersale_redeem_key']) ? preg_replace('/[^A-Za-z0-9-]/', '', (string) wp_unslash($_POST['aftersale_redeem_key'])) : '';
        $headers = $key !== '' ? array('Idempotency-Key' => 'wp-' . get_current_user_id() . '-' . substr($key, 0, 64)) : array();
        $answer  = $this->client()->post('/v1/me/loyalty/redemptions', array('points' => $points), $token, $headers);
        if (is_wp_error($answer)) {
            $data               = $answer->get_error_data();
            $this->redeem_error = is_array($data) && isset($data['status']) && (int) $data['status'] < 500
                ? $answer->get_error_message()
                : __('Points cannot be redeemed right now. Please try again later.', 'aftersale');
            return;
        }
        $this->redemption = $answer;
    }

    /**
     * The "apply to cart" link of a redemption: a nonce-checked GET that
     * puts the coupon in the cart and goes to the cart.
     */
    public function handle_apply_coupon(): void
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- verified just below.
        if (! isset($_GET['aftersale_apply_coupon']) || ! function_exists('WC') || WC()->cart === null) {
            return;
        }
        $code  = wc_format_coupon_code(sanitize_text_field(wp_unslash($_GET['aftersale_apply_coupon'])));
        $nonce = isset($_GET['_wpnonce']) ? sanitize_text_field(wp_unslash($_GET['_wpnonce'])) : '';
        if ($code !== '' && is_user_logged_in() && wp_verify_nonce($nonce, 'aftersale_apply_' . $code)) {
            WC()->cart->apply_coupon($code);
        } else {
            // Say why the cart has no discount (the link is bound to the session
            // that showed it: another browser, or logged out since).
            wc_add_notice(__('This coupon link has expired. Enter the code in the cart instead.', 'aftersale'), 'error');
        }
        wp_safe_redirect(wc_get_cart_url());
        exit;
    }

    /**
     * The link that applies a coupon to the cart.
     *
     * @param string $code Coupon code.
     */
    public static function apply_url(string $code): string
    {
        // A raw URL (see Aftersale_Connect::action_url()); the template escapes it.
        return add_query_arg(
            array(
                'aftersale_apply_coupon' => rawurlencode($code),
                '_wpnonce'               => wp_create_nonce('aftersale_apply_' . wc_format_coupon_code($code)),
            ),
            wc_get_cart_url()
        );
    }

    /**
     * What the points template shows.
     *
     * @return array
     */
    public function view(): array
    {
        $view  = array(
            'account'      => null,
            'ledger'       => array(),
            'next_cursor'  => null,
            'error'        => '',
            'redemption'   => $this->redemption,
            'redeem_error' => $this->redeem_error,
            'apply_url'    => $this->redemption && isset($this->redemption['code']) ? self::apply_url((string) $this->redemption['code']) : '',
            'nonce_field'  => 'aftersale_redeem_nonce',
            'nonce'        => wp_create_nonce('aftersale_redeem'),
            'redeem_key'   => wp_generate_uuid4(),
            'page_url'     => wc_get_account_endpoint_url(self::ENDPOINT),
        );
        $token = Aftersale_Tokens::for_current_user();
        if ($token === null || ! Aftersale_Options::configured()) {
            $view['error'] = __('Points are not available.', 'aftersale');
            return $view;
        }
        $account = $this->client()->get('/v1/me/loyalty', $token);
        if (is_wp_error($account)) {
            $view['error'] = __('Your points cannot be shown right now. Please try again later.', 'aftersale');
            return $view;
        }
        $view['account'] = $account;
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a page cursor, read only.
        $cursor = isset($_GET['points_cursor']) ? preg_replace('/[^A-Za-z0-9_-]/', '', (string) wp_unslash($_GET['points_cursor'])) : '';
        $path   = '/v1/me/loyalty/ledger?limit=' . self::PAGE_SIZE . ($cursor !== '' ? '&cursor=' . rawurlencode($cursor) : '');
        $ledger = $this->client()->get($path, $token);
        if (! is_wp_error($ledger)) {
            $view['ledger']      = isset($ledger['items']) && is_array($ledger['items']) ? $ledger['items'] : array();
            $view['next_cursor'] = isset($ledger['next_cursor']) ? (string) $ledger['next_cursor'] : null;
        }
        return $view;
    }

    /**
     * A ledger reason in the customer's words.
     *
     * @param string $reason The service's reason code.
     */
    public static function reason_label(string $reason): string
    {
        $labels = array(
            'earn'              => __('Order', 'aftersale'),
            'bonus'             => __('Bonus', 'aftersale'),
            'refund'            => __('Refund', 'aftersale'),
            'cancel'            => __('Cancelled order', 'aftersale'),
            'redeem'            => __('Coupon', 'aftersale'),
            'redemption_refund' => __('Coupon returned', 'aftersale'),
            'adjustment'        => __('Adjustment', 'aftersale'),
            'expiry'            => __('Expired', 'aftersale'),
            'merge_in'          => __('Merged account', 'aftersale'),
            'merge_out'         => __('Merged account', 'aftersale'),
        );
        return $labels[$reason] ?? $reason;
    }

    public function render(): void
    {
        Aftersale_Templates::render('myaccount/points.php', $this->view());
    }
}
