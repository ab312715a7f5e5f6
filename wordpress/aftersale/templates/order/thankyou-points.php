<?php
/**
 * Thank-you page: what the order earns.
 *
 * Override by copying to yourtheme/aftersale/order/thankyou-points.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var int      $points Points the order earns.
 * @var WC_Order $order  The order.
 */

defined('ABSPATH') || exit;
?>
<p class="woocommerce-notice aftersale-earn aftersale-earn--order">
    <?php
    /* translators: %s: number of points */
    echo esc_html(sprintf(_n('This order earns you %s point once it is completed.', 'This order earns you %s points once it is completed.', $points, 'aftersale'), number_format_i18n($points)));
    ?>
</p>
