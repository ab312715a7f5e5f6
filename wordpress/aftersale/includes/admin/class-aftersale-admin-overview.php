<?php
/**
 * Aftersale > Overview: the programmes' figures of a period beside those of
 * the period before, as WooCommerce Analytics shows its own.
 *
 * The period is the last 7, 30 (default) or 90 days, or the days from/to
 * chosen (at most 366), in the site's time zone, today included; the
 * previous period is as long and ends where this one starts. Every figure
 * is read from the service's own report routes, never recomputed here:
 *
 *   reviews   GET /v1/reviews/stats?from&to       (RFC 3339, [from, to))
 *   surveys   GET /v1/surveys/{id}/report?from&to (local days, inclusive)
 *             of the newest survey that asks NPS, and of the newest that
 *             asks CSAT (active ones first)
 *   returns   GET /v1/returns/report?from&to      ([from, to))
 *   loyalty   GET /v1/loyalty/report?from&to      ([from, to))
 *
 * Each card carries the service's raw value (data-value) beside the
 * formatted one, and links to its screen. When the service does not answer,
 * the screen says so once and shows no figure; later calls are not tried
 * (one timeout, not eight).
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The Overview screen.
 */
class Aftersale_Admin_Overview
{
    /** The ranges offered as buttons, in days. */
    public const RANGES = array(7, 30, 90);
    public const DEFAULT_RANGE = 30;
    /** The longest from/to period, in days. */
    public const MAX_DAYS = 366;

    /** @var Aftersale_Client|null */
    private $client;

    /** @var WP_Error|null The first failure of this page (later calls are skipped). */
    private $failure = null;

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    public function render(): void
    {
        $query = array();
        foreach (array('range', 'from', 'to') as $k) {
            if (isset($_GET[$k])) { // phpcs:ignore WordPress.Security.NonceVerification -- a read-only view
                $query[$k] = sanitize_text_field(wp_unslash($_GET[$k]));
            }
        }
        Aftersale_Templates::render('admin/overview.php', $this->view($query));
    }

    /**
     * The period asked for: [from, to) as local midnights, its days, the
     * previous period, and which button is current.
     *
     * @param array $query range (days) or from and to (Y-m-d).
     * @param int   $now   Unix time (tests).
     * @return array{from:DateTimeImmutable,to:DateTimeImmutable,prev_from:DateTimeImmutable,days:int,range:int,error:string}
     */
    public static function period(array $query, ?int $now = null): array
    {
        $tz    = wp_timezone();
        $today = (new DateTimeImmutable('@' . ($now ?? time())))->setTimezone($tz)->setTime(0, 0);
        $error = '';
        $range = 0;
        $from  = null;
        $to    = null;
        if (isset($query['from'], $query['to']) && $query['from'] !== '' && $query['to'] !== '') {
            $f = DateTimeImmutable::createFromFormat('!Y-m-d', (string) $query['from'], $tz);
            $t = DateTimeImmutable::createFromFormat('!Y-m-d', (string) $query['to'], $tz);
            if ($f && $t && $f->format('Y-m-d') === $query['from'] && $t->format('Y-m-d') === $query['to'] && $f <= $t) {
                $days = (int) $f->diff($t)->days + 1;
                if ($days <= self::MAX_DAYS) {
                    $from = $f;
                    $to   = $t->modify('+1 day');
                }
            }
            if ($from === null) {
                /* translators: %d: the longest period in days */
                $error = sprintf(__('Choose a "from" day on or before the "to" day, at most %d days apart. The last 30 days are shown.', 'aftersale'), self::MAX_DAYS);
            }
        }
        if ($from === null) {
            $range = (int) ($query['range'] ?? self::DEFAULT_RANGE);
            $range = in_array($range, self::RANGES, true) ? $range : self::DEFAULT_RANGE;
            $to    = $today->modify('+1 day');
            $from  = $to->modify('-' . $range . ' days');
        }
        $days = (int) $from->diff($to)->days;
        return array(
            'from'      => $from,
            'to'        => $to,
            'prev_from' => $from->modify('-' . $days . ' days'),
            'days'      => $days,
            'range'     => $range,
            'error'     => $error,
        );
    }

    /**
     * An instant as the service's RFC 3339 UTC text.
     *
     * @param DateTimeImmutable $t The instant.
     */
    private static function utc(DateTimeImmutable $t): string
    {
        return $t->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z');
    }

