<?php
/**
 * Mint a customer token with the plugin's own code, for the integration
 * test against the service (tests/integration/test_plugin_tokens.py).
 *
 *   php mint.php current <shop_id> <token_secret> <user_id>   as the logged-in customer
 *   php mint.php guest   <shop_id> <token_secret> <email>     a guest's email-bound token
 *   php mint.php raw     <shop_id> <token_secret> <user_id> <ttl>
 *
 * The secret is read from the environment variable AFTERSALE_TOKEN_SECRET
 * when the argument is "-" (keeps it off the process list).
 */

require __DIR__ . '/bootstrap.php';

list(, $mode, $shop, $secret, $who) = $argv + array(null, '', '0', '', '');
if ($secret === '-') {
    $secret = (string) getenv('AFTERSALE_TOKEN_SECRET');
}
update_option('aftersale_shop_id', (int) $shop);
add_option('aftersale_token_secret', $secret, '', 'no');

switch ($mode) {
    case 'current':
        $GLOBALS['wpt']['user_id'] = (int) $who;
        $token                     = Aftersale_Tokens::for_current_user();
        break;
    case 'guest':
        $token = Aftersale_Tokens::for_guest($who);
        break;
    case 'raw':
        $token = Aftersale_Tokens::mint((int) $shop, $secret, 'loyalty', (int) $who, '', (int) ($argv[5] ?? 300));
        break;
    default:
        fwrite(STDERR, "usage: mint.php current|guest|raw shop_id secret who [ttl]\n");
        exit(2);
}
if ($token === null) {
    fwrite(STDERR, "no token\n");
    exit(1);
}
echo $token;
