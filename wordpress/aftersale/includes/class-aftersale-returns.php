<?php
/**
 * My Account > Returns: a "Request a return" action on each eligible order,
 * the request form (lines with the quantity left, reasons, notes, photos,
 * resolution) and the customer's requests with their state and history.
 *
 * Everything is server-side: the form posts to the returns page with a
 * nonce and works without JavaScript. The request is created with a
 * customer token of scope `returns` (POST /v1/me/returns), so the service
 * checks that the order is the customer's; photos are uploaded to
 * WordPress with the form and forwarded as raw bodies to
 * /v1/me/returns/{id}/photos. The policy (reasons, resolutions, window)
 * and the requests already made are read with the shop's key, and only
 * the current customer's orders and requests are ever shown. When the
 * service is down the page says so and My Account keeps working.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The returns endpoint.
 */
class Aftersale_Returns
{
    public const ENDPOINT = 'returns';
    public const SCOPE = 'returns';
    /** The service refuses larger photos (413). */
    public const MAX_PHOTO_BYTES = 5242880;
    public const MAX_PHOTOS = 5;

    /** @var Aftersale_Client|null */
    private $client;

    /** @var array|null The policy, read once per page. */
    private $settings = null;

    /** @var string Why the last post failed ('' for none). */
    private $form_error = '';

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
        add_filter('woocommerce_my_account_my_orders_actions', array($this, 'order_actions'), 10, 2);
        add_action('template_redirect', array($this, 'handle_submit'));
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
     * "Returns" right after "Orders" (else before "Log out").
     *
     * @param array $items Menu items.
     * @return array
     */
    public function menu_items($items)
    {
        $items = (array) $items;
        $after = isset($items['orders']) ? 'orders' : null;
        $out   = array();
        foreach ($items as $key => $label) {
            if ($after === null && $key === 'customer-logout') {
                $out[self::ENDPOINT] = __('Returns', 'aftersale');
            }
            $out[$key] = $label;
            if ($key === $after) {
                $out[self::ENDPOINT] = __('Returns', 'aftersale');
            }
        }
        if (! isset($out[self::ENDPOINT])) {
            $out[self::ENDPOINT] = __('Returns', 'aftersale');
        }
        return $out;
    }

    public function title(): string
    {
        return __('Returns', 'aftersale');
    }

    /**
     * The form's page of an order.
     *
     * @param int $order_id Order id.
     */
    public static function form_url(int $order_id): string
    {
        return add_query_arg('aftersale_return_order', (string) $order_id, wc_get_account_endpoint_url(self::ENDPOINT));
    }

    /**
     * The policy, or null when the service cannot tell (then no order
     * offers a return: nothing is promised that cannot be kept).
     */
    private function settings(): ?array
    {
        if ($this->settings === null) {
            if (! Aftersale_Options::configured() || Aftersale_Client::recently_down()) {
                return null;
            }
            $answer         = $this->client()->get('/v1/returns/settings');
            $this->settings = is_wp_error($answer) ? array() : $answer;
        }
        return $this->settings === array() ? null : $this->settings;
    }

    /**
     * The current customer's order, or null for anyone else's.
     *
     * @param int $order_id Order id.
     * @return WC_Order|null
     */
    private static function own_order(int $order_id)
    {
        $user = get_current_user_id();
        if ($user <= 0 || $order_id <= 0) {
            return null;
        }
        $order = wc_get_order($order_id);
        if (! $order || (int) $order->get_customer_id() !== $user) {
            return null;
        }
        return $order;
    }

    /**
     * Whether the policy lets this order be returned (status and window;
     * the service checks again when the request is made).
     *
     * @param WC_Order $order    The order.
     * @param array    $settings The policy.
     */
    public static function eligible($order, array $settings): bool
    {
        $statuses = isset($settings['eligible_statuses']) ? (array) $settings['eligible_statuses'] : array('completed');
        if (! in_array((string) $order->get_status(), $statuses, true)) {
            return false;
        }
        $completed = $order->get_date_completed();
        if ($completed && isset($settings['window_days'])) {
            // The service ends the window at the end of the shop's day; a
            // day's grace here leaves the last word to it.
            $end = $completed->getTimestamp() + ((int) $settings['window_days'] + 1) * DAY_IN_SECONDS;
            if (time() > $end) {
                return false;
            }
        }
        return true;
    }

