<?php
/**
 * The "Aftersale" box on the order screen in wp-admin: the points the order
 * earned and took back, and its return requests, read with the shop's key.
 *
 * The screen id comes from wc_get_page_screen_id('shop-order'), which is
 * the classic post screen or the HPOS order screen, whichever the shop
 * uses; the box's callback gets a WP_Post or a WC_Order accordingly.
 *
 * The service has no route listing an order's review request (only
 * POST /v1/review-requests and GET /v1/review-requests/{id}), so the box
 * shows none.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The order screen's meta box.
 */
class Aftersale_Order_Box
{
    /** Ledger entries read to find the order's (newest first). */
    public const LEDGER_LIMIT = 100;

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
        add_action('add_meta_boxes', array($this, 'add_box'));
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The order screen's id (HPOS or posts).
     */
    public static function screen_id(): string
    {
        return function_exists('wc_get_page_screen_id') ? (string) wc_get_page_screen_id('shop-order') : 'shop_order';
    }

    public function add_box(): void
    {
        if (! current_user_can('manage_woocommerce')) {
            return;
        }
        add_meta_box('aftersale-order', __('Aftersale', 'aftersale'), array($this, 'render'), self::screen_id(), 'side', 'default');
    }

    /**
     * @param WP_Post|WC_Order $post_or_order What the screen passes.
     */
    public function render($post_or_order): void
    {
        if (! current_user_can('manage_woocommerce')) {
            return;
        }
        $order = is_object($post_or_order) && method_exists($post_or_order, 'get_id')
            ? $post_or_order
            : wc_get_order(is_object($post_or_order) && isset($post_or_order->ID) ? (int) $post_or_order->ID : 0);
        if (! $order) {
            return;
        }
        Aftersale_Templates::render('admin/order-box.php', $this->view($order));
    }

    /**
     * What the box shows.
     *
     * @param WC_Order $order The order.
     * @return array
     */
    public function view($order): array
    {
        $order_id = (int) $order->get_id();
        $view     = array(
            'order_id' => $order_id,
            'error'    => '',
            'points'   => null,
            'returns'  => null,
            'account'  => null,
        );
        if (! Aftersale_Options::configured()) {
            $view['error'] = __('The aftersale service is not connected.', 'aftersale');
            return $view;
        }
        $returns = $this->client()->get('/v1/returns?limit=100&order_id=' . $order_id);
        if (is_wp_error($returns)) {
            $view['error'] = __('The aftersale service cannot be reached right now.', 'aftersale');
            return $view;
        }
        $view['returns'] = isset($returns['items']) ? (array) $returns['items'] : array();
        $view['points']  = $this->order_points($order, $view);
        return $view;
    }

    /**
     * The ledger entries of the order's account that are about this order
     * (earned on it, taken back by a refund or cancellation). No route
     * filters the ledger by order, so the account is found by the billing
     * email (its customer's account when there are several) and its
     * newest entries are filtered by order_id.
     *
     * @param WC_Order $order The order.
     * @param array    $view  The view (gets the account).
     * @return array|null Entries, or null when they cannot be read.
     */
    private function order_points($order, array &$view): ?array
    {
        $email = (string) $order->get_billing_email();
        if ($email === '') {
            return array();
        }
        $accounts = $this->client()->get('/v1/loyalty/accounts?limit=100&email=' . rawurlencode($email));
        if (is_wp_error($accounts)) {
            return null;
        }
        $account = null;
        foreach ((array) ($accounts['items'] ?? array()) as $a) {
            if ($account === null || (int) ($a['customer_id'] ?? 0) === (int) $order->get_customer_id()) {
                $account = $a;
            }
        }
        if ($account === null) {
            return array();
        }
        $view['account'] = $account;
        $ledger          = $this->client()->get('/v1/loyalty/accounts/' . (int) $account['id'] . '/ledger?limit=' . self::LEDGER_LIMIT);
        if (is_wp_error($ledger)) {
            return null;
        }
        $mine = array();
        foreach ((array) ($ledger['items'] ?? array()) as $entry) {
            if (isset($entry['order_id']) && (int) $entry['order_id'] === (int) $order->get_id()) {
                $mine[] = $entry;
            }
        }
        return $mine;
    }
}
