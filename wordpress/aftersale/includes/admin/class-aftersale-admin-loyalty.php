<?php
/**
 * Aftersale > Loyalty: the programme's settings, the accounts, an
 * account's ledger and manual adjustments.
 *
 * Settings: a form over the service's settings document
 * (GET/PUT /v1/loyalty/settings, which accepts what GET answered). The
 * form shows every field of the document; saving reads the document again,
 * puts the form's fields over it and PUTs the whole of it, so fields the
 * form does not know are written back as they were read. The form carries
 * a hash of the document it showed: when someone else changed the settings
 * in between, the save is refused instead of silently undoing their change.
 * Values are sent as typed (numbers that are not numbers stay text): the
 * service validates, and its 422 names the field.
 *
 * Accounts: by email (GET /v1/loyalty/accounts?email=, the service's exact
 * match after lower-casing) or all, paged; an account with its ledger,
 * newest first, paged by the service's cursor; an adjustment (points added
 * or taken, a note required) posted with an Idempotency-Key made when the
 * form was shown, so a double submit moves the points once.
 *
 * Every action: manage_woocommerce, then its nonce (per account for an
 * adjustment), then a redirect back with a notice (Aftersale_Admin_Menu).
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The Loyalty screen.
 */
class Aftersale_Admin_Loyalty
{
    public const SLUG = 'aftersale-loyalty';
    public const PAGE_SIZE = 20;
    /** Bonus names of the settings document, in the form's order. */
    public const BONUSES = array('signup', 'review', 'survey', 'birthday', 'anniversary', 'referrer', 'referee');
    /** Empty rows offered for a new tier / currency rate. */
    public const SPARE_ROWS = 2;

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
        add_action('admin_post_aftersale_loyalty_settings', array($this, 'handle_settings'));
        add_action('admin_post_aftersale_loyalty_adjust', array($this, 'handle_adjust'));
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The hash of a settings document, as the form carries it.
     *
     * @param array $doc The document.
     */
    public static function doc_hash(array $doc): string
    {
        return hash('sha256', (string) wp_json_encode(self::canonical($doc)));
    }

    /**
     * Keys sorted at every level, so the hash does not depend on order.
     *
     * @param mixed $v A value of the document.
     * @return mixed
     */
    private static function canonical($v)
    {
        if (! is_array($v)) {
            return $v;
        }
        if (array_keys($v) !== range(0, count($v) - 1)) {
            ksort($v);
        }
        return array_map(array(__CLASS__, 'canonical'), $v);
    }

    public function render(): void
    {
        $q = array();
        foreach (array('email', 'account', 'cursor', 'tab') as $k) {
            if (isset($_GET[$k])) { // phpcs:ignore WordPress.Security.NonceVerification -- read-only views
                $q[$k] = sanitize_text_field(wp_unslash($_GET[$k]));
            }
        }
        Aftersale_Templates::render('admin/loyalty.php', $this->view($q));
    }

