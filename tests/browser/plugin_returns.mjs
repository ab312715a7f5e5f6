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

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ACTION_MS = 15000;
const TOTAL_MS = 90000;
const PHP_MESSAGE = /<b>(Notice|Warning|Deprecated|Fatal error|Parse error)<\/b>:|^(PHP )?(Notice|Warning|Deprecated|Fatal error): /m;

let spec;
try {
  spec = JSON.parse(process.argv[2] || '');
} catch (e) {
  process.stderr.write('usage: node plugin_returns.mjs \'{"step": ...}\'\n');
  process.exit(2);
}
for (const k of ['step', 'base', 'user', 'password', 'profile']) {
  if (!spec[k]) {
    process.stderr.write(`missing ${k}\n`);
    process.exit(2);
  }
}

let context = null;
const result = { ok: false, step: spec.step, console: [], errors: [], php: [], visited: [] };

const watchdog = setTimeout(async () => {
  result.errors.push(`gave up after ${TOTAL_MS} ms`);
  await finish(1);
}, TOTAL_MS);

async function finish(code) {
  clearTimeout(watchdog);
  try {
    if (context) await context.close();
  } catch (e) {
    result.errors.push(`close: ${e.message}`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(code);
}

async function open(page, path) {
  const url = new URL(path, spec.base).toString();
  let resp = await page.goto(url, { waitUntil: 'load' });
  if (page.url().includes('/wp-login.php') || await page.locator('form.woocommerce-form-login').count() > 0) {
    await login(page);
    resp = await page.goto(url, { waitUntil: 'load' });
  }
  await check(page, resp);
  return resp;
}

// WordPress's login form. One more try, on a fresh wp-login.php, when
// WordPress sends the form back (seen once in a full CI run, cause not
// found); the second refusal fails the test with WordPress's own message.
async function login(page) {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1 || !page.url().includes('/wp-login.php')) {
      await page.goto(new URL('/wp-login.php', spec.base).toString(), { waitUntil: 'load' });
    }
    await page.locator('#user_login').fill(spec.user);
    await page.locator('#user_pass').fill(spec.password);
    await page.locator('#rememberme').check();
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('#wp-submit').click()]);
    if (!page.url().includes('/wp-login.php')) {
      return;
    }
    const why = (await page.locator('#login_error').count()) > 0
      ? (await page.locator('#login_error').innerText()).trim() : 'no message';
    if (attempt >= 2) {
      throw new Error(`login as ${spec.user} failed: ${why}`);
    }
    result.notes = (result.notes || []).concat(`login as ${spec.user} refused once (${why})`);
  }
}

async function check(page, resp) {
  const status = resp ? resp.status() : null;
  result.visited.push(`${status} ${new URL(page.url()).pathname}${new URL(page.url()).search}`);
  const html = await page.content();
  const m = html.match(PHP_MESSAGE);
  if (m) {
    const at = html.indexOf(m[0]);
    result.php.push(html.slice(Math.max(0, at - 40), at + 300).replace(/<[^>]+>/g, ''));
  }
}

async function text(page, selector) {
  const loc = page.locator(selector);
  if (await loc.count() === 0) return null;
  return (await loc.first().innerText()).trim();
}

async function texts(page, selector) {
  return (await page.locator(selector).allInnerTexts()).map((t) => t.trim());
}

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
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
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
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
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
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
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

try {
  if (!steps[spec.step]) throw new Error(`unknown step ${spec.step}`);
  context = await chromium.launchPersistentContext(spec.profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 1200 },
    timeout: ACTION_MS * 2,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(ACTION_MS);
  page.setDefaultNavigationTimeout(ACTION_MS * 2);
  const origin = new URL(spec.base).origin;
  result.external = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location() && m.location().url ? m.location().url : '';
    // WooCommerce's admin asks Jetpack's REST route of a shop without Jetpack
    // (403, some page loads): not the plugin's, kept apart like `external`.
    const jetpack = where.startsWith(`${origin}/wp-json/jetpack/`);
    if (m.text().startsWith('Failed to load resource') && where && (!where.startsWith(origin) || jetpack)) {
      result.external.push(where);
    } else {
      result.console.push(`${m.text()} ${where}`.trim());
    }
  });
  page.on('pageerror', (e) => result.errors.push(`pageerror: ${e.message}`));
  await steps[spec.step](page);
  result.ok = result.errors.length === 0;
  await finish(result.ok ? 0 : 1);
} catch (e) {
  result.errors.push(e.message.split('\n')[0]);
  await finish(1);
}
