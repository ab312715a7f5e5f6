<?php
/**
 * PHPUnit bootstrap: small stubs of the WordPress and WooCommerce functions
 * the plugin calls (Debian has no WordPress test library). They keep state
 * in $GLOBALS['wpt'] (options with their autoload flag, transients, hooks,
 * the HTTP requests made and a programmable responder), so tests assert on
 * what the plugin stored, called and printed. Redirects and wp_die() throw,
 * as the plugin exits right after them.
 *
 * The real WordPress 6.1 + WooCommerce 7.9 runs are in tests/realwoo/.
 */

define('ABSPATH', __DIR__ . '/');
define('EP_ROOT', 64);
define('EP_PAGES', 4096);
define('AFTERSALE_TEST_PLUGIN', dirname(__DIR__, 2) . '/wordpress/aftersale');

require_once __DIR__ . '/stubs-features.php';

class Aftersale_Test_Redirect extends Exception
{
    /** @var string */
    public $url;

    public function __construct(string $url)
    {
        parent::__construct('redirect to ' . $url);
        $this->url = $url;
    }
}

class Aftersale_Test_Die extends Exception
{
}

function wpt_reset(): void
{
    $GLOBALS['wpt'] = array(
        'options'    => array('date_format' => 'Y-m-d'),
        'autoload'   => array(),
        'transients' => array(),
        'actions'    => array(),
        'filters'    => array(),
        'requests'   => array(),
        'responder'  => function ($url, $args) {
            return new WP_Error('http_request_failed', 'no responder');
        },
        'user_id'    => 0,
        'caps'       => array(),
        'endpoints'  => array(),
        'flushed'    => 0,
        'theme_dir'  => null,
        'cart'       => null,
        'orders'     => array(),
        'settings_errors' => array(),
        'saved_fields'    => array(),
        'coupons_applied' => array(),
        'wc_notices'      => array(),
    );
    $_GET     = array();
    $_POST    = array();
    $_REQUEST = array();
}
wpt_reset();

/** Answer every request with this status and JSON body. */
function wpt_respond_json(int $status, $body): void
{
    $GLOBALS['wpt']['responder'] = function ($url, $args) use ($status, $body) {
        return array('response' => array('code' => $status), 'body' => $body === null ? '' : json_encode($body));
    };
}

/** Answer by path: $routes['POST /v1/x'] = [status, body]. */
function wpt_routes(array $routes): void
{
    $GLOBALS['wpt']['responder'] = function ($url, $args) use ($routes) {
        $path = (string) parse_url($url, PHP_URL_PATH);
        $key  = $args['method'] . ' ' . $path;
        if (! isset($routes[$key])) {
            return array('response' => array('code' => 404), 'body' => json_encode(array('detail' => 'no route ' . $key)));
        }
        list($status, $body) = $routes[$key];
        return array('response' => array('code' => $status), 'body' => json_encode($body));
    };
}

function wpt_configure(): void
{
    update_option('aftersale_service_url', 'https://svc.test/');
    add_option('aftersale_api_key', 'ask_testkey0123456789', '', 'no');
    add_option('aftersale_token_secret', 'tok-secret-0123456789abcdef', '', 'no');
    update_option('aftersale_shop_id', 7);
}

/** Decode a JWT's payload (no verification). */
function wpt_jwt_claims(string $jwt): array
{
    $parts = explode('.', $jwt);
    return json_decode(base64_decode(strtr($parts[1], '-_', '+/')), true);
}

// ---- WP_Error ---------------------------------------------------------------

class WP_Error
{
    private $code;
    private $message;
    private $data;

    public function __construct($code = '', $message = '', $data = '')
    {
        $this->code    = $code;
        $this->message = $message;
        $this->data    = $data;
    }

    public function get_error_code()
    {
        return $this->code;
    }

    public function get_error_message()
    {
        return $this->message;
    }

    public function get_error_data()
    {
        return $this->data;
    }
}

function is_wp_error($thing): bool
{
    return $thing instanceof WP_Error;
}

// ---- hooks -----------------------------------------------------------------

function add_action($hook, $callback, $priority = 10, $args = 1)
{
    $GLOBALS['wpt']['actions'][$hook][] = $callback;
    return true;
}

