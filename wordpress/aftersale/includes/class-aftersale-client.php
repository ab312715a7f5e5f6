<?php
/**
 * The one way the plugin talks to the aftersale service.
 *
 * Every call goes through wp_remote_request() with a timeout (the shop's
 * setting, 1 to 10 s), so a slow or dead service costs a page at most that
 * long. Any failure is a WP_Error: 'aftersale_unreachable' for the network
 * (and then the service is marked down for DOWN_SECONDS, during which
 * storefront calls that may fail open do not even try), 'aftersale_http'
 * with the status and the problem's detail for an error answer.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * A small JSON client of the service.
 */
class Aftersale_Client
{
    /** How long a network failure keeps fail-open calls from trying again. */
    public const DOWN_SECONDS = 60;

    /** @var string */
    private $base_url;
    /** @var string */
    private $api_key;
    /** @var int */
    private $timeout;

    /**
     * @param string $base_url The service URL, e.g. https://aftersale.example.
     * @param string $api_key  The shop's API key ('' for customer-token calls only).
     * @param int    $timeout  Seconds.
     */
    public function __construct(string $base_url, string $api_key, int $timeout)
    {
        $this->base_url = untrailingslashit($base_url);
        $this->api_key  = $api_key;
        $this->timeout  = max(1, $timeout);
    }

    /**
     * The client of the configured service.
     */
    public static function from_options(): self
    {
        return new self(Aftersale_Options::service_url(), Aftersale_Options::api_key(), Aftersale_Options::timeout());
    }

    /**
     * Whether a recent network failure says not to try now.
     */
    public static function recently_down(): bool
    {
        return (bool) get_transient(Aftersale_Options::DOWN_TRANSIENT);
    }

    /**
     * Call the service.
     *
     * @param string      $method HTTP method.
     * @param string      $path   Path with its query, e.g. /v1/shop.
     * @param array|null  $body   JSON body, or null for none.
     * @param string|null $token  A customer token instead of the API key.
     * @param int|null    $timeout Seconds, when shorter than the setting.
     * @param array       $headers Extra headers (Idempotency-Key).
     * @param string|null $raw    A raw body instead of JSON (a photo).
     * @return array|WP_Error The decoded JSON answer (an empty array for 204).
     */
    public function request(string $method, string $path, ?array $body = null, ?string $token = null, ?int $timeout = null, array $headers = array(), ?string $raw = null)
    {
        if ($this->base_url === '') {
            return new WP_Error('aftersale_not_configured', __('The aftersale service URL is not set.', 'aftersale'));
        }
        $bearer = $token !== null ? $token : $this->api_key;
        $args   = array(
            'method'      => $method,
            'timeout'     => $timeout !== null ? max(1, min($timeout, $this->timeout)) : $this->timeout,
            'redirection' => 0,
            'headers'     => array_merge(
                $headers,
                array(
                    'Accept'        => 'application/json',
                    'Authorization' => 'Bearer ' . $bearer,
                )
            ),
        );
        if ($raw !== null) {
            // A raw body (a photo), sent as is with the Content-Type in $headers.
            $args['body'] = $raw;
        } elseif ($body !== null) {
            $args['headers']['Content-Type'] = 'application/json';
            $args['body']                    = wp_json_encode((object) $body);
        }
        $response = wp_remote_request($this->base_url . $path, $args);
        if (is_wp_error($response)) {
            set_transient(Aftersale_Options::DOWN_TRANSIENT, time(), self::DOWN_SECONDS);
            return new WP_Error(
                'aftersale_unreachable',
                /* translators: %s: the error WordPress reported */
                sprintf(__('The aftersale service cannot be reached: %s', 'aftersale'), $response->get_error_message())
            );
        }
        delete_transient(Aftersale_Options::DOWN_TRANSIENT);
        $status  = (int) wp_remote_retrieve_response_code($response);
        $text    = (string) wp_remote_retrieve_body($response);
        $decoded = $text === '' ? array() : json_decode($text, true);
        if ($status >= 200 && $status < 300) {
            return is_array($decoded) ? $decoded : array();
        }
        $detail = is_array($decoded) && isset($decoded['detail']) ? (string) $decoded['detail'] : '';
        if ($status >= 500) {
            set_transient(Aftersale_Options::DOWN_TRANSIENT, time(), self::DOWN_SECONDS);
        }
        return new WP_Error(
            'aftersale_http',
            /* translators: 1: HTTP status, 2: the service's explanation */
            sprintf(__('The aftersale service answered %1$d: %2$s', 'aftersale'), $status, $detail),
            array(
                'status' => $status,
                'field'  => is_array($decoded) && isset($decoded['field']) ? (string) $decoded['field'] : '',
            )
        );
    }

