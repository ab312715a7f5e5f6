<?php
/**
 * My Account > Reviews: the orders whose products the customer may still
 * review, each with a link to the review page.
 *
 * Override by copying to yourtheme/aftersale/myaccount/review-requests.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var array  $requests [{order_id, order_number, review_url, expires_at, products: [{product_id, name, reviewed}]}].
 * @var string $error    Why nothing can be shown, or ''.
 */

defined('ABSPATH') || exit;
?>
<div class="aftersale-review-requests">
    <?php if ($error !== '') : ?>
        <div class="woocommerce-info"><?php echo esc_html($error); ?></div>
    <?php elseif ($requests === array()) : ?>
        <p class="aftersale-review-requests__none"><?php esc_html_e('You have no orders waiting for a review.', 'aftersale'); ?></p>
    <?php else : ?>
        <p><?php esc_html_e('Tell other customers what you think of what you bought.', 'aftersale'); ?></p>
        <ul class="aftersale-review-requests__list">
            <?php foreach ($requests as $request) : ?>
                <li class="aftersale-review-request" data-order="<?php echo esc_attr((string) $request['order_id']); ?>">
                    <strong>
                        <?php
                        /* translators: %s: order number */
                        echo esc_html(sprintf(__('Order #%s', 'aftersale'), $request['order_number']));
                        ?>
                    </strong>
                    <ul>
                        <?php foreach ($request['products'] as $product) : ?>
                            <li>
                                <?php echo esc_html((string) ($product['name'] ?? '')); ?>
                                <?php if (! empty($product['reviewed'])) : ?>
                                    <em><?php esc_html_e('(reviewed)', 'aftersale'); ?></em>
                                <?php endif; ?>
                            </li>
                        <?php endforeach; ?>
                    </ul>
                    <?php if ($request['review_url'] !== '') : ?>
                        <a class="button aftersale-review-request__link" href="<?php echo esc_url($request['review_url']); ?>"><?php esc_html_e('Write a review', 'aftersale'); ?></a>
                    <?php endif; ?>
                </li>
            <?php endforeach; ?>
        </ul>
    <?php endif; ?>
</div>
