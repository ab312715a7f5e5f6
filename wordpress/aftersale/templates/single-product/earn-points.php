<?php
/**
 * Product page: what buying one earns.
 *
 * Override by copying to yourtheme/aftersale/single-product/earn-points.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var int $points Points one of this product earns.
 */

defined('ABSPATH') || exit;
?>
<p class="aftersale-earn aftersale-earn--product">
    <?php
    /* translators: %s: number of points */
    echo esc_html(sprintf(_n('Earn %s point when you buy this.', 'Earn %s points when you buy this.', $points, 'aftersale'), number_format_i18n($points)));
    ?>
</p>
