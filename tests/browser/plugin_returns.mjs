#!/usr/bin/env node
// plugin_returns.mjs - My Account > Returns and the order screen's Aftersale
// box of the aftersale WordPress plugin in a real shop, in headless Chromium
// (Debian's /usr/bin/chromium) through playwright-core.
//
//   node tests/browser/plugin_returns.mjs '<json>'
//
//   {"step": "request", "base", "user", "password", "profile", "shot",
//    "order", "reason", "note", "photo"}
//       the customer opens My Account > Orders, follows "Request a return"
//       on order `order`, asks to return 1 unit of the first line with
//       `reason`, `note` and the image file `photo`, and reads the Returns
//       page it lands on
//   {"step": "admin_order", ..., "path", "follow"}  the admin opens the order
//       screen at `path` and reads the Aftersale box (its sections and their
//       links), then opens each `follow` [{"href", "selector", "value"}] and
//       reads the selector's text there (and the field `value`'s value)
//   {"step": "pages", ..., "pages": {"name": "/path"}}  loads pages and tells
//       their status, the returns notice, "Request a return" links, orders
//
// One JSON line on stdout: {"ok", "step", ... what the step read, "console",
// "errors", "php", "scripts_run"}; `php` lists PHP messages found in any
// page's HTML. Exit 0 on success, 1 on failure, 2 on bad arguments. Bounded:
// 15 s per browser action, 90 s in all; the browser is always closed.
//
// Used by tests/realwoo/test_plugin_returns.py.

import { screenshot, shopScript, text, texts } from './lib.mjs';

const { spec, result, open, check, run } = shopScript('plugin_returns.mjs');

const steps = {
  async request(page) {
    // A note's script would set this if it ever ran.
    await page.addInitScript(() => { window.__aftersale_xss = 0; });
    await open(page, '/my-account/orders/');
    result.menu = await texts(page, 'nav.woocommerce-MyAccount-navigation li');
    const row = page.locator('tr.woocommerce-orders-table__row', { hasText: `#${spec.order}` });
    result.order_actions = await row.locator('td.woocommerce-orders-table__cell-order-actions a').allInnerTexts();
    const link = row.locator('a.aftersale-return');
    result.link = (await link.count()) ? await link.getAttribute('href') : null;
    if (!result.link) throw new Error('no "Request a return" on the order');
    const [toForm] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
    await check(page, toForm);
    result.form_title = await text(page, '.aftersale-return-form h3');
    const qty = page.locator('.aftersale-return-form__line select[name$="[quantity]"]').first();
    result.quantity_options = await qty.locator('option').allInnerTexts();
    await qty.selectOption('1');
    await page.locator('.aftersale-return-form__line select[name$="[reason]"]').first().selectOption(spec.reason);
    await page.locator('.aftersale-return-form__line textarea').first().fill(spec.note);
    await page.locator('#aftersale-photos').setInputFiles(spec.photo);
    result.resolutions = await page.locator('input[name="aftersale_resolution"]').evaluateAll((is) => is.map((i) => i.value));
    const [sent] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Request the return' }).click(),
    ]);
    await check(page, sent);
    result.final_url = page.url();
    result.messages = await texts(page, '.woocommerce-message, .woocommerce-error, .woocommerce-info');
    result.form_error = await text(page, '.aftersale-returns__error');
    result.returns = await texts(page, 'section.aftersale-return');
    result.states = await page.locator('.aftersale-return__state').evaluateAll((ps) => ps.map((p) => p.dataset.state));
    result.notes = await texts(page, '.aftersale-return__note');
    result.note_html = await page.locator('.aftersale-return__note').evaluateAll((qs) => qs.map((q) => q.innerHTML));
    result.scripts_in_returns = await page.locator('.aftersale-returns script').count();
    result.scripts_run = await page.evaluate(() => window.__aftersale_xss);
    await screenshot(page, spec.shot);
  },

  async pages(page) {
    result.pages = {};
    for (const [name, path] of Object.entries(spec.pages)) {
      const resp = await open(page, path);
      result.pages[name] = {
        status: resp ? resp.status() : null,
        unavailable: await text(page, '.aftersale-returns__unavailable'),
        return_links: await page.locator('a.aftersale-return').count(),
        orders: await page.locator('tr.woocommerce-orders-table__row').count(),
      };
    }
    await screenshot(page, spec.shot);
  },

  async admin_order(page) {
    await open(page, spec.path);
    result.box_title = await text(page, '#aftersale-order h2');
    result.box = await text(page, '#aftersale-order .aftersale-order-box');
    result.points = await page.locator('.aftersale-order-box__points li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.delta)));
    result.returns = await page.locator('.aftersale-order-box__returns > li').evaluateAll((ls) => ls.map((l) => l.dataset.state));
    result.scripts_in_box = await page.locator('#aftersale-order script').count();
    result.account_link = await page.locator('a.aftersale-order-box__account').evaluateAll((as) => as.map((a) => a.href));
    result.return_links = await page.locator('.aftersale-order-box__returns > li > a').evaluateAll((as) => as.map((a) => a.href));
    result.requests = await page.locator('.aftersale-order-box__request').evaluateAll((ds) => ds.map((d) => ({
      status: d.dataset.status, text: d.querySelector('p').innerText.trim(), link: d.querySelector('p a').href })));
    result.reviews = await page.locator('.aftersale-order-box__reviews > li').evaluateAll((ls) => ls.map((l) => ({
      id: Number(l.dataset.review), status: l.dataset.status, stars: l.querySelector('.aftersale-stars').getAttribute('aria-label'),
      text: l.innerText.trim(), links: Array.from(l.querySelectorAll('a')).map((a) => a.href) })));
    result.responses = await page.locator('.aftersale-order-box__responses > li').evaluateAll((ls) => ls.map((l) => ({
      id: Number(l.dataset.response), follow_up: l.dataset.followUp, text: l.innerText.trim(), link: l.querySelector('a').href })));
    await screenshot(page, spec.shot);
    // Follow links of the box: {"href", "selector", "value"} -> the selector's
    // text there, and the value of the form field `value` (optional).
    result.followed = [];
    for (const f of spec.follow || []) {
      const resp = await open(page, f.href);
      const field = f.value ? page.locator(f.value) : null;
      result.followed.push({
        href: f.href, status: resp ? resp.status() : null, text: await text(page, f.selector),
        value: field && await field.count() ? await field.first().inputValue() : null,
      });
    }
  },
};


await run(steps);
