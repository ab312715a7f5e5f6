<?php
/**
 * Customer tokens: short-lived HS256 JWTs signed with the shop's token
 * secret, as docs/tokens.md specifies. They let the server act for one
 * customer on /v1/me/... without ever handing the shop's API key out.
 * Minted here on the server and used here: a token never reaches a
 * browser either.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Minting customer tokens.
 */
class Aftersale_Tokens
{
    /** Lifetime of a token: long enough for one page's calls. */
    public const TTL = 300;

    /**
     * base64url without padding.
     *
     * @param string $bytes Raw bytes.
     */
    public static function b64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }

    /**
     * A token for a customer (by id) or a guest (by email).
     *
     * @param int    $shop_id     The shop's id at the service.
     * @param string $secret      The shop's token_secret, its bytes the HMAC key.
     * @param string $scope       "loyalty".
     * @param int    $customer_id WooCommerce customer id, 0 for none.
     * @param string $email       Email for a guest, '' for none.
     * @param int    $ttl         Seconds.
     * @param int|null $now       The time (tests).
     */
    public static function mint(int $shop_id, string $secret, string $scope, int $customer_id = 0, string $email = '', int $ttl = self::TTL, ?int $now = null): string
    {
        $now    = $now !== null ? $now : time();
        $claims = array(
            'aud'   => 'shop:' . $shop_id,
            'iat'   => $now,
            'exp'   => $now + $ttl,
            'scope' => $scope,
        );
        if ($customer_id > 0) {
            $claims['sub'] = (string) $customer_id;
        }
        if ($email !== '') {
            $claims['email'] = $email;
        }
        $head  = self::b64url((string) json_encode(array('alg' => 'HS256', 'typ' => 'JWT')));
        $body  = self::b64url((string) json_encode($claims, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
        $input = $head . '.' . $body;
        return $input . '.' . self::b64url(hash_hmac('sha256', $input, $secret, true));
    }

    /**
     * The logged-in customer's token, or null for a visitor or when the
     * plugin has no token secret.
     *
     * @param string $scope Token scope.
     */
    public static function for_current_user(string $scope = 'loyalty'): ?string
    {
        $user_id = get_current_user_id();
        if ($user_id <= 0 || Aftersale_Options::token_secret() === '' || Aftersale_Options::shop_id() <= 0) {
            return null;
        }
        return self::mint(Aftersale_Options::shop_id(), Aftersale_Options::token_secret(), $scope, $user_id);
    }

    /**
     * A guest's email-bound token, for the flows that need one (looking an
     * order up for a return), or null when the plugin has no token secret.
     *
     * @param string $email The guest's verified email.
     * @param string $scope Token scope.
     */
    public static function for_guest(string $email, string $scope = 'loyalty'): ?string
    {
        $email = sanitize_email($email);
        if ($email === '' || Aftersale_Options::token_secret() === '' || Aftersale_Options::shop_id() <= 0) {
            return null;
        }
        return self::mint(Aftersale_Options::shop_id(), Aftersale_Options::token_secret(), $scope, 0, $email);
    }
}
