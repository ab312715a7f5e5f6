<?php
/**
 * Charts for the admin screens, drawn as SVG on the server.
 *
 * Why SVG from PHP (docs/admin-screens.md has the comparison): no build
 * toolchain and no JavaScript bundle in the plugin, a chart that is there
 * when the page is (no script, no flash of an empty box, works with
 * JavaScript off), nothing inline for a Content-Security-Policy to forbid
 * (no <script>, no style attributes: colours come from assets/css/admin.css
 * classes), and one place where every string is escaped.
 *
 * A chart is categories on the x axis ('labels') and one or more series of
 * values (null for "no value", which breaks a line and draws no bar). A
 * line series may carry a band ('low' and 'high', e.g. NPS's margin of
 * error), drawn behind the line. Every chart has a <title> and a <desc>
 * named by aria-labelledby on an svg of role="img", axis labels, and a
 * table of the same numbers beside it: the text alternative a screen reader
 * reads, and what a person copies.
 *
 * model() is pure (numbers and plain strings, nothing escaped); the
 * template admin/chart.php escapes everything as it prints.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Line and bar charts.
 */
class Aftersale_Chart
{
    public const WIDTH = 640;
    public const HEIGHT = 260;
    /** Plot margins: left (y ticks and label), right, top, bottom (x ticks and label). */
    public const PAD_L = 64;
    public const PAD_R = 16;
    public const PAD_T = 16;
    public const PAD_B = 52;
    /** At most this many x tick labels are written (every k-th). */
    public const MAX_X_TICKS = 8;

    /**
     * Print a chart and its table.
     *
     * @param array $args See model().
     */
    public static function render(array $args): void
    {
        Aftersale_Templates::render('admin/chart.php', array('chart' => self::model($args)));
    }

    /**
     * A chart and its table as HTML.
     *
     * @param array $args See model().
     */
    public static function html(array $args): string
    {
        return Aftersale_Templates::html('admin/chart.php', array('chart' => self::model($args)));
    }

