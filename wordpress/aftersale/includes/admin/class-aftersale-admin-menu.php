<?php
/**
 * The top-level "Aftersale" menu of wp-admin and what its screens share.
 *
 * Submenus (capability manage_woocommerce): aftersale (Overview),
 * aftersale-reviews, aftersale-returns, aftersale-surveys,
 * aftersale-loyalty. Each screen is a class in includes/admin/
 * (class-aftersale-admin-<name>.php, class Aftersale_Admin_<Name>); a
 * screen whose file is not there is not listed (class_exists guard), so
 * the screens can land one by one.
 *
 * A screen class: __construct(?Aftersale_Client $client = null), render()
 * prints the page (the capability is checked here before), and an optional
 * register() hooks its admin-post actions (each checks the capability,
 * then its nonce, and redirects back with Aftersale_Admin_Menu::back()).
 *
 * The menu's count bubble (WordPress's "awaiting-mod") is the number of
 * things waiting for the merchant, from GET /v1/counts, cached for
 * COUNTS_SECONDS in a transient. It fails open: when the service does not
 * answer there is no bubble and wp-admin is not slowed down (the failure is
 * cached too, and a service already known to be down is not asked).
 *
 * The bubble is added to the menu entries after they are registered
 * (as WooCommerce does for its orders count), not put in the menu title:
 * a title with markup would change the page hook names
 * ("aftersale_page_aftersale-loyalty") with every count.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * The menu, the assets, the bubble and flash notices.
 */
class Aftersale_Admin_Menu
{
    public const CAPABILITY = 'manage_woocommerce';
    public const SLUG = 'aftersale';
    public const COUNTS_TRANSIENT = 'aftersale_counts';
    /** Seconds a count (or a failure to get one) is kept. */
    public const COUNTS_SECONDS = 60;
    /** Version of the admin assets (cache busting). */
    public const ASSETS_VERSION = '0.1.0';

    /** @var Aftersale_Client|null */
    private $client;

    /** @var string[] The page hook suffixes of the screens (for the assets). */
    private $hooks = array();

    /** @var array<string, object> Screen objects by slug. */
    private $screens = array();

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    /**
     * The screens: slug => [class, file, menu label, key of /v1/counts].
     *
     * @return array<string, array{0:string,1:string,2:string,3:string}>
     */
    public static function screens(): array
    {
        return array(
            'aftersale'         => array('Aftersale_Admin_Overview', 'class-aftersale-admin-overview.php', __('Overview', 'aftersale'), ''),
            'aftersale-reviews' => array('Aftersale_Admin_Reviews', 'class-aftersale-admin-reviews.php', __('Reviews', 'aftersale'), 'reviews_to_moderate'),
            'aftersale-returns' => array('Aftersale_Admin_Returns', 'class-aftersale-admin-returns.php', __('Returns', 'aftersale'), 'returns_to_handle'),
            'aftersale-surveys' => array('Aftersale_Admin_Surveys', 'class-aftersale-admin-surveys.php', __('Surveys', 'aftersale'), 'detractors_to_contact'),
            'aftersale-loyalty' => array('Aftersale_Admin_Loyalty', 'class-aftersale-admin-loyalty.php', __('Loyalty', 'aftersale'), ''),
        );
    }

    /**
     * Load the screens' classes that exist and hook everything in.
     */
    public function register(): void
    {
        require_once __DIR__ . '/class-aftersale-chart.php';
        foreach (self::screens() as $slug => $screen) {
            list($class, $file) = $screen;
            if (! class_exists($class) && file_exists(__DIR__ . '/' . $file)) {
                require_once __DIR__ . '/' . $file;
            }
            if (class_exists($class)) {
                $this->screens[$slug] = new $class($this->client);
                if (method_exists($this->screens[$slug], 'register')) {
                    $this->screens[$slug]->register();
                }
            }
        }
        add_action('admin_menu', array($this, 'menu'));
        add_action('admin_menu', array($this, 'bubbles'), 99);
        add_action('admin_enqueue_scripts', array($this, 'assets'));
    }

    private function client(): Aftersale_Client
    {
        if ($this->client === null) {
            $this->client = Aftersale_Client::from_options();
        }
        return $this->client;
    }

    /**
     * The screen object of a slug, or null (tests, and the screens' links).
     *
     * @param string $slug Submenu slug.
     * @return object|null
     */
    public function screen(string $slug)
    {
        return $this->screens[$slug] ?? null;
    }

    /**
     * The URL of a screen, raw (escape it where it is printed).
     *
     * @param string $slug Submenu slug.
     * @param array  $args Extra query arguments.
     */
    public static function url(string $slug, array $args = array()): string
    {
        return add_query_arg(array_merge(array('page' => $slug), $args), admin_url('admin.php'));
    }

    public function menu(): void
    {
        $overview     = $this->screens['aftersale'] ?? null;
        $this->hooks[] = (string) add_menu_page(
            __('Aftersale', 'aftersale'),
            __('Aftersale', 'aftersale'),
            self::CAPABILITY,
            self::SLUG,
            $overview !== null ? array($this, 'render_aftersale') : '__return_null',
            'dashicons-awards',
            56
        );
        foreach (self::screens() as $slug => $screen) {
            if (! isset($this->screens[$slug])) {
                continue;
            }
            $this->hooks[] = (string) add_submenu_page(
                self::SLUG,
                $screen[2] . ' ‹ ' . __('Aftersale', 'aftersale'),
                $screen[2],
                self::CAPABILITY,
                $slug,
                array($this, 'render_' . str_replace('-', '_', $slug))
            );
        }
    }

