<?php

use PHPUnit\Framework\TestCase;

/**
 * Rules a reviewer would check by eye, checked on every file of the plugin
 * with PHP's own tokenizer: every echo starts with an esc_* call, no <?=,
 * every read of a superglobal goes through isset() or wp_unslash(), every
 * HTTP call is wp_remote_request (no curl, no file_get_contents), and every
 * admin-post handler refuses a user without the capability before it does
 * anything.
 */
final class HygieneTest extends TestCase
{
    /** @return array<string, array{string}> */
    public static function files(): array
    {
        $out = array();
        $it  = new RecursiveIteratorIterator(new RecursiveDirectoryIterator(AFTERSALE_TEST_PLUGIN));
        foreach ($it as $f) {
            if ($f->isFile() && substr($f->getFilename(), -4) === '.php') {
                $out[substr($f->getPathname(), strlen(AFTERSALE_TEST_PLUGIN) + 1)] = array($f->getPathname());
            }
        }
        ksort($out);
        return $out;
    }

    /** Significant tokens (no whitespace or comments). */
    private static function tokens(string $file): array
    {
        return array_values(array_filter(token_get_all((string) file_get_contents($file)), function ($t) {
            return ! is_array($t) || ! in_array($t[0], array(T_WHITESPACE, T_COMMENT, T_DOC_COMMENT), true);
        }));
    }

    /** @dataProvider files */
    public function test_every_echo_is_escaped(string $file): void
    {
        $t = self::tokens($file);
        $this->addToAssertionCount(1); // a file with nothing to check passes
        foreach ($t as $i => $tok) {
            if (! is_array($tok)) {
                continue;
            }
            $this->assertNotSame(T_OPEN_TAG_WITH_ECHO, $tok[0], "$file:{$tok[2]}: <?= is not escaped");
            if ($tok[0] === T_ECHO || $tok[0] === T_PRINT) {
                $next = $t[$i + 1];
                $this->assertTrue(
                    is_array($next) && $next[0] === T_STRING && strpos($next[1], 'esc_') === 0,
                    "$file:{$tok[2]}: echo must start with an esc_* call"
                );
            }
        }
    }

    /** @dataProvider files */
    public function test_superglobals_are_read_through_isset_or_wp_unslash(string $file): void
    {
        $t = self::tokens($file);
        $this->addToAssertionCount(1); // a file with nothing to check passes
        foreach ($t as $i => $tok) {
            if (! is_array($tok) || $tok[0] !== T_VARIABLE || ! in_array($tok[1], array('$_GET', '$_POST', '$_REQUEST', '$_COOKIE', '$_SERVER'), true)) {
                continue;
            }
            $open = $t[$i - 1];
            $fn   = $t[$i - 2];
            $ok   = $open === '(' && is_array($fn) && ($fn[0] === T_ISSET || ($fn[0] === T_STRING && $fn[1] === 'wp_unslash'));
            $this->assertTrue($ok, "$file:{$tok[2]}: {$tok[1]} read outside isset()/wp_unslash()");
        }
    }

    /** @dataProvider files */
    public function test_http_only_through_the_wordpress_api(string $file): void
    {
        $src = (string) file_get_contents($file);
        foreach (array('curl_', 'file_get_contents', 'fopen', 'fsockopen', 'wp_remote_get', 'wp_remote_post') as $fn) {
            $this->assertStringNotContainsString($fn . '(', $src, "$file calls $fn");
        }
        if (strpos($src, 'wp_remote_request(') !== false) {
            $this->assertStringEndsWith('class-aftersale-client.php', $file, 'only the client calls the service');
        }
    }

    public function test_every_admin_post_handler_checks_the_capability_first(): void
    {
        wpt_reset();
        wpt_configure();
        wpt_respond_json(202, array('job_id' => 1));
        $GLOBALS['wpt']['user_id'] = 2;
        $connect                   = new Aftersale_Connect();
        $connect->register();
        $handlers = array();
        foreach ($GLOBALS['wpt']['actions'] as $hook => $callbacks) {
            if (strpos($hook, 'admin_post_') === 0) {
                $handlers[$hook] = $callbacks[0];
            }
        }
        $this->assertSame(
            array('admin_post_aftersale_connect', 'admin_post_aftersale_connected', 'admin_post_aftersale_webhooks', 'admin_post_aftersale_retry_job'),
            array_keys($handlers)
        );
        $this->assertArrayNotHasKey('admin_post_nopriv_aftersale_connect', $GLOBALS['wpt']['actions']);
        foreach ($handlers as $hook => $cb) {
            $_GET = $_REQUEST = array('_wpnonce' => 'whatever', 'job_id' => '1', 'success' => '1');
            try {
                call_user_func($cb);
                $this->fail("$hook ran without the capability");
            } catch (Aftersale_Test_Die $e) {
                $this->assertStringContainsString('not allowed', $e->getMessage(), $hook);
            }
        }
        $this->assertSame(array(), $GLOBALS['wpt']['requests']);
    }
}
