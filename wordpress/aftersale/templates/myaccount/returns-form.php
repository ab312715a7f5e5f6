<?php
/**
 * My Account > Returns > Request a return (one order): a plain form that
 * works without JavaScript.
 *
 * Override by copying to yourtheme/aftersale/myaccount/returns-form.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var WC_Order|null $order        The order, null when it cannot be returned.
 * @var int           $order_id     Its id.
 * @var string        $error        Why no form is shown ('' when it is).
 * @var string        $form_error   Why the last post failed.
 * @var array         $lines        Returnable lines: id, name, left.
 * @var array         $reasons      code, label, note_required, photo_required.
 * @var array         $resolutions  code => label.
 * @var string        $action       Where the form posts.
 * @var string        $nonce        The form's nonce.
 * @var string        $form_key     The form's one-time idempotency key.
 * @var array         $posted       What was typed before a failed post.
 * @var string        $instructions The shop's return instructions.
 */

defined('ABSPATH') || exit;
?>
<div class="aftersale-return-form">
<?php if ($error !== '') : ?>
    <p class="aftersale-returns__unavailable woocommerce-info" role="alert"><?php echo esc_html($error); ?></p>
<?php elseif ($lines === array()) : ?>
    <p class="aftersale-returns__none"><?php esc_html_e('Nothing is left to return on this order.', 'aftersale'); ?></p>
<?php else : ?>
    <h3>
        <?php
        /* translators: %s: order number */
        echo esc_html(sprintf(__('Request a return for order #%s', 'aftersale'), (string) $order->get_order_number()));
        ?>
    </h3>
    <?php if ($form_error !== '') : ?>
        <p class="aftersale-returns__error woocommerce-error" role="alert"><?php echo esc_html($form_error); ?></p>
    <?php endif; ?>
    <?php if ($instructions !== '') : ?>
        <p class="aftersale-returns__instructions" style="white-space: pre-line"><?php echo esc_html($instructions); ?></p>
    <?php endif; ?>
    <form method="post" action="<?php echo esc_url($action); ?>" enctype="multipart/form-data">
        <?php foreach ($lines as $aftersale_line) : ?>
            <?php
            $aftersale_id   = (int) $aftersale_line['id'];
            $aftersale_in   = isset($posted[$aftersale_id]) && is_array($posted[$aftersale_id]) ? $posted[$aftersale_id] : array();
            $aftersale_name = 'aftersale_lines[' . $aftersale_id . ']';
            ?>
            <fieldset class="aftersale-return-form__line">
                <legend><?php echo esc_html((string) $aftersale_line['name']); ?></legend>
                <p>
                    <label for="<?php echo esc_attr('aftersale-qty-' . $aftersale_id); ?>"><?php esc_html_e('Quantity to return', 'aftersale'); ?></label>
                    <select id="<?php echo esc_attr('aftersale-qty-' . $aftersale_id); ?>" name="<?php echo esc_attr($aftersale_name . '[quantity]'); ?>">
                        <?php for ($aftersale_q = 0; $aftersale_q <= (int) $aftersale_line['left']; $aftersale_q++) : ?>
                            <option value="<?php echo esc_attr((string) $aftersale_q); ?>" <?php echo esc_attr((int) ($aftersale_in['quantity'] ?? 0) === $aftersale_q ? 'selected' : ''); ?>><?php echo esc_html((string) $aftersale_q); ?></option>
                        <?php endfor; ?>
                    </select>
                </p>
                <p>
                    <label for="<?php echo esc_attr('aftersale-reason-' . $aftersale_id); ?>"><?php esc_html_e('Reason', 'aftersale'); ?></label>
                    <select id="<?php echo esc_attr('aftersale-reason-' . $aftersale_id); ?>" name="<?php echo esc_attr($aftersale_name . '[reason]'); ?>">
                        <?php foreach ($reasons as $aftersale_reason) : ?>
                            <option value="<?php echo esc_attr($aftersale_reason['code']); ?>" <?php echo esc_attr(($aftersale_in['reason'] ?? '') === $aftersale_reason['code'] ? 'selected' : ''); ?>>
                                <?php echo esc_html($aftersale_reason['label'] . ($aftersale_reason['photo_required'] ? ' ' . __('(photo needed)', 'aftersale') : '')); ?>
                            </option>
                        <?php endforeach; ?>
                    </select>
                </p>
                <p>
                    <label for="<?php echo esc_attr('aftersale-note-' . $aftersale_id); ?>"><?php esc_html_e('Note', 'aftersale'); ?></label>
                    <textarea id="<?php echo esc_attr('aftersale-note-' . $aftersale_id); ?>" name="<?php echo esc_attr($aftersale_name . '[note]'); ?>" maxlength="2000" rows="3"><?php echo esc_textarea((string) ($aftersale_in['note'] ?? '')); ?></textarea>
                </p>
            </fieldset>
        <?php endforeach; ?>
        <p>
            <label for="aftersale-photos"><?php esc_html_e('Photos (up to 5, JPEG, PNG or WebP, 5 MB each)', 'aftersale'); ?></label>
            <input type="file" id="aftersale-photos" name="aftersale_photos[]" accept="image/jpeg,image/png,image/webp" multiple>
        </p>
        <fieldset class="aftersale-return-form__resolution">
            <legend><?php esc_html_e('What would you like?', 'aftersale'); ?></legend>
            <?php $aftersale_first = true; ?>
            <?php foreach ($resolutions as $aftersale_code => $aftersale_label) : ?>
                <label>
                    <input type="radio" name="aftersale_resolution" value="<?php echo esc_attr((string) $aftersale_code); ?>" <?php echo esc_attr($aftersale_first ? 'checked' : ''); ?>>
                    <?php echo esc_html($aftersale_label); ?>
                </label>
                <?php $aftersale_first = false; ?>
            <?php endforeach; ?>
        </fieldset>
        <input type="hidden" name="aftersale_return_order" value="<?php echo esc_attr((string) $order_id); ?>">
        <input type="hidden" name="aftersale_return_nonce" value="<?php echo esc_attr($nonce); ?>">
        <input type="hidden" name="aftersale_return_key" value="<?php echo esc_attr($form_key); ?>">
        <p><button type="submit" class="button"><?php esc_html_e('Request the return', 'aftersale'); ?></button></p>
    </form>
<?php endif; ?>
</div>
