<?php
/**
 * Settings > Aftersale: the link's health. (Admin screen; a theme does not
 * override it, but wc_get_template's filters apply.)
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var bool        $configured   Service URL and API key are set.
 * @var string      $error        Why the service could not be asked ('' when it answered).
 * @var array|null  $status       GET /v1/woocommerce/status.
 * @var array       $dead_jobs    [['id','kind','last_error','retry_url'], ...].
 * @var array|null  $webhooks_job The last webhook set-up job.
 * @var int         $webhooks     Active webhooks of this shop that deliver to the service.
 * @var string      $connect_url  The Connect WooCommerce action.
 * @var string      $webhooks_url The install webhooks action.
 */

defined('ABSPATH') || exit;

$aftersale_never = __('never', 'aftersale');
?>
<h2><?php esc_html_e('Connection', 'aftersale'); ?></h2>
<table class="form-table aftersale-health">
<?php if (! $configured) : ?>
    <tr><td colspan="2"><?php esc_html_e('Enter the service URL and the API key, save, then connect.', 'aftersale'); ?></td></tr>
<?php else : ?>
    <tr>
        <th scope="row"><?php esc_html_e('WooCommerce access', 'aftersale'); ?></th>
        <td>
            <a class="button button-primary aftersale-connect" href="<?php echo esc_url($connect_url); ?>"><?php esc_html_e('Connect WooCommerce', 'aftersale'); ?></a>
            <a class="button aftersale-install-webhooks" href="<?php echo esc_url($webhooks_url); ?>"><?php esc_html_e('Install webhooks', 'aftersale'); ?></a>
        </td>
    </tr>
    <?php if ($error !== '') : ?>
        <tr><td colspan="2"><div class="notice notice-error inline"><p><?php echo esc_html($error); ?></p></div></td></tr>
    <?php endif; ?>
    <tr>
        <th scope="row"><?php esc_html_e('Webhooks active', 'aftersale'); ?></th>
        <td class="aftersale-health__webhooks"><?php echo esc_html(number_format_i18n((int) $webhooks)); ?>
        <?php if (is_array($webhooks_job)) : ?>
            <?php
            /* translators: 1: job id, 2: job status */
            echo esc_html(sprintf(__('(set-up job %1$d: %2$s)', 'aftersale'), (int) $webhooks_job['id'], (string) $webhooks_job['status']));
            ?>
        <?php endif; ?>
        </td>
    </tr>
    <?php if (is_array($status)) : ?>
        <tr>
            <th scope="row"><?php esc_html_e('Last delivery', 'aftersale'); ?></th>
            <td class="aftersale-health__delivery"><?php echo esc_html((string) ($status['deliveries']['last_received_at'] ?? $aftersale_never)); ?></td>
        </tr>
        <tr>
            <th scope="row"><?php esc_html_e('Last reconciliation', 'aftersale'); ?></th>
            <td class="aftersale-health__sync"><?php echo esc_html((string) ($status['sync']['last_finished_at'] ?? $aftersale_never)); ?>
                <?php if (! empty($status['sync']['last_error'])) : ?>
                    — <?php echo esc_html((string) $status['sync']['last_error']); ?>
                <?php endif; ?>
            </td>
        </tr>
        <tr>
            <th scope="row"><?php esc_html_e('Dead jobs', 'aftersale'); ?></th>
            <td class="aftersale-health__dead">
                <?php echo esc_html(number_format_i18n((int) ($status['jobs']['dead'] ?? 0))); ?>
                <?php if (! empty($dead_jobs)) : ?>
                    <ul>
                    <?php foreach ($dead_jobs as $aftersale_job) : ?>
                        <li>
                            <?php echo esc_html('#' . (int) $aftersale_job['id'] . ' ' . $aftersale_job['kind'] . ': ' . $aftersale_job['last_error']); ?>
                            <a class="button button-small aftersale-retry" href="<?php echo esc_url($aftersale_job['retry_url']); ?>"><?php esc_html_e('Retry', 'aftersale'); ?></a>
                        </li>
                    <?php endforeach; ?>
                    </ul>
                <?php endif; ?>
            </td>
        </tr>
    <?php endif; ?>
<?php endif; ?>
</table>
