<?php
/**
 * The "Aftersale" box of the order screen in wp-admin.
 *
 * Override by copying to yourtheme/aftersale/admin/order-box.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var int        $order_id The order.
 * @var string     $error    Why nothing is shown ('' when it is).
 * @var array|null $points   The order's ledger entries, null when unreadable.
 * @var array|null $returns  The order's return requests.
 * @var array|null $account  The loyalty account the points are in.
 */

defined('ABSPATH') || exit;
?>
<div class="aftersale-order-box">
<?php if ($error !== '') : ?>
    <p class="aftersale-order-box__error"><?php echo esc_html($error); ?></p>
<?php else : ?>
    <h4><?php esc_html_e('Points', 'aftersale'); ?></h4>
    <?php if ($points === null) : ?>
        <p><?php esc_html_e('The points cannot be read right now.', 'aftersale'); ?></p>
    <?php elseif ($points === array()) : ?>
        <p class="aftersale-order-box__no-points"><?php esc_html_e('No points for this order.', 'aftersale'); ?></p>
    <?php else : ?>
        <ul class="aftersale-order-box__points">
            <?php foreach ($points as $aftersale_entry) : ?>
                <li data-delta="<?php echo esc_attr((string) (int) $aftersale_entry['delta']); ?>">
                    <?php echo esc_html(sprintf('%+d', (int) $aftersale_entry['delta'])); ?>
                    <?php echo esc_html(Aftersale_Account::reason_label((string) $aftersale_entry['reason'])); ?>
                    <small><?php echo esc_html(date_i18n(get_option('date_format'), strtotime((string) $aftersale_entry['created_at']))); ?></small>
                </li>
            <?php endforeach; ?>
        </ul>
        <?php if ($account !== null) : ?>
            <p>
                <?php
                /* translators: 1: account id, 2: its balance */
                echo esc_html(sprintf(__('Account #%1$d, balance %2$s', 'aftersale'), (int) $account['id'], number_format_i18n((int) $account['balance'])));
                ?>
            </p>
        <?php endif; ?>
    <?php endif; ?>

    <h4><?php esc_html_e('Returns', 'aftersale'); ?></h4>
    <?php if ($returns === array()) : ?>
        <p class="aftersale-order-box__no-returns"><?php esc_html_e('No return requests.', 'aftersale'); ?></p>
    <?php else : ?>
        <ul class="aftersale-order-box__returns">
            <?php foreach ((array) $returns as $aftersale_r) : ?>
                <li data-state="<?php echo esc_attr((string) $aftersale_r['state']); ?>">
                    <strong><?php echo esc_html((string) $aftersale_r['rma']); ?></strong>
                    <?php echo esc_html(Aftersale_Returns::state_label((string) $aftersale_r['state'])); ?>
                    <?php
                    /* translators: %d: number of photos */
                    echo esc_html(sprintf(_n('%d photo', '%d photos', count((array) $aftersale_r['photos']), 'aftersale'), count((array) $aftersale_r['photos'])));
                    ?>
                    <ul>
                        <?php foreach ((array) $aftersale_r['lines'] as $aftersale_line) : ?>
                            <li>
                                <?php echo esc_html((int) $aftersale_line['quantity'] . ' × ' . (string) $aftersale_line['name'] . ' (' . (string) $aftersale_line['reason'] . ')'); ?>
                                <?php if ((string) ($aftersale_line['note'] ?? '') !== '') : ?>
                                    <q><?php echo esc_html((string) $aftersale_line['note']); ?></q>
                                <?php endif; ?>
                            </li>
                        <?php endforeach; ?>
                    </ul>
                </li>
            <?php endforeach; ?>
        </ul>
    <?php endif; ?>
    <p class="description"><?php esc_html_e('Review requests are not shown: the service has no look-up by order.', 'aftersale'); ?></p>
<?php endif; ?>
</div>
