<?php
/**
 * What the Reviews, Returns and Surveys screens share: the service client,
 * the capability and nonce check of every action, the notices (the
 * service down is said plainly, never a blank page), the redirect after a
 * post (a reload does not act twice), and the charts.
 *
 * Charts go through chart_line() and chart_bars(): when the admin menu's
 * chart helper (Aftersale_Chart, includes/admin/class-aftersale-chart.php)
 * is loaded and has the method, it draws them; else a small server-side
 * SVG is drawn here. Either way every chart has a title, axis labels, a
 * <title>/<desc> for screen readers and a table with the same figures
 * beside it, and needs no script.
 *
 * Every action: current_user_can('manage_woocommerce') first, then
 * check_admin_referer() with an action named for the object it touches.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Base of the merchant screens of reviews, returns and surveys.
 */
abstract class Aftersale_Admin_Base
{
    public const CAP = 'manage_woocommerce';

    /** @var Aftersale_Client|null */
    protected $client;

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    protected function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The screen's admin page slug.
     */
    abstract public function slug(): string;

    /**
     * The screen's URL with these arguments.
     *
     * @param array $args Query arguments.
     */
    public function url(array $args = array()): string
    {
        return add_query_arg(array_merge(array('page' => $this->slug()), $args), admin_url('admin.php'));
    }

    /**
     * Refuse anyone who may not manage the shop (403), before anything else.
     */
    protected static function require_cap(): void
    {
        if (! current_user_can(self::CAP)) {
            wp_die(esc_html__('Sorry, you are not allowed to manage this shop.', 'aftersale'), '', array('response' => 403));
        }
    }

    /**
     * The capability and the nonce of an action, or wp_die (403).
     *
     * @param string $action The nonce's action.
     */
    protected static function check_action(string $action): void
    {
        self::require_cap();
        check_admin_referer($action);
    }

    /**
     * A posted string field, sanitised ('' when absent or not a string).
     * Call only after the action's nonce was checked.
     *
     * @param string $name Field.
     */
    protected static function posted(string $name): string
    {
        // phpcs:ignore WordPress.Security.NonceVerification.Missing -- the callers check the nonce first.
        $v = isset($_POST[$name]) ? wp_unslash($_POST[$name]) : '';
        return is_string($v) ? sanitize_text_field($v) : '';
    }

    /**
     * Go back to a screen with the outcome, kept for this user for a minute
     * (no message travels in the URL, so no link can forge one). The
     * transient is the one Aftersale_Admin_Menu::back() writes, so either
     * screen code prints it.
     *
     * @param string $url     Where.
     * @param string $message What happened (plain text).
     * @param bool   $error   Whether it failed.
     */
    protected function back(string $url, string $message, bool $error = false): void
    {
        set_transient('aftersale_flash_' . get_current_user_id(), array($error ? 'error' : 'success', $message), 60);
        wp_safe_redirect($url);
        exit;
    }

    /**
     * Print (once) the outcome back() left for this user.
     */
    protected static function flash(): void
    {
        $name  = 'aftersale_flash_' . get_current_user_id();
        $flash = get_transient($name);
        if (! is_array($flash) || count($flash) !== 2) {
            return;
        }
        delete_transient($name);
        self::notice((string) $flash[1], (string) $flash[0]);
    }

    /**
     * A WordPress admin notice.
     *
     * @param string $message Text.
     * @param string $type    success, error, warning, info.
     */
    protected static function notice(string $message, string $type = 'info'): void
    {
        printf('<div class="notice notice-%1$s"><p>%2$s</p></div>', esc_attr($type), esc_html($message));
    }

    /**
     * What the screen says when the service cannot answer.
     *
     * @param WP_Error $error The client's error.
     */
    protected static function service_error($error): void
    {
        if (! Aftersale_Options::configured()) {
            self::notice(__('Aftersale is not connected to its service yet: see WooCommerce > Settings > Aftersale.', 'aftersale'), 'error');
            return;
        }
        $data = $error->get_error_data();
        if ($error->get_error_code() === 'aftersale_unreachable' || (is_array($data) && (int) ($data['status'] ?? 0) >= 500)) {
            self::notice(__('The aftersale service is not answering right now, so this screen cannot show its data. The shop keeps working; try again in a minute.', 'aftersale') . ' (' . $error->get_error_message() . ')', 'error');
            return;
        }
        self::notice($error->get_error_message(), 'error');
    }

    /**
     * The result of an action, as a sentence for back().
     *
     * @param array|WP_Error $answer  The client's answer.
     * @param string         $success What to say when it worked.
     */
    protected static function outcome($answer, string $success): array
    {
        if (is_wp_error($answer)) {
            return array($answer->get_error_message(), true);
        }
        return array($success, false);
    }

