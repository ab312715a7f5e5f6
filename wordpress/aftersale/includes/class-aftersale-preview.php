<?php
/**
 * "Earn N points": on the product page, the cart and the thank-you page,
 * from the service's POST /v1/loyalty/preview.
 *
 * The cart preview is cached per cart hash (and customer) in a transient,
 * under the cache generation that the service's loyalty events move on
 * (Aftersale_Webhooks),
 * so a cart that did not change is not asked about again; a product's per
 * product, price and customer. Everything here
 * fails open: when the service is slow, down or answers an error, nothing
 * is shown and the page renders as without the plugin; after a network
 * failure no preview is even attempted for Aftersale_Client::DOWN_SECONDS,
 * so a dead service costs one page at most the (short) preview timeout.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Point previews.
 */
class Aftersale_Preview
{
    /** Seconds a cart preview is kept. */
    public const CACHE_TTL = 600;
    /** The longest a storefront page waits for a preview. */
    public const TIMEOUT = 2;

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
        add_action('woocommerce_before_cart_totals', array($this, 'render_cart'));
        add_action('woocommerce_single_product_summary', array($this, 'render_product'), 25);
        add_action('woocommerce_thankyou', array($this, 'render_thankyou'), 5);
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The preview of some lines, or null (fail open).
     *
     * @param string $currency Currency code.
     * @param array  $lines    [['product_id'=>, 'quantity'=>, 'total'=>'12.00'], ...].
     * @param int    $customer_id Customer id, 0 for none.
     * @param string $email    Email of a guest, '' for none.
     * @param string $total    Order total ('' when unknown).
     * @return array|null
     */
    public function preview(string $currency, array $lines, int $customer_id = 0, string $email = '', string $total = ''): ?array
    {
        if (! Aftersale_Options::configured() || Aftersale_Client::recently_down() || $lines === array()) {
            return null;
        }
        $body = array('currency' => strtoupper($currency), 'lines' => array_values($lines));
        if ($customer_id > 0) {
            $body['customer_id'] = $customer_id;
        } elseif ($email !== '') {
            $body['email'] = $email;
        }
        if ($total !== '') {
            $body['total'] = $total;
        }
        $answer = $this->client()->request('POST', '/v1/loyalty/preview', $body, null, self::TIMEOUT);
        if (is_wp_error($answer) || ! isset($answer['points'])) {
            return null;
        }
        return $answer;
    }

    /**
     * A decimal string with the shop's decimals, never a float's repr.
     *
     * @param float|string $amount Amount.
     */
    public static function money($amount): string
    {
        return number_format((float) $amount, max(2, (int) wc_get_price_decimals()), '.', '');
    }

    /**
     * The cart's lines as the preview wants them.
     *
     * @param WC_Cart $cart The cart.
     * @return array
     */
    public static function cart_lines($cart): array
    {
        $lines = array();
        foreach ($cart->get_cart() as $item) {
            $lines[] = array(
                'product_id' => (int) $item['product_id'],
                'quantity'   => (int) $item['quantity'],
                'total'      => self::money($item['line_total']),
            );
        }
        return $lines;
    }

    /**
     * The cart's preview, cached per cart hash and customer.
     *
     * @return array|null
     */
    public function cart_preview(): ?array
    {
        if (! function_exists('WC') || WC()->cart === null) {
            return null;
        }
        $cart     = WC()->cart;
        $customer = get_current_user_id();
        $currency = get_woocommerce_currency();
        $key      = 'aftersale_pv_' . md5($cart->get_cart_hash() . '|' . $currency . '|' . $customer . '|' . Aftersale_Webhooks::generation());
        $cached   = get_transient($key);
        if (is_array($cached)) {
            return $cached;
        }
        $answer = $this->preview($currency, self::cart_lines($cart), $customer);
        if ($answer !== null) {
            set_transient($key, $answer, self::CACHE_TTL);
        }
        return $answer;
    }

    public function render_cart(): void
    {
        $answer = $this->cart_preview();
        if ($answer !== null && (int) $answer['points'] > 0) {
            Aftersale_Templates::render('cart/earn-points.php', array('points' => (int) $answer['points'], 'tier' => $answer['tier'] ?? null));
        }
    }

    public function render_product(): void
    {
        global $product;
        if (! is_object($product) || ! method_exists($product, 'get_price') || $product->get_price() === '') {
            return;
        }
        $price    = self::money(wc_get_price_excluding_tax($product));
        $currency = get_woocommerce_currency();
        $customer = get_current_user_id();
        $key      = 'aftersale_pp_' . md5((int) $product->get_id() . '|' . $price . '|' . $currency . '|' . $customer . '|' . Aftersale_Webhooks::generation());
        $answer   = get_transient($key);
        if (! is_array($answer)) {
            $answer = $this->preview(
                $currency,
                array(array('product_id' => (int) $product->get_id(), 'quantity' => 1, 'total' => $price)),
                $customer
            );
            if ($answer !== null) {
                set_transient($key, $answer, self::CACHE_TTL);
            }
        }
        if ($answer !== null && (int) $answer['points'] > 0) {
            Aftersale_Templates::render('single-product/earn-points.php', array('points' => (int) $answer['points']));
        }
    }

    /**
     * The thank-you page: what this order earns (once it is completed).
     *
     * @param int $order_id The order.
     */
    public function render_thankyou($order_id): void
    {
        $order = wc_get_order($order_id);
        if (! $order) {
            return;
        }
        $lines = array();
        foreach ($order->get_items() as $item) {
            $lines[] = array(
                'product_id' => (int) $item->get_product_id(),
                'quantity'   => (int) $item->get_quantity(),
                'total'      => self::money($item->get_total()),
            );
        }
        $answer = $this->preview(
            (string) $order->get_currency(),
            $lines,
            (int) $order->get_customer_id(),
            (string) $order->get_billing_email(),
            self::money($order->get_total())
        );
        if ($answer !== null && (int) $answer['points'] > 0) {
            Aftersale_Templates::render('order/thankyou-points.php', array('points' => (int) $answer['points'], 'order' => $order));
        }
    }
}
