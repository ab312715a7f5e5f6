<?php
/**
 * A chart (SVG) and its table, from Aftersale_Chart::model().
 *
 * The svg is role="img", named by its <title> and described by its <desc>;
 * the table beside it holds the same numbers (the text alternative).
 * Colours come from classes (assets/css/admin.css), never style attributes.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var array $chart The model.
 */

defined('ABSPATH') || exit;
$aftersale_id = (string) $chart['id'];
?>
<figure class="aftersale-chart aftersale-chart--<?php echo esc_attr($chart['type']); ?>" id="<?php echo esc_attr($aftersale_id); ?>">
    <figcaption class="aftersale-chart__title" id="<?php echo esc_attr($aftersale_id . '-caption'); ?>"><?php echo esc_html($chart['title']); ?></figcaption>
    <div class="aftersale-chart__body">
    <svg class="aftersale-chart__svg" role="img" aria-labelledby="<?php echo esc_attr($aftersale_id . '-title'); ?>" aria-describedby="<?php echo esc_attr($aftersale_id . '-desc'); ?>" viewBox="<?php echo esc_attr('0 0 ' . (int) $chart['width'] . ' ' . (int) $chart['height']); ?>" xmlns="http://www.w3.org/2000/svg">
        <title id="<?php echo esc_attr($aftersale_id . '-title'); ?>"><?php echo esc_html($chart['title']); ?></title>
        <desc id="<?php echo esc_attr($aftersale_id . '-desc'); ?>">
            <?php
            /* translators: 1: the y axis's label, 2: the x axis's label */
            echo esc_html(sprintf(__('%1$s by %2$s; the table beside the chart has the values.', 'aftersale'), $chart['y_label'], $chart['x_label']));
            ?>
        </desc>
        <g class="aftersale-chart__grid">
            <?php foreach ($chart['y_ticks'] as $aftersale_t) : ?>
                <line x1="<?php echo esc_attr($chart['plot']['x0']); ?>" x2="<?php echo esc_attr($chart['plot']['x1']); ?>" y1="<?php echo esc_attr($aftersale_t['y']); ?>" y2="<?php echo esc_attr($aftersale_t['y']); ?>" stroke="#dcdcde"/>
                <text class="aftersale-chart__tick" x="<?php echo esc_attr($chart['plot']['x0'] - 6); ?>" y="<?php echo esc_attr($aftersale_t['y']); ?>" text-anchor="end" dominant-baseline="middle"><?php echo esc_html($aftersale_t['text']); ?></text>
            <?php endforeach; ?>
            <?php foreach ($chart['x_ticks'] as $aftersale_t) : ?>
                <text class="aftersale-chart__tick" x="<?php echo esc_attr($aftersale_t['x']); ?>" y="<?php echo esc_attr($chart['plot']['y1'] + 16); ?>" text-anchor="middle"><?php echo esc_html($aftersale_t['text']); ?></text>
            <?php endforeach; ?>
        </g>
        <?php foreach ($chart['bands'] as $aftersale_b) : ?>
            <polygon class="aftersale-chart__band aftersale-chart__series-<?php echo esc_attr((string) (int) $aftersale_b['index']); ?>" points="<?php echo esc_attr($aftersale_b['points']); ?>" fill="#2271b1" fill-opacity="0.15"/>
        <?php endforeach; ?>
        <?php foreach ($chart['bars'] as $aftersale_b) : ?>
            <rect class="aftersale-chart__bar aftersale-chart__series-<?php echo esc_attr((string) (int) $aftersale_b['index']); ?>" x="<?php echo esc_attr($aftersale_b['x']); ?>" y="<?php echo esc_attr($aftersale_b['y']); ?>" width="<?php echo esc_attr($aftersale_b['width']); ?>" height="<?php echo esc_attr($aftersale_b['height']); ?>" fill="#2271b1"><title><?php echo esc_html($aftersale_b['label']); ?></title></rect>
        <?php endforeach; ?>
        <?php foreach ($chart['lines'] as $aftersale_l) : ?>
            <g class="aftersale-chart__line aftersale-chart__series-<?php echo esc_attr((string) (int) $aftersale_l['index']); ?>">
                <polyline points="<?php echo esc_attr($aftersale_l['points']); ?>" fill="none" stroke="#2271b1" stroke-width="2"/>
                <?php foreach ($aftersale_l['dots'] as $aftersale_d) : ?>
                    <circle cx="<?php echo esc_attr($aftersale_d['x']); ?>" cy="<?php echo esc_attr($aftersale_d['y']); ?>" r="3" fill="#2271b1"><title><?php echo esc_html($aftersale_d['label']); ?></title></circle>
                <?php endforeach; ?>
            </g>
        <?php endforeach; ?>
        <line class="aftersale-chart__axis" x1="<?php echo esc_attr($chart['plot']['x0']); ?>" x2="<?php echo esc_attr($chart['plot']['x1']); ?>" y1="<?php echo esc_attr($chart['plot']['y1']); ?>" y2="<?php echo esc_attr($chart['plot']['y1']); ?>" stroke="#8c8f94"/>
        <line class="aftersale-chart__axis" x1="<?php echo esc_attr($chart['plot']['x0']); ?>" x2="<?php echo esc_attr($chart['plot']['x0']); ?>" y1="<?php echo esc_attr($chart['plot']['y0']); ?>" y2="<?php echo esc_attr($chart['plot']['y1']); ?>" stroke="#8c8f94"/>
        <text class="aftersale-chart__axis-label" x="<?php echo esc_attr(($chart['plot']['x0'] + $chart['plot']['x1']) / 2); ?>" y="<?php echo esc_attr($chart['height'] - 6); ?>" text-anchor="middle"><?php echo esc_html($chart['x_label']); ?></text>
        <text class="aftersale-chart__axis-label" x="14" y="<?php echo esc_attr(($chart['plot']['y0'] + $chart['plot']['y1']) / 2); ?>" text-anchor="middle" transform="<?php echo esc_attr('rotate(-90 14 ' . (($chart['plot']['y0'] + $chart['plot']['y1']) / 2) . ')'); ?>"><?php echo esc_html($chart['y_label']); ?></text>
        <?php if ($chart['empty']) : ?>
            <text class="aftersale-chart__empty" x="<?php echo esc_attr(($chart['plot']['x0'] + $chart['plot']['x1']) / 2); ?>" y="<?php echo esc_attr(($chart['plot']['y0'] + $chart['plot']['y1']) / 2); ?>" text-anchor="middle"><?php esc_html_e('No data for this period.', 'aftersale'); ?></text>
        <?php endif; ?>
    </svg>
    <?php if (count($chart['legend']) > 1) : ?>
        <ul class="aftersale-chart__legend">
            <?php foreach ($chart['legend'] as $aftersale_g) : ?>
                <li><span class="aftersale-chart__swatch aftersale-chart__series-<?php echo esc_attr((string) (int) $aftersale_g['index']); ?><?php echo esc_attr($aftersale_g['band'] ? ' aftersale-chart__swatch--band' : ''); ?>" aria-hidden="true"></span><?php echo esc_html($aftersale_g['name']); ?></li>
            <?php endforeach; ?>
        </ul>
    <?php endif; ?>
    </div>
    <div class="aftersale-chart__data">
        <table class="widefat striped aftersale-chart__table">
            <caption class="screen-reader-text"><?php echo esc_html($chart['title']); ?></caption>
            <thead>
                <tr>
                    <?php foreach ($chart['table']['head'] as $aftersale_h) : ?>
                        <th scope="col"><?php echo esc_html($aftersale_h); ?></th>
                    <?php endforeach; ?>
                </tr>
            </thead>
            <tbody>
                <?php foreach ($chart['table']['rows'] as $aftersale_row) : ?>
                    <tr>
                        <?php foreach ($aftersale_row as $aftersale_c => $aftersale_cell) : ?>
                            <?php if ($aftersale_c === 0) : ?>
                                <th scope="row"><?php echo esc_html($aftersale_cell); ?></th>
                            <?php else : ?>
                                <td><?php echo esc_html($aftersale_cell); ?></td>
                            <?php endif; ?>
                        <?php endforeach; ?>
                    </tr>
                <?php endforeach; ?>
                <?php if ($chart['table']['rows'] === array()) : ?>
                    <tr><td colspan="<?php echo esc_attr((string) max(1, count($chart['table']['head']))); ?>"><?php esc_html_e('No data for this period.', 'aftersale'); ?></td></tr>
                <?php endif; ?>
            </tbody>
        </table>
    </div>
</figure>