    /**
     * Open of a screen: the heading and the flash message.
     *
     * @param string $title The screen's title.
     */
    protected static function open(string $title): void
    {
        printf('<div class="wrap aftersale-admin">');
        printf('<h1 class="wp-heading-inline">%s</h1><hr class="wp-header-end">', esc_html($title));
        self::flash();
    }

    protected static function close(): void
    {
        printf('</div>');
    }

    /**
     * Tabs as WooCommerce draws them.
     *
     * @param array  $tabs    key => [label, url].
     * @param string $current The current key.
     */
    protected static function tabs(array $tabs, string $current): void
    {
        printf('<nav class="nav-tab-wrapper woo-nav-tab-wrapper">');
        foreach ($tabs as $key => $tab) {
            printf(
                '<a href="%1$s" class="nav-tab%2$s">%3$s</a>',
                esc_url($tab[1]),
                $key === $current ? ' nav-tab-active' : '',
                esc_html($tab[0])
            );
        }
        printf('</nav>');
    }

    /**
     * Print a form's hidden nonce field (no referer field: the actions
     * redirect to fixed screens).
     *
     * @param string $action The nonce's action.
     */
    protected static function print_nonce(string $action): void
    {
        printf('<input type="hidden" name="_wpnonce" value="%s">', esc_attr(wp_create_nonce($action)));
    }

    /**
     * A date of the service (RFC 3339) in the site's format.
     *
     * @param string|null $at Timestamp.
     */
    protected static function date($at): string
    {
        if (! is_string($at) || $at === '') {
            return '';
        }
        $ts = strtotime($at);
        return $ts === false ? $at : date_i18n((string) get_option('date_format', 'Y-m-d') . ' H:i', $ts);
    }

    /**
     * A product's name in the shop (falls back to its id).
     *
     * @param int $product_id Product id.
     */
    protected static function product_name(int $product_id): string
    {
        if (function_exists('wc_get_product')) {
            $p = wc_get_product($product_id);
            if ($p) {
                return (string) $p->get_name();
            }
        }
        /* translators: %d: a product id */
        return sprintf(__('Product #%d', 'aftersale'), $product_id);
    }

    /**
     * Send a body of the service (a photo, a CSV) on to the browser, with
     * the shop key kept here: WordPress streams it into a temporary file
     * as it arrives and the file is passed through, so neither side holds
     * it whole in memory. Only the listed media types go out (the
     * service's Content-Type, parameters aside); anything else, or a
     * service that does not answer, is wp_die().
     *
     * @param string $path    The service path.
     * @param array  $types   Media types that may be sent on.
     * @param array  $headers Extra header lines.
     */
    protected function relay(string $path, array $types, array $headers): void
    {
        $tmp  = wp_tempnam('aftersale-relay');
        $got  = $this->client()->get_raw($path, $tmp);
        $type = is_wp_error($got) ? '' : strtolower(trim(explode(';', $got['type'])[0]));
        if (! in_array($type, $types, true)) {
            wp_delete_file($tmp);
            wp_die(esc_html(is_wp_error($got) ? $got->get_error_message() : __('The service answered something unexpected.', 'aftersale')), '', array('response' => 502));
        }
        // wp_tempnam() stat()ed the empty file: without this, PHP's stat
        // cache answers its size as 0 (and the browser would get nothing).
        clearstatcache(true, $tmp);
        self::send_headers(array_merge(array('Content-Type: ' . $type . ($type === 'text/csv' ? '; charset=utf-8' : ''), 'Content-Length: ' . (int) filesize($tmp)), $headers));
        $file = new SplFileObject($tmp, 'rb');
        $file->fpassthru();
        $file = null;
        wp_delete_file($tmp);
        self::finish();
    }

    /**
     * Send headers (tests record them instead).
     *
     * @param array $lines Header lines.
     */
    protected static function send_headers(array $lines): void
    {
        if (isset($GLOBALS['aftersale_test_headers'])) {
            $GLOBALS['aftersale_test_headers'] = array_merge($GLOBALS['aftersale_test_headers'], $lines);
            return;
        }
        foreach ($lines as $l) {
            header($l);
        }
    }

    /**
     * End the request after a raw answer (not in tests).
     */
    protected static function finish(): void
    {
        if (! isset($GLOBALS['aftersale_test_headers'])) {
            exit;
        }
    }

    // ---- charts -------------------------------------------------------------

    /**
     * A line chart with an optional band (a margin of error), and its table.
     *
     * @param string $title  The chart's title.
     * @param string $xlabel The x axis.
     * @param string $ylabel The y axis.
     * @param array  $points Each [label, value|null, low|null, high|null].
     */
    public static function chart_line(string $title, string $xlabel, string $ylabel, array $points): void
    {
        if (class_exists('Aftersale_Chart') && method_exists('Aftersale_Chart', 'render')) {
            self::shared_chart('line', $title, $xlabel, $ylabel, $points);
            return;
        }
        self::svg_chart('line', $title, $xlabel, $ylabel, $points);
    }

