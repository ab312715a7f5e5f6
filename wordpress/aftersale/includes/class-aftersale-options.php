<?php
/**
 * Where the plugin keeps its settings.
 *
 * The service URL and the shop id are ordinary options. The shop's API key
 * and token secret are secrets: stored with autoload off (so they are not
 * loaded on every page and not in the alloptions cache), never printed back
 * in full (mask()), and never sent to a browser: only the server uses them,
 * to call the service and to sign customer tokens.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Option names, reads and writes.
 */
class Aftersale_Options
{
    public const SERVICE_URL = 'aftersale_service_url';
    public const API_KEY = 'aftersale_api_key';
    public const TOKEN_SECRET = 'aftersale_token_secret';
    public const SHOP_ID = 'aftersale_shop_id';
    public const TIMEOUT = 'aftersale_timeout';
    public const WEBHOOKS_JOB = 'aftersale_webhooks_job';
    public const DOWN_TRANSIENT = 'aftersale_service_down';

    /** Default seconds to wait for the service. */
    public const DEFAULT_TIMEOUT = 3;

    /**
     * Every option the plugin writes (uninstall removes them).
     *
     * @return string[]
     */
    public static function all_names(): array
    {
        return array(
            self::SERVICE_URL,
            self::API_KEY,
            self::TOKEN_SECRET,
            self::SHOP_ID,
            self::TIMEOUT,
            self::WEBHOOKS_JOB,
            'aftersale_rewrite_version',
            'aftersale_webhook_endpoint_id',
            'aftersale_webhook_secret',
            'aftersale_cache_generation',
            'aftersale_admin_notices',
        );
    }

    /**
     * The service's base URL without a trailing slash, or ''.
     */
    public static function service_url(): string
    {
        return untrailingslashit((string) get_option(self::SERVICE_URL, ''));
    }

    public static function api_key(): string
    {
        return (string) get_option(self::API_KEY, '');
    }

    public static function token_secret(): string
    {
        return (string) get_option(self::TOKEN_SECRET, '');
    }

    public static function shop_id(): int
    {
        return (int) get_option(self::SHOP_ID, 0);
    }

    /**
     * Seconds to wait for the service: 1 to 10, default 3.
     */
    public static function timeout(): int
    {
        $t = (int) get_option(self::TIMEOUT, self::DEFAULT_TIMEOUT);
        return max(1, min(10, $t > 0 ? $t : self::DEFAULT_TIMEOUT));
    }

    /**
     * Whether the plugin has what it needs to call the service.
     */
    public static function configured(): bool
    {
        return self::service_url() !== '' && self::api_key() !== '';
    }

    /**
     * Store a secret with autoload off. An empty value means "keep the
     * current one" (the settings form never shows the stored secret).
     *
     * @param string $name  Option name (API_KEY or TOKEN_SECRET).
     * @param string $value The new secret.
     */
    public static function set_secret(string $name, string $value): void
    {
        if ($value === '') {
            return;
        }
        // delete + add: update_option() keeps the old autoload flag when the
        // option already exists with the same value, add_option() does not.
        delete_option($name);
        add_option($name, $value, '', 'no');
    }

    /**
     * A secret as the settings screen may show it: its last four
     * characters, or '' when none is stored.
     *
     * @param string $secret The secret.
     */
    public static function mask(string $secret): string
    {
        if ($secret === '') {
            return '';
        }
        $tail = strlen($secret) > 12 ? substr($secret, -4) : '';
        return str_repeat('•', 8) . $tail;
    }
}
