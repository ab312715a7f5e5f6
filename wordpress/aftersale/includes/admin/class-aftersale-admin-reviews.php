<?php
/**
 * Aftersale > Reviews: the moderation queue (GET /v1/reviews?status=pending)
 * with approve, reject and a public reply per review and approve/reject in
 * bulk; the published reviews with their link in WooCommerce; the review
 * request statistics (GET /v1/reviews/stats) over the last 30 days and,
 * week by week, as a chart.
 *
 * Every change is a POST to admin-post.php (action aftersale_reviews) with
 * the nonce 'aftersale_reviews' and the capability manage_woocommerce,
 * then a redirect back with the outcome. The service's reviews carry no
 * photos (the review form takes none), so the queue shows none.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

require_once __DIR__ . '/class-aftersale-admin-base.php';

/**
 * The reviews screen.
 */
class Aftersale_Admin_Reviews extends Aftersale_Admin_Base
{
    public const SLUG = 'aftersale-reviews';
    public const ACTION = 'aftersale_reviews';
    /** Weeks drawn in the chart (one stats call each). */
    public const WEEKS = 8;
    /** Times as /v1/reviews/stats takes them. */
    public const RFC3339 = 'Y-m-d\TH:i:s\Z';

    public function slug(): string
    {
        return self::SLUG;
    }

    public function register(): void
    {
        add_action('admin_post_' . self::ACTION, array($this, 'handle'));
    }

    public function render(): void
    {
        self::require_cap();
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- which tab, read only.
        $tab = isset($_GET['tab']) ? sanitize_key((string) wp_unslash($_GET['tab'])) : 'queue';
        self::open(__('Reviews', 'aftersale'));
        self::tabs(
            array(
                'queue'     => array(__('Moderation queue', 'aftersale'), $this->url()),
                'published' => array(__('Published', 'aftersale'), $this->url(array('tab' => 'published'))),
                'stats'     => array(__('Review requests', 'aftersale'), $this->url(array('tab' => 'stats'))),
            ),
            in_array($tab, array('published', 'stats'), true) ? $tab : 'queue'
        );
        if ($tab === 'published') {
            $this->render_published();
        } elseif ($tab === 'stats') {
            $this->render_stats();
        } else {
            $this->render_queue();
        }
        self::close();
    }