    /**
     * Print a screen: capability first, then the screen's own render().
     *
     * @param string $slug Submenu slug.
     */
    public function render_screen(string $slug): void
    {
        if (! current_user_can(self::CAPABILITY)) {
            wp_die(esc_html__('You are not allowed to manage aftersale.', 'aftersale'), '', array('response' => 403));
        }
        $this->screens[$slug]->render();
    }

    public function render_aftersale(): void
    {
        $this->render_screen('aftersale');
    }

    public function render_aftersale_reviews(): void
    {
        $this->render_screen('aftersale-reviews');
    }

    public function render_aftersale_returns(): void
    {
        $this->render_screen('aftersale-returns');
    }

    public function render_aftersale_surveys(): void
    {
        $this->render_screen('aftersale-surveys');
    }

    public function render_aftersale_loyalty(): void
    {
        $this->render_screen('aftersale-loyalty');
    }

    /**
     * The styles of the screens, only on the screens.
     *
     * @param string $hook_suffix The page's hook suffix.
     */
    public function assets($hook_suffix): void
    {
        if (! in_array((string) $hook_suffix, $this->hooks, true)) {
            return;
        }
        wp_enqueue_style('aftersale-admin', plugins_url('assets/css/admin.css', AFTERSALE_DIR . 'aftersale.php'), array(), self::ASSETS_VERSION);
    }

    /**
     * What waits for the merchant, from GET /v1/counts; null when unknown.
     * Cached COUNTS_SECONDS, failures too (as an empty array).
     *
     * @return array<string,int>|null
     */
    public function counts(): ?array
    {
        $cached = get_transient(self::COUNTS_TRANSIENT);
        if (is_array($cached)) {
            return $cached === array() ? null : $cached;
        }
        if (! Aftersale_Options::configured() || Aftersale_Client::recently_down()) {
            return null;
        }
        $answer = $this->client()->get('/v1/counts');
        $counts = array();
        if (! is_wp_error($answer)) {
            foreach (array('reviews_to_moderate', 'returns_to_handle', 'detractors_to_contact', 'total') as $k) {
                $counts[$k] = max(0, (int) ($answer[$k] ?? 0));
            }
        }
        set_transient(self::COUNTS_TRANSIENT, $counts, self::COUNTS_SECONDS);
        return $counts === array() ? null : $counts;
    }

    /**
     * WordPress's count bubble for a number (the markup of the comments menu).
     *
     * @param int $n The count.
     */
    public static function bubble(int $n): string
    {
        if ($n <= 0) {
            return '';
        }
        return ' <span class="awaiting-mod count-' . esc_attr((string) $n) . '"><span class="pending-count">'
            . esc_html(number_format_i18n($n)) . '</span></span>';
    }

    /**
     * Add the bubbles to the registered menu entries (admin_menu, late).
     */
    public function bubbles(): void
    {
        global $menu, $submenu;
        if (! current_user_can(self::CAPABILITY)) {
            return;
        }
        $counts = $this->counts();
        if ($counts === null) {
            return;
        }
        foreach ((array) $menu as $i => $item) {
            if (isset($item[2]) && $item[2] === self::SLUG) {
                $menu[$i][0] .= self::bubble($counts['total']); // phpcs:ignore WordPress.WP.GlobalVariablesOverride
            }
        }
        $keys = array();
        foreach (self::screens() as $slug => $screen) {
            $keys[$slug] = $screen[3];
        }
        foreach ((array) ($submenu[self::SLUG] ?? array()) as $i => $item) {
            $key = $keys[$item[2] ?? ''] ?? '';
            if ($key !== '') {
                $submenu[self::SLUG][$i][0] .= self::bubble($counts[$key]); // phpcs:ignore WordPress.WP.GlobalVariablesOverride
            }
        }
    }

    /**
     * Redirect back to a screen with a notice for the next page (admin-post
     * handlers end here). The notice is kept per user for a minute, so no
     * message travels in the URL.
     *
     * @param string $slug    Submenu slug.
     * @param string $type    success, error, warning or info.
     * @param string $message The notice's text (plain text).
     * @param array  $args    Extra query arguments of the screen.
     */
    public static function back(string $slug, string $type, string $message, array $args = array()): void
    {
        set_transient('aftersale_flash_' . get_current_user_id(), array($type, $message), 60);
        wp_safe_redirect(self::url($slug, $args));
        exit;
    }

    /**
     * Print (once) the notice back() left for this user.
     */
    public static function print_flash(): void
    {
        $name  = 'aftersale_flash_' . get_current_user_id();
        $flash = get_transient($name);
        if (! is_array($flash) || count($flash) !== 2) {
            return;
        }
        delete_transient($name);
        self::notice((string) $flash[0], (string) $flash[1]);
    }

    /**
     * Print an admin notice.
     *
     * @param string $type    success, error, warning or info.
     * @param string $message Plain text.
     */
    public static function notice(string $type, string $message): void
    {
        $type = in_array($type, array('success', 'error', 'warning', 'info'), true) ? $type : 'info';
        printf('<div class="notice notice-%1$s aftersale-notice"><p>%2$s</p></div>', esc_attr($type), esc_html($message));
    }

    /**
     * Capability first, then the nonce, for an admin-post handler: wp_die()
     * for anything else.
     *
     * @param string $nonce_action The nonce's action.
     */
    public static function guard(string $nonce_action): void
    {
        if (! current_user_can(self::CAPABILITY)) {
            wp_die(esc_html__('You are not allowed to manage aftersale.', 'aftersale'), '', array('response' => 403));
        }
        check_admin_referer($nonce_action);
    }
}
