<?php

use PHPUnit\Framework\TestCase;

/**
 * The server-side SVG charts: every string escaped, the svg named and
 * described for assistive technology, and a table of the same numbers.
 */
final class ChartTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
    }

    private static function doc(string $html): DOMDocument
    {
        $doc = new DOMDocument();
        libxml_use_internal_errors(true);
        $doc->loadHTML('<html><head><meta charset="utf-8"></head><body>' . $html . '</body></html>');
        libxml_clear_errors();
        return $doc;
    }

    public function test_every_string_is_escaped(): void
    {
        $evil = '<script>alert(1)</script>"\'&';
        $html = Aftersale_Chart::html(array(
            'id'         => 'x"><script>',
            'title'      => 'Title ' . $evil,
            'x_label'    => 'X ' . $evil,
            'y_label'    => 'Y ' . $evil,
            'labels'     => array('a' . $evil, 'b'),
            'series'     => array(array('name' => 'S ' . $evil, 'values' => array(1, 2), 'low' => array(0, 1), 'high' => array(2, 3))),
            'band_label' => 'Band ' . $evil,
        ));
        $this->assertStringNotContainsString('<script', $html);
        $this->assertStringContainsString('Title &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#039;&amp;', $html);
        $this->assertStringContainsString('id="aftersale-chart-xscript"', $html);
        $bars = Aftersale_Chart::html(array('id' => 'b', 'type' => 'bar', 'title' => 't', 'labels' => array($evil), 'series' => array(array('name' => $evil, 'values' => array(3)))));
        $this->assertStringNotContainsString('<script', $bars);
    }

    public function test_svg_is_an_image_named_by_its_title_with_a_table_of_the_values(): void
    {
        $html = Aftersale_Chart::html(array(
            'id'         => 'nps',
            'title'      => 'NPS by week',
            'x_label'    => 'Week',
            'y_label'    => 'NPS',
            'labels'     => array('W1', 'W2', 'W3'),
            'series'     => array(array('name' => 'NPS', 'values' => array(10, null, -20.5), 'low' => array(0, null, -40), 'high' => array(20, null, 0))),
            'decimals'   => 1,
            'band_label' => 'Margin',
        ));
        $doc  = self::doc($html);
        $xp   = new DOMXPath($doc);
        $svg  = $xp->query('//svg')->item(0);
        $this->assertSame('img', $svg->getAttribute('role'));
        $title = $doc->getElementById($svg->getAttribute('aria-labelledby'));
        $this->assertNotNull($title);
        $this->assertSame('title', $title->nodeName);
        $this->assertSame('NPS by week', $title->textContent);
        $this->assertNotNull($doc->getElementById($svg->getAttribute('aria-describedby')));
        // Axis labels are in the drawing.
        $texts = array();
        foreach ($xp->query('//svg//text[@class="aftersale-chart__axis-label"]') as $t) {
            $texts[] = $t->textContent;
        }
        $this->assertSame(array('Week', 'NPS'), $texts);
        // The table: a header row and one row per category, with the band.
        $head = array();
        foreach ($xp->query('//table//thead//th') as $th) {
            $head[] = $th->textContent;
        }
        $this->assertSame(array('Week', 'NPS', 'Margin'), $head);
        $rows = array();
        foreach ($xp->query('//table/tbody/tr') as $tr) {
            $cells = array();
            foreach ($tr->childNodes as $c) {
                if ($c instanceof DOMElement) {
                    $cells[] = $c->textContent;
                }
            }
            $rows[] = $cells;
        }
        $this->assertSame(array(array('W1', '10.0', '0.0 – 20.0'), array('W2', '–', '–'), array('W3', '-20.5', '-40.0 – 0.0')), $rows);
        // A missing value breaks the line in two runs of one point each, band too.
        $this->assertSame(2, $xp->query('//svg//polyline')->length);
        $this->assertSame(2, $xp->query('//svg//polygon')->length);
        $this->assertSame(2, $xp->query('//svg//circle')->length);
        // No style attributes and no script (CSP without unsafe-inline).
        $this->assertSame(0, $xp->query('//*[@style]')->length);
        $this->assertSame(0, $xp->query('//script')->length);
    }

    public function test_bars_scale_to_the_values(): void
    {
        $m = Aftersale_Chart::model(array('type' => 'bar', 'title' => 't', 'labels' => array('0', '1', '2'), 'series' => array(array('name' => 'n', 'values' => array(5, 10, 0)))));
        $this->assertCount(3, $m['bars']);
        $this->assertEqualsWithDelta(2 * (float) $m['bars'][0]['height'], (float) $m['bars'][1]['height'], 0.2);
        $this->assertSame('0', $m['bars'][2]['height']);
        // The top bar reaches the top tick at 10, the plot's top.
        $this->assertEqualsWithDelta($m['plot']['y0'], (float) $m['bars'][1]['y'], 0.1);
        $this->assertSame('0', $m['y_ticks'][0]['text']);
        $this->assertSame('10', end($m['y_ticks'])['text']);
    }

    public function test_ticks_are_round_and_cover_the_range(): void
    {
        $this->assertSame(array(-100.0, -50.0, 0.0, 50.0, 100.0), Aftersale_Chart::ticks(-100, 100));
        $t = Aftersale_Chart::ticks(0, 7.3);
        $this->assertSame(0.0, $t[0]);
        $this->assertGreaterThanOrEqual(7.3, end($t));
    }

    public function test_an_empty_chart_says_so_in_the_drawing_and_the_table(): void
    {
        $html = Aftersale_Chart::html(array('id' => 'e', 'title' => 'Empty', 'labels' => array(), 'series' => array()));
        $this->assertSame(2, substr_count($html, 'No data for this period.'));
    }

    public function test_many_categories_write_at_most_eight_x_ticks(): void
    {
        $labels = array();
        for ($i = 1; $i <= 30; $i++) {
            $labels[] = 'D' . $i;
        }
        $m = Aftersale_Chart::model(array('title' => 't', 'labels' => $labels, 'series' => array(array('name' => 'n', 'values' => range(1, 30)))));
        $this->assertLessThanOrEqual(8, count($m['x_ticks']));
        $this->assertSame('D1', $m['x_ticks'][0]['text']);
        $this->assertCount(30, $m['table']['rows']);
    }

    public function test_counts_get_whole_number_ticks_each_written_once(): void
    {
        $m     = Aftersale_Chart::model(array('type' => 'bar', 'title' => 't', 'labels' => array('a', 'b'), 'series' => array(array('name' => 'n', 'values' => array(1, 0)))));
        $texts = array_column($m['y_ticks'], 'text');
        $this->assertSame(array_values(array_unique($texts)), $texts, 'a tick label is repeated');
        $this->assertContains('0', $texts);
        $this->assertContains('1', $texts);
    }

    public function test_a_single_period_band_has_a_width(): void
    {
        $m = Aftersale_Chart::model(array('title' => 't', 'labels' => array('Nov'), 'series' => array(array('name' => 'NPS', 'values' => array(20), 'low' => array(5), 'high' => array(35)))));
        $this->assertCount(1, $m['bands']);
        $xs = array_map(static function ($p) {
            return (float) explode(',', $p)[0];
        }, explode(' ', $m['bands'][0]['points']));
        $this->assertGreaterThan(1.0, max($xs) - min($xs));
    }
}
