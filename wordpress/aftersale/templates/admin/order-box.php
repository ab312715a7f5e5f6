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
 * @var array|null $requests The order's review requests, each with its reviews.
 * @var array|null $responses The order's survey responses (with survey_name).
 * @var array      $links    Where each item links (account, returns[id],
 *                           reviews[id], woo[id], responses[id], requests).
 *
 * A section whose look-up failed is null and left out; $error then says
 * once that the service cannot be reached.
 */

defined('ABSPATH') || exit;
?>
<div class="aftersale-order-box">
<?php if ($error !== '') : ?>
    <p class="aftersale-order-box__error"><?php echo esc_html($error); ?></p>
<?php endif; ?>
<?php if ($points !== null) : ?>
    <h4><?php esc_html_e('Points', 'aftersale'); ?></h4>
    <?php if ($points === array()) : ?>
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
                <a class="aftersale-order-box__account" href="<?php echo esc_url((string) $links['account']); ?>">
                <?php
                /* translators: 1: account id, 2: its balance */
                echo esc_html(sprintf(__('Account #%1$d, balance %2$s', 'aftersale'), (int) $account['id'], number_format_i18n((int) $account['balance'])));
                ?>
                </a>
            </p>
        <?php endif; ?>
    <?php endif; ?>
<?php endif; ?>

<?php if ($requests !== null) : ?>
    <h4><?php esc_html_e('Review request', 'aftersale'); ?></h4>
    <?php if ($requests === array()) : ?>
        <p class="aftersale-order-box__no-request"><?php esc_html_e('No review request for this order.', 'aftersale'); ?></p>
    <?php endif; ?>
    <?php foreach ($requests as $aftersale_rr) : ?>
        <div class="aftersale-order-box__request" data-status="<?php echo esc_attr((string) $aftersale_rr['status']); ?>">
            <p>
                <a href="<?php echo esc_url((string) $links['requests']); ?>"><?php echo esc_html(Aftersale_Order_Box::request_status_label((string) $aftersale_rr['status'])); ?></a>
                <?php if (Aftersale_Order_Box::date($aftersale_rr['sent_at'] ?? null) !== '') : ?>
                    <br><small>
                    <?php
                    /* translators: %s: date */
                    echo esc_html(sprintf(__('Sent %s', 'aftersale'), Aftersale_Order_Box::date($aftersale_rr['sent_at'])));
                    ?>
                    </small>
                <?php endif; ?>
                <?php if (Aftersale_Order_Box::date($aftersale_rr['answered_at'] ?? null) !== '') : ?>
                    <br><small>
                    <?php
                    /* translators: %s: date */
                    echo esc_html(sprintf(__('Answered %s', 'aftersale'), Aftersale_Order_Box::date($aftersale_rr['answered_at'])));
                    ?>
                    </small>
                <?php endif; ?>
            </p>
            <?php if ((array) ($aftersale_rr['reviews'] ?? array()) !== array()) : ?>
                <ul class="aftersale-order-box__reviews">
                    <?php foreach ((array) $aftersale_rr['reviews'] as $aftersale_rv) : ?>
                        <?php
                        $aftersale_stars = max(0, min(5, (int) $aftersale_rv['rating']));
                        $aftersale_rid   = (int) $aftersale_rv['id'];
                        $aftersale_name  = '';
                        foreach ((array) ($aftersale_rr['products'] ?? array()) as $aftersale_p) {
                            if ((int) $aftersale_p['product_id'] === (int) $aftersale_rv['product_id']) {
                                $aftersale_name = (string) $aftersale_p['name'];
                            }
                        }
                        ?>
                        <li data-review="<?php echo esc_attr((string) $aftersale_rid); ?>" data-status="<?php echo esc_attr((string) $aftersale_rv['status']); ?>">
                            <?php /* translators: %d: stars given, 1 to 5 */ ?>
                            <span class="aftersale-stars" aria-label="<?php echo esc_attr(sprintf(__('%d of 5 stars', 'aftersale'), $aftersale_stars)); ?>"><?php echo esc_html(str_repeat('★', $aftersale_stars) . str_repeat('☆', 5 - $aftersale_stars)); ?></span>
                            <?php echo esc_html($aftersale_name); ?>
                            <a href="<?php echo esc_url((string) ($links['reviews'][$aftersale_rid] ?? '')); ?>"><?php echo esc_html(Aftersale_Order_Box::review_status_label((string) $aftersale_rv['status'])); ?></a>
                            <?php if (isset($links['woo'][$aftersale_rid])) : ?>
                                · <a class="aftersale-order-box__woo-review" href="<?php echo esc_url((string) $links['woo'][$aftersale_rid]); ?>"><?php esc_html_e('Open the review', 'aftersale'); ?></a>
                            <?php endif; ?>
                        </li>
                    <?php endforeach; ?>
                </ul>
            <?php endif; ?>
        </div>
    <?php endforeach; ?>
<?php endif; ?>

<?php if ($responses !== null) : ?>
    <h4><?php esc_html_e('Survey responses', 'aftersale'); ?></h4>
    <?php if ($responses === array()) : ?>
        <p class="aftersale-order-box__no-responses"><?php esc_html_e('No survey response for this order.', 'aftersale'); ?></p>
    <?php else : ?>
        <ul class="aftersale-order-box__responses">
            <?php foreach ($responses as $aftersale_sr) : ?>
                <li data-response="<?php echo esc_attr((string) (int) $aftersale_sr['id']); ?>" data-follow-up="<?php echo esc_attr((string) $aftersale_sr['follow_up']); ?>">
                    <a href="<?php echo esc_url((string) ($links['responses'][(int) $aftersale_sr['id']] ?? '')); ?>"><?php echo esc_html((string) ($aftersale_sr['survey_name'] ?? '')); ?></a>:
                    <?php
                    echo esc_html(
                        $aftersale_sr['score'] === null
                            ? __('no score', 'aftersale')
                            /* translators: %d: the response's score */
                            : sprintf(__('score %d', 'aftersale'), (int) $aftersale_sr['score'])
                    );
                    ?>
                    · <?php echo esc_html(Aftersale_Order_Box::follow_up_label((string) $aftersale_sr['follow_up'])); ?>
                    <small><?php echo esc_html(Aftersale_Order_Box::date($aftersale_sr['created_at'] ?? null)); ?></small>
                </li>
            <?php endforeach; ?>
        </ul>
    <?php endif; ?>
<?php endif; ?>

<?php if ($returns !== null) : ?>
    <h4><?php esc_html_e('Returns', 'aftersale'); ?></h4>
    <?php if ($returns === array()) : ?>
        <p class="aftersale-order-box__no-returns"><?php esc_html_e('No return requests.', 'aftersale'); ?></p>
    <?php else : ?>
        <ul class="aftersale-order-box__returns">
            <?php foreach ((array) $returns as $aftersale_r) : ?>
                <li data-state="<?php echo esc_attr((string) $aftersale_r['state']); ?>">
                    <a href="<?php echo esc_url((string) ($links['returns'][(int) $aftersale_r['id']] ?? '')); ?>"><strong><?php echo esc_html((string) $aftersale_r['rma']); ?></strong></a>
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
<?php endif; ?>
</div>
