<?php
/**
 * Aftersale > Returns: the queue by state with filters (GET /v1/returns),
 * a request's page (GET /v1/returns/{id}: lines, reasons, photos, history)
 * with the actions its state allows, and the returns report
 * (GET /v1/returns/report, plus the products returned most, counted over
 * the requests of the range).
 *
 * Actions: approve (instructions for the customer), reject, receive (per
 * line the quantity received, the condition and whether to restock),
 * resolve (refund, store credit or exchange: the amounts the service
 * computes, GET /v1/returns/{id}/resolution-preview, are shown before the
 * merchant confirms), cancel and close. Each is a POST to admin-post.php
 * (action aftersale_returns) with a nonce per request and action, and an
 * Idempotency-Key drawn when the form was shown, so a double click does not
 * act twice.
 *
 * Photos are served through admin-post.php (action aftersale_return_photo,
 * capability and nonce): the browser never sees the service or its key.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

require_once __DIR__ . '/class-aftersale-admin-base.php';

/**
 * The returns screen.
 */
class Aftersale_Admin_Returns extends Aftersale_Admin_Base
{
    public const SLUG = 'aftersale-returns';
    public const ACTION = 'aftersale_returns';
    public const PHOTO_ACTION = 'aftersale_return_photo';
    public const STATES = array('requested', 'approved', 'received', 'resolving', 'resolution_failed', 'resolved', 'rejected', 'closed', 'cancelled');
    /** Pages of 100 requests read for "products returned most". */
    public const REPORT_PAGES = 5;

    public function slug(): string
    {
        return self::SLUG;
    }

    public function register(): void
    {
        add_action('admin_post_' . self::ACTION, array($this, 'handle'));
        add_action('admin_post_' . self::PHOTO_ACTION, array($this, 'photo'));
    }

    /**
     * A state as the merchant reads it.
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
            'resolution_failed' => __('Resolution failed', 'aftersale'),
            'resolved'          => __('Resolved', 'aftersale'),
            'closed'            => __('Closed', 'aftersale'),
            'cancelled'         => __('Cancelled', 'aftersale'),
        );
        return $labels[$state] ?? $state;
    }

    /**
     * A resolution as the merchant reads it.
     *
     * @param string $r refund, store_credit or exchange.
     */
    public static function resolution_label(string $r): string
    {
        $labels = array(
            'refund'       => __('Refund', 'aftersale'),
            'store_credit' => __('Store credit', 'aftersale'),
            'exchange'     => __('Exchange', 'aftersale'),
        );
        return $labels[$r] ?? $r;
    }

    public function render(): void
    {
        self::require_cap();
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- navigation, read only.
        $id  = isset($_GET['return']) ? absint(wp_unslash($_GET['return'])) : 0;
        $tab = isset($_GET['tab']) ? sanitize_key((string) wp_unslash($_GET['tab'])) : 'queue';
        // phpcs:enable
        self::open(__('Returns', 'aftersale'));
        if ($id > 0) {
            $this->render_one($id);
            self::close();
            return;
        }
        self::tabs(
            array(
                'queue'  => array(__('Requests', 'aftersale'), $this->url()),
                'report' => array(__('Report', 'aftersale'), $this->url(array('tab' => 'report'))),
            ),
            $tab === 'report' ? 'report' : 'queue'
        );
        if ($tab === 'report') {
            $this->render_report();
        } else {
            $this->render_queue();
        }
        self::close();
    }

    /**
     * The queue's filters from the URL, sanitised.
     *
     * @return array
     */
    private static function filters(): array
    {
        $f = array();
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- filters, read only.
        $state = isset($_GET['state']) ? sanitize_key((string) wp_unslash($_GET['state'])) : '';
        if (in_array($state, self::STATES, true)) {
            $f['state'] = $state;
        }
        $email = isset($_GET['email']) ? sanitize_email((string) wp_unslash($_GET['email'])) : '';
        if ($email !== '') {
            $f['email'] = $email;
        }
        $reason = isset($_GET['reason']) ? sanitize_key((string) wp_unslash($_GET['reason'])) : '';
        if ($reason !== '') {
            $f['reason'] = $reason;
        }
        $order = isset($_GET['order_id']) ? absint(wp_unslash($_GET['order_id'])) : 0;
        if ($order > 0) {
            $f['order_id'] = (string) $order;
        }
        foreach (array('created_after', 'created_before') as $k) {
            $v = isset($_GET[$k]) ? sanitize_text_field((string) wp_unslash($_GET[$k])) : '';
            if (preg_match('/^\d{4}-\d{2}-\d{2}$/', $v)) {
                $f[$k] = $v;
            }
        }
        // phpcs:enable
        return $f;
    }

