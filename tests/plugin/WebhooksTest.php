<?php

use PHPUnit\Framework\TestCase;

/**
 * The service's outbound webhooks received by the plugin: registration,
 * Standard Webhooks verification (good, tampered, old timestamp, replayed
 * id, rotated secret), and what the events do.
 */
final class WebhooksTest extends TestCase
{
    /** The Standard Webhooks specification's own example. */
    private const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    private const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    private const SPEC_TS = '1614265330';
    private const SPEC_BODY = '{"test": 2432232314}';
    private const SPEC_SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
    }

    private static function sign(string $secret, string $id, int $ts, string $body): string
    {
        $key = base64_decode(substr($secret, 6));
        return 'v1,' . base64_encode(hash_hmac('sha256', "$id.$ts.$body", $key, true));
    }

    private static function headers(string $id, int $ts, string $sig): array
    {
        return array('webhook-id' => $id, 'webhook-timestamp' => (string) $ts, 'webhook-signature' => $sig);
    }

    public function test_verify_matches_the_specification_example(): void
    {
        $now = (int) self::SPEC_TS;
        $this->assertSame(array(true, ''), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now));
        // Tampered body, id, timestamp or signature.
        $this->assertSame(array(false, 'bad signature'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, '{"test": 2432232315}', $now));
        $this->assertSame(array(false, 'bad signature'), Aftersale_Webhooks::verify(self::SPEC_SECRET, 'msg_other', self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now));
        $this->assertSame(array(false, 'bad signature'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, '1614265331', self::SPEC_SIG, self::SPEC_BODY, $now));
        $this->assertSame(array(false, 'bad signature'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE', self::SPEC_BODY, $now));
        $this->assertSame(array(false, 'bad signature'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', self::SPEC_BODY, $now));
        $this->assertSame(array(false, 'bad signature'), Aftersale_Webhooks::verify('whsec_' . base64_encode('another key'), self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now));
        // Old or future timestamps, whatever the signature.
        $this->assertSame(array(false, 'timestamp outside the tolerance'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now + 301));
        $this->assertSame(array(false, 'timestamp outside the tolerance'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now - 301));
        $this->assertTrue(Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now + 300)[0]);
        // Missing headers, no secret.
        $this->assertSame(array(false, 'missing webhook headers'), Aftersale_Webhooks::verify(self::SPEC_SECRET, '', self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now));
        $this->assertSame(array(false, 'missing webhook headers'), Aftersale_Webhooks::verify(self::SPEC_SECRET, self::SPEC_ID, 'soon', self::SPEC_SIG, self::SPEC_BODY, $now));
        $this->assertSame(array(false, 'no usable secret'), Aftersale_Webhooks::verify('', self::SPEC_ID, self::SPEC_TS, self::SPEC_SIG, self::SPEC_BODY, $now));
    }

    public function test_after_a_rotation_either_signature_is_accepted(): void
    {
        $new  = 'whsec_' . base64_encode(random_bytes(24));
        $both = self::sign($new, 'msg_1', 1000, 'x') . ' ' . self::sign(self::SPEC_SECRET, 'msg_1', 1000, 'x');
        $this->assertTrue(Aftersale_Webhooks::verify(self::SPEC_SECRET, 'msg_1', '1000', $both, 'x', 1000)[0]);
        $this->assertTrue(Aftersale_Webhooks::verify($new, 'msg_1', '1000', $both, 'x', 1000)[0]);
    }

    public function test_receive_acts_once_per_webhook_id(): void
    {
        add_option(Aftersale_Webhooks::SECRET, self::SPEC_SECRET, '', 'no');
        $w    = new Aftersale_Webhooks();
        $now  = 1764694800;
        $body = '{"data":{"account_id":12,"balance":140,"delta":25},"timestamp":"2026-12-02T17:00:00Z","type":"loyalty.points_changed"}';
        $sig  = self::sign(self::SPEC_SECRET, 'msg_a', $now, $body);
        $this->assertSame(array(200, array('ok' => true)), $w->receive(self::headers('msg_a', $now, $sig), $body, $now));
        $this->assertSame(1, Aftersale_Webhooks::generation(), 'a loyalty event starts a new preview generation');
        // The same message again (a retry, a replay): acknowledged, not applied twice.
        $this->assertSame(array(200, array('duplicate' => true)), $w->receive(self::headers('msg_a', $now + 5, self::sign(self::SPEC_SECRET, 'msg_a', $now + 5, $body)), $body, $now + 5));
        $this->assertSame(1, Aftersale_Webhooks::generation());
        // Tampered: refused, and not remembered as seen.
        $this->assertSame(401, $w->receive(self::headers('msg_b', $now, $sig), $body, $now)[0]);
        $this->assertSame(401, $w->receive(self::headers('msg_b', $now, self::sign(self::SPEC_SECRET, 'msg_b', $now, $body)), $body . ' ', $now)[0]);
        // Captured and sent again ten minutes later: refused.
        $this->assertSame(array(401, array('error' => 'timestamp outside the tolerance')), $w->receive(self::headers('msg_c', $now, self::sign(self::SPEC_SECRET, 'msg_c', $now, $body)), $body, $now + 600));
        $this->assertSame(1, Aftersale_Webhooks::generation());
    }

    public function test_a_new_return_raises_a_notice_for_merchants_until_dismissed(): void
    {
        add_option(Aftersale_Webhooks::SECRET, self::SPEC_SECRET, '', 'no');
        $w    = new Aftersale_Webhooks();
        $now  = time();
        $body = '{"data":{"return_id":42,"from_state":null,"to_state":"requested","actor":"customer"},"timestamp":"x","type":"return.created"}';
        $this->assertSame(200, $w->receive(self::headers('msg_r', $now, self::sign(self::SPEC_SECRET, 'msg_r', $now, $body)), $body)[0]);
        $this->assertSame(0, Aftersale_Webhooks::generation(), 'a return does not touch the previews');
        ob_start();
        $w->notices();
        $this->assertSame('', (string) ob_get_clean(), 'not for a customer');
        $GLOBALS['wpt']['caps'] = array('manage_woocommerce');
        ob_start();
        $w->notices();
        $html = (string) ob_get_clean();
        $this->assertStringContainsString('Aftersale: a new return request (#42) waits for you.', $html);
        $this->assertStringContainsString('action=aftersale_dismiss_events', $html);
    }

    public function test_registers_once_with_every_event_type_and_keeps_the_secret_private(): void
    {
        wpt_routes(array('POST /v1/webhook-endpoints' => array(201, array('id' => 9, 'url' => 'x', 'secret' => 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0'))));
        $w = new Aftersale_Webhooks();
        $this->assertTrue($w->register_endpoint());
        $this->assertTrue($w->register_endpoint());
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/webhook-endpoints', $req['url']);
        $body = json_decode($req['args']['body'], true);
        $this->assertSame('https://shop.test/wp-json/aftersale/v1/events', $body['url']);
        $this->assertSame(array('*'), $body['event_types']);
        $this->assertSame(9, get_option(Aftersale_Webhooks::ENDPOINT_ID));
        $this->assertSame('whsec_c2VjcmV0c2VjcmV0c2VjcmV0', get_option(Aftersale_Webhooks::SECRET));
        $this->assertSame('no', $GLOBALS['wpt']['autoload'][Aftersale_Webhooks::SECRET]);
    }

    public function test_a_failed_registration_waits_before_trying_again(): void
    {
        $GLOBALS['wpt']['caps'] = array('manage_woocommerce');
        wpt_respond_json(422, array('detail' => 'url: private address', 'field' => 'url'));
        $w = new Aftersale_Webhooks();
        $w->maybe_register();
        $w->maybe_register();
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertSame(0, (int) get_option(Aftersale_Webhooks::ENDPOINT_ID, 0));
        // The settings tab says why, escaped; other screens do not.
        ob_start();
        $w->notices();
        $this->assertSame('', (string) ob_get_clean());
        $_GET['tab'] = 'aftersale';
        ob_start();
        $w->notices();
        $html = (string) ob_get_clean();
        $this->assertStringContainsString("could not register this shop's webhook endpoint: The aftersale service answered 422: url: private address", str_replace('&#039;', "'", $html));
    }

    public function test_previews_are_cached_per_generation(): void
    {
        $GLOBALS['wpt']['cart'] = new Wpt_Cart(array('k' => array('product_id' => 1, 'quantity' => 1, 'line_total' => 10.0)), 'h');
        wpt_respond_json(200, array('points' => 10));
        $p = new Aftersale_Preview();
        $p->cart_preview();
        $p->cart_preview();
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        update_option(Aftersale_Webhooks::GENERATION, 1);
        $p->cart_preview();
        $this->assertCount(2, $GLOBALS['wpt']['requests'], 'a loyalty event: asked again');
    }
}
