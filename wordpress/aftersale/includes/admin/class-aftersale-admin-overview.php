<?php
/**
 * The Overview screen (being built).
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

/**
 * Aftersale > Overview.
 */
class Aftersale_Admin_Overview
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
        printf('<div class="wrap aftersale-admin"><h1>%s</h1></div>', esc_html__('Overview', 'aftersale'));
    }
}
