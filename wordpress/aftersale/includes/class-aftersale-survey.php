<?php
/**
 * The order's survey on the WooCommerce thank-you page (the `link`
 * channel of docs/surveys.md).
 *
 * The service decides which survey applies: POST
 * /v1/orders/{id}/survey-link (shop key, event order.placed, and the
 * order's facts for an order the service has not seen yet) answers the
 * active link survey whose trigger and audience match the order, as a
 * link invitation, the same one on every reload. The plugin shows its
 * first question inline as a plain form that posts the score straight to
 * the service's score page (/s/{token}: no JavaScript, nothing of the
 * customer's passes through WordPress), or a link to the survey when the
 * first question is not a score.
 *
 * Fails open: not configured, the service marked down, a timeout (at most
 * Aftersale_Preview::TIMEOUT seconds), an error or no survey, and the
 * thank-you page renders as without the plugin.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The thank-you page's survey.
 */
class Aftersale_Survey
{
    /** The scale of each scored kind: [lowest, highest]. */
    private const SCALES = array(
        'nps'    => array(0, 10),
        'csat'   => array(1, 5),
        'ces'    => array(1, 7),
        'rating' => array(1, 5),
    );

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
        add_action('woocommerce_thankyou', array($this, 'render_thankyou'), 20);
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * What the template shows for an order, or null when no survey applies.
     *
     * @param int $order_id The order.
     * @return array|null
     */
    public function view(int $order_id): ?array
    {
        if ($order_id <= 0 || ! Aftersale_Options::configured() || Aftersale_Client::recently_down()) {
            return null;
        }
        $body  = array('event' => 'order.placed');
        $order = wc_get_order($order_id);
        if ($order && (string) $order->get_billing_email() !== '') {
            $body['order'] = self::facts($order);
        }
        $answer = $this->client()->request(
            'POST',
            '/v1/orders/' . $order_id . '/survey-link',
            $body,
            null,
            Aftersale_Preview::TIMEOUT
        );
        if (is_wp_error($answer) || empty($answer['url']) || ! is_array($answer['question'] ?? null)) {
            return null;
        }
        $status = (string) ($answer['invitation']['status'] ?? '');
        if ($status !== 'sent' && $status !== 'answered') {
            return null; /* expired or cancelled: nothing to ask */
        }
        $question = $answer['question'];
        $kind     = (string) ($question['kind'] ?? '');
        $scale    = self::SCALES[$kind] ?? null;
        return array(
            'url'      => (string) $answer['url'],
            'answered' => $status === 'answered',
            'question' => array(
                'id'    => (string) ($question['id'] ?? ''),
                'kind'  => $kind,
                'label' => self::label(is_array($question['label'] ?? null) ? $question['label'] : array()),
            ),
            /* A score inline (one click), anything else behind a link. */
            'scores'   => $scale !== null ? range($scale[0], $scale[1]) : array(),
        );
    }

    /**
     * The order as the service's audience rules read it, for an order whose
     * webhook the service has not processed yet (the thank-you page usually
     * comes first); the service uses its own snapshot when it has one.
     *
     * @param WC_Order $order The order.
     * @return array
     */
    public static function facts($order): array
    {
        $products = array();
        foreach ($order->get_items() as $item) {
            if ((int) $item->get_product_id() > 0) {
                $products[] = (int) $item->get_product_id();
            }
        }
        return array(
            'email'       => (string) $order->get_billing_email(),
            'first_name'  => (string) $order->get_billing_first_name(),
            'country'     => (string) $order->get_billing_country(),
            'total'       => Aftersale_Preview::money($order->get_total()),
            'customer_id' => max(0, (int) $order->get_customer_id()),
            'product_ids' => array_values(array_unique($products)),
        );
    }

    /**
     * The label in the site's language: its locale (de_DE), its language
     * (de), English, or the first one given.
     *
     * @param array $labels {"en": "...", "de": "..."}.
     */
    public static function label(array $labels): string
    {
        $locale = (string) get_locale();
        foreach (array($locale, strtolower(substr($locale, 0, 2)), 'en') as $key) {
            if (isset($labels[$key]) && is_string($labels[$key])) {
                return $labels[$key];
            }
        }
        $first = reset($labels);
        return is_string($first) ? $first : '';
    }

    /**
     * woocommerce_thankyou.
     *
     * @param int $order_id The order.
     */
    public function render_thankyou($order_id): void
    {
        $view = $this->view((int) $order_id);
        if ($view !== null) {
            Aftersale_Templates::render('thankyou-survey.php', $view);
        }
    }
}