    private function render_queue(): void
    {
        $f = self::filters();
        // The filter form (GET, nothing changes: no nonce).
        printf('<form method="get" action="%s" class="aftersale-filters">', esc_url(admin_url('admin.php')));
        printf('<input type="hidden" name="page" value="%s">', esc_attr(self::SLUG));
        printf('<label for="aftersale-state">%s</label> <select id="aftersale-state" name="state">', esc_html__('State', 'aftersale'));
        printf('<option value="">%s</option>', esc_html__('All states', 'aftersale'));
        foreach (self::STATES as $s) {
            printf('<option value="%1$s"%2$s>%3$s</option>', esc_attr($s), ($f['state'] ?? '') === $s ? ' selected' : '', esc_html(self::state_label($s)));
        }
        printf('</select> ');
        foreach (
            array(
                'email'          => array(__('Email', 'aftersale'), 'email'),
                'order_id'       => array(__('Order', 'aftersale'), 'number'),
                'reason'         => array(__('Reason code', 'aftersale'), 'text'),
                'created_after'  => array(__('From', 'aftersale'), 'date'),
                'created_before' => array(__('Before', 'aftersale'), 'date'),
            ) as $k => $def
        ) {
            printf('<label for="aftersale-f-%1$s">%2$s</label> <input id="aftersale-f-%1$s" type="%3$s" name="%1$s" value="%4$s"> ', esc_attr($k), esc_html($def[0]), esc_attr($def[1]), esc_attr($f[$k] ?? ''));
        }
        printf('<button type="submit" class="button">%s</button></form>', esc_html__('Filter', 'aftersale'));

        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- paging, read only.
        $cursor = isset($_GET['cursor']) ? preg_replace('/[^A-Za-z0-9_=-]/', '', (string) wp_unslash($_GET['cursor'])) : '';
        $query  = array_merge(array('limit' => '50'), $f, $cursor !== '' ? array('cursor' => $cursor) : array());
        $page   = $this->client()->get('/v1/returns?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986));
        if (is_wp_error($page)) {
            self::service_error($page);
            return;
        }
        $items = (array) ($page['items'] ?? array());
        if ($items === array()) {
            printf('<p>%s</p>', esc_html__('No return request matches.', 'aftersale'));
            return;
        }
        printf('<table class="wp-list-table widefat fixed striped"><thead><tr>');
        foreach (array(__('RMA', 'aftersale'), __('Order', 'aftersale'), __('Customer', 'aftersale'), __('State', 'aftersale'), __('Resolution', 'aftersale'), __('Items', 'aftersale'), __('Requested', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($items as $r) {
            $units = 0;
            foreach ((array) ($r['lines'] ?? array()) as $l) {
                $units += (int) $l['quantity'];
            }
            printf('<tr>');
            printf('<td><a href="%1$s"><strong>%2$s</strong></a></td>', esc_url($this->url(array('return' => (string) (int) $r['id']))), esc_html((string) $r['rma']));
            printf('<td>#%d</td>', (int) $r['order_id']);
            printf('<td>%s</td>', esc_html((string) ($r['email'] ?? '')));
            printf('<td><mark class="order-status status-%1$s"><span>%2$s</span></mark></td>', esc_attr((string) $r['state']), esc_html(self::state_label((string) $r['state'])));
            printf('<td>%s</td>', esc_html(self::resolution_label((string) $r['resolution'])));
            printf('<td>%d</td>', $units);
            printf('<td>%s</td>', esc_html(self::date($r['created_at'] ?? '')));
            printf('</tr>');
        }
        printf('</tbody></table>');
        if (! empty($page['next_cursor'])) {
            printf('<p><a class="button" href="%1$s">%2$s</a></p>', esc_url($this->url(array_merge($f, array('cursor' => rawurlencode((string) $page['next_cursor']))))), esc_html__('Next page', 'aftersale'));
        }
    }

    /**
     * The nonce action of one request's actions.
     *
     * @param int $id The request.
     */
    public static function nonce_action(int $id): string
    {
        return self::ACTION . '_' . $id;
    }

    /**
     * A photo's URL through the plugin.
     *
     * @param int $id       The request.
     * @param int $photo_id The photo.
     */
    public static function photo_url(int $id, int $photo_id): string
    {
        return add_query_arg(
            array(
                'action'   => self::PHOTO_ACTION,
                'return'   => (string) $id,
                'photo'    => (string) $photo_id,
                '_wpnonce' => wp_create_nonce(self::PHOTO_ACTION . '_' . $id),
            ),
            admin_url('admin-post.php')
        );
    }

    /**
     * The policy's reasons: code => label.
     */
    private function reason_labels(): array
    {
        $settings = $this->client()->get('/v1/returns/settings');
        $out      = array();
        if (! is_wp_error($settings)) {
            foreach ((array) ($settings['reasons'] ?? array()) as $reason) {
                $out[(string) $reason['code']] = Aftersale_Returns::reason_label((array) $reason);
            }
        }
        return $out;
    }

    /**
     * The start of a form of one request's action.
     *
     * @param int    $id The request.
     * @param string $do The action.
     */
    private static function form_open(int $id, string $do): void
    {
        printf('<form method="post" action="%1$s" class="aftersale-return-%2$s">', esc_url(admin_url('admin-post.php')), esc_attr($do));
        printf('<input type="hidden" name="action" value="%s">', esc_attr(self::ACTION));
        printf('<input type="hidden" name="return" value="%d">', (int) $id);
        printf('<input type="hidden" name="do" value="%s">', esc_attr($do));
        printf('<input type="hidden" name="key" value="%s">', esc_attr(wp_generate_uuid4()));
        self::print_nonce(self::nonce_action($id));
    }

    /**
     * A request's page.
     *
     * @param int $id The request.
     */
    private function render_one(int $id): void
    {
        printf('<p><a href="%1$s">&larr; %2$s</a></p>', esc_url($this->url()), esc_html__('All returns', 'aftersale'));
        $r = $this->client()->get('/v1/returns/' . $id);
        if (is_wp_error($r)) {
            self::service_error($r);
            return;
        }
        $reasons = $this->reason_labels();
        $state   = (string) $r['state'];
        printf(
            '<h2>%1$s <mark class="order-status status-%2$s"><span>%3$s</span></mark></h2>',
            /* translators: 1: RMA number, 2: order number */
            esc_html(sprintf(__('Return %1$s of order #%2$d', 'aftersale'), (string) $r['rma'], (int) $r['order_id'])),
            esc_attr($state),
            esc_html(self::state_label($state))
        );
        printf(
            '<p>%1$s %2$s · %3$s %4$s</p>',
            esc_html__('Customer:', 'aftersale'),
            esc_html((string) ($r['email'] ?? '')),
            esc_html__('Wished resolution:', 'aftersale'),
            esc_html(self::resolution_label((string) $r['resolution']))
        );
        if (! empty($r['failure_message'])) {
            self::notice(__('The shop refused the resolution:', 'aftersale') . ' ' . (string) $r['failure_message'], 'error');
        }
        if (is_array($r['result'] ?? null)) {
            printf('<p>%1$s <code>%2$s</code></p>', esc_html__('Done in the shop:', 'aftersale'), esc_html((string) wp_json_encode($r['result'])));
        }
        $lines = (array) ($r['lines'] ?? array());
        printf('<h3>%s</h3>', esc_html__('Items', 'aftersale'));
        printf('<table class="widefat striped"><thead><tr>');
        foreach (array(__('Item', 'aftersale'), __('Quantity', 'aftersale'), __('Reason', 'aftersale'), __('Customer note', 'aftersale'), __('Received', 'aftersale'), __('Condition', 'aftersale'), __('Restock', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($lines as $l) {
            $code = (string) $l['reason'];
            printf('<tr>');
            printf('<td>%s</td>', esc_html((string) $l['name']));
            printf('<td>%d</td>', (int) $l['quantity']);
            printf('<td>%s</td>', esc_html($reasons[$code] ?? $code));
            printf('<td>%s</td>', esc_html((string) ($l['note'] ?? '')));
            printf('<td>%s</td>', $l['quantity_received'] === null ? '–' : (int) $l['quantity_received']); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- an integer or a dash.
            printf('<td>%s</td>', esc_html((string) ($l['condition'] ?? '–')));
            printf('<td>%s</td>', esc_html($l['restock'] === null ? '–' : ($l['restock'] ? __('Yes', 'aftersale') : __('No', 'aftersale'))));
            printf('</tr>');
        }
        printf('</tbody></table>');

        $photos = (array) ($r['photos'] ?? array());
        if ($photos !== array()) {
            printf('<h3>%s</h3><p class="aftersale-photos">', esc_html__('Photos', 'aftersale'));
            foreach ($photos as $i => $p) {
                $url = self::photo_url($id, (int) $p['id']);
                printf(
                    '<a href="%1$s"><img src="%1$s" alt="%2$s" width="160" loading="lazy"></a> ',
                    esc_url($url),
                    /* translators: %d: photo number */
                    esc_attr(sprintf(__('Photo %d of the customer', 'aftersale'), $i + 1))
                );
            }
            printf('</p>');
        }

        printf('<h3>%s</h3>', esc_html__('Actions', 'aftersale'));
        $this->render_actions($r);

        printf('<h3>%s</h3><ol class="aftersale-history">', esc_html__('History', 'aftersale'));
        foreach ((array) ($r['history'] ?? array()) as $ev) {
            $note = is_array($ev['changes'] ?? null) && isset($ev['changes']['note']) ? (string) $ev['changes']['note'] : '';
            printf(
                '<li>%1$s: %2$s → %3$s (%4$s)%5$s</li>',
                esc_html(self::date($ev['at'] ?? '')),
                esc_html($ev['from'] === null ? '–' : self::state_label((string) $ev['from'])),
                esc_html(self::state_label((string) $ev['to'])),
                esc_html((string) ($ev['actor'] ?? '')),
                $note !== '' ? ' — ' . esc_html($note) : ''
            );
        }
        printf('</ol>');
    }

    /**
     * The forms of the actions the request's state allows.
     *
     * @param array $r The request.
     */
    private function render_actions(array $r): void
    {
        $id    = (int) $r['id'];
        $state = (string) $r['state'];
        if ($state === 'requested') {
            self::form_open($id, 'approve');
            printf('<p><label for="aftersale-approve-note">%s</label><br><textarea id="aftersale-approve-note" name="note" rows="3" cols="60"></textarea></p>', esc_html__('Instructions for the customer (sent with the approval)', 'aftersale'));
            printf('<p><button type="submit" class="button button-primary">%s</button></p></form>', esc_html__('Approve', 'aftersale'));
            self::form_open($id, 'reject');
            printf('<p><label for="aftersale-reject-note">%s</label><br><textarea id="aftersale-reject-note" name="note" rows="2" cols="60"></textarea></p>', esc_html__('Why it is rejected (sent to the customer)', 'aftersale'));
            printf('<p><button type="submit" class="button">%s</button></p></form>', esc_html__('Reject', 'aftersale'));
        }
        if ($state === 'approved') {
            self::form_open($id, 'receive');
            printf('<table class="widefat"><thead><tr>');
            foreach (array(__('Item', 'aftersale'), __('Quantity received', 'aftersale'), __('Condition', 'aftersale'), __('Restock', 'aftersale')) as $h) {
                printf('<th scope="col">%s</th>', esc_html($h));
            }
            printf('</tr></thead><tbody>');
            foreach ((array) $r['lines'] as $l) {
                $lid = (int) $l['line_item_id'];
                printf('<tr>');
                printf('<td>%s</td>', esc_html((string) $l['name']));
                printf(
                    '<td><label class="screen-reader-text" for="aftersale-qty-%1$d">%2$s</label><input type="number" id="aftersale-qty-%1$d" name="lines[%1$d][quantity_received]" min="0" max="%3$d" value="%3$d"></td>',
                    $lid,
                    esc_html__('Quantity received', 'aftersale'),
                    (int) $l['quantity']
                );
                printf(
                    '<td><label class="screen-reader-text" for="aftersale-cond-%1$d">%2$s</label><select id="aftersale-cond-%1$d" name="lines[%1$d][condition]"><option value="resellable">%3$s</option><option value="damaged">%4$s</option></select></td>',
                    $lid,
                    esc_html__('Condition', 'aftersale'),
                    esc_html__('Resellable', 'aftersale'),
                    esc_html__('Damaged', 'aftersale')
                );
                printf(
                    '<td><label><input type="checkbox" name="lines[%1$d][restock]" value="1" checked> %2$s</label></td>',
                    $lid,
                    esc_html__('Put back in stock', 'aftersale')
                );
                printf('</tr>');
            }
            printf('</tbody></table>');
            printf('<p><label for="aftersale-receive-note">%s</label><br><textarea id="aftersale-receive-note" name="note" rows="2" cols="60"></textarea></p>', esc_html__('Inspection note', 'aftersale'));
            printf('<p><button type="submit" class="button button-primary">%s</button></p></form>', esc_html__('Mark as received', 'aftersale'));
        }
        if (in_array($state, array('received', 'resolution_failed'), true)) {
            $this->render_resolve($r);
        }
        if (in_array($state, array('requested', 'approved'), true)) {
            self::form_open($id, 'cancel');
            printf('<p><button type="submit" class="button">%s</button></p></form>', esc_html__('Cancel the request', 'aftersale'));
        }
        if (in_array($state, array('resolved', 'rejected'), true)) {
            self::form_open($id, 'close');
            printf('<p><button type="submit" class="button">%s</button></p></form>', esc_html__('Close', 'aftersale'));
        }
        if ($state === 'resolving') {
            printf('<p>%s</p>', esc_html__('The shop is carrying out the resolution; reload in a moment.', 'aftersale'));
        }
    }

    /**
     * The resolution step: choose the type, see the service's figures,
     * confirm. The figures shown are those of the chosen type; changing it
     * reloads the page (a GET) with the new figures before any confirmation.
     *
     * @param array $r The request.
     */
    private function render_resolve(array $r): void
    {
        $id = (int) $r['id'];
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- a preview, read only.
        $type     = isset($_GET['resolution']) ? sanitize_key((string) wp_unslash($_GET['resolution'])) : (string) $r['resolution'];
        $shipping = isset($_GET['refund_shipping']) && '1' === wp_unslash($_GET['refund_shipping']);
        // phpcs:enable
        if (! in_array($type, array('refund', 'store_credit', 'exchange'), true)) {
            $type = 'refund';
        }
        printf('<form method="get" action="%s" class="aftersale-preview-choice">', esc_url(admin_url('admin.php')));
        printf('<input type="hidden" name="page" value="%1$s"><input type="hidden" name="return" value="%2$d">', esc_attr(self::SLUG), $id);
        printf('<label for="aftersale-resolution">%s</label> <select id="aftersale-resolution" name="resolution">', esc_html__('Resolution', 'aftersale'));
        foreach (array('refund', 'store_credit', 'exchange') as $t) {
            printf('<option value="%1$s"%2$s>%3$s</option>', esc_attr($t), $t === $type ? ' selected' : '', esc_html(self::resolution_label($t)));
        }
        printf('</select> ');
        printf('<label><input type="checkbox" name="refund_shipping" value="1"%1$s> %2$s</label> ', $shipping ? ' checked' : '', esc_html__('Include shipping', 'aftersale'));
        printf('<button type="submit" class="button">%s</button></form>', esc_html__('Show the amounts', 'aftersale'));

        $preview = $this->client()->get('/v1/returns/' . $id . '/resolution-preview?resolution=' . $type . '&refund_shipping=' . ($shipping ? 'true' : 'false'));
        if (is_wp_error($preview)) {
            self::notice(__('The service cannot show the amounts of this resolution:', 'aftersale') . ' ' . $preview->get_error_message(), 'warning');
        } else {
            $this->render_preview($preview, $r);
        }
        self::form_open($id, 'resolve');
        printf('<input type="hidden" name="resolution" value="%1$s"><input type="hidden" name="refund_shipping" value="%2$s">', esc_attr($type), $shipping ? '1' : '0');
        printf('<p><label for="aftersale-resolve-note">%s</label><br><textarea id="aftersale-resolve-note" name="note" rows="2" cols="60"></textarea></p>', esc_html__('Note', 'aftersale'));
        printf(
            '<p><button type="submit" class="button button-primary" id="aftersale-resolve">%s</button></p></form>',
            /* translators: %s: refund, store credit or exchange */
            esc_html(sprintf(__('Confirm: %s', 'aftersale'), self::resolution_label($type)))
        );
    }

    /**
     * The service's figures of a resolution.
     *
     * @param array $p The preview.
     * @param array $r The request (its lines' names).
     */
    private function render_preview(array $p, array $r): void
    {
        $names = array(0 => __('Shipping', 'aftersale'));
        foreach ((array) ($r['lines'] ?? array()) as $l) {
            $names[(int) $l['line_item_id']] = (string) $l['name'];
        }
        $currency = (string) ($p['currency'] ?? '');
        printf('<table class="widefat aftersale-preview"><tbody>');
        printf('<tr><th scope="row">%1$s</th><td>%2$s</td></tr>', esc_html__('Resolution', 'aftersale'), esc_html(self::resolution_label((string) ($p['resolution'] ?? ''))));
        foreach ((array) ($p['lines'] ?? array()) as $l) {
            $tax = 0.0;
            foreach ((array) ($l['refund_tax'] ?? array()) as $t) {
                $tax += (float) $t['refund_total'];
            }
            printf(
                '<tr><th scope="row">%1$s</th><td>%2$s + %3$s %4$s</td></tr>',
                /* translators: 1: an item's name (or "Shipping"), 2: units */
                esc_html(sprintf(__('%1$s × %2$d', 'aftersale'), $names[(int) $l['id']] ?? '#' . (int) $l['id'], (int) ($l['quantity'] ?? 1))),
                esc_html((string) $l['refund_total']),
                esc_html(number_format($tax, 2, '.', '')),
                esc_html__('tax', 'aftersale')
            );
        }
        printf('<tr><th scope="row">%1$s</th><td><strong class="aftersale-refund-amount">%2$s %3$s</strong></td></tr>', esc_html__('Refund amount', 'aftersale'), esc_html((string) ($p['amount'] ?? '')), esc_html($currency));
        if (($p['resolution'] ?? '') === 'store_credit') {
            printf('<tr><th scope="row">%1$s</th><td><strong class="aftersale-credit-amount">%2$s %3$s</strong></td></tr>', esc_html__('Store credit (bonus included)', 'aftersale'), esc_html((string) ($p['credit'] ?? '')), esc_html($currency));
        }
        printf('</tbody></table>');
        if (! empty($p['note'])) {
            printf('<p class="description">%s</p>', esc_html((string) $p['note']));
        }
    }

    /**
     * The body of POST .../receive from the form.
     *
     * @param array $posted The posted lines, unslashed.
     * @return array
     */
    public static function receive_lines(array $posted): array
    {
        $lines = array();
        foreach ($posted as $lid => $in) {
            if (! is_array($in)) {
                continue;
            }
            $lines[] = array(
                'line_item_id'      => (int) $lid,
                'quantity_received' => isset($in['quantity_received']) ? absint($in['quantity_received']) : 0,
                'condition'         => (isset($in['condition']) && $in['condition'] === 'damaged') ? 'damaged' : 'resellable',
                'restock'           => ! empty($in['restock']),
            );
        }
        return $lines;
    }

    /**
     * admin-post: one action on one request.
     */
    public function handle(): void
    {
        self::require_cap();
        $id = isset($_POST['return']) ? absint(wp_unslash($_POST['return'])) : 0;
        check_admin_referer(self::nonce_action($id));
        $do   = self::posted('do');
        $back = $this->url(array('return' => (string) $id));
        if ($id <= 0 || ! in_array($do, array('approve', 'reject', 'receive', 'resolve', 'cancel', 'close'), true)) {
            $this->back($this->url(), __('Unknown action.', 'aftersale'), true);
        }
        $note = isset($_POST['note']) ? sanitize_textarea_field((string) wp_unslash($_POST['note'])) : '';
        $body = $note !== '' ? array('note' => $note) : array();
        if ($do === 'receive') {
            $posted        = isset($_POST['lines']) ? wp_unslash($_POST['lines']) : array();
            $posted        = is_array($posted) ? $posted : array();
            $body['lines'] = self::receive_lines($posted);
        }
        if ($do === 'resolve') {
            $type = self::posted('resolution');
            if (in_array($type, array('refund', 'store_credit', 'exchange'), true)) {
                $body['resolution'] = $type;
            }
            $body['refund_shipping'] = self::posted('refund_shipping') === '1';
        }
        $key     = preg_replace('/[^A-Za-z0-9-]/', '', self::posted('key'));
        $headers = $key !== '' ? array('Idempotency-Key' => 'wp-admin-' . $do . '-' . substr($key, 0, 64)) : array();
        $answer  = $this->client()->post('/v1/returns/' . $id . '/' . $do, $body, null, $headers);
        $labels  = array(
            'approve' => __('The return was approved.', 'aftersale'),
            'reject'  => __('The return was rejected.', 'aftersale'),
            'receive' => __('The items were recorded as received.', 'aftersale'),
            'resolve' => __('The resolution was started: the shop carries it out in a moment.', 'aftersale'),
            'cancel'  => __('The return was cancelled.', 'aftersale'),
            'close'   => __('The return was closed.', 'aftersale'),
        );
        list($msg, $error) = self::outcome($answer, $labels[$do]);
        $this->back($back, $msg, $error);
    }

    /**
     * admin-post: a photo of a request, fetched from the service with the
     * shop key and sent on as is (images only, never cached, no sniffing).
     */
    public function photo(): void
    {
        self::require_cap();
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- verified just below.
        $id    = isset($_GET['return']) ? absint(wp_unslash($_GET['return'])) : 0;
        $photo = isset($_GET['photo']) ? absint(wp_unslash($_GET['photo'])) : 0;
        $nonce = isset($_GET['_wpnonce']) ? sanitize_text_field((string) wp_unslash($_GET['_wpnonce'])) : '';
        // phpcs:enable
        if (! wp_verify_nonce($nonce, self::PHOTO_ACTION . '_' . $id) || $id <= 0 || $photo <= 0) {
            wp_die(esc_html__('The link you followed has expired.', 'aftersale'), '', array('response' => 403));
        }
        $this->relay('/v1/returns/' . $id . '/photos/' . $photo, array('image/jpeg', 'image/png', 'image/webp'), array('Cache-Control: private, no-store', 'X-Content-Type-Options: nosniff'));
    }

    private function render_report(): void
    {
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- the range, read only.
        $from = isset($_GET['from']) ? sanitize_text_field((string) wp_unslash($_GET['from'])) : '';
        $to   = isset($_GET['to']) ? sanitize_text_field((string) wp_unslash($_GET['to'])) : '';
        // phpcs:enable
        $from = preg_match('/^\d{4}-\d{2}-\d{2}$/', $from) ? $from : gmdate('Y-m-d', time() - 30 * DAY_IN_SECONDS);
        $to   = preg_match('/^\d{4}-\d{2}-\d{2}$/', $to) ? $to : gmdate('Y-m-d', time() + DAY_IN_SECONDS);
        printf('<form method="get" action="%s">', esc_url(admin_url('admin.php')));
        printf('<input type="hidden" name="page" value="%s"><input type="hidden" name="tab" value="report">', esc_attr(self::SLUG));
        printf('<label for="aftersale-from">%1$s</label> <input type="date" id="aftersale-from" name="from" value="%2$s"> ', esc_html__('From', 'aftersale'), esc_attr($from));
        printf('<label for="aftersale-to">%1$s</label> <input type="date" id="aftersale-to" name="to" value="%2$s"> ', esc_html__('Before', 'aftersale'), esc_attr($to));
        printf('<button type="submit" class="button">%s</button></form>', esc_html__('Show', 'aftersale'));
        $report = $this->client()->get('/v1/returns/report?from=' . $from . '&to=' . $to);
        if (is_wp_error($report)) {
            self::service_error($report);
            return;
        }
        printf('<ul class="aftersale-figures">');
        $median = $report['median_hours_to_resolve'] ?? null;
        foreach (
            array(
                array(__('Requests', 'aftersale'), self::num((float) ($report['requests'] ?? 0))),
                array(__('Refunded', 'aftersale'), (string) ($report['refunded'] ?? '0')),
                array(__('Store credit', 'aftersale'), (string) ($report['credited'] ?? '0')),
                array(__('Exchanges', 'aftersale'), self::num((float) ($report['exchanges'] ?? 0))),
                array(__('Median hours to resolve', 'aftersale'), $median === null ? '–' : self::num((float) $median)),
            ) as $f
        ) {
            printf('<li><span>%1$s</span> <strong>%2$s</strong></li>', esc_html($f[0]), esc_html($f[1]));
        }
        printf('</ul>');
        $labels  = $this->reason_labels();
        $reasons = array();
        foreach ((array) ($report['by_reason'] ?? array()) as $row) {
            $code      = (string) $row['reason'];
            $reasons[] = array($labels[$code] ?? $code, (int) $row['units']);
        }
        self::chart_bars(__('Units returned by reason', 'aftersale'), __('Reason', 'aftersale'), __('Units', 'aftersale'), $reasons);
        $states = array();
        foreach ((array) ($report['by_state'] ?? array()) as $s => $n) {
            $states[] = array(self::state_label((string) $s), (int) $n);
        }
        self::chart_bars(__('Requests by state', 'aftersale'), __('State', 'aftersale'), __('Requests', 'aftersale'), $states);
        $this->render_top_products($from, $to);
    }

    /**
     * The products returned most in the range: units of the requests'
     * lines, not rejected or cancelled, over at most REPORT_PAGES pages.
     *
     * @param string $from First day.
     * @param string $to   Day after the last.
     */
    private function render_top_products(string $from, string $to): void
    {
        $units  = array();
        $names  = array();
        $cursor = '';
        for ($i = 0; $i < self::REPORT_PAGES; $i++) {
            $page = $this->client()->get('/v1/returns?limit=100&created_after=' . $from . '&created_before=' . $to . ($cursor !== '' ? '&cursor=' . rawurlencode($cursor) : ''));
            if (is_wp_error($page)) {
                self::service_error($page);
                return;
            }
            foreach ((array) ($page['items'] ?? array()) as $r) {
                if (in_array($r['state'] ?? '', array('rejected', 'cancelled'), true)) {
                    continue;
                }
                foreach ((array) ($r['lines'] ?? array()) as $l) {
                    $pid          = (int) $l['product_id'];
                    $units[$pid]  = ($units[$pid] ?? 0) + (int) $l['quantity'];
                    $names[$pid]  = (string) $l['name'];
                }
            }
            $cursor = (string) ($page['next_cursor'] ?? '');
            if ($cursor === '') {
                break;
            }
        }
        arsort($units);
        printf('<h2>%s</h2>', esc_html__('Products returned most', 'aftersale'));
        if ($units === array()) {
            printf('<p>%s</p>', esc_html__('Nothing was returned in this range.', 'aftersale'));
            return;
        }
        printf('<table class="widefat striped aftersale-top-products"><thead><tr>');
        printf('<th scope="col">%1$s</th><th scope="col">%2$s</th></tr></thead><tbody>', esc_html__('Product', 'aftersale'), esc_html__('Units', 'aftersale'));
        foreach (array_slice($units, 0, 10, true) as $pid => $n) {
            printf('<tr><td>%1$s</td><td>%2$d</td></tr>', esc_html($names[$pid] !== '' ? $names[$pid] : self::product_name($pid)), $n);
        }
        printf('</tbody></table>');
    }
}
