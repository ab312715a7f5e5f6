<?php
/**
 * Stubs of the wp-admin functions the admin screens call (menus, assets,
 * is_admin), recording in $GLOBALS['wpt'], and the screens' classes.
 * Required by bootstrap.php. A screen of another file adds its own stubs
 * where it needs more.
 */

function esc_attr_e($text, $domain = 'default')
{
    echo esc_attr($text); // phpcs:ignore
}

function is_admin()
{
    return $GLOBALS['wpt']['is_admin'] ?? true;
}

function add_menu_page($page_title, $menu_title, $capability, $menu_slug, $callback = '', $icon_url = '', $position = null)
{
    $GLOBALS['menu'][] = array($menu_title, $capability, $menu_slug, $page_title);
    $GLOBALS['wpt']['pages'][$menu_slug] = array('title' => $page_title, 'capability' => $capability, 'callback' => $callback, 'parent' => null);
    return 'toplevel_page_' . $menu_slug;
}

function add_submenu_page($parent_slug, $page_title, $menu_title, $capability, $menu_slug, $callback = '', $position = null)
{
    $GLOBALS['submenu'][$parent_slug][] = array($menu_title, $capability, $menu_slug, $page_title);
    $GLOBALS['wpt']['pages'][$menu_slug] = array('title' => $page_title, 'capability' => $capability, 'callback' => $callback, 'parent' => $parent_slug);
    return $parent_slug . '_page_' . $menu_slug;
}

function plugins_url($path = '', $plugin = '')
{
    return 'https://shop.test/wp-content/plugins/aftersale/' . ltrim($path, '/');
}

function wp_enqueue_style($handle, $src = '', $deps = array(), $ver = false, $media = 'all')
{
    $GLOBALS['wpt']['styles'][$handle] = $src;
}

function wp_enqueue_script($handle, $src = '', $deps = array(), $ver = false, $in_footer = false)
{
    $GLOBALS['wpt']['scripts'][$handle] = $src;
}

function wp_nonce_field($action = -1, $name = '_wpnonce', $referer = true, $echo = true)
{
    $html = '<input type="hidden" id="' . $name . '" name="' . $name . '" value="' . wp_create_nonce($action) . '" />';
    if ($echo) {
        echo $html; // phpcs:ignore
    }
    return $html;
}

function submit_button($text = null, $type = 'primary', $name = 'submit', $wrap = true, $other = null)
{
    echo '<p class="submit"><input type="submit" name="' . esc_attr($name) . '" class="button button-' . esc_attr($type) . '" value="' . esc_attr($text ?? 'Save Changes') . '" /></p>';
}

function selected($a, $b = true, $echo = true)
{
    $r = ((string) $a === (string) $b) ? ' selected=\'selected\'' : '';
    if ($echo) {
        echo $r; // phpcs:ignore
    }
    return $r;
}

function checked($a, $b = true, $echo = true)
{
    $r = ((string) $a === (string) $b) ? ' checked=\'checked\'' : '';
    if ($echo) {
        echo $r; // phpcs:ignore
    }
    return $r;
}

function get_woocommerce_currency_symbol($currency = '')
{
    return '€';
}

function wc_price($price, $args = array())
{
    return '<span class="woocommerce-Price-amount amount">' . number_format((float) $price, 2) . '&nbsp;€</span>';
}

function current_time($type, $gmt = 0)
{
    return $type === 'timestamp' ? ($GLOBALS['wpt']['now'] ?? time()) : gmdate('Y-m-d H:i:s', $GLOBALS['wpt']['now'] ?? time());
}

function wp_timezone()
{
    return new DateTimeZone($GLOBALS['wpt']['timezone'] ?? 'UTC');
}

function wp_date($format, $timestamp = null, $timezone = null)
{
    return (new DateTimeImmutable('@' . ($timestamp ?? time())))->setTimezone($timezone ?? wp_timezone())->format((string) $format);
}

function wc_get_price_decimal_separator()
{
    return '.';
}

function wc_get_price_thousand_separator()
{
    return ',';
}

function get_woocommerce_price_format()
{
    return '%2$s&nbsp;%1$s';
}

require_once AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-admin-menu.php';
require_once AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-chart.php';
foreach (array('overview', 'loyalty', 'reviews', 'returns', 'surveys') as $aftersale_screen) {
    if (file_exists(AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-admin-' . $aftersale_screen . '.php')) {
        require_once AFTERSALE_TEST_PLUGIN . '/includes/admin/class-aftersale-admin-' . $aftersale_screen . '.php';
    }
}
