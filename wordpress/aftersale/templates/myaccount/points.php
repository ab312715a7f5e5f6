<?php
/**
 * My Account > Points.
 *
 * Override by copying to yourtheme/aftersale/myaccount/points.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var array|null  $account      GET /v1/me/loyalty, or null when unavailable.
 * @var array       $ledger       One page of ledger entries, newest first.
 * @var string|null $next_cursor  Cursor of the next page.
 * @var string      $error        Why the points are not shown ('' when they are).
 * @var array|null  $redemption   The redemption just made.
 * @var string      $redeem_error Why the redemption failed.
 * @var string      $apply_url    Link that applies the redemption's coupon to the cart.
 * @var string      $nonce_field  Name of the nonce field.
 * @var string      $nonce        The redeem form's nonce.
 * @var string      $redeem_key   The form's one-time idempotency key.
 * @var string      $page_url     This page.
 */

defined('ABSPATH') || exit;
?>
<div class="aftersale-points">
<?php if ($error !== '') : ?>
    <p class="aftersale-points__unavailable"><?php echo esc_html($error); ?></p>
<?php else : ?>
    <p class="aftersale-points__balance">
        <?php
        /* translators: %s: number of points */
        echo esc_html(sprintf(_n('You have %s point.', 'You have %s points.', (int) $account['balance'], 'aftersale'), number_format_i18n((int) $account['balance'])));
        ?>
    </p>

    <?php if (! empty($account['tier'])) : ?>
        <p class="aftersale-points__tier">
            <?php
            /* translators: %s: tier name */
            echo esc_html(sprintf(__('Your tier: %s', 'aftersale'), (string) $account['tier']['name']));
            ?>
        </p>
    <?php endif; ?>

    <?php if (! empty($account['next_tier'])) : ?>
        <?php
        $aftersale_next   = $account['next_tier'];
        $aftersale_needed = (int) $aftersale_next['points_needed'];
        $aftersale_pct    = (int) $aftersale_next['threshold'] > 0
            ? (int) floor(100 * (int) $account['lifetime_points'] / (int) $aftersale_next['threshold'])
            : 0;
        ?>
        <p class="aftersale-points__next">
            <?php
            /* translators: 1: number of points, 2: tier name */
            echo esc_html(sprintf(__('%1$s more points to reach %2$s.', 'aftersale'), number_format_i18n($aftersale_needed), (string) $aftersale_next['name']));
            ?>
        </p>
        <progress class="aftersale-points__progress" max="100" value="<?php echo esc_attr((string) min(100, $aftersale_pct)); ?>"></progress>
    <?php endif; ?>

    <?php if (! empty($account['expiring_soon']['points']) && ! empty($account['expiring_soon']['first_expiry'])) : ?>
        <p class="aftersale-points__expiring">
            <?php
            /* translators: 1: number of points, 2: date */
            echo esc_html(sprintf(__('%1$s points expire on %2$s.', 'aftersale'), number_format_i18n((int) $account['expiring_soon']['points']), date_i18n(get_option('date_format'), strtotime((string) $account['expiring_soon']['first_expiry']))));
            ?>
        </p>
    <?php endif; ?>

    <h3><?php esc_html_e('Redeem points', 'aftersale'); ?></h3>
    <?php if (! empty($redemption['code'])) : ?>
        <div class="woocommerce-message aftersale-points__coupon">
            <?php
            /* translators: %s: coupon code */
            echo esc_html(sprintf(__('Your coupon code: %s', 'aftersale'), (string) $redemption['code']));
            ?>
            <a class="button" href="<?php echo esc_url($apply_url); ?>"><?php esc_html_e('Apply to cart', 'aftersale'); ?></a>
        </div>
    <?php endif; ?>
    <?php if ($redeem_error !== '') : ?>
        <div class="woocommerce-error aftersale-points__redeem-error"><?php echo esc_html($redeem_error); ?></div>
    <?php endif; ?>
    <form method="post" class="aftersale-points__redeem" action="<?php echo esc_url($page_url); ?>">
        <label for="aftersale_redeem_points"><?php esc_html_e('Points to redeem', 'aftersale'); ?></label>
        <input type="number" min="1" step="1" name="aftersale_redeem_points" id="aftersale_redeem_points" />
        <input type="hidden" name="<?php echo esc_attr($nonce_field); ?>" value="<?php echo esc_attr($nonce); ?>" />
        <input type="hidden" name="aftersale_redeem_key" value="<?php echo esc_attr($redeem_key); ?>" />
        <button type="submit" class="button"><?php esc_html_e('Redeem', 'aftersale'); ?></button>
    </form>

    <h3><?php esc_html_e('History', 'aftersale'); ?></h3>
    <?php if (empty($ledger)) : ?>
        <p><?php esc_html_e('No points yet.', 'aftersale'); ?></p>
    <?php else : ?>
        <table class="shop_table aftersale-points__ledger">
            <thead>
                <tr>
                    <th><?php esc_html_e('Date', 'aftersale'); ?></th>
                    <th><?php esc_html_e('Points', 'aftersale'); ?></th>
                    <th><?php esc_html_e('Reason', 'aftersale'); ?></th>
                    <th><?php esc_html_e('Balance', 'aftersale'); ?></th>
                </tr>
            </thead>
            <tbody>
            <?php foreach ($ledger as $aftersale_entry) : ?>
                <tr>
                    <td><?php echo esc_html(date_i18n(get_option('date_format'), strtotime((string) $aftersale_entry['created_at']))); ?></td>
                    <td><?php echo esc_html(((int) $aftersale_entry['delta'] > 0 ? '+' : '') . number_format_i18n((int) $aftersale_entry['delta'])); ?></td>
                    <td><?php echo esc_html(Aftersale_Account::reason_label((string) $aftersale_entry['reason'])); ?></td>
                    <td><?php echo esc_html(number_format_i18n((int) $aftersale_entry['balance_after'])); ?></td>
                </tr>
            <?php endforeach; ?>
            </tbody>
        </table>
        <?php if (! empty($next_cursor)) : ?>
            <a class="button aftersale-points__older" href="<?php echo esc_url(add_query_arg('points_cursor', rawurlencode($next_cursor), $page_url)); ?>"><?php esc_html_e('Older entries', 'aftersale'); ?></a>
        <?php endif; ?>
    <?php endif; ?>
<?php endif; ?>
</div>