function add_filter($hook, $callback, $priority = 10, $args = 1)
{
    $GLOBALS['wpt']['filters'][$hook][] = $callback;
    return true;
}

function do_action($hook, ...$args)
{
    foreach ($GLOBALS['wpt']['actions'][$hook] ?? array() as $cb) {
        call_user_func_array($cb, $args);
    }
}

function apply_filters($hook, $value, ...$args)
{
    foreach ($GLOBALS['wpt']['filters'][$hook] ?? array() as $cb) {
        $value = call_user_func_array($cb, array_merge(array($value), $args));
    }
    return $value;
}

function register_activation_hook($file, $cb)
{
    $GLOBALS['wpt']['activation'] = $cb;
}

function register_deactivation_hook($file, $cb)
{
    $GLOBALS['wpt']['deactivation'] = $cb;
}

// ---- options and transients -----------------------------------------------

function get_option($name, $default = false)
{
    return array_key_exists($name, $GLOBALS['wpt']['options']) ? $GLOBALS['wpt']['options'][$name] : $default;
}

function add_option($name, $value = '', $deprecated = '', $autoload = 'yes')
{
    if (array_key_exists($name, $GLOBALS['wpt']['options'])) {
        return false;
    }
    $GLOBALS['wpt']['options'][$name]  = $value;
    $GLOBALS['wpt']['autoload'][$name] = ($autoload === 'no' || $autoload === false) ? 'no' : 'yes';
    return true;
}

function update_option($name, $value, $autoload = null)
{
    if (! array_key_exists($name, $GLOBALS['wpt']['options'])) {
        return add_option($name, $value, '', $autoload === false || $autoload === 'no' ? 'no' : 'yes');
    }
    if ($GLOBALS['wpt']['options'][$name] === $value) {
        return false;
    }
    $GLOBALS['wpt']['options'][$name] = $value;
    if ($autoload !== null) {
        $GLOBALS['wpt']['autoload'][$name] = ($autoload === 'no' || $autoload === false) ? 'no' : 'yes';
    }
    return true;
}

function delete_option($name)
{
    unset($GLOBALS['wpt']['options'][$name], $GLOBALS['wpt']['autoload'][$name]);
    return true;
}

function get_transient($name)
{
    return $GLOBALS['wpt']['transients'][$name] ?? false;
}

function set_transient($name, $value, $ttl = 0)
{
    $GLOBALS['wpt']['transients'][$name] = $value;
    return true;
}

function delete_transient($name)
{
    unset($GLOBALS['wpt']['transients'][$name]);
    return true;
}

// ---- HTTP ------------------------------------------------------------------

function wp_remote_request($url, $args = array())
{
    $GLOBALS['wpt']['requests'][] = array('url' => $url, 'args' => $args);
    return call_user_func($GLOBALS['wpt']['responder'], $url, $args);
}

function wp_remote_retrieve_response_code($response)
{
    return is_array($response) ? $response['response']['code'] : '';
}

function wp_remote_retrieve_body($response)
{
    return is_array($response) ? $response['body'] : '';
}

function wp_json_encode($data, $options = 0, $depth = 512)
{
    return json_encode($data, $options, $depth);
}

// ---- i18n and escaping -----------------------------------------------------

function __($text, $domain = 'default')
{
    return $text;
}

function _e($text, $domain = 'default')
{
    echo $text;
}

function _n($single, $plural, $number, $domain = 'default')
{
    return $number == 1 ? $single : $plural;
}

function esc_html__($text, $domain = 'default')
{
    return esc_html($text);
}

function esc_html_e($text, $domain = 'default')
{
    echo esc_html($text);
}

function esc_attr__($text, $domain = 'default')
{
    return esc_attr($text);
}

function esc_html($text)
{
    return htmlspecialchars((string) $text, ENT_QUOTES, 'UTF-8');
}

function esc_attr($text)
{
    return htmlspecialchars((string) $text, ENT_QUOTES, 'UTF-8');
}

