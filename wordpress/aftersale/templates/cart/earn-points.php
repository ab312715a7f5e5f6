<?php
/**
 * Cart: what the order will earn.
 *
 * Override by copying to yourtheme/aftersale/cart/earn-points.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var int         $points Points the cart earns.
 * @var string|null $tier   The customer's tier, if any.
 */

defined('ABSPATH') || exit;
?>
<div class="woocommerce-info aftersale-earn">
    <?php
    /* translators: %s: number of points */
    echo esc_html(sprintf(_n('Earn %s point with this order.', 'Earn %s points with this order.', $points, 'aftersale'), number_format_i18n($points)));
    ?>
</div>