    /**
     * "Request a return" on each eligible order of My Account > Orders.
     *
     * @param array    $actions The order's actions.
     * @param WC_Order $order   The order.
     * @return array
     */
    public function order_actions($actions, $order)
    {
        if (! $order || (int) $order->get_customer_id() !== get_current_user_id()) {
            return $actions;
        }
        $settings = $this->settings();
        if ($settings === null || ! self::eligible($order, $settings)) {
            return $actions;
        }
        $actions['aftersale-return'] = array(
            'url'  => self::form_url((int) $order->get_id()),
            'name' => __('Request a return', 'aftersale'),
        );
        return $actions;
    }

    /**
     * The order's requests (shop key), or null when the service cannot answer.
     *
     * @param int $order_id Order id.
     */
    private function order_returns(int $order_id): ?array
    {
        $answer = $this->client()->get('/v1/returns?limit=100&order_id=' . $order_id);
        if (is_wp_error($answer)) {
            return null;
        }
        return isset($answer['items']) && is_array($answer['items']) ? $answer['items'] : array();
    }

    /**
     * Units of each line still returnable: bought minus what requests not
     * rejected or cancelled hold (after inspection, what was received).
     *
     * @param WC_Order $order   The order.
     * @param array    $returns The order's requests.
     * @return array line_item_id => quantity
     */
    public static function quantities_left($order, array $returns): array
    {
        $held = array();
        foreach ($returns as $r) {
            if (in_array($r['state'] ?? '', array('rejected', 'cancelled'), true)) {
                continue;
            }
            foreach ((array) ($r['lines'] ?? array()) as $line) {
                $qty = isset($line['quantity_received']) && $line['quantity_received'] !== null
                    ? (int) $line['quantity_received'] : (int) $line['quantity'];
                $id  = (int) $line['line_item_id'];
                $held[$id] = ($held[$id] ?? 0) + $qty;
            }
        }
        $left = array();
        foreach ($order->get_items() as $item_id => $item) {
            $left[(int) $item_id] = max(0, (int) $item->get_quantity() - ($held[(int) $item_id] ?? 0));
        }
        return $left;
    }

    /**
     * A reason's label in the site's language, English as the fallback.
     *
     * @param array $reason A policy reason.
     */
    public static function reason_label(array $reason): string
    {
        $labels = isset($reason['labels']) ? (array) $reason['labels'] : array();
        $locale = function_exists('get_locale') ? (string) get_locale() : 'en';
        foreach (array($locale, substr($locale, 0, 2), 'en') as $l) {
            if (isset($labels[$l]) && $labels[$l] !== '') {
                return (string) $labels[$l];
            }
        }
        return (string) ($reason['code'] ?? '');
    }

    /**
     * A state in the customer's words.
     *
     * @param string $state The service's state.
     */
    public static function state_label(string $state): string
    {
        $labels = array(
            'requested'         => __('Requested', 'aftersale'),
            'approved'          => __('Approved', 'aftersale'),
            'rejected'          => __('Rejected', 'aftersale'),
            'received'          => __('Received', 'aftersale'),
            'resolving'         => __('Being resolved', 'aftersale'),
            'resolution_failed' => __('Being resolved', 'aftersale'),
            'resolved'          => __('Resolved', 'aftersale'),
            'closed'            => __('Closed', 'aftersale'),
            'cancelled'         => __('Cancelled', 'aftersale'),
        );
        return $labels[$state] ?? $state;
    }

    /**
     * The type of an image from its first bytes (as the service reads it),
     * or '' for anything else.
     *
     * @param string $bytes The file.
     */
    public static function image_type(string $bytes): string
    {
        if (strncmp($bytes, "\xFF\xD8\xFF", 3) === 0) {
            return 'image/jpeg';
        }
        if (strncmp($bytes, "\x89PNG\r\n\x1A\n", 8) === 0) {
            return 'image/png';
        }
        if (strlen($bytes) >= 12 && substr($bytes, 0, 4) === 'RIFF' && substr($bytes, 8, 4) === 'WEBP') {
            return 'image/webp';
        }
        return '';
    }

