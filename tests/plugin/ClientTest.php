<?php

use PHPUnit\Framework\TestCase;

final class ClientTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
    }

    public function test_a_call_has_the_key_a_timeout_and_a_json_body(): void
    {
        wpt_respond_json(201, array('ok' => true));
        $answer = Aftersale_Client::from_options()->post('/v1/x', array('a' => 1));
        $this->assertSame(array('ok' => true), $answer);
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/x', $req['url']);
        $this->assertSame('POST', $req['args']['method']);
        $this->assertSame(3, $req['args']['timeout']);
        $this->assertSame('Bearer ask_testkey0123456789', $req['args']['headers']['Authorization']);
        $this->assertSame('application/json', $req['args']['headers']['Content-Type']);
        $this->assertSame('{"a":1}', $req['args']['body']);
        $this->assertSame(0, $req['args']['redirection']);
    }

    public function test_an_empty_body_is_an_object_and_a_token_replaces_the_key(): void
    {
        wpt_respond_json(200, array());
        Aftersale_Client::from_options()->post('/v1/y', array(), 'tok.en.sig');
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('{}', $req['args']['body']);
        $this->assertSame('Bearer tok.en.sig', $req['args']['headers']['Authorization']);
    }

    public function test_timeout_setting_is_bounded_and_a_shorter_one_wins(): void
    {
        update_option('aftersale_timeout', '60');
        wpt_respond_json(200, array());
        $c = Aftersale_Client::from_options();
        $c->get('/a');
        $c->request('GET', '/b', null, null, 2);
        $this->assertSame(10, $GLOBALS['wpt']['requests'][0]['args']['timeout']);
        $this->assertSame(2, $GLOBALS['wpt']['requests'][1]['args']['timeout']);
    }

    public function test_network_failure_is_a_wp_error_and_marks_the_service_down(): void
    {
        $this->assertFalse(Aftersale_Client::recently_down());
        $answer = Aftersale_Client::from_options()->get('/v1/shop');
        $this->assertInstanceOf(WP_Error::class, $answer);
        $this->assertSame('aftersale_unreachable', $answer->get_error_code());
        $this->assertTrue(Aftersale_Client::recently_down());
        wpt_respond_json(200, array('id' => 7));
        Aftersale_Client::from_options()->get('/v1/shop');
        $this->assertFalse(Aftersale_Client::recently_down(), 'an answer clears the mark');
    }

    public function test_an_error_answer_is_a_wp_error_with_status_and_detail(): void
    {
        wpt_respond_json(422, array('type' => '/problems/invalid-field', 'detail' => 'points: too few', 'field' => 'points'));
        $answer = Aftersale_Client::from_options()->post('/v1/me/loyalty/redemptions', array('points' => 1));
        $this->assertSame('aftersale_http', $answer->get_error_code());
        $this->assertSame(array('status' => 422, 'field' => 'points'), $answer->get_error_data());
        $this->assertStringContainsString('points: too few', $answer->get_error_message());
        $this->assertFalse(Aftersale_Client::recently_down(), 'a 4xx is not the service being down');
        wpt_respond_json(503, array('detail' => 'database away'));
        Aftersale_Client::from_options()->get('/v1/shop');
        $this->assertTrue(Aftersale_Client::recently_down());
    }

    public function test_not_configured_makes_no_request(): void
    {
        wpt_reset();
        $answer = Aftersale_Client::from_options()->get('/v1/shop');
        $this->assertSame('aftersale_not_configured', $answer->get_error_code());
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }
}
