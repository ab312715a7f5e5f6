<?php
/**
 * Thank-you page: the order's survey. The form posts the score to the
 * aftersale service's survey page, which records it and thanks the
 * customer; it works without JavaScript.
 *
 * Override by copying to yourtheme/aftersale/thankyou-survey.php.
 *
 * @package Aftersale
 * @version 0.1.0
 *
 * @var string $url      The survey page of this order's invitation.
 * @var bool   $answered The customer already answered.
 * @var array  $question {id, kind, label} of the first question.
 * @var int[]  $scores   The scale of a score question, [] for another kind.
 */

defined('ABSPATH') || exit;
?>
<section class="aftersale-survey woocommerce-order-survey">
    <h2 class="aftersale-survey__title"><?php esc_html_e('A quick question', 'aftersale'); ?></h2>
    <?php if ($answered) : ?>
        <p class="aftersale-survey__done">
            <?php esc_html_e('Thank you for your answer.', 'aftersale'); ?>
            <a href="<?php echo esc_url($url); ?>"><?php esc_html_e('Change your answer', 'aftersale'); ?></a>
        </p>
    <?php elseif ($scores !== array()) : ?>
        <form class="aftersale-survey__form" method="post" action="<?php echo esc_url($url); ?>">
            <input type="hidden" name="q" value="<?php echo esc_attr($question['id']); ?>" />
            <fieldset>
                <legend><?php echo esc_html($question['label']); ?></legend>
                <?php foreach ($scores as $score) : ?>
                    <label class="aftersale-survey__score">
                        <input type="radio" name="v" value="<?php echo esc_attr((string) $score); ?>" required />
                        <?php echo esc_html(number_format_i18n($score)); ?>
                    </label>
                <?php endforeach; ?>
            </fieldset>
            <button type="submit" class="button"><?php esc_html_e('Send my answer', 'aftersale'); ?></button>
        </form>
    <?php else : ?>
        <p><?php echo esc_html($question['label']); ?></p>
        <p><a class="button" href="<?php echo esc_url($url); ?>"><?php esc_html_e('Answer the survey', 'aftersale'); ?></a></p>
    <?php endif; ?>
</section>