    /**
     * What the screen shows for a query (tab, email, account, cursor).
     *
     * @param array $q The query.
     * @return array
     */
    public function view(array $q): array
    {
        $view = array(
            'tab'      => ($q['tab'] ?? '') === 'settings' ? 'settings' : 'accounts',
            'error'    => '',
            'settings' => null,
            'hash'     => '',
            'email'    => (string) ($q['email'] ?? ''),
            'accounts' => null,
            'account'  => null,
            'ledger'   => null,
            'next'     => '',
            'cursor'   => (string) ($q['cursor'] ?? ''),
            'key'      => '',
            'currency' => (string) get_woocommerce_currency(),
        );
        if (! Aftersale_Options::configured()) {
            $view['error'] = __('The aftersale service is not connected. Set it up under WooCommerce > Settings > Aftersale.', 'aftersale');
            return $view;
        }
        $unreachable = __('The aftersale service cannot be reached right now.', 'aftersale');
        if (! empty($q['account'])) {
            $id      = absint($q['account']);
            $account = $this->client()->get('/v1/loyalty/accounts/' . $id);
            if (is_wp_error($account)) {
                $view['error'] = $this->error_text($account, $unreachable);
                return $view;
            }
            $query = array('limit' => self::PAGE_SIZE);
            if ($view['cursor'] !== '') {
                $query['cursor'] = $view['cursor'];
            }
            $ledger = $this->client()->get('/v1/loyalty/accounts/' . $id . '/ledger?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986));
            if (is_wp_error($ledger)) {
                $view['error'] = $this->error_text($ledger, $unreachable);
                return $view;
            }
            $view['tab']     = 'account';
            $view['account'] = $account;
            $view['ledger']  = (array) ($ledger['items'] ?? array());
            $view['next']    = (string) ($ledger['next_cursor'] ?? '');
            $view['key']     = wp_generate_uuid4();
            return $view;
        }
        if ($view['tab'] === 'settings') {
            $doc = $this->client()->get('/v1/loyalty/settings');
            if (is_wp_error($doc)) {
                $view['error'] = $this->error_text($doc, $unreachable);
                return $view;
            }
            $view['settings'] = $doc;
            $view['hash']     = self::doc_hash($doc);
            return $view;
        }
        $query = array('limit' => self::PAGE_SIZE);
        if ($view['email'] !== '') {
            $query['email'] = $view['email'];
        }
        if ($view['cursor'] !== '') {
            $query['cursor'] = $view['cursor'];
        }
        $list = $this->client()->get('/v1/loyalty/accounts?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986));
        if (is_wp_error($list)) {
            $view['error'] = $this->error_text($list, $unreachable);
            return $view;
        }
        $view['accounts'] = (array) ($list['items'] ?? array());
        $view['next']     = (string) ($list['next_cursor'] ?? '');
        return $view;
    }

    /**
     * What to say about a failed call: the service's own words for an
     * answer (404: no such account), a plain sentence when it is away.
     *
     * @param WP_Error $e           The failure.
     * @param string   $unreachable The sentence for a network failure.
     */
    private function error_text(WP_Error $e, string $unreachable): string
    {
        return $e->get_error_code() === 'aftersale_http' ? $e->get_error_message() : $unreachable;
    }

    /**
     * A posted value as it was typed, as an integer when it is one.
     *
     * @param mixed $v The posted value.
     * @return int|string
     */
    private static function int_or_text($v)
    {
        $v = trim((string) $v);
        return preg_match('/^-?[0-9]{1,15}$/', $v) ? (int) $v : $v;
    }

    /**
     * The document to PUT: the one read, with the form's fields over it.
     *
     * @param array $doc  The document as read now.
     * @param array $form The posted fields (unslashed).
     * @return array
     */
    public static function merge_form(array $doc, array $form): array
    {
        foreach (array('points_per_unit') as $k) {
            if (isset($form[$k])) {
                $doc[$k] = sanitize_text_field((string) $form[$k]);
            }
        }
        foreach (array('rounding', 'earn_basis', 'earn_status') as $k) {
            if (isset($form[$k])) {
                $doc[$k] = sanitize_key((string) $form[$k]);
            }
        }
        if (isset($form['expiry_months'])) {
            $doc['expiry_months'] = self::int_or_text($form['expiry_months']);
        }
        foreach (self::BONUSES as $b) {
            if (isset($form['bonuses'][$b])) {
                $doc['bonuses'][$b] = self::int_or_text($form['bonuses'][$b]);
            }
        }
        foreach (array('points_per_unit', 'min_points', 'coupon_validity_days') as $k) {
            if (isset($form['redemption'][$k])) {
                $doc['redemption'][$k] = self::int_or_text($form['redemption'][$k]);
            }
        }
        if (isset($form['redemption']['max_discount'])) {
            $max                               = sanitize_text_field((string) $form['redemption']['max_discount']);
            $doc['redemption']['max_discount'] = $max === '' ? null : $max;
        }
        if (isset($form['tiers']) && is_array($form['tiers'])) {
            $tiers = array();
            foreach ($form['tiers'] as $row) {
                $name = sanitize_text_field((string) ($row['name'] ?? ''));
                if ($name === '') {
                    continue; // an empty row, or a tier removed
                }
                $tiers[] = array(
                    'name'       => $name,
                    'threshold'  => self::int_or_text($row['threshold'] ?? ''),
                    'multiplier' => sanitize_text_field((string) ($row['multiplier'] ?? '1')),
                );
            }
            $doc['tiers'] = $tiers;
        }
        if (isset($form['rates']) && is_array($form['rates'])) {
            $rates = array();
            foreach ($form['rates'] as $row) {
                $code = strtoupper(sanitize_text_field((string) ($row['currency'] ?? '')));
                if ($code !== '') {
                    $rates[$code] = sanitize_text_field((string) ($row['rate'] ?? ''));
                }
            }
            $doc['currency_rates'] = $rates;
        }
        $doc['email_tokens_reach_registered'] = ! empty($form['email_tokens_reach_registered']);
        // JSON objects, also when empty (PHP would write []).
        $doc['currency_rates'] = (object) ($doc['currency_rates'] ?? array());
        $doc['bonuses']        = (object) ($doc['bonuses'] ?? array());
        $doc['redemption']     = (object) ($doc['redemption'] ?? array());
        return $doc;
    }

    /**
     * admin-post: save the settings.
     */
    public function handle_settings(): void
    {
        Aftersale_Admin_Menu::guard('aftersale_loyalty_settings');
        $back = array('tab' => 'settings');
        $form = isset($_POST['s']) ? wp_unslash($_POST['s']) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- merge_form() sanitises each field
        $form = is_array($form) ? $form : array();
        $seen = isset($_POST['aftersale_hash']) ? sanitize_text_field(wp_unslash($_POST['aftersale_hash'])) : '';
        $doc  = $this->client()->get('/v1/loyalty/settings');
        if (is_wp_error($doc)) {
            Aftersale_Admin_Menu::back(self::SLUG, 'error', $doc->get_error_message(), $back);
        }
        if (! hash_equals(self::doc_hash($doc), $seen)) {
            Aftersale_Admin_Menu::back(self::SLUG, 'error', __('The loyalty settings were changed since this form was opened. Nothing was saved: check them and save again.', 'aftersale'), $back);
        }
        $answer = $this->client()->request('PUT', '/v1/loyalty/settings', self::merge_form($doc, $form));
        if (is_wp_error($answer)) {
            $data  = (array) $answer->get_error_data();
            $field = (string) ($data['field'] ?? '');
            $text  = $field !== ''
                /* translators: 1: the settings field, 2: the service's explanation */
                ? sprintf(__('Not saved: %1$s. %2$s', 'aftersale'), $field, $answer->get_error_message())
                : $answer->get_error_message();
            Aftersale_Admin_Menu::back(self::SLUG, 'error', $text, $back);
        }
        Aftersale_Admin_Menu::back(self::SLUG, 'success', __('Loyalty settings saved.', 'aftersale'), $back);
    }

    /**
     * admin-post: add or take points by hand, with a note.
     */
    public function handle_adjust(): void
    {
        $account = isset($_POST['account']) ? absint(wp_unslash($_POST['account'])) : 0;
        Aftersale_Admin_Menu::guard('aftersale_loyalty_adjust_' . $account);
        $back   = array('account' => $account);
        $points = isset($_POST['points']) ? trim(sanitize_text_field(wp_unslash($_POST['points']))) : '';
        $note   = isset($_POST['note']) ? trim(sanitize_textarea_field(wp_unslash($_POST['note']))) : '';
        $key    = isset($_POST['aftersale_key']) ? preg_replace('/[^A-Za-z0-9-]/', '', (string) wp_unslash($_POST['aftersale_key'])) : '';
        if ($account <= 0) {
            Aftersale_Admin_Menu::back(self::SLUG, 'error', __('No account was chosen.', 'aftersale'));
        }
        if (! preg_match('/^[+-]?[0-9]{1,9}$/', $points) || (int) $points === 0) {
            Aftersale_Admin_Menu::back(self::SLUG, 'error', __('Enter the points to add (or, with a minus sign, to take), not zero.', 'aftersale'), $back);
        }
        if ($note === '') {
            Aftersale_Admin_Menu::back(self::SLUG, 'error', __('A note is required: say why the points change.', 'aftersale'), $back);
        }
        $headers = $key !== '' ? array('Idempotency-Key' => 'wp-adjust-' . substr($key, 0, 64)) : array();
        $answer  = $this->client()->post(
            '/v1/loyalty/accounts/' . $account . '/adjustments',
            array('points' => (int) $points, 'reason' => mb_substr($note, 0, 500)),
            null,
            $headers
        );
        if (is_wp_error($answer)) {
            Aftersale_Admin_Menu::back(self::SLUG, 'error', $answer->get_error_message(), $back);
        }
        $text = (int) $points > 0
            /* translators: 1: points, 2: the new balance */
            ? sprintf(__('Added %1$s points. The balance is now %2$s.', 'aftersale'), number_format_i18n((int) $points), number_format_i18n((int) ($answer['balance_after'] ?? 0)))
            /* translators: 1: points, 2: the new balance */
            : sprintf(__('Took %1$s points. The balance is now %2$s.', 'aftersale'), number_format_i18n(abs((int) $points)), number_format_i18n((int) ($answer['balance_after'] ?? 0)));
        Aftersale_Admin_Menu::back(self::SLUG, 'success', $text, $back);
    }
}
