<?php
/**
 * The "Aftersale" box on the order screen in wp-admin: the points the order
 * earned and took back, and its return requests, read with the shop's key.
 *
 * The screen id comes from wc_get_page_screen_id('shop-order'), which is
 * the classic post screen or the HPOS order screen, whichever the shop
 * uses; the box's callback gets a WP_Post or a WC_Order accordingly.
 *
 * It also shows the order's review request and the reviews made from it
 * (GET /v1/review-requests?order_id=) and its survey responses across
 * surveys (GET /v1/survey-responses?order_id=). Each item links on: the
 * Loyalty screen's account, the Returns screen's return, the Reviews
 * screen (and the WooCommerce review once published), the Surveys
 * screen's responses of that survey.
 *
 * Fail-open: each look-up that fails leaves its section out, and the box
 * says once that the service cannot be reached; the order screen itself
 * is never held up longer than the client's timeout per call.
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
            'order_id'  => $order_id,
            'error'     => '',
            'points'    => null,
            'returns'   => null,
            'account'   => null,
            'requests'  => null,
            'responses' => null,
            'links'     => array(),
        );
        if (! Aftersale_Options::configured()) {
            $view['error'] = __('The aftersale service is not connected.', 'aftersale');
            return $view;
        }
        $view['returns']   = $this->items('/v1/returns?limit=100&order_id=' . $order_id);
        $view['requests']  = $this->items('/v1/review-requests?limit=100&order_id=' . $order_id);
        $view['responses'] = $this->items('/v1/survey-responses?limit=100&order_id=' . $order_id);
        $view['points']    = $view['returns'] === null ? null : $this->order_points($order, $view);
        if ($view['returns'] === null || $view['requests'] === null || $view['responses'] === null || $view['points'] === null) {
            $view['error'] = __('The aftersale service cannot be reached right now.', 'aftersale');
        }
        $view['links'] = self::links($view);
        return $view;
    }

    /**
     * The items of a list route, or null when the service cannot answer.
     *
     * @param string $path The route with its query.
     */
    private function items(string $path): ?array
    {
        $got = $this->client()->get($path);
        if (is_wp_error($got) || ! is_array($got)) {
            return null;
        }
        return isset($got['items']) ? (array) $got['items'] : array();
    }

    /**
     * A URL of one of the plugin's admin screens.
     *
     * @param string $slug The screen's page slug.
     * @param array  $args Query arguments.
     */
    public static function admin_link(string $slug, array $args = array()): string
    {
        return add_query_arg(array_merge(array('page' => $slug), $args), admin_url('admin.php'));
    }

    /**
     * Where each item of the box links to (unescaped URLs; the template
     * escapes them): by section, then by the item's id.
     *
     * @param array $view The view.
     */
    private static function links(array $view): array
    {
        $links = array(
            'account'   => '',
            'returns'   => array(),
            'reviews'   => array(),
            'woo'       => array(),
            'responses' => array(),
            'requests'  => self::admin_link('aftersale-reviews', array('tab' => 'stats')),
        );
        if ($view['account'] !== null) {
            $links['account'] = self::admin_link('aftersale-loyalty', array('account' => (string) (int) $view['account']['id']));
        }
        foreach ((array) $view['returns'] as $r) {
            $links['returns'][(int) $r['id']] = self::admin_link('aftersale-returns', array('return' => (string) (int) $r['id']));
        }
        foreach ((array) $view['requests'] as $rr) {
            foreach ((array) ($rr['reviews'] ?? array()) as $rv) {
                $id                    = (int) $rv['id'];
                $links['reviews'][$id] = (string) $rv['status'] === 'pending'
                    ? self::admin_link('aftersale-reviews')
                    : self::admin_link('aftersale-reviews', array('tab' => 'published'));
                if (! empty($rv['woo_review_id'])) {
                    $links['woo'][$id] = admin_url('comment.php?action=editcomment&c=' . (int) $rv['woo_review_id']);
                }
            }
        }
        foreach ((array) $view['responses'] as $sr) {
            $links['responses'][(int) $sr['id']] = self::admin_link(
                'aftersale-surveys',
                array('view' => 'responses', 'survey' => (string) (int) $sr['survey_id'])
            ) . '#aftersale-response-' . (int) $sr['id'];
        }
        return $links;
    }

    /**
     * A review request's status, in words.
     *
     * @param string $status The service's status.
     */
    public static function request_status_label(string $status): string
    {
        $labels = array(
            'scheduled'    => __('Scheduled', 'aftersale'),
            'sent'         => __('Sent, not answered yet', 'aftersale'),
            'answered'     => __('Answered', 'aftersale'),
            'expired'      => __('Expired', 'aftersale'),
            'cancelled'    => __('Cancelled', 'aftersale'),
            'unsubscribed' => __('Unsubscribed', 'aftersale'),
        );
        return $labels[$status] ?? $status;
    }

    /**
     * A review's moderation status, in words.
     *
     * @param string $status pending, approved or rejected.
     */
    public static function review_status_label(string $status): string
    {
        $labels = array(
            'pending'  => __('Waiting for moderation', 'aftersale'),
            'approved' => __('Approved', 'aftersale'),
            'rejected' => __('Rejected', 'aftersale'),
        );
        return $labels[$status] ?? $status;
    }

    /**
     * A survey response's follow-up state, in words (the Surveys screen's).
     *
     * @param string $state new, contacted or resolved.
     */
    public static function follow_up_label(string $state): string
    {
        $labels = array(
            'new'       => __('Not contacted', 'aftersale'),
            'contacted' => __('Contacted', 'aftersale'),
            'resolved'  => __('Resolved', 'aftersale'),
        );
        return $labels[$state] ?? $state;
    }

    /**
     * A service timestamp in the site's date format ('' when absent).
     *
     * @param mixed $ts RFC 3339 or null.
     */
    public static function date($ts): string
    {
        if (! is_string($ts) || $ts === '' || strtotime($ts) === false) {
            return '';
        }
        return (string) date_i18n(get_option('date_format'), strtotime($ts));
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