    /**
     * The uploaded photos of the form: [tmp path => size], in order.
     *
     * @return array
     */
    private static function uploaded_photos(): array
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Missing -- called after the nonce check.
        $files = isset($_FILES['aftersale_photos']) && is_array($_FILES['aftersale_photos']) ? $_FILES['aftersale_photos'] : array();
        $out   = array();
        if (! isset($files['tmp_name']) || ! is_array($files['tmp_name'])) {
            return $out;
        }
        foreach ($files['tmp_name'] as $i => $tmp) {
            $error = isset($files['error'][$i]) ? (int) $files['error'][$i] : UPLOAD_ERR_NO_FILE;
            if ($error === UPLOAD_ERR_NO_FILE) {
                continue;
            }
            $out[] = array(
                'tmp'   => (string) $tmp,
                'size'  => isset($files['size'][$i]) ? (int) $files['size'][$i] : 0,
                'error' => $error,
            );
        }
        return $out;
    }

    /**
     * POST of the form: create the request, forward the photos, then go to
     * the list with a notice (a reload does not post again). A failure
     * shows the form again with the reason.
     */
    public function handle_submit(): void
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified just below.
        if (! isset($_POST['aftersale_return_order']) || ! is_user_logged_in()) {
            return;
        }
        $order_id = absint(wp_unslash($_POST['aftersale_return_order']));
        $nonce    = isset($_POST['aftersale_return_nonce']) ? sanitize_text_field(wp_unslash($_POST['aftersale_return_nonce'])) : '';
        if (! wp_verify_nonce($nonce, 'aftersale_return_' . $order_id)) {
            $this->form_error = __('The form expired. Please try again.', 'aftersale');
            return;
        }
        $order = self::own_order($order_id);
        $token = Aftersale_Tokens::for_current_user(self::SCOPE);
        if ($order === null || $token === null) {
            $this->form_error = __('This order cannot be returned.', 'aftersale');
            return;
        }
        $body = self::request_body($order, wp_unslash($_POST)); // phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified above; request_body() sanitises.
        if ($body['lines'] === array()) {
            $this->form_error = __('Choose at least one item to return.', 'aftersale');
            return;
        }
        $photos = self::uploaded_photos();
        foreach ($photos as $p) {
            if ($p['error'] !== UPLOAD_ERR_OK || $p['size'] > self::MAX_PHOTO_BYTES || ! is_uploaded_file($p['tmp'])) {
                $this->form_error = __('A photo could not be uploaded (at most 5 MB each, JPEG, PNG or WebP).', 'aftersale');
                return;
            }
        }
        if (count($photos) > self::MAX_PHOTOS) {
            $this->form_error = __('A photo could not be uploaded (at most 5 MB each, JPEG, PNG or WebP).', 'aftersale');
            return;
        }
        $key     = isset($_POST['aftersale_return_key']) ? preg_replace('/[^A-Za-z0-9-]/', '', (string) wp_unslash($_POST['aftersale_return_key'])) : '';
        $headers = $key !== '' ? array('Idempotency-Key' => 'wp-return-' . get_current_user_id() . '-' . substr($key, 0, 64)) : array();
        $created = $this->client()->post('/v1/me/returns', $body, $token, $headers);
        if (is_wp_error($created)) {
            $data             = $created->get_error_data();
            $this->form_error = is_array($data) && isset($data['status']) && (int) $data['status'] < 500
                ? $created->get_error_message()
                : __('Returns cannot be requested right now. Please try again later.', 'aftersale');
            return;
        }
        $failed = $this->forward_photos((int) $created['id'], $photos, $token);
        if ($failed > 0) {
            wc_add_notice(__('A photo could not be uploaded (at most 5 MB each, JPEG, PNG or WebP).', 'aftersale'), 'error');
        }
        // The confirmation rides on the URL (shown only when that request is
        // among the customer's own), not on WooCommerce's session notices.
        wp_safe_redirect(add_query_arg('aftersale_requested', (string) (int) $created['id'], wc_get_account_endpoint_url(self::ENDPOINT)));
        exit;
    }

    /**
     * The JSON body of POST /v1/me/returns from the posted form: only the
     * order's own lines, quantities between 1 and what was bought, codes
     * and notes sanitised.
     *
     * @param WC_Order $order The order.
     * @param array    $post  The posted fields, unslashed.
     * @return array
     */
    public static function request_body($order, array $post): array
    {
        $posted = isset($post['aftersale_lines']) && is_array($post['aftersale_lines']) ? $post['aftersale_lines'] : array();
        $lines  = array();
        foreach ($order->get_items() as $item_id => $item) {
            $in  = isset($posted[$item_id]) && is_array($posted[$item_id]) ? $posted[$item_id] : array();
            $qty = isset($in['quantity']) ? absint($in['quantity']) : 0;
            if ($qty <= 0) {
                continue;
            }
            $line = array(
                'line_item_id' => (int) $item_id,
                'quantity'     => min($qty, (int) $item->get_quantity()),
                'reason'       => isset($in['reason']) ? sanitize_key((string) $in['reason']) : '',
            );
            $note = isset($in['note']) ? sanitize_textarea_field((string) $in['note']) : '';
            if ($note !== '') {
                $line['note'] = mb_substr($note, 0, 2000);
            }
            $lines[] = $line;
        }
        $resolution = isset($post['aftersale_resolution']) ? sanitize_key((string) $post['aftersale_resolution']) : '';
        return array(
            'order_id'   => (int) $order->get_id(),
            'resolution' => in_array($resolution, array('refund', 'store_credit'), true) ? $resolution : 'refund',
            'lines'      => $lines,
        );
    }

    /**
     * Send each photo to the service; answers how many failed.
     *
     * @param int    $return_id The request.
     * @param array  $photos    Uploaded files.
     * @param string $token     Customer token.
     */
    private function forward_photos(int $return_id, array $photos, string $token): int
    {
        $failed = 0;
        foreach ($photos as $p) {
            // The upload PHP stored (checked with is_uploaded_file()), read whole: at most MAX_PHOTO_BYTES.
            $file  = new SplFileObject($p['tmp'], 'rb');
            $bytes = $p['size'] > 0 ? (string) $file->fread($p['size']) : '';
            $type  = self::image_type($bytes);
            if ($type === '') {
                $failed++;
                continue;
            }
            $answer = $this->client()->post_raw('/v1/me/returns/' . $return_id . '/photos', $bytes, $type, $token);
            if (is_wp_error($answer)) {
                $failed++;
            }
        }
        return $failed;
    }

    /**
     * The customer's requests, newest first, or null when the service
     * cannot answer. The service has no customer-token list route, so this
     * asks with the shop key for the customer's email and keeps only the
     * requests whose customer is this user.
     */
    private function own_returns(): ?array
    {
        $user = function_exists('wp_get_current_user') ? wp_get_current_user() : null;
        $mail = $user && isset($user->user_email) ? (string) $user->user_email : '';
        if ($mail === '') {
            return array();
        }
        $answer = $this->client()->get('/v1/returns?limit=100&email=' . rawurlencode($mail));
        if (is_wp_error($answer)) {
            return null;
        }
        $mine = array();
        foreach ((array) ($answer['items'] ?? array()) as $r) {
            if ((int) ($r['customer_id'] ?? 0) === get_current_user_id()) {
                $mine[] = $r;
            }
        }
        return array_reverse($mine);
    }

    /**
     * What the form template shows for an order.
     *
     * @param int $order_id Order id.
     * @return array
     */
    public function form_view(int $order_id): array
    {
        $view  = array(
            'order'       => null,
            'order_id'    => $order_id,
            'error'       => '',
            'form_error'  => $this->form_error,
            'lines'       => array(),
            'reasons'     => array(),
            'resolutions' => array(),
            'action'      => self::form_url($order_id),
            'nonce'       => wp_create_nonce('aftersale_return_' . $order_id),
            'form_key'    => wp_generate_uuid4(),
            'posted'      => array(),
            'instructions' => '',
        );
        $order = self::own_order($order_id);
        if ($order === null) {
            $view['error'] = __('This order cannot be returned.', 'aftersale');
            return $view;
        }
        $settings = $this->settings();
        $returns  = $settings === null ? null : $this->order_returns($order_id);
        if ($settings === null || $returns === null) {
            $view['error'] = __('Returns cannot be requested right now. Please try again later.', 'aftersale');
            return $view;
        }
        if (! self::eligible($order, $settings)) {
            $view['error'] = __('This order cannot be returned.', 'aftersale');
            return $view;
        }
        $left     = self::quantities_left($order, $returns);
        $excluded = array_map('intval', (array) ($settings['excluded_products'] ?? array()));
        foreach ($order->get_items() as $item_id => $item) {
            if (($left[(int) $item_id] ?? 0) <= 0 || in_array((int) $item->get_product_id(), $excluded, true)) {
                continue;
            }
            $view['lines'][] = array(
                'id'   => (int) $item_id,
                'name' => (string) $item->get_name(),
                'left' => $left[(int) $item_id],
            );
        }
        foreach ((array) ($settings['reasons'] ?? array()) as $reason) {
            $view['reasons'][] = array(
                'code'           => (string) $reason['code'],
                'label'          => self::reason_label((array) $reason),
                'note_required'  => ! empty($reason['note_required']),
                'photo_required' => ! empty($reason['photo_required']),
            );
        }
        $offered = (array) ($settings['resolutions'] ?? array());
        if (! empty($offered['refund'])) {
            $view['resolutions']['refund'] = __('Refund', 'aftersale');
        }
        if (! empty($offered['store_credit'])) {
            $view['resolutions']['store_credit'] = __('Store credit', 'aftersale');
        }
        $view['order']        = $order;
        $view['instructions'] = (string) ($settings['instructions'] ?? '');
        // A failed post shows what was typed again.
        // phpcs:ignore WordPress.Security.NonceVerification.Missing -- only echoed back, escaped by the template.
        $posted = $this->form_error !== '' && isset($_POST['aftersale_lines']) ? wp_unslash($_POST['aftersale_lines']) : array();
        if (is_array($posted)) {
            $view['posted'] = $posted;
        }
        return $view;
    }

    /**
     * What the list template shows.
     *
     * @return array
     */
    public function list_view(): array
    {
        $view = array('returns' => array(), 'error' => '', 'reasons' => array(), 'order_urls' => array(), 'requested' => '');
        if (! Aftersale_Options::configured() || get_current_user_id() <= 0) {
            $view['error'] = __('Returns are not available.', 'aftersale');
            return $view;
        }
        $returns = $this->own_returns();
        if ($returns === null) {
            $view['error'] = __('Your returns cannot be shown right now. Please try again later.', 'aftersale');
            return $view;
        }
        $view['returns'] = $returns;
        // The reasons' labels (the codes are shown when the policy cannot be read).
        foreach ((array) (($this->settings() ?? array())['reasons'] ?? array()) as $reason) {
            $view['reasons'][(string) $reason['code']] = self::reason_label((array) $reason);
        }
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a confirmation, read only and matched against the customer's own requests.
        $just = isset($_GET['aftersale_requested']) ? absint(wp_unslash($_GET['aftersale_requested'])) : 0;
        foreach ($returns as $r) {
            if ($just > 0 && (int) $r['id'] === $just) {
                $view['requested'] = (string) $r['rma'];
            }
            $id = (int) $r['order_id'];
            $view['order_urls'][$id] = wc_get_endpoint_url('view-order', (string) $id, wc_get_page_permalink('myaccount'));
        }
        return $view;
    }

    public function render(): void
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- which form to show, read only.
        $order_id = isset($_GET['aftersale_return_order']) ? absint(wp_unslash($_GET['aftersale_return_order'])) : 0;
        if ($order_id > 0) {
            Aftersale_Templates::render('myaccount/returns-form.php', $this->form_view($order_id));
            return;
        }
        Aftersale_Templates::render('myaccount/returns.php', $this->list_view());
    }
}
