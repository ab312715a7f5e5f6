<?php

use PHPUnit\Framework\TestCase;

final class TokensTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
    }

    private static function verify(string $jwt, string $secret): bool
    {
        $p   = explode('.', $jwt);
        $sig = rtrim(strtr(base64_encode(hash_hmac('sha256', $p[0] . '.' . $p[1], $secret, true)), '+/', '-_'), '=');
        return count($p) === 3 && hash_equals($sig, $p[2]);
    }

    public function test_mint_is_hs256_with_the_documented_claims(): void
    {
        $jwt = Aftersale_Tokens::mint(7, 's3cret', 'loyalty', 42, '', 300, 1700000000);
        $this->assertTrue(self::verify($jwt, 's3cret'));
        $this->assertFalse(self::verify($jwt, 'other'));
        $head = json_decode(base64_decode(strtr(explode('.', $jwt)[0], '-_', '+/')), true);
        $this->assertSame(array('alg' => 'HS256', 'typ' => 'JWT'), $head);
        $this->assertSame(
            array('aud' => 'shop:7', 'iat' => 1700000000, 'exp' => 1700000300, 'scope' => 'loyalty', 'sub' => '42'),
            wpt_jwt_claims($jwt)
        );
        $this->assertStringNotContainsString('=', $jwt);
        $this->assertStringNotContainsString('+', $jwt);
        $this->assertStringNotContainsString('/', $jwt);
    }

    public function test_the_docs_example_byte_for_byte(): void
    {
        // docs/tokens.md's aftersale_token(), inlined: the plugin must mint the same bytes.
        $now    = 1700000000;
        $claims = array('aud' => 'shop:3', 'iat' => $now, 'exp' => $now + 900, 'scope' => 'loyalty', 'email' => 'ann@example.com');
        $b64    = function ($b) {
            return rtrim(strtr(base64_encode($b), '+/', '-_'), '=');
        };
        $input  = $b64(json_encode(array('alg' => 'HS256', 'typ' => 'JWT'))) . '.' . $b64(json_encode($claims, JSON_UNESCAPED_SLASHES));
        $expect = $input . '.' . $b64(hash_hmac('sha256', $input, 'k', true));
        $this->assertSame($expect, Aftersale_Tokens::mint(3, 'k', 'loyalty', 0, 'ann@example.com', 900, $now));
    }

    public function test_current_user_token_needs_a_user_and_the_secret(): void
    {
        $this->assertNull(Aftersale_Tokens::for_current_user());
        wpt_configure();
        $this->assertNull(Aftersale_Tokens::for_current_user(), 'a visitor gets no token');
        $GLOBALS['wpt']['user_id'] = 15;
        $jwt    = Aftersale_Tokens::for_current_user();
        $claims = wpt_jwt_claims($jwt);
        $this->assertSame('15', $claims['sub']);
        $this->assertSame('shop:7', $claims['aud']);
        $this->assertArrayNotHasKey('email', $claims);
        $this->assertLessThanOrEqual(300, $claims['exp'] - time());
        $this->assertGreaterThan(0, $claims['exp'] - time());
        $this->assertTrue(self::verify($jwt, 'tok-secret-0123456789abcdef'));
    }

    public function test_guest_token_is_email_bound(): void
    {
        wpt_configure();
        $this->assertNull(Aftersale_Tokens::for_guest('not an email'));
        $claims = wpt_jwt_claims(Aftersale_Tokens::for_guest('guest@example.com'));
        $this->assertSame('guest@example.com', $claims['email']);
        $this->assertArrayNotHasKey('sub', $claims);
    }
}
