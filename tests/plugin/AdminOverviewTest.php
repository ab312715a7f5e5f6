<?php

use PHPUnit\Framework\TestCase;

/**
 * Aftersale > Overview: the period and the previous one, the figures as
 * the service's report routes give them, the links, escaping, and a single
 * clear notice when the service is down.
 */
final class AdminOverviewTest extends TestCase
{
    /** 2026-12-02 10:00 UTC */
    private const NOW = 1796205600;

    protected function setUp(): void
    {
        wpt_reset();
        $GLOBALS['wpt']['user_id'] = 1;
        $GLOBALS['wpt']['caps']    = array('manage_woocommerce');
        $GLOBALS['wpt']['timezone'] = 'Europe/Bratislava';
    }

    public function test_period_last_n_days_and_the_one_before(): void
    {
        $p = Aftersale_Admin_Overview::period(array('range' => '7'), self::NOW);
        $this->assertSame('2026-11-26T00:00:00+01:00', $p['from']->format('c'));
        $this->assertSame('2026-12-03T00:00:00+01:00', $p['to']->format('c'));
        $this->assertSame('2026-11-19T00:00:00+01:00', $p['prev_from']->format('c'));
        $this->assertSame(array(7, 7), array($p['days'], $p['range']));
        $p = Aftersale_Admin_Overview::period(array('range' => '13'), self::NOW);
        $this->assertSame(30, $p['days']);
        $p = Aftersale_Admin_Overview::period(array('from' => '2026-10-01', 'to' => '2026-10-31'), self::NOW);
        $this->assertSame(array(31, 0, ''), array($p['days'], $p['range'], $p['error']));
        $this->assertSame('2026-08-31', $p['prev_from']->format('Y-m-d'));
        foreach (array(array('2026-10-31', '2026-10-01'), array('2026-02-30', '2026-03-01'), array('2020-01-01', '2026-01-01')) as $bad) {
            $p = Aftersale_Admin_Overview::period(array('from' => $bad[0], 'to' => $bad[1]), self::NOW);
            $this->assertSame(30, $p['days']);
            $this->assertNotSame('', $p['error']);
        }
    }

    private function routes(): void
    {
        wpt_routes(array(
            'GET /v1/reviews/stats'     => array(200, array('requests_sent' => 40, 'conversion_rate' => 0.3, 'average_rating' => 4.25)),
            'GET /v1/returns/report'    => array(200, array('return_rate' => 0.05, 'refunded' => '120.50', 'credited' => '0', 'requests' => 2)),
            'GET /v1/loyalty/report'    => array(200, array('issued' => 5300, 'redeemed' => 2000, 'expired' => 150, 'outstanding' => 12400, 'liability' => '124.00', 'currency' => 'EUR')),
            'GET /v1/surveys'           => array(200, array('items' => array(
                array('id' => 3, 'name' => 'Old <script>x</script>', 'status' => 'archived', 'questions' => array(array('kind' => 'nps'))),
                array('id' => 4, 'name' => 'After <b>delivery</b>', 'status' => 'active', 'questions' => array(array('kind' => 'nps'), array('kind' => 'csat'))),
            ), 'next_cursor' => null)),
            'GET /v1/surveys/4/report'  => array(200, array('interval' => 'day', 'totals' => array('nps' => array('score' => 12.5, 'margin_of_error' => 20.0), 'csat' => array('score' => 80.0)),
                'over_time' => array(
                    array('period' => '2026-11-30', 'nps' => array('score' => 10.0, 'margin_of_error' => 30.0), 'csat' => array('score' => 75.0)),
                    array('period' => '2026-12-01', 'nps' => null, 'csat' => null),
                ))),
        ));
    }

    private function card(array $view, string $id): array
    {
        foreach ($view['cards'] as $c) {
            if ($c['id'] === $id) {
                return $c;
            }
        }
        $this->fail("no card $id");
    }