    /**
     * GET a path with its query; null once the service has failed on this page.
     *
     * @param string $path  The path.
     * @param array  $query Query arguments.
     * @return array|null
     */
    private function fetch(string $path, array $query = array()): ?array
    {
        if ($this->failure !== null) {
            return null;
        }
        if ($query !== array()) {
            $path .= '?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
        }
        $answer = $this->client()->get($path);
        if (is_wp_error($answer)) {
            $this->failure = $answer;
            return null;
        }
        return $answer;
    }

    /**
     * Everything the screen shows.
     *
     * @param array    $query The request's range, from and to.
     * @param int|null $now   Unix time (tests).
     * @return array
     */
    public function view(array $query, ?int $now = null): array
    {
        $p    = self::period($query, $now);
        $view = array(
            'period'  => $p,
            'error'   => '',
            'cards'   => array(),
            'charts'  => array(),
            'ranges'  => self::RANGES,
            'from'    => $p['from']->format('Y-m-d'),
            'to'      => $p['to']->modify('-1 day')->format('Y-m-d'),
            'notice'  => $p['error'],
        );
        if (! Aftersale_Options::configured()) {
            $view['error'] = __('The aftersale service is not connected. Set it up under WooCommerce > Settings > Aftersale.', 'aftersale');
            return $view;
        }
        $cur  = array('from' => self::utc($p['from']), 'to' => self::utc($p['to']));
        $prev = array('from' => self::utc($p['prev_from']), 'to' => self::utc($p['from']));

        $reviews      = array($this->fetch('/v1/reviews/stats', $cur), $this->fetch('/v1/reviews/stats', $prev));
        $returns      = array($this->fetch('/v1/returns/report', $cur), $this->fetch('/v1/returns/report', $prev));
        $loyalty      = array($this->fetch('/v1/loyalty/report', $cur), $this->fetch('/v1/loyalty/report', $prev));
        $surveys      = $this->surveys($p);
        if ($this->failure !== null) {
            $view['error'] = sprintf(
                /* translators: %s: why the service did not answer */
                __('The figures cannot be shown: the aftersale service did not answer (%s). Try again in a minute.', 'aftersale'),
                $this->failure->get_error_message()
            );
            return $view;
        }
        $view['cards']  = array_merge(
            $this->review_cards($reviews),
            $this->survey_cards($surveys),
            $this->return_cards($returns),
            $this->loyalty_cards($loyalty)
        );
        $view['charts'] = $this->survey_charts($surveys);
        return $view;
    }

    /**
     * A figure: label, value (formatted and raw), the previous period's, the
     * direction of the change, and the screen it links to.
     *
     * @param string     $id     Stable id (tests and CSS).
     * @param string     $label  The label.
     * @param mixed      $raw    The service's value (null: none).
     * @param mixed      $prev   The previous period's (null: none; false: not compared).
     * @param string     $kind   int, percent (a 0..1 ratio), rating, score, money, points.
     * @param string     $screen Submenu slug.
     * @param array      $args   Extra query arguments of the link.
     * @param string     $currency For money.
     * @param bool       $higher_is_better For the colour of the change.
     */
    private static function card(string $id, string $label, $raw, $prev, string $kind, string $screen, array $args = array(), string $currency = '', bool $higher_is_better = true): array
    {
        $delta = '';
        if ($raw !== null && $prev !== null && $prev !== false && is_numeric($raw) && is_numeric($prev) && (float) $raw !== (float) $prev) {
            $up    = (float) $raw > (float) $prev;
            $delta = ($up === $higher_is_better) ? 'up' : 'down';
        }
        return array(
            'id'       => $id,
            'label'    => $label,
            'raw'      => $raw === null ? '' : (string) $raw,
            'value'    => self::format($raw, $kind, $currency),
            'previous' => $prev === false ? null : self::format($prev, $kind, $currency),
            'delta'    => $delta,
            'url'      => Aftersale_Admin_Menu::url($screen, $args),
        );
    }

    /**
     * A value as the merchant reads it.
     *
     * @param mixed  $v        The value.
     * @param string $kind     See card().
     * @param string $currency For money.
     */
    public static function format($v, string $kind, string $currency = ''): string
    {
        if ($v === null || $v === '' || ! is_numeric($v)) {
            return '–';
        }
        switch ($kind) {
            case 'percent':
                return number_format_i18n((float) $v * 100, 1) . ' %';
            case 'rating':
                return number_format_i18n((float) $v, 2);
            case 'score':
                return number_format_i18n((float) $v, 1);
            case 'money':
                return self::money((string) $v, $currency);
            default:
                return number_format_i18n((int) $v);
        }
    }