    /**
     * A page of reviews with a status, or a WP_Error.
     *
     * @param string $status pending or approved.
     * @return array|WP_Error
     */
    private function reviews(string $status)
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- paging, read only.
        $cursor = isset($_GET['cursor']) ? preg_replace('/[^A-Za-z0-9_=-]/', '', (string) wp_unslash($_GET['cursor'])) : '';
        $path   = '/v1/reviews?limit=50&status=' . $status . ($cursor !== '' ? '&cursor=' . rawurlencode($cursor) : '');
        return $this->client()->get($path);
    }

    private static function stars(int $rating): string
    {
        $rating = max(0, min(5, $rating));
        /* translators: %d: stars given, 1 to 5 */
        return sprintf('<span class="aftersale-stars" aria-label="%1$s">%2$s</span>', esc_attr(sprintf(__('%d of 5 stars', 'aftersale'), $rating)), esc_html(str_repeat('★', $rating) . str_repeat('☆', 5 - $rating)));
    }

    private function render_queue(): void
    {
        $page = $this->reviews('pending');
        if (is_wp_error($page)) {
            self::service_error($page);
            return;
        }
        $items = (array) ($page['items'] ?? array());
        if ($items === array()) {
            printf('<p>%s</p>', esc_html__('No review waits for moderation.', 'aftersale'));
            return;
        }
        printf('<form method="post" action="%s" id="aftersale-reviews-form">', esc_url(admin_url('admin-post.php')));
        printf('<input type="hidden" name="action" value="%s">', esc_attr(self::ACTION));
        self::print_nonce(self::ACTION);
        printf('<div class="tablenav top"><div class="alignleft actions bulkactions">');
        printf('<label for="aftersale-bulk" class="screen-reader-text">%s</label>', esc_html__('Bulk action', 'aftersale'));
        printf('<select name="bulk" id="aftersale-bulk">');
        printf('<option value="">%s</option>', esc_html__('Bulk actions', 'aftersale'));
        printf('<option value="approve">%s</option>', esc_html__('Approve', 'aftersale'));
        printf('<option value="reject">%s</option>', esc_html__('Reject', 'aftersale'));
        printf('</select>');
        printf('<button type="submit" class="button action" name="do" value="bulk">%s</button>', esc_html__('Apply', 'aftersale'));
        printf('</div></div>');
        printf('<table class="wp-list-table widefat fixed striped"><thead><tr>');
        printf('<td class="manage-column check-column"><span class="screen-reader-text">%s</span></td>', esc_html__('Select', 'aftersale'));
        foreach (array(__('Product', 'aftersale'), __('Rating', 'aftersale'), __('Review', 'aftersale'), __('Customer', 'aftersale'), __('Actions', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($items as $r) {
            $id = (int) $r['id'];
            printf('<tr id="aftersale-review-%d">', $id);
            printf(
                '<th scope="row" class="check-column"><label class="screen-reader-text" for="aftersale-cb-%1$d">%2$s</label><input type="checkbox" id="aftersale-cb-%1$d" name="ids[]" value="%1$d"></th>',
                $id,
                /* translators: %d: review id */
                esc_html(sprintf(__('Select review %d', 'aftersale'), $id))
            );
            printf('<td>%s</td>', esc_html(self::product_name((int) $r['product_id'])));
            printf('<td>%s</td>', self::stars((int) $r['rating'])); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped by stars().
            printf('<td><strong>%1$s</strong><p>%2$s</p></td>', esc_html((string) ($r['title'] ?? '')), esc_html((string) ($r['body'] ?? '')));
            printf(
                '<td>%1$s<br><small>%2$s</small><br><small>%3$s</small></td>',
                esc_html((string) ($r['reviewer_name'] ?? '')),
                esc_html((string) ($r['reviewer_email'] ?? '')),
                /* translators: %d: order number */
                esc_html(sprintf(__('Order #%d', 'aftersale'), (int) $r['order_id']))
            );
            printf('<td>');
            printf('<button type="submit" class="button button-primary" name="do" value="approve:%1$d">%2$s</button> ', $id, esc_html__('Approve', 'aftersale'));
            printf('<button type="submit" class="button" name="do" value="reject:%1$d">%2$s</button>', $id, esc_html__('Reject', 'aftersale'));
            printf(
                '<p><label for="aftersale-reply-%1$d">%2$s</label><br><textarea id="aftersale-reply-%1$d" class="widefat" name="reply[%1$d]" rows="2"></textarea><br><button type="submit" class="button" name="do" value="reply:%1$d">%3$s</button></p>',
                $id,
                esc_html__('Public reply', 'aftersale'),
                esc_html__('Reply', 'aftersale')
            );
            printf('</td></tr>');
        }
        printf('</tbody></table></form>');
        $this->pager($page, array());
    }

    /**
     * "Next page" when the service has more.
     *
     * @param array $page The list answer.
     * @param array $args The screen's arguments.
     */
    private function pager(array $page, array $args): void
    {
        if (! empty($page['next_cursor'])) {
            printf('<p><a class="button" href="%1$s">%2$s</a></p>', esc_url($this->url(array_merge($args, array('cursor' => rawurlencode((string) $page['next_cursor']))))), esc_html__('Next page', 'aftersale'));
        }
    }

    private function render_published(): void
    {
        $page = $this->reviews('approved');
        if (is_wp_error($page)) {
            self::service_error($page);
            return;
        }
        $items = (array) ($page['items'] ?? array());
        if ($items === array()) {
            printf('<p>%s</p>', esc_html__('No review has been published yet.', 'aftersale'));
            return;
        }
        printf('<table class="wp-list-table widefat fixed striped"><thead><tr>');
        foreach (array(__('Product', 'aftersale'), __('Rating', 'aftersale'), __('Review', 'aftersale'), __('Reply', 'aftersale'), __('In WooCommerce', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($items as $r) {
            $woo = isset($r['woo_review_id']) ? (int) $r['woo_review_id'] : 0;
            printf('<tr>');
            printf('<td>%s</td>', esc_html(self::product_name((int) $r['product_id'])));
            printf('<td>%s</td>', self::stars((int) $r['rating'])); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped by stars().
            printf('<td><strong>%1$s</strong><p>%2$s</p></td>', esc_html((string) ($r['title'] ?? '')), esc_html((string) ($r['body'] ?? '')));
            printf('<td>%s</td>', esc_html((string) ($r['reply'] ?? '')));
            if ($woo > 0) {
                printf('<td><a href="%1$s">%2$s</a></td>', esc_url(admin_url('comment.php?action=editcomment&c=' . $woo)), esc_html__('Open the review', 'aftersale'));
            } else {
                printf('<td>%s</td>', esc_html__('Being published…', 'aftersale'));
            }
            printf('</tr>');
        }
        printf('</tbody></table>');
        $this->pager($page, array('tab' => 'published'));
    }

    private function render_stats(): void
    {
        $now   = time();
        // The route takes RFC 3339 times (UTC here).
        $total = $this->client()->get('/v1/reviews/stats?from=' . gmdate(self::RFC3339, $now - 30 * DAY_IN_SECONDS) . '&to=' . gmdate(self::RFC3339, $now));
        if (is_wp_error($total)) {
            self::service_error($total);
            return;
        }
        printf('<h2>%s</h2><ul class="aftersale-figures">', esc_html__('The last 30 days', 'aftersale'));
        $avg = $total['average_rating'] ?? null;
        foreach (
            array(
                array(__('Requests sent', 'aftersale'), self::num((float) ($total['requests_sent'] ?? 0))),
                array(__('Reminders sent', 'aftersale'), self::num((float) ($total['reminders_sent'] ?? 0))),
                array(__('Reviews received', 'aftersale'), self::num((float) ($total['reviews_received'] ?? 0))),
                array(__('Conversion', 'aftersale'), self::num(100 * (float) ($total['conversion_rate'] ?? 0)) . ' %'),
                array(__('Average rating', 'aftersale'), $avg === null ? '–' : self::num((float) $avg)),
            ) as $f
        ) {
            printf('<li><span>%1$s</span> <strong>%2$s</strong></li>', esc_html($f[0]), esc_html($f[1]));
        }
        printf('</ul>');
        // Week by week: one stats call per week, Monday to Monday (UTC).
        $monday = strtotime('monday this week', $now);
        $sent   = array();
        $conv   = array();
        for ($i = self::WEEKS - 1; $i >= 0; $i--) {
            $from = $monday - $i * 7 * DAY_IN_SECONDS;
            $week = $this->client()->get('/v1/reviews/stats?from=' . gmdate(self::RFC3339, $from) . '&to=' . gmdate(self::RFC3339, $from + 7 * DAY_IN_SECONDS));
            if (is_wp_error($week)) {
                self::service_error($week);
                return;
            }
            $label  = gmdate('Y-m-d', $from);
            $sent[] = array($label, (int) ($week['requests_sent'] ?? 0));
            $conv[] = array($label, round(100 * (float) ($week['conversion_rate'] ?? 0), 2));
        }
        self::chart_line(__('Review requests sent per week', 'aftersale'), __('Week starting', 'aftersale'), __('Requests sent', 'aftersale'), $sent);
        self::chart_line(__('Conversion per week', 'aftersale'), __('Week starting', 'aftersale'), __('Requests answered (%)', 'aftersale'), $conv);
        $dist = array();
        foreach (array('1', '2', '3', '4', '5') as $s) {
            $dist[] = array($s, (int) ($total['distribution'][$s] ?? 0));
        }
        self::chart_bars(__('Ratings in the last 30 days', 'aftersale'), __('Stars', 'aftersale'), __('Reviews', 'aftersale'), $dist);
    }

    /**
     * admin-post: approve, reject or reply to one review, or approve or
     * reject the ticked ones.
     */
    public function handle(): void
    {
        self::check_action(self::ACTION);
        $do    = self::posted('do');
        $ids   = array();
        $verb  = '';
        $reply = '';
        if ($do === 'bulk') {
            $verb = self::posted('bulk');
            $ids  = isset($_POST['ids']) ? wp_unslash($_POST['ids']) : array();
            $ids  = is_array($ids) ? array_map('absint', $ids) : array();
        } elseif (preg_match('/^(approve|reject|reply):(\d+)$/', $do, $m)) {
            $verb = $m[1];
            $ids  = array((int) $m[2]);
            if ($verb === 'reply') {
                $replies = isset($_POST['reply']) ? wp_unslash($_POST['reply']) : array();
                $replies = is_array($replies) ? $replies : array();
                $reply   = isset($replies[$m[2]]) ? sanitize_textarea_field((string) $replies[$m[2]]) : '';
            }
        }
        $ids = array_values(array_filter($ids));
        if (! in_array($verb, array('approve', 'reject', 'reply'), true) || $ids === array()) {
            $this->back($this->url(), __('Choose an action and at least one review.', 'aftersale'), true);
        }
        if ($verb === 'reply' && $reply === '') {
            $this->back($this->url(), __('Write the reply first.', 'aftersale'), true);
        }
        $done   = 0;
        $errors = array();
        foreach ($ids as $id) {
            $answer = $verb === 'reply'
                ? $this->client()->post('/v1/reviews/' . $id . '/reply', array('body' => $reply))
                : $this->client()->post('/v1/reviews/' . $id . '/' . $verb);
            if (is_wp_error($answer)) {
                $errors[] = $answer->get_error_message();
            } else {
                $done++;
            }
        }
        /* translators: %d: number of reviews */
        $msg = sprintf(_n('%d review updated.', '%d reviews updated.', $done, 'aftersale'), $done);
        if ($errors !== array()) {
            $msg .= ' ' . implode(' ', array_unique($errors));
        }
        $this->back($this->url(), $msg, $errors !== array());
    }
}