    /**
     * GET shortcut.
     *
     * @param string      $path  Path.
     * @param string|null $token Customer token.
     * @return array|WP_Error
     */
    public function get(string $path, ?string $token = null)
    {
        return $this->request('GET', $path, null, $token);
    }

    /**
     * POST shortcut.
     *
     * @param string      $path  Path.
     * @param array       $body  JSON body.
     * @param string|null $token Customer token.
     * @param array       $headers Extra headers.
     * @return array|WP_Error
     */
    public function post(string $path, array $body = array(), ?string $token = null, array $headers = array())
    {
        return $this->request('POST', $path, $body, $token, null, $headers);
    }

    /**
     * GET a body that is not JSON (a photo, a CSV) with the shop key, as is.
     * With $filename, WordPress writes the body there as it arrives
     * (streamed, never whole in memory) and 'body' is ''.
     *
     * @param string      $path     Path with its query.
     * @param string|null $filename Where to stream the body, or null.
     * @return array|WP_Error ['status' => int, 'type' => string, 'body' => string]
     */
    public function get_raw(string $path, ?string $filename = null)
    {
        if ($this->base_url === '') {
            return new WP_Error('aftersale_not_configured', __('The aftersale service URL is not set.', 'aftersale'));
        }
        $args = array(
            'method'      => 'GET',
            'timeout'     => $this->timeout,
            'redirection' => 0,
            'headers'     => array('Authorization' => 'Bearer ' . $this->api_key),
        );
        if ($filename !== null) {
            $args['stream']   = true;
            $args['filename'] = $filename;
        }
        $response = wp_remote_request($this->base_url . $path, $args);
        if (is_wp_error($response)) {
            set_transient(Aftersale_Options::DOWN_TRANSIENT, time(), self::DOWN_SECONDS);
            return new WP_Error(
                'aftersale_unreachable',
                /* translators: %s: the error WordPress reported */
                sprintf(__('The aftersale service cannot be reached: %s', 'aftersale'), $response->get_error_message())
            );
        }
        $status = (int) wp_remote_retrieve_response_code($response);
        if ($status < 200 || $status >= 300) {
            return new WP_Error(
                'aftersale_http',
                /* translators: 1: HTTP status, 2: the service's explanation */
                sprintf(__('The aftersale service answered %1$d: %2$s', 'aftersale'), $status, ''),
                array('status' => $status, 'field' => '')
            );
        }
        return array(
            'status' => $status,
            'type'   => (string) wp_remote_retrieve_header($response, 'content-type'),
            'body'   => $filename !== null ? '' : (string) wp_remote_retrieve_body($response),
        );
    }

    /**
     * POST a raw body (an image) with its Content-Type.
     *
     * @param string      $path         Path.
     * @param string      $bytes        The body.
     * @param string      $content_type Its media type.
     * @param string|null $token        Customer token.
     * @return array|WP_Error
     */
    public function post_raw(string $path, string $bytes, string $content_type, ?string $token = null)
    {
        return $this->request('POST', $path, null, $token, null, array('Content-Type' => $content_type), $bytes);
    }
}
