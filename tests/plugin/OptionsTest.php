<?php

use PHPUnit\Framework\TestCase;

final class OptionsTest extends TestCase
{
    protected function setUp(): void
    {
        wpt_reset();
    }

    public function test_secrets_are_not_autoloaded_and_empty_keeps_them(): void
    {
        update_option('aftersale_api_key', 'ask_old', true); // an old autoloaded value
        Aftersale_Options::set_secret('aftersale_api_key', 'ask_new');
        $this->assertSame('ask_new', get_option('aftersale_api_key'));
        $this->assertSame('no', $GLOBALS['wpt']['autoload']['aftersale_api_key']);
        Aftersale_Options::set_secret('aftersale_api_key', '');
        $this->assertSame('ask_new', get_option('aftersale_api_key'));
    }

    public function test_mask_shows_at_most_the_last_four_characters(): void
    {
        $this->assertSame('', Aftersale_Options::mask(''));
        $this->assertSame('••••••••', Aftersale_Options::mask('short'));
        $masked = Aftersale_Options::mask('ask_abcdefghijklmnopWXYZ');
        $this->assertSame('••••••••WXYZ', $masked);
        $this->assertStringNotContainsString('ask_', $masked);
    }

    public function test_timeout_defaults_and_bounds(): void
    {
        $this->assertSame(3, Aftersale_Options::timeout());
        update_option('aftersale_timeout', '0');
        $this->assertSame(3, Aftersale_Options::timeout());
        update_option('aftersale_timeout', '99');
        $this->assertSame(10, Aftersale_Options::timeout());
    }
}