    /**
     * A bar chart and its table.
     *
     * @param string $title  The chart's title.
     * @param string $xlabel The x axis.
     * @param string $ylabel The y axis.
     * @param array  $points Each [label, value].
     */
    public static function chart_bars(string $title, string $xlabel, string $ylabel, array $points): void
    {
        if (class_exists('Aftersale_Chart') && method_exists('Aftersale_Chart', 'render')) {
            self::shared_chart('bar', $title, $xlabel, $ylabel, $points);
            return;
        }
        self::svg_chart('bars', $title, $xlabel, $ylabel, $points);
    }

    /**
     * A chart drawn by the admin menu's helper (Aftersale_Chart::render()).
     *
     * @param string $type   line or bar.
     * @param string $title  Title.
     * @param string $xlabel X axis.
     * @param string $ylabel Y axis.
     * @param array  $points The figures.
     */
    private static function shared_chart(string $type, string $title, string $xlabel, string $ylabel, array $points): void
    {
        static $n = 0;
        $n++;
        $series = array('name' => $ylabel, 'values' => array());
        $band   = false;
        foreach ($points as $p) {
            $band = $band || (isset($p[2], $p[3]) && $p[2] !== null);
        }
        $labels = array();
        foreach ($points as $p) {
            $labels[]           = (string) $p[0];
            $series['values'][] = isset($p[1]) && $p[1] !== null ? (float) $p[1] : null;
            if ($band) {
                $series['low'][]  = isset($p[2]) && $p[2] !== null ? (float) $p[2] : null;
                $series['high'][] = isset($p[3]) && $p[3] !== null ? (float) $p[3] : null;
            }
        }
        $decimals = 0;
        foreach ($series['values'] as $v) {
            if ($v !== null && abs($v - round($v)) >= 0.005) {
                $decimals = 2;
            }
        }
        Aftersale_Chart::render(
            array(
                'id'         => 'b' . $n,
                'type'       => $type,
                'title'      => $title,
                'x_label'    => $xlabel,
                'y_label'    => $ylabel,
                'labels'     => $labels,
                'series'     => array($series),
                'decimals'   => $decimals,
                'band_label' => __('95% range', 'aftersale'),
            )
        );
    }