    public function test_figures_are_the_services_with_the_previous_period(): void
    {
        wpt_configure();
        $this->routes();
        $view = (new Aftersale_Admin_Overview())->view(array('range' => '30'), self::NOW);
        $this->assertSame('', $view['error']);
        $expect = array(
            'review-requests'    => array('40', '40', 'aftersale-reviews'),
            'review-conversion'  => array('0.3', '30.0 %', 'aftersale-reviews'),
            'review-rating'      => array('4.25', '4.25', 'aftersale-reviews'),
            'nps'                => array('12.5', '12.5', 'aftersale-surveys'),
            'csat'               => array('80', '80.0', 'aftersale-surveys'),
            'return-rate'        => array('0.05', '5.0 %', 'aftersale-returns'),
            'refunded'           => array('120.50', "120.50\u{a0}€", 'aftersale-returns'),
            'points-issued'      => array('5300', '5,300', 'aftersale-loyalty'),
            'points-redeemed'    => array('2000', '2,000', 'aftersale-loyalty'),
            'points-expired'     => array('150', '150', 'aftersale-loyalty'),
            'points-outstanding' => array('12400', '12,400', 'aftersale-loyalty'),
            'points-liability'   => array('124.00', "124.00\u{a0}€", 'aftersale-loyalty'),
        );
        foreach ($expect as $id => list($raw, $shown, $screen)) {
            $c = $this->card($view, $id);
            $this->assertSame(array($raw, $shown), array($c['raw'], $c['value']), $id);
            $this->assertStringContainsString('page=' . $screen, $c['url'], $id);
        }
        $this->assertStringContainsString('survey=4', $this->card($view, 'nps')['url']);
        // Compared figures say the previous value, '–' when there was none;
        // what is held now is not compared.
        $this->assertSame("0.00\u{a0}€", $this->card($view, 'credited')['previous']);
        $this->assertSame('–', Aftersale_Admin_Overview::format(null, 'rating'));
        $this->assertSame('40', $this->card($view, 'review-requests')['previous']);
        $this->assertNull($this->card($view, 'points-outstanding')['previous']);
        $this->assertNull($this->card($view, 'points-liability')['previous']);
        // Both periods were asked for, as RFC 3339 UTC bounds ([from, to)) of
        // local midnights (the previous one starts in summer time).
        $asked = array();
        foreach ($GLOBALS['wpt']['requests'] as $r) {
            $asked[] = str_replace('https://svc.test', '', $r['url']);
        }
        $this->assertContains('/v1/reviews/stats?from=2026-11-02T23%3A00%3A00Z&to=2026-12-02T23%3A00%3A00Z', $asked);
        $this->assertContains('/v1/reviews/stats?from=2026-10-03T22%3A00%3A00Z&to=2026-11-02T23%3A00%3A00Z', $asked);
        $this->assertContains('/v1/loyalty/report?from=2026-11-02T23%3A00%3A00Z&to=2026-12-02T23%3A00%3A00Z', $asked);
        $this->assertContains('/v1/surveys/4/report?from=2026-11-03&to=2026-12-02&interval=day', $asked);
        $this->assertContains('/v1/surveys/4/report?from=2026-10-04&to=2026-11-02', $asked);
        // The NPS trend carries its margin; a day without answers is a gap.
        $this->assertSame(array('nps-trend', 'csat-trend'), array_column($view['charts'], 'id'));
        $nps = $view['charts'][0]['series'][0];
        $this->assertEquals(array(10, null), $nps['values']);
        $this->assertEquals(array(-20, null), $nps['low']);
        $this->assertEquals(array(40, null), $nps['high']);
    }

    public function test_page_escapes_names_and_draws_the_charts_with_tables(): void
    {
        wpt_configure();
        $this->routes();
        $_GET = array('range' => '7');
        ob_start();
        (new Aftersale_Admin_Overview())->render();
        $html = (string) ob_get_clean();
        $this->assertStringNotContainsString('<b>delivery</b>', $html);
        $this->assertStringContainsString('NPS (After &lt;b&gt;delivery&lt;/b&gt;)', $html);
        $this->assertSame(2, substr_count($html, 'role="img"'));
        $this->assertSame(2, substr_count($html, 'aftersale-chart__table'));
        $this->assertStringContainsString('data-figure="points-liability" data-value="124.00"', $html);
        $this->assertStringContainsString('button is-current', $html);
    }

    public function test_service_down_says_so_once_and_asks_once(): void
    {
        wpt_configure(); // the default responder fails like a dead network
        ob_start();
        (new Aftersale_Admin_Overview())->render();
        $html = (string) ob_get_clean();
        $this->assertCount(1, $GLOBALS['wpt']['requests']);
        $this->assertStringContainsString('The figures cannot be shown: the aftersale service did not answer', $html);
        $this->assertStringNotContainsString('aftersale-card"', $html);
    }

    public function test_not_connected(): void
    {
        $view = (new Aftersale_Admin_Overview())->view(array(), self::NOW);
        $this->assertStringContainsString('not connected', $view['error']);
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }
}
