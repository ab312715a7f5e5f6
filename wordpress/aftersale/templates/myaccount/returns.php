<?php
/**
 * My Account > Returns: the customer's return requests.
 *
 * Override by copying to yourtheme/aftersale/myaccount/returns.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var array  $returns The customer's requests (ReturnRequest), newest first.
 * @var string $error   Why they are not shown ('' when they are).
 * @var array  $reasons    Reason code => label in the site's language.
 * @var array  $order_urls Order id => its My Account > Orders page.
 * @var string $requested  The return number just requested ('' for none).
 */

defined('ABSPATH') || exit;
?>
<div class="aftersale-returns">
<?php if ($error !== '') : ?>
    <p class="aftersale-returns__unavailable woocommerce-info" role="alert"><?php echo esc_html($error); ?></p>
<?php elseif ($returns === array()) : ?>
    <p class="aftersale-returns__none"><?php esc_html_e('You have not requested any returns.', 'aftersale'); ?></p>
<?php else : ?>
    <?php if ($requested !== '') : ?>
        <div class="woocommerce-message aftersale-returns__requested" role="status">
            <?php
            /* translators: %s: the return number (RMA), e.g. R-1042 */
            echo esc_html(sprintf(__('Your return %s was requested.', 'aftersale'), $requested));
            ?>
        </div>
    <?php endif; ?>
    <?php foreach ($returns as $aftersale_r) : ?>
        <section class="aftersale-return" id="<?php echo esc_attr('aftersale-return-' . (int) $aftersale_r['id']); ?>">
            <h3>
                <?php
                /* translators: 1: the return number, 2: the order number */
                echo esc_html(sprintf(__('Return %1$s, order #%2$s', 'aftersale'), (string) $aftersale_r['rma'], (string) $aftersale_r['order_id']));
                ?>
            </h3>
            <?php if (isset($order_urls[(int) $aftersale_r['order_id']])) : ?>
                <p class="aftersale-return__order"><a href="<?php echo esc_url($order_urls[(int) $aftersale_r['order_id']]); ?>"><?php esc_html_e('View the order', 'aftersale'); ?></a></p>
            <?php endif; ?>
            <p class="aftersale-return__state" data-state="<?php echo esc_attr((string) $aftersale_r['state']); ?>">
                <?php esc_html_e('Status:', 'aftersale'); ?>
                <strong><?php echo esc_html(Aftersale_Returns::state_label((string) $aftersale_r['state'])); ?></strong>
            </p>
            <ul class="aftersale-return__lines">
                <?php foreach ((array) $aftersale_r['lines'] as $aftersale_line) : ?>
                    <li>
                        <?php echo esc_html((int) $aftersale_line['quantity'] . ' × ' . (string) $aftersale_line['name']); ?>
                        (<?php echo esc_html($reasons[(string) $aftersale_line['reason']] ?? (string) $aftersale_line['reason']); ?>)
                        <?php if ((string) ($aftersale_line['note'] ?? '') !== '') : ?>
                            <q class="aftersale-return__note"><?php echo esc_html((string) $aftersale_line['note']); ?></q>
                        <?php endif; ?>
                    </li>
                <?php endforeach; ?>
            </ul>
            <?php if (! empty($aftersale_r['photos'])) : ?>
                <p class="aftersale-return__photos">
                    <?php
                    /* translators: %d: number of photos */
                    echo esc_html(sprintf(_n('%d photo', '%d photos', count($aftersale_r['photos']), 'aftersale'), count($aftersale_r['photos'])));
                    ?>
                </p>
            <?php endif; ?>
            <ol class="aftersale-return__history">
                <?php foreach ((array) $aftersale_r['history'] as $aftersale_event) : ?>
                    <li>
                        <time datetime="<?php echo esc_attr((string) $aftersale_event['at']); ?>"><?php echo esc_html(date_i18n(get_option('date_format'), strtotime((string) $aftersale_event['at']))); ?></time>
                        <?php echo esc_html(Aftersale_Returns::state_label((string) $aftersale_event['to'])); ?>
                    </li>
                <?php endforeach; ?>
            </ol>
        </section>
    <?php endforeach; ?>
<?php endif; ?>
</div>
