<?php

use PHPUnit\Framework\TestCase;

/**
 * The thank-you page's survey: what is asked of the service, what is shown
 * (escaped), and failing open.
 */
final class SurveyTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
        wpt_configure();
    }

    /** A survey-link answer of the service. */
    private static function link(array $question, string $status = 'sent'): array
    {
        return array(
            'survey_id' => 3, 'invitation_id' => 11, 'token' => 'tok.en.x',
            'url' => 'https://svc.test/s/tok.en.x', 'question' => $question,
            'invitation' => array('id' => 11, 'status' => $status), 'outcomes' => array(),
        );
    }

    private function html(int $order_id): string
    {
        ob_start();
        (new Aftersale_Survey())->render_thankyou($order_id);
        return (string) ob_get_clean();
    }

    public function test_asks_the_service_for_the_order_and_shows_the_score_form(): void
    {
        wpt_routes(array('POST /v1/orders/51/survey-link' => array(201, self::link(array(
            'id' => 'nps', 'kind' => 'nps', 'required' => true,
            'label' => array('en' => 'Recommend us?', 'de' => 'Empfehlen Sie uns?'),
        )))));
        $html = $this->html(51);
        $req  = $GLOBALS['wpt']['requests'][0];
        $this->assertSame('https://svc.test/v1/orders/51/survey-link', $req['url']);
        $this->assertSame('POST', $req['args']['method']);
        $this->assertSame(array('event' => 'order.placed'), json_decode($req['args']['body'], true));
        $this->assertSame('Bearer ask_testkey0123456789', $req['args']['headers']['Authorization']);
        $this->assertSame(Aftersale_Preview::TIMEOUT, $req['args']['timeout']);
        $this->assertStringContainsString('<form class="aftersale-survey__form" method="post" action="https://svc.test/s/tok.en.x">', $html);
        $this->assertStringContainsString('<input type="hidden" name="q" value="nps" />', $html);
        $this->assertStringContainsString('<legend>Recommend us?</legend>', $html);
        $this->assertSame(11, substr_count($html, 'type="radio" name="v"'));
        $this->assertStringContainsString('value="0"', $html);
        $this->assertStringContainsString('value="10"', $html);
        $this->assertStringNotContainsString('<script', $html);
        $this->assertStringEndsWith('thankyou-survey.php', end($GLOBALS['wpt']['templates']));
    }

    public function test_sends_the_orders_facts_for_an_order_the_service_has_not_seen(): void
    {
        $GLOBALS['wpt']['orders'][50] = new Wpt_Order(array(
            'id' => 50, 'items' => array(array('product_id' => 5, 'quantity' => 3, 'total' => '30'), array('product_id' => 5, 'quantity' => 1, 'total' => '3'), array('product_id' => 0, 'quantity' => 1, 'total' => '1')),
            'currency' => 'EUR', 'customer_id' => 15, 'email' => 'ann@example.com', 'total' => '36.3',
            'first_name' => 'Ann', 'country' => 'SK',
        ));
        wpt_routes(array('POST /v1/orders/50/survey-link' => array(201, self::link(array('id' => 'nps', 'kind' => 'nps', 'label' => array('en' => 'Q'))))));
        $this->assertStringContainsString('<form', $this->html(50));
        $this->assertSame(
            array('event' => 'order.placed', 'order' => array(
                'email' => 'ann@example.com', 'first_name' => 'Ann', 'country' => 'SK',
                'total' => '36.30', 'customer_id' => 15, 'product_ids' => array(5),
            )),
            json_decode($GLOBALS['wpt']['requests'][0]['args']['body'], true)
        );
    }

    public function test_label_in_the_site_language_and_escaped(): void
    {
        $GLOBALS['wpt']['locale'] = 'de_DE';
        wpt_routes(array('POST /v1/orders/52/survey-link' => array(200, self::link(array(
            'id' => 'csat', 'kind' => 'csat',
            'label' => array('en' => 'Happy?', 'de' => 'Zufrieden <b>"jetzt"</b>?'),
        )))));
        $html = $this->html(52);
        $this->assertStringContainsString('<legend>Zufrieden &lt;b&gt;&quot;jetzt&quot;&lt;/b&gt;?</legend>', $html);
        $this->assertSame(5, substr_count($html, 'type="radio" name="v"'));
    }

    public function test_a_question_that_is_not_a_score_is_a_link(): void
    {
        wpt_routes(array('POST /v1/orders/53/survey-link' => array(201, self::link(array(
            'id' => 'src', 'kind' => 'single_choice', 'label' => array('en' => 'Where from?'),
        )))));
        $html = $this->html(53);
        $this->assertStringNotContainsString('<form', $html);
        $this->assertStringContainsString('<a class="button" href="https://svc.test/s/tok.en.x">Answer the survey</a>', $html);
    }

    public function test_answered_says_thank_you(): void
    {
        wpt_routes(array('POST /v1/orders/54/survey-link' => array(200, self::link(array('id' => 'nps', 'kind' => 'nps', 'label' => array('en' => 'Q')), 'answered'))));
        $html = $this->html(54);
        $this->assertStringContainsString('Thank you for your answer.', $html);
        $this->assertStringNotContainsString('<form', $html);
    }

    public function test_no_survey_expired_errors_and_a_dead_service_show_nothing(): void
    {
        $none = array('survey_id' => null, 'invitation_id' => null, 'token' => null, 'url' => null,
                      'question' => null, 'invitation' => null, 'outcomes' => array(array('survey_id' => null, 'outcome' => 'order unknown')));
        wpt_routes(array('POST /v1/orders/55/survey-link' => array(200, $none)));
        $this->assertSame('', $this->html(55));
        wpt_routes(array('POST /v1/orders/56/survey-link' => array(200, self::link(array('id' => 'nps', 'kind' => 'nps', 'label' => array('en' => 'Q')), 'expired'))));
        $this->assertSame('', $this->html(56));
        wpt_respond_json(422, array('detail' => 'bad'));
        $this->assertSame('', $this->html(57));
        $GLOBALS['wpt']['responder'] = function () {
            return new WP_Error('http_request_failed', 'Operation timed out after 2000 milliseconds');
        };
        $this->assertSame('', $this->html(58));
        $n = count($GLOBALS['wpt']['requests']);
        $this->assertSame('', $this->html(59));
        $this->assertCount($n, $GLOBALS['wpt']['requests'], 'marked down: not even tried');
    }

    public function test_not_configured_asks_nothing(): void
    {
        wpt_reset();
        $this->assertSame('', $this->html(60));
        $this->assertCount(0, $GLOBALS['wpt']['requests']);
    }

    public function test_theme_overrides_the_template(): void
    {
        $dir = sys_get_temp_dir() . '/aftersale-theme-' . getmypid();
        @mkdir($dir . '/aftersale', 0777, true);
        file_put_contents($dir . '/aftersale/thankyou-survey.php', '<p>theme <?php echo esc_html($question["id"]); ?></p>');
        $GLOBALS['wpt']['theme_dir'] = $dir;
        wpt_routes(array('POST /v1/orders/61/survey-link' => array(201, self::link(array('id' => 'nps', 'kind' => 'nps', 'label' => array('en' => 'Q'))))));
        $this->assertSame('<p>theme nps</p>', $this->html(61));
        unlink($dir . '/aftersale/thankyou-survey.php');
        rmdir($dir . '/aftersale');
        rmdir($dir);
    }
}
