<?php
/**
 * Templates a theme can override, the way WooCommerce's own are: the plugin
 * looks for yourtheme/aftersale/<name> first and falls back to the
 * plugin's templates/<name>. wc_get_template() with the template path
 * 'aftersale/' and the plugin's templates directory does exactly this (and
 * keeps WooCommerce's wc_get_template filters working).
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Template loading.
 */
class Aftersale_Templates
{
    /** Where a theme puts its overrides, relative to the theme. */
    public const THEME_PATH = 'aftersale/';

    /**
     * Print a template.
     *
     * @param string $name Relative name, e.g. myaccount/points.php.
     * @param array  $args Variables the template sees.
     */
    public static function render(string $name, array $args = array()): void
    {
        wc_get_template($name, $args, self::THEME_PATH, AFTERSALE_DIR . 'templates/');
    }

    /**
     * A template's output as a string.
     *
     * @param string $name Relative name.
     * @param array  $args Variables the template sees.
     */
    public static function html(string $name, array $args = array()): string
    {
        ob_start();
        self::render($name, $args);
        return (string) ob_get_clean();
    }
}
