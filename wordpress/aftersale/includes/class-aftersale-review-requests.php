<?php
/**
 * My Account > Reviews: the customer's open review requests (orders
 * whose products they may still review), each with its products and a
 * link to the review page, from GET /v1/me/review-requests with a token
 * of scope "reviews" minted here for the logged-in customer (the shop's
 * API key is not used, and the service lists only that customer's
 * requests). When the service is down the page says so.
 *
 * The endpoint is added on init; the rewrite rules are flushed on
 * activation and once when an update adds it (REWRITE_VERSION), so a shop
 * that updates the plugin without re-activating it gets the page too.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The My Account endpoint of review requests.
 */
class Aftersale_Review_Requests
{
    public const ENDPOINT = 'write-reviews';
    /** Bump when the plugin adds an endpoint: the rules are flushed once. */
    public const REWRITE_VERSION = '2';
    public const REWRITE_OPTION = 'aftersale_rewrite_version';

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
        add_action('init', array(__CLASS__, 'add_endpoint'));
        add_action('init', array(__CLASS__, 'maybe_flush'), 99);
        add_filter('query_vars', array($this, 'query_vars'));
        add_filter('woocommerce_get_query_vars', array($this, 'wc_query_vars'));
        add_filter('woocommerce_account_menu_items', array($this, 'menu_items'), 20);
        add_filter('woocommerce_endpoint_' . self::ENDPOINT . '_title', array($this, 'title'));
        add_action('woocommerce_account_' . self::ENDPOINT . '_endpoint', array($this, 'render'));
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    public static function add_endpoint(): void
    {
        add_rewrite_endpoint(self::ENDPOINT, EP_ROOT | EP_PAGES);
    }

    /**
     * Flush the rewrite rules once after an update that added an endpoint.
     */
    public static function maybe_flush(): void
    {
        if (get_option(self::REWRITE_OPTION) !== self::REWRITE_VERSION) {
            flush_rewrite_rules(false);
            update_option(self::REWRITE_OPTION, self::REWRITE_VERSION);
        }
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
     * "Reviews" after Returns (or Orders), so that Points stays last before
     * "Log out"; before "Log out" when neither is there.
     *
     * @param array $items Menu items.
     * @return array
     */
    public function menu_items($items)
    {
        $items = (array) $items;
        $after = isset($items[Aftersale_Returns::ENDPOINT]) ? Aftersale_Returns::ENDPOINT : (isset($items['orders']) ? 'orders' : null);
        $out   = array();
        foreach ($items as $key => $label) {
            if ($after === null && $key === 'customer-logout') {
                $out[self::ENDPOINT] = __('Reviews', 'aftersale');
            }
            $out[$key] = $label;
            if ($key === $after) {
                $out[self::ENDPOINT] = __('Reviews', 'aftersale');
            }
        }
        if (! isset($out[self::ENDPOINT])) {
            $out[self::ENDPOINT] = __('Reviews', 'aftersale');
        }
        return $out;
    }

    public function title(): string
    {
        return __('Reviews', 'aftersale');
    }

    /**
     * What the template shows: the open requests, or an error.
     *
     * @return array{requests: array, error: string}
     */
    public function view(): array
    {
        $view  = array(
            'requests' => array(),
            'error'    => '',
        );
        $token = Aftersale_Tokens::for_current_user('reviews');
        if ($token === null || ! Aftersale_Options::configured()) {
            $view['error'] = __('Reviews are not available.', 'aftersale');
            return $view;
        }
        $answer = $this->client()->get('/v1/me/review-requests?limit=50', $token);
        if (is_wp_error($answer)) {
            $view['error'] = __('Your review requests cannot be shown right now. Please try again later.', 'aftersale');
            return $view;
        }
        foreach ((array) ($answer['items'] ?? array()) as $item) {
            if (! is_array($item)) {
                continue;
            }
            $order_id            = (int) ($item['order_id'] ?? 0);
            $order               = $order_id > 0 ? wc_get_order($order_id) : false;
            $view['requests'][] = array(
                'order_id'     => $order_id,
                'order_number' => $order ? (string) $order->get_order_number() : (string) $order_id,
                'review_url'   => (string) ($item['review_url'] ?? ''),
                'expires_at'   => (string) ($item['expires_at'] ?? ''),
                'products'     => array_values(array_filter((array) ($item['products'] ?? array()), 'is_array')),
            );
        }
        return $view;
    }

    public function render(): void
    {
        Aftersale_Templates::render('myaccount/review-requests.php', $this->view());
    }
}
