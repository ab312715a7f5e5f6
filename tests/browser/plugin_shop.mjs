#!/usr/bin/env node
// plugin_shop.mjs - the aftersale WordPress plugin in a real shop, driven by
// headless Chromium (Debian's /usr/bin/chromium) through playwright-core.
//
//   node tests/browser/plugin_shop.mjs '<json>'
//
// The JSON names one step and what it needs:
//   {"step": "settings", "base", "user", "password", "profile", "shot",
//    "service_url", "api_key", "token_secret"}
//       the admin saves WooCommerce > Settings > Aftersale
//   {"step": "view", ...}            the admin opens that tab and reads it
//   {"step": "connect", ...}         the admin presses Connect WooCommerce and
//                                    approves on WooCommerce's /wc-auth page
//   {"step": "redeem", ..., "points"}  the customer reads My Account > Points,
//                                    redeems `points`, gets the coupon
//   {"step": "apply", ..., "product", "apply_url"}  puts a product in the cart,
//                                    follows "Apply to cart", reads the cart
//   {"step": "pages", ..., "pages": {"name": "/path", ...}}  loads pages, tells
//                                    their status, time and aftersale blocks
//
// `profile` is a Chromium profile directory the caller keeps between steps
// (one per user: the login and the WooCommerce session survive, and with
// them the nonces of the links a page printed). Every step logs in when the
// page asks for it. One JSON line on stdout: {"ok", "step", ... what the step
// read, "console", "errors", "php"} where `php` lists PHP messages ("Notice:",
// "Warning:", "Deprecated:", "Fatal error:") found in any page's HTML. Exit 0
// on success, 1 when something failed, 2 on bad arguments. Bounded: 15 s per
// browser action, 90 s in all; the browser is always closed.
//
// Used by tests/realwoo/test_plugin_shop.py.

import { screenshot, shopScript, text, texts } from './lib.mjs';

const { spec, result, open, check, run } = shopScript('plugin_shop.mjs');

const settingsPath = '/wp-admin/admin.php?page=wc-settings&tab=aftersale';

async function readSettings(page) {
  result.notices = await texts(page, '#wpbody-content .notice, #wpbody-content .updated, #wpbody-content .error');
  result.api_key_placeholder = await page.locator('#aftersale_api_key').getAttribute('placeholder');
  result.api_key_value = await page.locator('#aftersale_api_key').inputValue();
  result.token_secret_placeholder = await page.locator('#aftersale_token_secret').getAttribute('placeholder');
  result.service_url = await page.locator('#aftersale_service_url').inputValue();
  result.health = await text(page, 'table.aftersale-health');
  result.webhooks_active = await text(page, '.aftersale-health__webhooks');
  result.html_has_api_key = spec.api_key ? (await page.content()).includes(spec.api_key) : null;
  result.html_has_token_secret = spec.token_secret ? (await page.content()).includes(spec.token_secret) : null;
}

const steps = {
  async settings(page) {
    await open(page, settingsPath);
    result.tab_title = await text(page, 'nav.woo-nav-tab-wrapper .nav-tab-active');
    await page.locator('#aftersale_service_url').fill(spec.service_url);
    await page.locator('#aftersale_api_key').fill(spec.api_key);
    await page.locator('#aftersale_token_secret').fill(spec.token_secret);
    const [resp] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator('button[name="save"]').click(),
    ]);
    await check(page, resp);
    await readSettings(page);
    await screenshot(page, spec.shot);
  },

  async view(page) {
    await open(page, settingsPath);
    await readSettings(page);
    await screenshot(page, spec.shot);
  },

  async connect(page) {
    await open(page, settingsPath);
    const [auth] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator('a.aftersale-connect').click(),
    ]);
    await check(page, auth);
    result.authorize_url = page.url();
    result.authorize_title = await text(page, '.wc-auth-content h1');
    result.authorize_permissions = await texts(page, 'ul.wc-auth-permissions li');
    // Approve: WooCommerce creates the key, posts it to the service, and
    // redirects to the plugin's return_url, which goes on to the settings tab.
    const [back] = await Promise.all([
      page.waitForURL(/tab=aftersale/, { waitUntil: 'load', timeout: 60000 }).then(() => null),
      page.locator('a.wc-auth-approve').click(),
    ]);
    void back;
    await check(page, null);
    result.final_url = page.url();
    await readSettings(page);
    await screenshot(page, spec.shot);
  },

  async redeem(page) {
    await open(page, '/my-account/points/');
    result.active_menu = await text(page, 'nav.woocommerce-MyAccount-navigation li.is-active');
    result.menu = await texts(page, 'nav.woocommerce-MyAccount-navigation li');
    result.balance_before = await text(page, '.aftersale-points__balance');
    result.ledger_before = await texts(page, 'table.aftersale-points__ledger tbody tr');
    await page.locator('#aftersale_redeem_points').fill(String(spec.points));
    const [resp] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Redeem' }).click(),
    ]);
    await check(page, resp);
    result.balance_after = await text(page, '.aftersale-points__balance');
    result.coupon = await text(page, '.aftersale-points__coupon');
    result.redeem_error = await text(page, '.aftersale-points__redeem-error');
    const apply = page.locator('.aftersale-points__coupon a');
    result.apply_url = (await apply.count()) ? await apply.getAttribute('href') : null;
    result.ledger_after = await texts(page, 'table.aftersale-points__ledger tbody tr');
    await screenshot(page, spec.shot);
  },

  async apply(page) {
    await open(page, `/?add-to-cart=${spec.product}`);
    const resp = await page.goto(spec.apply_url, { waitUntil: 'load' });
    await check(page, resp);
    result.cart_url = page.url();
    result.messages = await texts(page, '.woocommerce-message, .woocommerce-error, .woocommerce-info');
    result.discount_rows = await texts(page, 'tr.cart-discount');
    result.discount_classes = await page.locator('tr.cart-discount').evaluateAll((rs) => rs.map((r) => r.className));
    result.order_total = await text(page, 'tr.order-total td');
    result.earn = await text(page, '.aftersale-earn');
    await screenshot(page, spec.shot);
  },

  async pages(page) {
    result.pages = {};
    for (const [name, path] of Object.entries(spec.pages)) {
      const t0 = Date.now();
      const resp = await open(page, path);
      result.pages[name] = {
        status: resp ? resp.status() : null,
        ms: Date.now() - t0,
        earn: await text(page, '.aftersale-earn'),
        unavailable: await text(page, '.aftersale-points__unavailable'),
        balance: await text(page, '.aftersale-points__balance'),
        notices: await texts(page, '.notice, .woocommerce-error'),
        h1: await text(page, 'h1'),
      };
    }
    await screenshot(page, spec.shot);
  },
};


await run(steps, { launch: { acceptDownloads: true } });