    /**
     * The fallback SVG: 600 x 240, y from 0 (or the lowest value) to the
     * highest, labels under the x axis.
     *
     * @param string $kind   line or bars.
     * @param string $title  Title.
     * @param string $xlabel X axis.
     * @param string $ylabel Y axis.
     * @param array  $points The figures.
     */
    public static function svg_chart(string $kind, string $title, string $xlabel, string $ylabel, array $points): void
    {
        static $n = 0;
        $n++;
        $id   = 'aftersale-chart-' . $n;
        $w    = 600;
        $h    = 240;
        $left = 50;
        $bot  = 40;
        $top  = 20;
        $vals = array(0.0);
        foreach ($points as $p) {
            foreach (array(1, 2, 3) as $k) {
                if (isset($p[$k]) && $p[$k] !== null) {
                    $vals[] = (float) $p[$k];
                }
            }
        }
        $min   = min($vals);
        $max   = max($vals);
        $max   = $max <= $min ? $min + 1 : $max;
        $count = max(1, count($points));
        $step  = ($w - $left - 10) / $count;
        $y     = static function ($v) use ($min, $max, $h, $bot, $top) {
            return round($h - $bot - ((float) $v - $min) / ($max - $min) * ($h - $bot - $top), 1);
        };
        $x     = static function ($i) use ($left, $step) {
            return round($left + $step * $i + $step / 2, 1);
        };
        printf(
            '<figure class="aftersale-chart"><figcaption><strong>%1$s</strong></figcaption><svg role="img" aria-labelledby="%2$s-t %2$s-d" viewBox="0 0 %3$d %4$d" width="100%%" style="max-width:%3$dpx"><title id="%2$s-t">%1$s</title><desc id="%2$s-d">%5$s</desc>',
            esc_html($title),
            esc_attr($id),
            $w,
            $h,
            /* translators: 1: what the x axis shows, 2: what the y axis shows */
            esc_html(sprintf(__('%2$s by %1$s; the figures are in the table below.', 'aftersale'), $xlabel, $ylabel))
        );
        // Axes, their labels and the y range.
        printf('<line x1="%1$d" y1="%2$d" x2="%3$d" y2="%2$d" stroke="#757575"/><line x1="%1$d" y1="%4$d" x2="%1$d" y2="%2$d" stroke="#757575"/>', $left, $h - $bot, $w - 10, $top);
        printf('<text x="%1$d" y="%2$d" font-size="11" text-anchor="middle">%3$s</text>', (int) ($w / 2), $h - 4, esc_html($xlabel));
        printf('<text x="12" y="%1$d" font-size="11" text-anchor="middle" transform="rotate(-90 12 %1$d)">%2$s</text>', (int) ($h / 2), esc_html($ylabel));
        printf('<text x="%1$d" y="%2$s" font-size="10" text-anchor="end">%3$s</text>', $left - 4, $y($max) + 4, esc_html(self::num($max)));
        printf('<text x="%1$d" y="%2$s" font-size="10" text-anchor="end">%3$s</text>', $left - 4, $y($min), esc_html(self::num($min)));
        $line = array();
        $band = array();
        // At most 8 labels under the axis (every k-th), so they never overlap.
        $every = (int) ceil($count / 8);
        foreach (array_values($points) as $i => $p) {
            if ($i % $every === 0) {
                printf('<text x="%1$s" y="%2$d" font-size="10" text-anchor="middle">%3$s</text>', $x($i), $h - $bot + 14, esc_html((string) $p[0]));
            }
            if (! isset($p[1]) || $p[1] === null) {
                continue;
            }
            if ($kind === 'bars') {
                $bw   = max(2, $step * 0.6);
                printf('<rect x="%1$s" y="%2$s" width="%3$s" height="%4$s" fill="#7f54b3"><title>%5$s</title></rect>', round($x($i) - $bw / 2, 1), $y($p[1]), round($bw, 1), round($y($min) - $y($p[1]), 1), esc_html($p[0] . ': ' . self::num((float) $p[1])));
                continue;
            }
            $line[] = $x($i) . ',' . $y($p[1]);
            if (isset($p[2], $p[3]) && $p[2] !== null && $p[3] !== null) {
                $band[] = array($x($i), $y($p[2]), $y($p[3]));
            }
            printf('<circle cx="%1$s" cy="%2$s" r="3" fill="#7f54b3"><title>%3$s</title></circle>', $x($i), $y($p[1]), esc_html($p[0] . ': ' . self::num((float) $p[1])));
        }
        if (count($band) === 1) {
            // One period: the band is a narrow box around its point.
            $band = array(array($band[0][0] - 6, $band[0][1], $band[0][2]), array($band[0][0] + 6, $band[0][1], $band[0][2]));
        }
        if (count($band) > 1) {
            $upper = array();
            $lower = array();
            foreach ($band as $b) {
                $upper[] = $b[0] . ',' . $b[2];
                $lower[] = $b[0] . ',' . $b[1];
            }
            printf('<polygon class="aftersale-band" points="%s" fill="#7f54b3" fill-opacity="0.15" stroke="none"/>', esc_attr(implode(' ', array_merge($upper, array_reverse($lower)))));
        }
        if (count($line) > 1) {
            printf('<polyline points="%s" fill="none" stroke="#7f54b3" stroke-width="2"/>', esc_attr(implode(' ', $line)));
        }
        printf('</svg></figure>');
        self::chart_table($title, $xlabel, $ylabel, $points);
    }

    /**
     * The table with a chart's figures (its text alternative).
     *
     * @param string $title  Caption.
     * @param string $xlabel First column.
     * @param string $ylabel Second column.
     * @param array  $points The figures.
     */
    public static function chart_table(string $title, string $xlabel, string $ylabel, array $points): void
    {
        $band = false;
        foreach ($points as $p) {
            $band = $band || (isset($p[2]) && $p[2] !== null);
        }
        printf('<table class="widefat striped aftersale-chart-table"><caption class="screen-reader-text">%s</caption><thead><tr><th scope="col">%s</th><th scope="col">%s</th>', esc_html($title), esc_html($xlabel), esc_html($ylabel));
        if ($band) {
            printf('<th scope="col">%s</th>', esc_html__('95% range', 'aftersale'));
        }
        printf('</tr></thead><tbody>');
        foreach ($points as $p) {
            printf('<tr><th scope="row">%s</th><td>%s</td>', esc_html((string) $p[0]), esc_html(isset($p[1]) && $p[1] !== null ? self::num((float) $p[1]) : '–'));
            if ($band) {
                printf('<td>%s</td>', esc_html(isset($p[2], $p[3]) && $p[2] !== null ? self::num((float) $p[2]) . ' – ' . self::num((float) $p[3]) : '–'));
            }
            printf('</tr>');
        }
        printf('</tbody></table>');
    }

    /**
     * A figure with at most two decimals.
     *
     * @param float $v The figure.
     */
    protected static function num(float $v): string
    {
        return number_format_i18n($v, abs($v - round($v)) < 0.005 ? 0 : 2);
    }
}