    /**
     * An amount in a currency, as WooCommerce prints prices (its symbol,
     * price format and separators), without markup.
     *
     * @param string $amount   Decimal string.
     * @param string $currency ISO code.
     */
    public static function money(string $amount, string $currency): string
    {
        $symbol = html_entity_decode((string) get_woocommerce_currency_symbol($currency), ENT_QUOTES, 'UTF-8');
        $number = number_format((float) $amount, (int) wc_get_price_decimals(), (string) wc_get_price_decimal_separator(), (string) wc_get_price_thousand_separator());
        return html_entity_decode(sprintf((string) get_woocommerce_price_format(), $symbol, $number), ENT_QUOTES, 'UTF-8');
    }

    /**
     * @param array $r [current, previous] stats.
     */
    private function review_cards(array $r): array
    {
        list($c, $p) = $r;
        return array(
            self::card('review-requests', __('Review requests sent', 'aftersale'), $c['requests_sent'] ?? null, $p['requests_sent'] ?? null, 'int', 'aftersale-reviews'),
            self::card('review-conversion', __('Review conversion', 'aftersale'), $c['conversion_rate'] ?? null, $p['conversion_rate'] ?? null, 'percent', 'aftersale-reviews'),
            self::card('review-rating', __('Average rating', 'aftersale'), $c['average_rating'] ?? null, $p['average_rating'] ?? null, 'rating', 'aftersale-reviews'),
        );
    }

    /**
     * The newest survey (active first) asking each of NPS and CSAT, and
     * their reports of both periods.
     *
     * @param array $p The period.
     * @return array{nps: array|null, csat: array|null}
     */
    private function surveys(array $p): array
    {
        $out  = array('nps' => null, 'csat' => null);
        $list = $this->fetch('/v1/surveys', array('limit' => 100));
        if ($list === null) {
            return $out;
        }
        $items = array_reverse((array) ($list['items'] ?? array()));
        usort($items, static function ($a, $b) {
            return (int) (($b['status'] ?? '') === 'active') - (int) (($a['status'] ?? '') === 'active');
        });
        $interval = $p['days'] > 62 ? 'week' : 'day';
        foreach (array('nps', 'csat') as $kind) {
            foreach ($items as $s) {
                if (($s['status'] ?? '') === 'archived' || ! self::asks($s, $kind)) {
                    continue;
                }
                $cur  = $this->fetch('/v1/surveys/' . (int) $s['id'] . '/report', array(
                    'from'     => $p['from']->format('Y-m-d'),
                    'to'       => $p['to']->modify('-1 day')->format('Y-m-d'),
                    'interval' => $interval,
                ));
                $prev = $this->fetch('/v1/surveys/' . (int) $s['id'] . '/report', array(
                    'from' => $p['prev_from']->format('Y-m-d'),
                    'to'   => $p['from']->modify('-1 day')->format('Y-m-d'),
                ));
                $out[$kind] = array('survey' => $s, 'report' => $cur, 'previous' => $prev);
                break;
            }
        }
        return $out;
    }

