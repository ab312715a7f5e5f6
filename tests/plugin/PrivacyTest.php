<?php

use PHPUnit\Framework\TestCase;

require_once AFTERSALE_TEST_PLUGIN . '/includes/class-aftersale-privacy.php';

final class PrivacyTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
    }

    private static function export_answer(): array
    {
        return array(
            'customer'  => array('email' => 'ann@example.com', 'customer_id' => null),
            'orders'    => array(
                'orders'             => array(array('order_id' => 11, 'billing_first_name' => 'Ann', 'total' => '30.00', 'deleted' => false)),
                'items'              => array(),
                'refunds'            => array(),
                'webhook_deliveries' => array(array('id' => 3, 'topic' => 'order.updated', 'size' => 812)),
            ),
            'customers' => array(),
            'loyalty'   => array(
                'accounts'    => array(array('id' => 5, 'email' => 'ann@example.com', 'balance' => 120, 'birthday_month' => null)),
                'ledger'      => array(),
                'redemptions' => array(),
                'referrals'   => array(),
            ),
            'reviews'   => array(
                'requests' => array(),
                'reviews'  => array(array('id' => 9, 'rating' => 4, 'body' => 'Lovely mug')),
            ),
            'returns'   => array(
                'requests' => array(),
                'lines'    => array(),
                'photos'   => array(array('id' => 2, 'media_type' => 'image/png', 'size' => 72)),
                'events'   => array(array('id' => 1, 'changes' => array('note' => 'x'))),
                'outbox'   => array(),
            ),
            'events'    => array(),
            'jobs'      => array(),
            'erasures'  => array(),
        );
    }

    public function test_registers_the_exporter_and_the_eraser(): void
    {
        Aftersale_Privacy::init();
        $exporters = apply_filters('wp_privacy_personal_data_exporters', array());
        $erasers   = apply_filters('wp_privacy_personal_data_erasers', array());
        $this->assertArrayHasKey('aftersale', $exporters);
        $this->assertArrayHasKey('aftersale', $erasers);
        $this->assertIsCallable($exporters['aftersale']['callback']);
        $this->assertIsCallable($erasers['aftersale']['callback']);
        $this->assertNotSame('', $exporters['aftersale']['exporter_friendly_name']);
        $this->assertNotSame('', $erasers['aftersale']['eraser_friendly_name']);
    }

    public function test_export_asks_the_service_and_formats_items_for_wordpress(): void
    {
        wpt_routes(array('GET /v1/customers/export' => array(200, self::export_answer())));
        $out = (new Aftersale_Privacy())->export('Ann+x@example.com');
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/customers/export?email=Ann%2Bx%40example.com', $req['url']);
        $this->assertSame('Bearer ask_testkey0123456789', $req['args']['headers']['Authorization']);
        $this->assertTrue($out['done']);
        $by_id = array();
        foreach ($out['data'] as $item) {
            $this->assertSame(array('group_id', 'group_label', 'group_description', 'item_id', 'data'), array_keys($item));
            $by_id[$item['item_id']] = $item;
        }
        $this->assertSame(
            array('aftersale-orders-orders-11', 'aftersale-orders-webhook_deliveries-3', 'aftersale-loyalty-accounts-5',
                'aftersale-reviews-reviews-9', 'aftersale-returns-photos-2', 'aftersale-returns-events-1'),
            array_keys($by_id)
        );
        $order = $by_id['aftersale-orders-orders-11'];
        $this->assertSame('aftersale-orders-orders', $order['group_id']);
        $this->assertSame(
            array(
                array('name' => 'order_id', 'value' => '11'),
                array('name' => 'billing_first_name', 'value' => 'Ann'),
                array('name' => 'total', 'value' => '30.00'),
                array('name' => 'deleted', 'value' => 'false'),
            ),
            $order['data']
        );
        $this->assertContains(array('name' => 'body', 'value' => 'Lovely mug'), $by_id['aftersale-reviews-reviews-9']['data']);
        $this->assertContains(array('name' => 'changes', 'value' => '{"note":"x"}'), $by_id['aftersale-returns-events-1']['data']);
        // null values are left out
        $this->assertNotContains('birthday_month', array_column($by_id['aftersale-loyalty-accounts-5']['data'], 'name'));
    }

    public function test_export_lists_the_outbound_webhook_messages(): void
    {
        $answer = array(
            'customer' => array('email' => 'ann@example.com', 'customer_id' => null),
            'webhooks' => array(
                'events' => array(
                    array(
                        'id'         => 4,
                        'webhook_id' => 'msg_abc',
                        'type'       => 'review.created',
                        'data'       => array('id' => 9, 'reviewer_email' => 'ann@example.com', 'body' => 'Lovely mug'),
                        'deliveries' => array(array('endpoint_id' => 2, 'status' => 'succeeded', 'attempts' => 1)),
                    ),
                ),
            ),
        );
        wpt_routes(array('GET /v1/customers/export' => array(200, $answer)));
        $out = (new Aftersale_Privacy())->export('ann@example.com');
        $this->assertCount(1, $out['data']);
        $item = $out['data'][0];
        $this->assertSame('aftersale-webhooks-events-4', $item['item_id']);
        $this->assertSame('Aftersale: webhooks (events)', $item['group_label']);
        $this->assertContains(array('name' => 'type', 'value' => 'review.created'), $item['data']);
        $this->assertContains(array('name' => 'data', 'value' => '{"id":9,"reviewer_email":"ann@example.com","body":"Lovely mug"}'), $item['data']);
    }

    public function test_export_error_is_shown_not_an_empty_export(): void
    {
        $out = (new Aftersale_Privacy())->export('ann@example.com');
        $this->assertInstanceOf(WP_Error::class, $out);
        $this->assertSame('aftersale_unreachable', $out->get_error_code());
    }

    public function test_a_second_page_or_a_bad_address_asks_nothing(): void
    {
        $p = new Aftersale_Privacy();
        $this->assertSame(array('data' => array(), 'done' => true), $p->export('ann@example.com', 2));
        $this->assertSame(array('data' => array(), 'done' => true), $p->export('not an address'));
        $this->assertFalse($p->erase('nope')['items_removed']);
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }

    public function test_erase_posts_the_email_and_reports_removed_and_retained(): void
    {
        wpt_routes(array('POST /v1/customers/erase' => array(200, array(
            'customer' => array('email' => 'ann@example.com', 'customer_id' => null),
            'erased'   => array('orders' => 2, 'reviews' => 1, 'jobs' => 0),
        ))));
        $out = (new Aftersale_Privacy())->erase('ann@example.com');
        $req = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/customers/erase', $req['url']);
        $this->assertSame('POST', $req['args']['method']);
        $this->assertSame('{"email":"ann@example.com"}', $req['args']['body']);
        $this->assertTrue($out['items_removed']);
        $this->assertTrue($out['items_retained']);
        $this->assertTrue($out['done']);
        $this->assertCount(1, $out['messages']);
    }

    public function test_erasing_again_removes_nothing(): void
    {
        wpt_routes(array('POST /v1/customers/erase' => array(200, array(
            'customer' => array('email' => 'ann@example.com', 'customer_id' => null),
            'erased'   => array('orders' => 0, 'reviews' => 0),
        ))));
        $out = (new Aftersale_Privacy())->erase('ann@example.com');
        $this->assertSame(
            array('items_removed' => false, 'items_retained' => false, 'messages' => array(), 'done' => true),
            $out
        );
    }

    public function test_erase_failure_says_so_and_retains(): void
    {
        wpt_respond_json(503, array('detail' => 'database unavailable'));
        $out = (new Aftersale_Privacy())->erase('ann@example.com');
        $this->assertFalse($out['items_removed']);
        $this->assertTrue($out['items_retained']);
        $this->assertTrue($out['done']);
        $this->assertStringContainsString('503', $out['messages'][0]);
    }
}
