<?php
/**
 * Aftersale > Overview.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var array  $period  Aftersale_Admin_Overview::period().
 * @var string $error   Why no figure is shown ('' when they are).
 * @var string $notice  A note about the range asked for.
 * @var array  $cards   The figures.
 * @var array  $charts  Aftersale_Chart arguments.
 * @var int[]  $ranges  The range buttons, in days.
 * @var string $from    First day shown (Y-m-d).
 * @var string $to      Last day shown (Y-m-d).
 */

defined('ABSPATH') || exit;
?>
<div class="wrap aftersale-admin aftersale-overview">
    <h1><?php esc_html_e('Aftersale overview', 'aftersale'); ?></h1>
    <?php Aftersale_Admin_Menu::print_flash(); ?>

    <form class="aftersale-range" method="get" action="<?php echo esc_url(admin_url('admin.php')); ?>">
        <input type="hidden" name="page" value="aftersale" />
        <?php foreach ($ranges as $aftersale_days) : ?>
            <a class="button<?php echo esc_attr((int) $period['range'] === (int) $aftersale_days ? ' is-current' : ''); ?>" href="<?php echo esc_url(Aftersale_Admin_Menu::url('aftersale', array('range' => (int) $aftersale_days))); ?>">
                <?php
                /* translators: %d: number of days */
                echo esc_html(sprintf(_n('Last %d day', 'Last %d days', (int) $aftersale_days, 'aftersale'), (int) $aftersale_days));
                ?>
            </a>
        <?php endforeach; ?>
        <label for="aftersale-from"><?php esc_html_e('From', 'aftersale'); ?></label>
        <input type="date" id="aftersale-from" name="from" value="<?php echo esc_attr($from); ?>" />
        <label for="aftersale-to"><?php esc_html_e('To', 'aftersale'); ?></label>
        <input type="date" id="aftersale-to" name="to" value="<?php echo esc_attr($to); ?>" />
        <button type="submit" class="button"><?php esc_html_e('Show', 'aftersale'); ?></button>
    </form>

    <p class="aftersale-period">
        <?php
        echo esc_html(sprintf(
            /* translators: 1: first day, 2: last day, 3: first day of the previous period, 4: its last day */
            __('%1$s to %2$s, compared with %3$s to %4$s.', 'aftersale'),
            wp_date(get_option('date_format'), $period['from']->getTimestamp()),
            wp_date(get_option('date_format'), $period['to']->modify('-1 day')->getTimestamp()),
            wp_date(get_option('date_format'), $period['prev_from']->getTimestamp()),
            wp_date(get_option('date_format'), $period['from']->modify('-1 day')->getTimestamp())
        ));
        ?>
    </p>

    <?php if ($notice !== '') : ?>
        <div class="notice notice-warning inline"><p><?php echo esc_html($notice); ?></p></div>
    <?php endif; ?>

    <?php if ($error !== '') : ?>
        <div class="notice notice-error inline aftersale-overview__error"><p><?php echo esc_html($error); ?></p></div>
    <?php else : ?>
        <div class="aftersale-cards" data-from="<?php echo esc_attr($period['from']->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z')); ?>" data-to="<?php echo esc_attr($period['to']->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z')); ?>" data-prev-from="<?php echo esc_attr($period['prev_from']->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z')); ?>">
            <?php foreach ($cards as $aftersale_card) : ?>
                <a class="aftersale-card" id="<?php echo esc_attr('aftersale-card-' . $aftersale_card['id']); ?>" data-figure="<?php echo esc_attr($aftersale_card['id']); ?>" data-value="<?php echo esc_attr($aftersale_card['raw']); ?>" href="<?php echo esc_url($aftersale_card['url']); ?>">
                    <span class="aftersale-card__label"><?php echo esc_html($aftersale_card['label']); ?></span>
                    <span class="aftersale-card__value"><?php echo esc_html($aftersale_card['value']); ?></span>
                    <?php if ($aftersale_card['previous'] !== null) : ?>
                        <span class="aftersale-card__previous aftersale-card__delta--<?php echo esc_attr($aftersale_card['delta'] !== '' ? $aftersale_card['delta'] : 'same'); ?>">
                            <?php
                            /* translators: %s: the previous period's value */
                            echo esc_html(sprintf(__('Previous period: %s', 'aftersale'), $aftersale_card['previous']));
                            ?>
                        </span>
                    <?php endif; ?>
                </a>
            <?php endforeach; ?>
        </div>
        <?php foreach ($charts as $aftersale_chart) : ?>
            <?php Aftersale_Chart::render($aftersale_chart); ?>
        <?php endforeach; ?>
        <?php if ($charts === array()) : ?>
            <p class="description"><?php esc_html_e('No survey asks NPS or CSAT yet: create one under Aftersale > Surveys to see their trend here.', 'aftersale'); ?></p>
        <?php endif; ?>
    <?php endif; ?>
</div>
