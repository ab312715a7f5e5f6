<?php
/**
 * The Loyalty screen (being built).
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Aftersale > Loyalty.
 */
class Aftersale_Admin_Loyalty
{
    /** @var Aftersale_Client|null */
    private $client;

    /**
     * @param Aftersale_Client|null $client The service client (tests inject one).
     */
    public function __construct(?Aftersale_Client $client = null)
    {
        $this->client = $client;
    }

    public function render(): void
    {
        printf('<div class="wrap aftersale-admin"><h1>%s</h1></div>', esc_html__('Loyalty', 'aftersale'));
    }
}