    /**
     * The geometry and the table of a chart.
     *
     * @param array $args {
     *     @type string   $id       Unique in the page; used for the aria ids.
     *     @type string   $type     'line' (default) or 'bar'.
     *     @type string   $title    Title (required).
     *     @type string   $x_label  The x axis's label.
     *     @type string   $y_label  The y axis's label.
     *     @type string[] $labels   The categories, in order.
     *     @type array    $series   [{name, values[], low[]?, high[]?}].
     *     @type float    $y_min    Optional bottom of the y axis.
     *     @type float    $y_max    Optional top of the y axis.
     *     @type int      $decimals Decimals of the values (default 0).
     *     @type callable $format   Optional float => string for values and ticks.
     *     @type string   $band_label Column title of a band in the table.
     * }
     * @return array
     */
    public static function model(array $args): array
    {
        $id       = preg_replace('/[^a-z0-9_-]/', '', strtolower((string) ($args['id'] ?? 'chart')));
        $id       = 'aftersale-chart-' . ($id !== '' ? $id : 'chart');
        $type     = ($args['type'] ?? 'line') === 'bar' ? 'bar' : 'line';
        $labels   = array_values(array_map('strval', (array) ($args['labels'] ?? array())));
        $n        = count($labels);
        $decimals = max(0, (int) ($args['decimals'] ?? 0));
        $format   = isset($args['format']) && is_callable($args['format'])
            ? $args['format']
            : static function ($v) use ($decimals) {
                return number_format_i18n((float) $v, $decimals);
            };
        $series = array();
        foreach ((array) ($args['series'] ?? array()) as $s) {
            $series[] = array(
                'name'   => (string) ($s['name'] ?? ''),
                'values' => self::column($s['values'] ?? array(), $n),
                'low'    => isset($s['low']) ? self::column($s['low'], $n) : null,
                'high'   => isset($s['high']) ? self::column($s['high'], $n) : null,
            );
        }

        list($lo, $hi) = self::extent($series, $args);
        // Whole numbers (counts) never get fractional ticks, which the
        // format would print as repeated labels (1, 1, 1, 0, 0, 0).
        $ticks         = self::ticks($lo, $hi, $decimals === 0 ? 1.0 : 0.0);
        $lo            = $ticks[0];
        $hi            = $ticks[count($ticks) - 1];
        $plot_w        = self::WIDTH - self::PAD_L - self::PAD_R;
        $plot_h        = self::HEIGHT - self::PAD_T - self::PAD_B;
        $y             = static function ($v) use ($lo, $hi, $plot_h) {
            return self::PAD_T + ($hi - $v) / ($hi - $lo) * $plot_h;
        };
        $x_center      = static function (int $i) use ($n, $plot_w, $type) {
            if ($type === 'bar') {
                return self::PAD_L + ($i + 0.5) * $plot_w / max(1, $n);
            }
            return self::PAD_L + ($n <= 1 ? $plot_w / 2 : $i * $plot_w / ($n - 1));
        };

        $model = array(
            'id'       => $id,
            'type'     => $type,
            'title'    => (string) ($args['title'] ?? ''),
            'x_label'  => (string) ($args['x_label'] ?? ''),
            'y_label'  => (string) ($args['y_label'] ?? ''),
            'width'    => self::WIDTH,
            'height'   => self::HEIGHT,
            'plot'     => array('x0' => self::PAD_L, 'x1' => self::PAD_L + $plot_w, 'y0' => self::PAD_T, 'y1' => self::PAD_T + $plot_h),
            'y_ticks'  => array(),
            'x_ticks'  => array(),
            'bands'    => array(),
            'lines'    => array(),
            'bars'     => array(),
            'legend'   => array(),
            'table'    => array('head' => array(), 'rows' => array()),
            'empty'    => $n === 0,
        );
        foreach ($ticks as $t) {
            $model['y_ticks'][] = array('y' => self::num($y($t)), 'text' => (string) call_user_func($format, $t));
        }
        $every = max(1, (int) ceil($n / self::MAX_X_TICKS));
        for ($i = 0; $i < $n; $i += $every) {
            $model['x_ticks'][] = array('x' => self::num($x_center($i)), 'text' => $labels[$i]);
        }

        $k = max(1, count($series));
        foreach ($series as $j => $s) {
            $model['legend'][] = array('index' => $j, 'name' => $s['name'], 'band' => false);
            if ($type === 'bar') {
                $band_w = $plot_w / max(1, $n);
                $bar_w  = $band_w * 0.7 / $k;
                foreach ($s['values'] as $i => $v) {
                    if ($v === null) {
                        continue;
                    }
                    $top                = $y(max(0.0, $v, $lo));
                    $bottom             = $y(max($lo, min(0.0, $v)));
                    $model['bars'][] = array(
                        'index'  => $j,
                        'x'      => self::num(self::PAD_L + $i * $band_w + $band_w * 0.15 + $j * $bar_w),
                        'y'      => self::num(min($top, $bottom)),
                        'width'  => self::num($bar_w),
                        'height' => self::num(abs($bottom - $top)),
                        'label'  => $labels[$i] . ': ' . call_user_func($format, $v),
                    );
                }
                continue;
            }
            if ($s['low'] !== null && $s['high'] !== null) {
                $model['legend'][] = array('index' => $j, 'name' => (string) ($args['band_label'] ?? ''), 'band' => true);
                foreach (self::runs($s['low'], $s['high']) as $run) {
                    $upper = array();
                    $lower = array();
                    if (count($run) === 1) {
                        // A lone period: the band is a short bar around its
                        // point, not a polygon of no width.
                        $i     = $run[0];
                        $half  = 6.0;
                        $x     = $x_center($i);
                        $model['bands'][] = array(
                            'index'  => $j,
                            'points' => implode(' ', array(
                                self::num($x - $half) . ',' . self::num($y($s['high'][$i])),
                                self::num($x + $half) . ',' . self::num($y($s['high'][$i])),
                                self::num($x + $half) . ',' . self::num($y($s['low'][$i])),
                                self::num($x - $half) . ',' . self::num($y($s['low'][$i])),
                            )),
                        );
                        continue;
                    }
                    foreach ($run as $i) {
                        $upper[] = self::num($x_center($i)) . ',' . self::num($y($s['high'][$i]));
                        array_unshift($lower, self::num($x_center($i)) . ',' . self::num($y($s['low'][$i])));
                    }
                    $model['bands'][] = array('index' => $j, 'points' => implode(' ', array_merge($upper, $lower)));
                }
            }
            foreach (self::runs($s['values'], $s['values']) as $run) {
                $points = array();
                $dots   = array();
                foreach ($run as $i) {
                    $points[] = self::num($x_center($i)) . ',' . self::num($y($s['values'][$i]));
                    $dots[]   = array(
                        'x'     => self::num($x_center($i)),
                        'y'     => self::num($y($s['values'][$i])),
                        'label' => $labels[$i] . ': ' . call_user_func($format, $s['values'][$i]),
                    );
                }
                $model['lines'][] = array('index' => $j, 'points' => implode(' ', $points), 'dots' => $dots);
            }
        }

        // The table: one row per category, one column per series (and its band).
        $model['table']['head'][] = $model['x_label'];
        foreach ($series as $s) {
            $model['table']['head'][] = $s['name'];
            if ($type === 'line' && $s['low'] !== null && $s['high'] !== null) {
                $model['table']['head'][] = (string) ($args['band_label'] ?? '');
            }
        }
        foreach ($labels as $i => $label) {
            $row = array($label);
            foreach ($series as $s) {
                $row[] = $s['values'][$i] === null ? '–' : (string) call_user_func($format, $s['values'][$i]);
                if ($type === 'line' && $s['low'] !== null && $s['high'] !== null) {
                    $row[] = $s['low'][$i] === null || $s['high'][$i] === null
                        ? '–'
                        : call_user_func($format, $s['low'][$i]) . ' – ' . call_user_func($format, $s['high'][$i]);
                }
            }
            $model['table']['rows'][] = $row;
        }
        return $model;
    }