    /**
     * Whether a survey asks a question of a kind.
     *
     * @param array  $survey The survey.
     * @param string $kind   nps or csat.
     */
    private static function asks(array $survey, string $kind): bool
    {
        foreach ((array) ($survey['questions'] ?? array()) as $q) {
            if (($q['kind'] ?? '') === $kind) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param array $s surveys().
     */
    private function survey_cards(array $s): array
    {
        $cards = array();
        if ($s['nps'] !== null) {
            $id      = (int) $s['nps']['survey']['id'];
            $cards[] = self::card(
                'nps',
                /* translators: %s: the survey's name */
                sprintf(__('NPS (%s)', 'aftersale'), (string) $s['nps']['survey']['name']),
                $s['nps']['report']['totals']['nps']['score'] ?? null,
                $s['nps']['previous']['totals']['nps']['score'] ?? null,
                'score',
                'aftersale-surveys',
                array('survey' => $id)
            );
        }
        if ($s['csat'] !== null) {
            $id      = (int) $s['csat']['survey']['id'];
            $cards[] = self::card(
                'csat',
                /* translators: %s: the survey's name */
                sprintf(__('CSAT (%s)', 'aftersale'), (string) $s['csat']['survey']['name']),
                $s['csat']['report']['totals']['csat']['score'] ?? null,
                $s['csat']['previous']['totals']['csat']['score'] ?? null,
                'score',
                'aftersale-surveys',
                array('survey' => $id)
            );
        }
        return $cards;
    }

    /**
     * The trends: NPS with its margin of error, CSAT.
     *
     * @param array $s surveys().
     */
    private function survey_charts(array $s): array
    {
        $charts = array();
        foreach (array('nps', 'csat') as $kind) {
            if ($s[$kind] === null) {
                continue;
            }
            $labels = array();
            $values = array();
            $low    = array();
            $high   = array();
            foreach ((array) ($s[$kind]['report']['over_time'] ?? array()) as $period) {
                $m        = $period[$kind] ?? null;
                $labels[] = (string) ($period['period'] ?? '');
                $values[] = $m['score'] ?? null;
                $margin   = $m['margin_of_error'] ?? null;
                $low[]    = $m !== null && $margin !== null ? max(-100, $m['score'] - $margin) : null;
                $high[]   = $m !== null && $margin !== null ? min(100, $m['score'] + $margin) : null;
            }
            $series = array('name' => $kind === 'nps' ? __('NPS', 'aftersale') : __('CSAT (share satisfied)', 'aftersale'), 'values' => $values);
            if ($kind === 'nps') {
                $series['low']  = $low;
                $series['high'] = $high;
            }
            $charts[] = array(
                'id'         => $kind . '-trend',
                'type'       => 'line',
                'title'      => $kind === 'nps'
                    /* translators: %s: the survey's name */
                    ? sprintf(__('NPS over time (%s)', 'aftersale'), (string) $s[$kind]['survey']['name'])
                    /* translators: %s: the survey's name */
                    : sprintf(__('CSAT over time (%s)', 'aftersale'), (string) $s[$kind]['survey']['name']),
                'x_label'    => ($s[$kind]['report']['interval'] ?? 'day') === 'week' ? __('Week', 'aftersale') : __('Day', 'aftersale'),
                'y_label'    => $kind === 'nps' ? __('NPS', 'aftersale') : __('Satisfied (%)', 'aftersale'),
                'labels'     => $labels,
                'series'     => array($series),
                'y_min'      => $kind === 'nps' ? -100 : 0,
                'y_max'      => 100,
                'decimals'   => 1,
                'band_label' => __('95% margin of error', 'aftersale'),
            );
        }
        return $charts;
    }

    /**
     * @param array $r [current, previous] reports.
     */
    private function return_cards(array $r): array
    {
        list($c, $p) = $r;
        $currency    = (string) get_woocommerce_currency();
        return array(
            self::card('return-rate', __('Return rate', 'aftersale'), $c['return_rate'] ?? null, $p['return_rate'] ?? null, 'percent', 'aftersale-returns', array(), '', false),
            self::card('refunded', __('Refunded', 'aftersale'), $c['refunded'] ?? null, $p['refunded'] ?? null, 'money', 'aftersale-returns', array(), $currency, false),
            self::card('credited', __('Store credit given', 'aftersale'), $c['credited'] ?? null, $p['credited'] ?? null, 'money', 'aftersale-returns', array(), $currency, false),
        );
    }

    /**
     * @param array $r [current, previous] reports.
     */
    private function loyalty_cards(array $r): array
    {
        list($c, $p) = $r;
        $currency    = (string) ($c['currency'] ?? get_woocommerce_currency());
        return array(
            self::card('points-issued', __('Points issued', 'aftersale'), $c['issued'] ?? null, $p['issued'] ?? null, 'points', 'aftersale-loyalty'),
            self::card('points-redeemed', __('Points redeemed', 'aftersale'), $c['redeemed'] ?? null, $p['redeemed'] ?? null, 'points', 'aftersale-loyalty'),
            self::card('points-expired', __('Points expired', 'aftersale'), $c['expired'] ?? null, $p['expired'] ?? null, 'points', 'aftersale-loyalty', array(), '', false),
            self::card('points-outstanding', __('Points outstanding', 'aftersale'), $c['outstanding'] ?? null, false, 'points', 'aftersale-loyalty'),
            self::card('points-liability', __('Outstanding liability', 'aftersale'), $c['liability'] ?? null, false, 'money', 'aftersale-loyalty', array(), $currency, false),
        );
    }
}