function esc_url($url)
{
    $url = (string) $url;
    if (preg_match('/^\s*javascript:/i', $url)) {
        return '';
    }
    // As WordPress: drop characters a URL may not hold, then & -> &#038;.
    $url = preg_replace('|[^a-z0-9-~+_.?#=!&;,/:%@$\|*\'()\[\]\x80-\xff]|i', '', $url);
    $url = str_replace(array('&amp;', '&'), '&#038;', $url);
    return str_replace("'", '&#039;', $url);
}

function esc_url_raw($url)
{
    return (string) $url;
}

function load_plugin_textdomain($domain, $deprecated = false, $path = false)
{
    $GLOBALS['wpt']['textdomain'] = array($domain, $path);
    return true;
}

function number_format_i18n($n, $decimals = 0)
{
    return number_format((float) $n, $decimals);
}

function date_i18n($format, $ts = false)
{
    return gmdate((string) $format, $ts === false ? time() : (int) $ts);
}

// ---- sanitising ------------------------------------------------------------

function absint($v)
{
    return abs((int) $v);
}

function sanitize_text_field($s)
{
    $s = strip_tags((string) $s);
    $s = preg_replace('/[\r\n\t ]+/', ' ', $s);
    return trim($s);
}

function sanitize_key($s)
{
    return preg_replace('/[^a-z0-9_\-]/', '', strtolower((string) $s));
}

function sanitize_email($s)
{
    $s = trim((string) $s);
    return filter_var($s, FILTER_VALIDATE_EMAIL) ? $s : '';
}

function wp_unslash($v)
{
    return is_string($v) ? stripslashes($v) : $v;
}

function untrailingslashit($s)
{
    return rtrim((string) $s, '/\\');
}

function trailingslashit($s)
{
    return untrailingslashit($s) . '/';
}

// ---- users, capabilities, nonces -------------------------------------------

function get_current_user_id()
{
    return $GLOBALS['wpt']['user_id'];
}

function is_user_logged_in()
{
    return $GLOBALS['wpt']['user_id'] > 0;
}

function current_user_can($cap)
{
    return in_array($cap, $GLOBALS['wpt']['caps'], true);
}

function wp_create_nonce($action = -1)
{
    return 'n' . substr(md5('nonce|' . $action . '|' . $GLOBALS['wpt']['user_id']), 0, 10);
}

function wp_verify_nonce($nonce, $action = -1)
{
    return hash_equals(wp_create_nonce($action), (string) $nonce) ? 1 : false;
}

function check_admin_referer($action = -1, $query_arg = '_wpnonce')
{
    $nonce = $_REQUEST[$query_arg] ?? '';
    if (! wp_verify_nonce($nonce, $action)) {
        wp_die('The link you followed has expired.', '', array('response' => 403));
    }
    return 1;
}

/* As WordPress's: the URL comes back HTML-escaped (&amp;), for an href only. */
function wp_nonce_url($url, $action = -1, $name = '_wpnonce')
{
    return esc_html(add_query_arg($name, wp_create_nonce($action), $url));
}

function wp_die($message = '', $title = '', $args = array())
{
    throw new Aftersale_Test_Die((string) $message);
}

function wp_safe_redirect($location, $status = 302)
{
    throw new Aftersale_Test_Redirect((string) $location);
}

// ---- URLs ------------------------------------------------------------------

function add_query_arg(...$args)
{
    if (is_array($args[0])) {
        $params = $args[0];
        $url    = $args[1] ?? '';
    } else {
        $params = array($args[0] => $args[1]);
        $url    = $args[2] ?? '';
    }
    $fragment = '';
    if (strpos($url, '#') !== false) {
        list($url, $fragment) = explode('#', $url, 2);
        $fragment = '#' . $fragment;
    }
    $query = array();
    if (strpos($url, '?') !== false) {
        list($url, $qs) = explode('?', $url, 2);
        foreach (explode('&', $qs) as $pair) {
            if ($pair === '') {
                continue;
            }
            $kv            = explode('=', $pair, 2);
            $query[$kv[0]] = $kv[1] ?? '';
        }
    }
    foreach ($params as $k => $v) {
        $query[$k] = (string) $v; // WordPress does not encode values either.
    }
    $pairs = array();
    foreach ($query as $k => $v) {
        $pairs[] = $k . '=' . $v;
    }
    return $url . '?' . implode('&', $pairs) . $fragment;
}

