<?php
/**
 * Aftersale > Loyalty: accounts, an account's ledger and adjustment, and
 * the settings form.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var string     $tab      accounts, account or settings.
 * @var string     $error    Why nothing is shown ('' when it is).
 * @var array|null $settings The settings document (settings tab).
 * @var string     $hash     Its hash (the form carries it back).
 * @var string     $email    The email searched.
 * @var array|null $accounts Accounts found (accounts tab).
 * @var array|null $account  The account (account tab).
 * @var array|null $ledger   Its entries, newest first.
 * @var string     $next     The cursor of the next page ('' at the end).
 * @var string     $cursor   The cursor of this page ('' for the first).
 * @var string     $key      The adjustment form's Idempotency-Key.
 * @var string     $currency The shop's currency.
 */

defined('ABSPATH') || exit;
$aftersale_slug = Aftersale_Admin_Loyalty::SLUG;
?>
<div class="wrap aftersale-admin aftersale-loyalty">
    <h1><?php esc_html_e('Loyalty', 'aftersale'); ?></h1>
    <nav class="nav-tab-wrapper">
        <a class="nav-tab<?php echo esc_attr($tab !== 'settings' ? ' nav-tab-active' : ''); ?>" href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug)); ?>"><?php esc_html_e('Accounts', 'aftersale'); ?></a>
        <a class="nav-tab<?php echo esc_attr($tab === 'settings' ? ' nav-tab-active' : ''); ?>" href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug, array('tab' => 'settings'))); ?>"><?php esc_html_e('Settings', 'aftersale'); ?></a>
    </nav>
    <?php Aftersale_Admin_Menu::print_flash(); ?>

    <?php if ($error !== '') : ?>
        <div class="notice notice-error inline aftersale-loyalty__error"><p><?php echo esc_html($error); ?></p></div>
    <?php elseif ($tab === 'accounts') : ?>
        <form class="aftersale-panel" method="get" action="<?php echo esc_url(admin_url('admin.php')); ?>">
            <input type="hidden" name="page" value="<?php echo esc_attr($aftersale_slug); ?>" />
            <label for="aftersale-email"><?php esc_html_e('Customer email', 'aftersale'); ?></label>
            <input type="search" id="aftersale-email" name="email" value="<?php echo esc_attr($email); ?>" class="regular-text" />
            <button type="submit" class="button"><?php esc_html_e('Search accounts', 'aftersale'); ?></button>
        </form>
        <table class="widefat striped aftersale-accounts">
            <thead>
                <tr>
                    <th scope="col"><?php esc_html_e('Account', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Email', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Customer', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Balance', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Lifetime points', 'aftersale'); ?></th>
                </tr>
            </thead>
            <tbody>
                <?php foreach ((array) $accounts as $aftersale_a) : ?>
                    <tr data-account="<?php echo esc_attr((string) (int) $aftersale_a['id']); ?>">
                        <td><a href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug, array('account' => (int) $aftersale_a['id']))); ?>">#<?php echo esc_html((string) (int) $aftersale_a['id']); ?></a></td>
                        <td><?php echo esc_html((string) ($aftersale_a['email'] ?? '')); ?></td>
                        <td><?php echo esc_html(isset($aftersale_a['customer_id']) ? '#' . (int) $aftersale_a['customer_id'] : __('Guest', 'aftersale')); ?></td>
                        <td><?php echo esc_html(number_format_i18n((int) ($aftersale_a['balance'] ?? 0))); ?></td>
                        <td><?php echo esc_html(number_format_i18n((int) ($aftersale_a['lifetime_points'] ?? 0))); ?></td>
                    </tr>
                <?php endforeach; ?>
                <?php if ($accounts === array()) : ?>
                    <tr><td colspan="5"><?php echo esc_html($email !== '' ? __('No account has this email.', 'aftersale') : __('No loyalty account yet.', 'aftersale')); ?></td></tr>
                <?php endif; ?>
            </tbody>
        </table>
        <?php if ($next !== '') : ?>
            <p><a class="button" href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug, array('email' => rawurlencode($email), 'cursor' => rawurlencode($next)))); ?>"><?php esc_html_e('More accounts', 'aftersale'); ?></a></p>
        <?php endif; ?>
    <?php elseif ($tab === 'account') : ?>
        <?php $aftersale_id = (int) $account['id']; ?>
        <h2>
            <?php
            /* translators: 1: account id, 2: email */
            echo esc_html(sprintf(__('Account #%1$d (%2$s)', 'aftersale'), $aftersale_id, (string) ($account['email'] ?? '')));
            ?>
        </h2>
        <p class="aftersale-account__summary">
            <?php
            /* translators: 1: balance, 2: lifetime points */
            echo esc_html(sprintf(__('Balance: %1$s points. Lifetime: %2$s points.', 'aftersale'), number_format_i18n((int) $account['balance']), number_format_i18n((int) ($account['lifetime_points'] ?? 0))));
            ?>
            <?php if (! empty($account['tier']['name'])) : ?>
                <?php
                /* translators: %s: tier name */
                echo esc_html(sprintf(__('Tier: %s.', 'aftersale'), (string) $account['tier']['name']));
                ?>
            <?php endif; ?>
        </p>

        <form class="aftersale-panel aftersale-adjust" method="post" action="<?php echo esc_url(admin_url('admin-post.php')); ?>">
            <h3><?php esc_html_e('Adjust points', 'aftersale'); ?></h3>
            <input type="hidden" name="action" value="aftersale_loyalty_adjust" />
            <input type="hidden" name="account" value="<?php echo esc_attr((string) $aftersale_id); ?>" />
            <input type="hidden" name="aftersale_key" value="<?php echo esc_attr($key); ?>" />
            <?php wp_nonce_field('aftersale_loyalty_adjust_' . $aftersale_id); ?>
            <p>
                <label for="aftersale-points"><?php esc_html_e('Points (negative to take)', 'aftersale'); ?></label><br />
                <input type="number" id="aftersale-points" name="points" step="1" required class="small-text" />
            </p>
            <p>
                <label for="aftersale-note"><?php esc_html_e('Note (required, kept in the ledger)', 'aftersale'); ?></label><br />
                <textarea id="aftersale-note" name="note" rows="2" cols="60" required maxlength="500"></textarea>
            </p>
            <p><button type="submit" class="button button-primary"><?php esc_html_e('Adjust', 'aftersale'); ?></button></p>
        </form>

        <h3><?php esc_html_e('Ledger', 'aftersale'); ?></h3>
        <table class="widefat striped aftersale-ledger">
            <thead>
                <tr>
                    <th scope="col"><?php esc_html_e('Date', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Points', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Reason', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Note', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Order', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('Balance after', 'aftersale'); ?></th>
                    <th scope="col"><?php esc_html_e('By', 'aftersale'); ?></th>
                </tr>
            </thead>
            <tbody>
                <?php foreach ((array) $ledger as $aftersale_e) : ?>
                    <?php $aftersale_delta = (int) $aftersale_e['delta']; ?>
                    <tr data-entry="<?php echo esc_attr((string) (int) $aftersale_e['id']); ?>" data-delta="<?php echo esc_attr((string) $aftersale_delta); ?>">
                        <td><?php echo esc_html(wp_date(get_option('date_format') . ' ' . get_option('time_format'), (int) strtotime((string) $aftersale_e['created_at']))); ?></td>
                        <td class="<?php echo esc_attr($aftersale_delta >= 0 ? 'aftersale-delta--plus' : 'aftersale-delta--minus'); ?>"><?php echo esc_html(sprintf('%+d', $aftersale_delta)); ?></td>
                        <td><?php echo esc_html(Aftersale_Account::reason_label((string) $aftersale_e['reason'])); ?></td>
                        <td class="aftersale-ledger__note"><?php echo esc_html((string) ($aftersale_e['note'] ?? '')); ?></td>
                        <td>
                            <?php if (! empty($aftersale_e['order_id'])) : ?>
                                <?php echo esc_html('#' . (int) $aftersale_e['order_id']); ?>
                            <?php endif; ?>
                        </td>
                        <td><?php echo esc_html(number_format_i18n((int) $aftersale_e['balance_after'])); ?></td>
                        <td><?php echo esc_html((string) ($aftersale_e['actor'] ?? '')); ?></td>
                    </tr>
                <?php endforeach; ?>
                <?php if ($ledger === array()) : ?>
                    <tr><td colspan="7"><?php esc_html_e('No entries.', 'aftersale'); ?></td></tr>
                <?php endif; ?>
            </tbody>
        </table>
        <p>
            <?php if ($cursor !== '') : ?>
                <a class="button" href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug, array('account' => $aftersale_id))); ?>"><?php esc_html_e('Newest entries', 'aftersale'); ?></a>
            <?php endif; ?>
            <?php if ($next !== '') : ?>
                <a class="button aftersale-ledger__older" href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug, array('account' => $aftersale_id, 'cursor' => rawurlencode($next)))); ?>"><?php esc_html_e('Older entries', 'aftersale'); ?></a>
            <?php endif; ?>
        </p>
        <p><a href="<?php echo esc_url(Aftersale_Admin_Menu::url($aftersale_slug)); ?>"><?php esc_html_e('All accounts', 'aftersale'); ?></a></p>
    <?php else : ?>
        <?php
        $aftersale_s      = (array) $settings;
        $aftersale_tiers  = array_values((array) ($aftersale_s['tiers'] ?? array()));
        $aftersale_rates  = (array) ($aftersale_s['currency_rates'] ?? array());
        $aftersale_bnames = array(
            'signup'      => __('Account created', 'aftersale'),
            'review'      => __('Review approved', 'aftersale'),
            'survey'      => __('Survey answered', 'aftersale'),
            'birthday'    => __('Birthday', 'aftersale'),
            'anniversary' => __('Anniversary of the first order', 'aftersale'),
            'referrer'    => __('Referral (the referrer)', 'aftersale'),
            'referee'     => __('Referral (the new customer)', 'aftersale'),
        );
        ?>
        <form class="aftersale-settings" method="post" action="<?php echo esc_url(admin_url('admin-post.php')); ?>">
            <input type="hidden" name="action" value="aftersale_loyalty_settings" />
            <input type="hidden" name="aftersale_hash" value="<?php echo esc_attr($hash); ?>" />
            <?php wp_nonce_field('aftersale_loyalty_settings'); ?>

            <h2><?php esc_html_e('Earning', 'aftersale'); ?></h2>
            <table class="form-table" role="presentation">
                <tr>
                    <th scope="row"><label for="aftersale-ppu"><?php esc_html_e('Points per 1.00 spent', 'aftersale'); ?></label></th>
                    <td><input type="text" id="aftersale-ppu" name="s[points_per_unit]" value="<?php echo esc_attr((string) ($aftersale_s['points_per_unit'] ?? '')); ?>" class="small-text" inputmode="decimal" /></td>
                </tr>
                <tr>
                    <th scope="row"><label for="aftersale-rounding"><?php esc_html_e('Rounding', 'aftersale'); ?></label></th>
                    <td>
                        <select id="aftersale-rounding" name="s[rounding]">
                            <?php foreach (array('down' => __('Down', 'aftersale'), 'half_up' => __('To the nearest', 'aftersale'), 'up' => __('Up', 'aftersale')) as $aftersale_v => $aftersale_l) : ?>
                                <option value="<?php echo esc_attr($aftersale_v); ?>"<?php selected((string) ($aftersale_s['rounding'] ?? ''), $aftersale_v); ?>><?php echo esc_html($aftersale_l); ?></option>
                            <?php endforeach; ?>
                        </select>
                    </td>
                </tr>
                <tr>
                    <th scope="row"><label for="aftersale-basis"><?php esc_html_e('Points are earned on', 'aftersale'); ?></label></th>
                    <td>
                        <select id="aftersale-basis" name="s[earn_basis]">
                            <?php foreach (array('subtotal' => __('The items, after discounts, without tax and shipping', 'aftersale'), 'total' => __('The order total', 'aftersale')) as $aftersale_v => $aftersale_l) : ?>
                                <option value="<?php echo esc_attr($aftersale_v); ?>"<?php selected((string) ($aftersale_s['earn_basis'] ?? ''), $aftersale_v); ?>><?php echo esc_html($aftersale_l); ?></option>
                            <?php endforeach; ?>
                        </select>
                    </td>
                </tr>
                <tr>
                    <th scope="row"><label for="aftersale-status"><?php esc_html_e('Points are earned when the order is', 'aftersale'); ?></label></th>
                    <td>
                        <select id="aftersale-status" name="s[earn_status]">
                            <?php foreach (array('completed' => __('Completed', 'aftersale'), 'processing' => __('Paid (processing)', 'aftersale')) as $aftersale_v => $aftersale_l) : ?>
                                <option value="<?php echo esc_attr($aftersale_v); ?>"<?php selected((string) ($aftersale_s['earn_status'] ?? ''), $aftersale_v); ?>><?php echo esc_html($aftersale_l); ?></option>
                            <?php endforeach; ?>
                        </select>
                    </td>
                </tr>
            </table>

            <h2><?php esc_html_e('Bonuses', 'aftersale'); ?></h2>
            <table class="form-table" role="presentation">
                <?php foreach ($aftersale_bnames as $aftersale_b => $aftersale_l) : ?>
                    <tr>
                        <th scope="row"><label for="<?php echo esc_attr('aftersale-bonus-' . $aftersale_b); ?>"><?php echo esc_html($aftersale_l); ?></label></th>
                        <td><input type="number" min="0" id="<?php echo esc_attr('aftersale-bonus-' . $aftersale_b); ?>" name="<?php echo esc_attr('s[bonuses][' . $aftersale_b . ']'); ?>" value="<?php echo esc_attr((string) ($aftersale_s['bonuses'][$aftersale_b] ?? 0)); ?>" class="small-text" /></td>
                    </tr>
                <?php endforeach; ?>
            </table>

            <h2><?php esc_html_e('Redemption', 'aftersale'); ?></h2>
            <table class="form-table" role="presentation">
                <tr>
                    <th scope="row"><label for="aftersale-rppu"><?php esc_html_e('Points for 1.00 of discount', 'aftersale'); ?></label></th>
                    <td><input type="number" min="1" id="aftersale-rppu" name="s[redemption][points_per_unit]" value="<?php echo esc_attr((string) ($aftersale_s['redemption']['points_per_unit'] ?? '')); ?>" class="small-text" /></td>
                </tr>
                <tr>
                    <th scope="row"><label for="aftersale-min"><?php esc_html_e('Fewest points per redemption', 'aftersale'); ?></label></th>
                    <td><input type="number" min="1" id="aftersale-min" name="s[redemption][min_points]" value="<?php echo esc_attr((string) ($aftersale_s['redemption']['min_points'] ?? '')); ?>" class="small-text" /></td>
                </tr>
                <tr>
                    <th scope="row"><label for="aftersale-max"><?php esc_html_e('Largest discount per coupon', 'aftersale'); ?></label></th>
                    <td>
                        <input type="text" id="aftersale-max" name="s[redemption][max_discount]" value="<?php echo esc_attr((string) ($aftersale_s['redemption']['max_discount'] ?? '')); ?>" class="small-text" inputmode="decimal" />
                        <?php echo esc_html($currency); ?>
                        <p class="description"><?php esc_html_e('Empty for no maximum.', 'aftersale'); ?></p>
                    </td>
                </tr>
                <tr>
                    <th scope="row"><label for="aftersale-validity"><?php esc_html_e('Days a coupon stays valid', 'aftersale'); ?></label></th>
                    <td><input type="number" min="1" id="aftersale-validity" name="s[redemption][coupon_validity_days]" value="<?php echo esc_attr((string) ($aftersale_s['redemption']['coupon_validity_days'] ?? '')); ?>" class="small-text" /></td>
                </tr>
            </table>

            <h2><?php esc_html_e('Expiry', 'aftersale'); ?></h2>
            <table class="form-table" role="presentation">
                <tr>
                    <th scope="row"><label for="aftersale-expiry"><?php esc_html_e('Months before points expire', 'aftersale'); ?></label></th>
                    <td>
                        <input type="number" min="0" id="aftersale-expiry" name="s[expiry_months]" value="<?php echo esc_attr((string) ($aftersale_s['expiry_months'] ?? 0)); ?>" class="small-text" />
                        <p class="description"><?php esc_html_e('0: points never expire.', 'aftersale'); ?></p>
                    </td>
                </tr>
            </table>

            <h2><?php esc_html_e('Tiers', 'aftersale'); ?></h2>
            <p class="description"><?php esc_html_e('By lifetime points. Empty the name of a tier to remove it.', 'aftersale'); ?></p>
            <table class="widefat aftersale-tiers">
                <thead>
                    <tr>
                        <th scope="col"><?php esc_html_e('Name', 'aftersale'); ?></th>
                        <th scope="col"><?php esc_html_e('From lifetime points', 'aftersale'); ?></th>
                        <th scope="col"><?php esc_html_e('Points multiplier', 'aftersale'); ?></th>
                    </tr>
                </thead>
                <tbody>
                    <?php for ($aftersale_i = 0; $aftersale_i < count($aftersale_tiers) + Aftersale_Admin_Loyalty::SPARE_ROWS; $aftersale_i++) : ?>
                        <?php $aftersale_t = $aftersale_tiers[$aftersale_i] ?? array(); ?>
                        <tr>
                            <td><input type="text" aria-label="<?php esc_attr_e('Tier name', 'aftersale'); ?>" name="<?php echo esc_attr('s[tiers][' . $aftersale_i . '][name]'); ?>" value="<?php echo esc_attr((string) ($aftersale_t['name'] ?? '')); ?>" maxlength="64" /></td>
                            <td><input type="number" min="0" aria-label="<?php esc_attr_e('From lifetime points', 'aftersale'); ?>" name="<?php echo esc_attr('s[tiers][' . $aftersale_i . '][threshold]'); ?>" value="<?php echo esc_attr((string) ($aftersale_t['threshold'] ?? '')); ?>" class="small-text" /></td>
                            <td><input type="text" aria-label="<?php esc_attr_e('Points multiplier', 'aftersale'); ?>" name="<?php echo esc_attr('s[tiers][' . $aftersale_i . '][multiplier]'); ?>" value="<?php echo esc_attr((string) ($aftersale_t['multiplier'] ?? '1')); ?>" class="small-text" inputmode="decimal" /></td>
                        </tr>
                    <?php endfor; ?>
                </tbody>
            </table>

            <h2><?php esc_html_e('Other currencies', 'aftersale'); ?></h2>
            <p class="description"><?php esc_html_e('What 1.00 of another currency is worth in the shop\'s; orders in a currency not listed earn nothing. Empty the code to remove a rate.', 'aftersale'); ?></p>
            <table class="widefat aftersale-rates">
                <thead>
                    <tr>
                        <th scope="col"><?php esc_html_e('Currency', 'aftersale'); ?></th>
                        <th scope="col"><?php esc_html_e('Worth', 'aftersale'); ?></th>
                    </tr>
                </thead>
                <tbody>
                    <?php $aftersale_i = 0; ?>
                    <?php foreach (array_merge($aftersale_rates, array_fill(0, Aftersale_Admin_Loyalty::SPARE_ROWS, null)) as $aftersale_code => $aftersale_rate) : ?>
                        <tr>
                            <td><input type="text" aria-label="<?php esc_attr_e('Currency', 'aftersale'); ?>" name="<?php echo esc_attr('s[rates][' . $aftersale_i . '][currency]'); ?>" value="<?php echo esc_attr($aftersale_rate === null ? '' : (string) $aftersale_code); ?>" maxlength="3" class="small-text" /></td>
                            <td><input type="text" aria-label="<?php esc_attr_e('Worth', 'aftersale'); ?>" name="<?php echo esc_attr('s[rates][' . $aftersale_i . '][rate]'); ?>" value="<?php echo esc_attr((string) $aftersale_rate); ?>" class="small-text" inputmode="decimal" /></td>
                        </tr>
                        <?php $aftersale_i++; ?>
                    <?php endforeach; ?>
                </tbody>
            </table>

            <h2><?php esc_html_e('Customer links', 'aftersale'); ?></h2>
            <p>
                <label>
                    <input type="checkbox" name="s[email_tokens_reach_registered]" value="1"<?php checked(! empty($aftersale_s['email_tokens_reach_registered'])); ?> />
                    <?php esc_html_e('Let a link sent to an email reach the account of a registered customer with that email', 'aftersale'); ?>
                </label>
            </p>
            <?php submit_button(__('Save loyalty settings', 'aftersale')); ?>
        </form>
    <?php endif; ?>
</div>