    /**
     * $n values as floats or null (missing, non-numeric).
     *
     * @param mixed $values The series' values.
     * @param int   $n      How many categories.
     * @return array<int, float|null>
     */
    private static function column($values, int $n): array
    {
        $values = array_values((array) $values);
        $out    = array();
        for ($i = 0; $i < $n; $i++) {
            $v       = $values[$i] ?? null;
            $out[$i] = is_numeric($v) && is_finite((float) $v) ? (float) $v : null;
        }
        return $out;
    }

    /**
     * The data's range, with 0 in it, or the caller's bounds.
     *
     * @param array $series The series.
     * @param array $args   The chart's arguments.
     * @return float[] [low, high], low < high.
     */
    private static function extent(array $series, array $args): array
    {
        $all = array(0.0);
        foreach ($series as $s) {
            foreach (array('values', 'low', 'high') as $k) {
                foreach ((array) $s[$k] as $v) {
                    if ($v !== null) {
                        $all[] = $v;
                    }
                }
            }
        }
        $lo = isset($args['y_min']) && is_numeric($args['y_min']) ? (float) $args['y_min'] : min($all);
        $hi = isset($args['y_max']) && is_numeric($args['y_max']) ? (float) $args['y_max'] : max($all);
        if ($hi <= $lo) {
            $hi = $lo + 1;
        }
        return array($lo, $hi);
    }

    /**
     * Round tick values covering [lo, hi]: about five steps of 1, 2 or 5
     * times a power of ten.
     *
     * @param float $lo       Low end.
     * @param float $hi       High end.
     * @param float $min_step The smallest step (1 for counts).
     * @return float[]
     */
    public static function ticks(float $lo, float $hi, float $min_step = 0.0): array
    {
        $raw  = max(($hi - $lo) / 5, $min_step);
        $pow  = pow(10, floor(log10($raw)));
        $step = $pow;
        foreach (array(1, 2, 5, 10) as $m) {
            $step = $m * $pow;
            if ($step >= $raw) {
                break;
            }
        }
        $start = floor($lo / $step + 1e-9) * $step;
        $ticks = array();
        for ($t = $start; $t < $hi + $step - 1e-9 * $step; $t += $step) {
            $ticks[] = round($t, 10);
            if (count($ticks) > 12) {
                break;
            }
        }
        if (count($ticks) < 2) {
            $ticks[] = $start + $step;
        }
        return $ticks;
    }

    /**
     * Runs of consecutive indexes where both columns have a value.
     *
     * @param array $a Column.
     * @param array $b Column.
     * @return int[][]
     */
    private static function runs(array $a, array $b): array
    {
        $runs = array();
        $run  = array();
        foreach ($a as $i => $v) {
            if ($v === null || $b[$i] === null) {
                if ($run !== array()) {
                    $runs[] = $run;
                }
                $run = array();
                continue;
            }
            $run[] = $i;
        }
        if ($run !== array()) {
            $runs[] = $run;
        }
        return $runs;
    }

    /**
     * A coordinate as SVG text (one decimal, locale-independent).
     *
     * @param float $v Coordinate.
     */
    private static function num(float $v): string
    {
        return rtrim(rtrim(sprintf('%.1F', $v), '0'), '.');
    }
}