/** Parse a query string the way PHP fills $_GET (decoding once). */
function wpt_query(string $url): array
{
    parse_str((string) parse_url($url, PHP_URL_QUERY), $out);
    return $out;
}

function admin_url($path = '')
{
    return 'https://shop.test/wp-admin/' . ltrim($path, '/');
}

function home_url($path = '')
{
    return 'https://shop.test' . $path;
}

function plugin_dir_path($file)
{
    return trailingslashit(dirname($file));
}

function plugin_basename($file)
{
    return basename(dirname($file)) . '/' . basename($file);
}

function add_rewrite_endpoint($name, $places)
{
    $GLOBALS['wpt']['endpoints'][] = array($name, $places);
}

function flush_rewrite_rules($hard = true)
{
    $GLOBALS['wpt']['flushed']++;
}

// ---- WooCommerce -----------------------------------------------------------

class WooCommerce
{
    public $cart;
}

function WC()
{
    static $wc = null;
    if ($wc === null) {
        $wc = new WooCommerce();
    }
    $wc->cart = $GLOBALS['wpt']['cart'];
    return $wc;
}

class Wpt_Cart
{
    public $items;
    public $hash;

    public function __construct(array $items, string $hash)
    {
        $this->items = $items;
        $this->hash  = $hash;
    }

    public function get_cart()
    {
        return $this->items;
    }

    public function get_cart_hash()
    {
        return $this->hash;
    }

    public function apply_coupon($code)
    {
        $GLOBALS['wpt']['coupons_applied'][] = $code;
        return true;
    }
}

class Wpt_Order_Item
{
    private $d;

    public function __construct(array $d)
    {
        $this->d = $d;
    }

    public function get_product_id()
    {
        return $this->d['product_id'];
    }

    public function get_quantity()
    {
        return $this->d['quantity'];
    }

    public function get_total()
    {
        return $this->d['total'];
    }

    public function get_name()
    {
        return $this->d['name'] ?? '';
    }
}

class Wpt_Order
{
    private $d;

    public function __construct(array $d)
    {
        $this->d = $d;
    }

    public function get_items()
    {
        return array_map(function ($i) {
            return new Wpt_Order_Item($i);
        }, $this->d['items']);
    }

    public function get_currency()
    {
        return $this->d['currency'];
    }

    public function get_customer_id()
    {
        return $this->d['customer_id'];
    }

    public function get_billing_email()
    {
        return $this->d['email'];
    }

    public function get_id()
    {
        return $this->d['id'] ?? 0;
    }

    public function get_billing_first_name()
    {
        return $this->d['first_name'] ?? '';
    }

    public function get_billing_country()
    {
        return $this->d['country'] ?? '';
    }

    public function get_order_number()
    {
        return (string) ($this->d['id'] ?? 0);
    }

    public function get_status()
    {
        return $this->d['status'] ?? 'completed';
    }

    public function get_date_completed()
    {
        return isset($this->d['completed']) ? new DateTimeImmutable('@' . $this->d['completed']) : null;
    }

    public function get_total()
    {
        return $this->d['total'];
    }
}

function wc_get_order($id)
{
    return $GLOBALS['wpt']['orders'][$id] ?? false;
}

function get_woocommerce_currency()
{
    return 'EUR';
}

function wc_get_price_decimals()
{
    return 2;
}

function wc_get_price_excluding_tax($product)
{
    return $product->get_price();
}

function wc_add_notice($message, $type = 'success')
{
    $GLOBALS['wpt']['wc_notices'][] = array($type, (string) $message);
}

function wc_get_cart_url()
{
    return 'https://shop.test/cart/';
}

function wc_get_account_endpoint_url($endpoint)
{
    return 'https://shop.test/my-account/' . $endpoint . '/';
}

function wc_format_coupon_code($code)
{
    return strtolower(trim(html_entity_decode((string) $code)));
}

/**
 * WooCommerce's template lookup: yourtheme/<template_path><name>, then
 * <default_path><name> (wc_locate_template), with $args extracted.
 */
