<?php
/**
 * WordPress's personal-data tools (Tools > Export Personal Data, Tools >
 * Erase Personal Data) for what the aftersale service holds.
 *
 * The exporter asks GET /v1/customers/export?email= and turns each row of
 * each programme into one WordPress export item (group, item id, name and
 * value pairs). The eraser asks POST /v1/customers/erase {email}: the
 * service replaces names, emails and texts with tombstones and keeps the
 * amounts (points, order totals), so it reports the items it removed and
 * says that some were retained, and why (docs/privacy.md). Both answer in
 * one page. When the service cannot be reached, the tool says so in its
 * messages instead of pretending the data is gone.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The personal-data exporter and eraser of the plugin.
 */
class Aftersale_Privacy
{
    /** The key of the exporter and of the eraser in WordPress's lists. */
    public const KEY = 'aftersale';

    /** @var Aftersale_Client|null */
    private $client;

    /**
     * @param Aftersale_Client|null $client The service client (the configured one when null).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    /**
     * Hook in (from plugins_loaded).
     */
    public static function init(): void
    {
        (new self())->register();
    }

    /**
     * Add the exporter and the eraser to WordPress's lists.
     */
    public function register(): void
    {
        add_filter('wp_privacy_personal_data_exporters', array($this, 'exporters'));
        /*
         * Last: WooCommerce's own erasers change the customer and orders,
         * which reach the service as webhooks; aftersale erases after them.
         */
        add_filter('wp_privacy_personal_data_erasers', array($this, 'erasers'), 99);
    }

    /**
     * @param array $exporters WordPress's exporters.
     * @return array
     */
    public function exporters($exporters)
    {
        $exporters[self::KEY] = array(
            'exporter_friendly_name' => __('Aftersale (loyalty, reviews, returns)', 'aftersale'),
            'callback'               => array($this, 'export'),
        );
        return $exporters;
    }

    /**
     * @param array $erasers WordPress's erasers.
     * @return array
     */
    public function erasers($erasers)
    {
        $erasers[self::KEY] = array(
            'eraser_friendly_name' => __('Aftersale (loyalty, reviews, returns)', 'aftersale'),
            'callback'             => array($this, 'erase'),
        );
        return $erasers;
    }

    /**
     * The exporter: everything the service holds about the address.
     *
     * @param string $email_address The customer's email.
     * @param int    $page          WordPress's page (all comes in page 1).
     * @return array{data: array, done: bool}
     */
    public function export($email_address, $page = 1)
    {
        $email = sanitize_email((string) $email_address);
        if ($email === '' || (int) $page > 1) {
            return array('data' => array(), 'done' => true);
        }
        $answer = $this->client()->get('/v1/customers/export?email=' . rawurlencode($email));
        if (is_wp_error($answer)) {
            /*
             * WordPress shows an exporter's WP_Error to the admin; a silent
             * empty export would wrongly say that nothing is held.
             */
            return $answer;
        }
        return array('data' => self::items($answer), 'done' => true);
    }

    /**
     * The eraser: tombstones in the service, amounts kept.
     *
     * @param string $email_address The customer's email.
     * @param int    $page          WordPress's page (all in page 1).
     * @return array{items_removed: bool, items_retained: bool, messages: array, done: bool}
     */
    public function erase($email_address, $page = 1)
    {
        $email = sanitize_email((string) $email_address);
        $out   = array(
            'items_removed'  => false,
            'items_retained' => false,
            'messages'       => array(),
            'done'           => true,
        );
        if ($email === '' || (int) $page > 1) {
            return $out;
        }
        $answer = $this->client()->post('/v1/customers/erase', array('email' => $email));
        if (is_wp_error($answer)) {
            $out['items_retained'] = true;
            $out['messages'][]     = $answer->get_error_message();
            return $out;
        }
        $removed = 0;
        foreach ((array) ($answer['erased'] ?? array()) as $n) {
            $removed += (int) $n;
        }
        $out['items_removed'] = $removed > 0;
        if ($removed > 0) {
            /* Points, order totals and ratings stay so the books add up. */
            $out['items_retained'] = true;
            $out['messages'][]     = __('Aftersale kept the amounts (points, order totals, ratings) without any name, address or text.', 'aftersale');
        }
        return $out;
    }

    /**
     * WordPress export items from the service's export: one item per row,
     * grouped by programme and table; nested values as JSON.
     *
     * @param array $export The decoded GET /v1/customers/export answer.
     * @return array
     */
    public static function items(array $export): array
    {
        $items = array();
        foreach ($export as $programme => $tables) {
            if ($programme === 'customer' || ! is_array($tables)) {
                continue;
            }
            /* "customers", "events", "jobs" are lists; the others group lists. */
            if (array_keys($tables) === range(0, count($tables) - 1) || $tables === array()) {
                $tables = array($programme => $tables);
            }
            foreach ($tables as $table => $rows) {
                foreach ((array) $rows as $i => $row) {
                    if (! is_array($row)) {
                        continue;
                    }
                    $group   = 'aftersale-' . sanitize_key($programme . '-' . $table);
                    $items[] = array(
                        'group_id'          => $group,
                        /* translators: 1: programme (loyalty, reviews...), 2: table */
                        'group_label'       => sprintf(__('Aftersale: %1$s (%2$s)', 'aftersale'), $programme, $table),
                        'group_description' => __('What the aftersale service holds for this shop.', 'aftersale'),
                        'item_id'           => $group . '-' . (isset($row['id']) ? (string) $row['id'] : (isset($row['order_id']) ? (string) $row['order_id'] : (string) $i)),
                        'data'              => self::pairs($row),
                    );
                }
            }
        }
        return $items;
    }

    /**
     * @param array $row One row.
     * @return array<int, array{name: string, value: string}>
     */
    private static function pairs(array $row): array
    {
        $data = array();
        foreach ($row as $name => $value) {
            if ($value === null || $value === '') {
                continue;
            }
            if (is_bool($value)) {
                $value = $value ? 'true' : 'false';
            } elseif (is_array($value)) {
                $value = (string) wp_json_encode($value);
            }
            $data[] = array(
                'name'  => (string) $name,
                'value' => (string) $value,
            );
        }
        return $data;
    }

    /**
     * The client given, or the configured one.
     */
    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }
}