function wc_get_template($template_name, $args = array(), $template_path = '', $default_path = '')
{
    $located = '';
    if ($GLOBALS['wpt']['theme_dir'] !== null) {
        $candidate = $GLOBALS['wpt']['theme_dir'] . '/' . $template_path . $template_name;
        if (file_exists($candidate)) {
            $located = $candidate;
        }
    }
    if ($located === '') {
        $located = $default_path . $template_name;
    }
    $GLOBALS['wpt']['templates'][] = $located;
    extract($args); // phpcs:ignore
    include $located;
}

class WC_Settings_Page
{
    protected $id = '';
    protected $label = '';

    public function __construct()
    {
        add_filter('woocommerce_settings_tabs_array', array($this, 'add_settings_page'), 20);
        add_action('woocommerce_settings_save_' . $this->id, array($this, 'save'));
    }

    public function add_settings_page($pages)
    {
        $pages[$this->id] = $this->label;
        return $pages;
    }

    public function get_id()
    {
        return $this->id;
    }

    public function get_label()
    {
        return $this->label;
    }

    public function get_settings()
    {
        return apply_filters('woocommerce_get_settings_' . $this->id, $this->get_settings_for_default_section(), '');
    }

    public function save()
    {
    }
}

class WC_Admin_Settings
{
    public static function save_fields($fields, $data = null)
    {
        $data = $data === null ? $_POST : $data;
        foreach ($fields as $f) {
            if (! isset($f['id']) || in_array($f['type'], array('title', 'sectionend'), true)) {
                continue;
            }
            $GLOBALS['wpt']['saved_fields'][] = $f['id'];
            if (isset($data[$f['id']])) {
                update_option($f['id'], sanitize_text_field(wp_unslash($data[$f['id']])), ($f['autoload'] ?? true) ? 'yes' : 'no');
            }
        }
        return true;
    }

    public static function add_error($text)
    {
        $GLOBALS['wpt']['settings_errors'][] = $text;
    }
}

// ---- REST (the webhook receiver) ------------------------------------------

function rest_url($path = '')
{
    return 'https://shop.test/wp-json/' . ltrim((string) $path, '/');
}

function register_rest_route($namespace, $route, $args = array())
{
    $GLOBALS['wpt']['rest_routes'][$namespace . $route] = $args;
    return true;
}

function wp_get_referer()
{
    return false;
}

if (! class_exists('WP_REST_Response')) {
    class WP_REST_Response
    {
        public $data;
        public $status;

        public function __construct($data = null, $status = 200)
        {
            $this->data   = $data;
            $this->status = $status;
        }
    }
}

require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-options.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-client.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-tokens.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-templates.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-connect.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-account.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-preview.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-returns.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-order-box.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-plugin.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-settings.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-survey.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-review-requests.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-webhooks.php';
if (! defined('AFTERSALE_DIR')) {
    define('AFTERSALE_DIR', AFTERSALE_TEST_PLUGIN . '/');
}

function wp_generate_uuid4()
{
    $b = random_bytes(16);
    $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
    $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
    return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
}

// Returns and the order box (tests/plugin/ReturnsTest.php, OrderBoxTest.php).
defined('DAY_IN_SECONDS') || define('DAY_IN_SECONDS', 86400);

function sanitize_textarea_field($s)
{
    return trim(strip_tags((string) $s));
}

function esc_textarea($s)
{
    return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
}

function get_locale()
{
    return $GLOBALS['wpt']['locale'] ?? 'en_US';
}

function wp_get_current_user()
{
    $u             = new stdClass();
    $u->ID         = $GLOBALS['wpt']['user_id'];
    $u->user_email = $GLOBALS['wpt']['user_email'] ?? '';
    return $u;
}

function wc_get_page_screen_id($for)
{
    return 'woocommerce_page_wc-orders';
}

function add_meta_box($id, $title, $callback, $screen = null, $context = 'advanced', $priority = 'default')
{
    $GLOBALS['wpt']['meta_boxes'][] = array($id, $title, $screen, $context);
}

function wc_get_page_permalink($page)
{
    return 'https://shop.test/my-account/';
}

function wc_get_endpoint_url($endpoint, $value = '', $permalink = '')
{
    return $permalink . $endpoint . '/' . ($value !== '' ? $value . '/' : '');
}
require_once __DIR__ . '/stubs-admin.php';
