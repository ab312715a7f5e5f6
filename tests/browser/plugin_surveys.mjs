#!/usr/bin/env node
// plugin_surveys.mjs - the customer-facing surveys and reviews of the
// aftersale WordPress plugin, and WordPress's own privacy tools backed by
// aftersale, in a real shop, in headless Chromium (Debian's
// /usr/bin/chromium) through playwright-core.
//
//   node tests/browser/plugin_surveys.mjs '<json>'
//
//   {"step": "thankyou", "base", "user", "password", "profile", "product",
//    "billing", "score", "shot", "shot_answered"}
//       the customer puts `product` in the cart, checks out (billing fields,
//       cash on delivery), lands on the thank-you page, reads the survey,
//       picks `score` and sends the form (it posts to the service); with
//       "path" instead of "product": that thank-you page
//   {"step": "admin", ..., "path"}  a wp-admin page: the plugin's events notice
//   {"step": "reviews", ..., "shot"}  My Account > Reviews, then its first
//       "Write a review" link
//   {"step": "privacy", ..., "email", "shot_export", "shot_erase"}  the admin
//       makes an export and an erasure request for `email` in Tools > Export /
//       Erase Personal Data without the confirmation email (WordPress then
//       records the request as confirmed), runs the export, then the erasure
//
// One JSON line on stdout: {"ok", "step", ... what the step read, "console",
// "errors", "php"}; `php` lists PHP messages found in any page's HTML. Exit 0
// on success, 1 on failure, 2 on bad arguments. Bounded: 15 s per browser
// action, 90 s in all; the browser is always closed.
//
// Used by tests/realwoo/test_plugin_surveys.py.

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
  async admin(page) {
    await open(page, spec.path);
    result.events_notice = await text(page, '.aftersale-events-notice');
  },

  async thankyou(page) {
    if (spec.product) {
      // A real checkout: the product into the cart, the classic checkout
      // form filled, cash on delivery, "Place order", WooCommerce's redirect
      // to the order-received (thank-you) page.
      await open(page, '/my-account/'); // logs the customer in
      await open(page, `/?add-to-cart=${spec.product}`);
      await open(page, '/checkout/');
      const idle = () => page.waitForFunction(() => !document.querySelector('.blockUI'), null, { timeout: ACTION_MS });
      await idle();
      const fill = async (sel, v) => { if (await page.locator(sel).count()) await page.locator(sel).fill(v); };
      await page.locator('#billing_country').selectOption(spec.billing.country, { force: true });
      await idle();
      await fill('#billing_first_name', spec.billing.first_name);
      await fill('#billing_last_name', spec.billing.last_name);
      await fill('#billing_address_1', spec.billing.address_1);
      await fill('#billing_city', spec.billing.city);
      await fill('#billing_postcode', spec.billing.postcode);
      await fill('#billing_phone', spec.billing.phone);
      await fill('#billing_email', spec.billing.email);
      if (await page.locator('select#billing_state').count()) {
        await page.locator('select#billing_state').selectOption(spec.billing.state, { force: true });
      }
      await idle();
      const cod = page.locator('#payment_method_cod');
      if (await cod.count() && await cod.isVisible()) await cod.check();
      await page.locator('#place_order').click();
      await Promise.race([
        page.waitForURL(/order-received/, { timeout: ACTION_MS * 2 }),
        page.locator('.woocommerce-error').first().waitFor({ timeout: ACTION_MS * 2 }),
      ]).catch(() => {});
      if (!/order-received/.test(page.url())) {
        result.checkout_notices = await texts(page, '.woocommerce-error li, .woocommerce-error');
        if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
        throw new Error(`checkout refused: ${JSON.stringify(result.checkout_notices)}`);
      }
      await page.waitForLoadState('load');
      await check(page, null);
      result.checkout_notices = await texts(page, '.woocommerce-error li');
      spec.path = new URL(page.url()).pathname + new URL(page.url()).search;
      result.order = Number((spec.path.match(/order-received\/(\d+)/) || [])[1]);
    } else {
      await open(page, spec.path);
    }
    result.path = spec.path;
    result.thankyou_title = await text(page, '.woocommerce-thankyou-order-received, .woocommerce-notice--success');
    result.survey_title = await text(page, '.aftersale-survey__title');
    result.legend = await text(page, '.aftersale-survey legend');
    const form = page.locator('form.aftersale-survey__form');
    result.form_action = (await form.count()) ? await form.getAttribute('action') : null;
    result.form_method = (await form.count()) ? await form.getAttribute('method') : null;
    result.scores = await page.locator('.aftersale-survey input[name="v"]').evaluateAll((is) => is.map((i) => i.value));
    result.q = (await form.count()) ? await form.locator('input[name="q"]').getAttribute('value') : null;
    result.scripts_in_survey = await page.locator('.aftersale-survey script').count();
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
    if (!result.form_action) throw new Error('no survey form on the thank-you page');
    await page.locator(`.aftersale-survey input[name="v"][value="${spec.score}"]`).check();
    const [sent] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Send my answer' }).click(),
    ]);
    result.answered_status = sent ? sent.status() : null;
    result.answered_url = page.url();
    result.answered_h1 = await text(page, 'h1');
    result.answered_text = await text(page, 'body');
    if (spec.shot_answered) await page.screenshot({ path: spec.shot_answered, fullPage: true });
    // Back on the thank-you page: the survey says it was answered.
    await open(page, spec.path);
    result.after = await text(page, '.aftersale-survey__done');
  },

  async reviews(page) {
    await open(page, '/my-account/write-reviews/');
    result.menu = await texts(page, 'nav.woocommerce-MyAccount-navigation li');
    result.requests = await page.locator('li.aftersale-review-request').evaluateAll((ls) => ls.map((l) => ({
      order: Number(l.dataset.order),
      text: l.innerText.trim(),
      link: l.querySelector('a.aftersale-review-request__link') ? l.querySelector('a.aftersale-review-request__link').getAttribute('href') : null,
    })));
    result.none = await text(page, '.aftersale-review-requests__none');
    result.info = await text(page, '.aftersale-review-requests .woocommerce-info');
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
    if (result.requests.length && result.requests[0].link) {
      const resp = await page.goto(result.requests[0].link, { waitUntil: 'load' });
      result.review_page_status = resp ? resp.status() : null;
      result.review_page = await text(page, 'body');
    }
  },

  async privacy(page) {
    // WordPress 5.7+: without "Send personal data ... confirmation email"
    // the request is recorded as already confirmed (wp-admin/includes/
    // privacy-tools.php), so no email round trip is needed.
    async function request(tool) {
      await open(page, `/wp-admin/${tool}-personal-data.php`);
      await page.locator('#username_or_email_for_privacy_request').fill(spec.email);
      await page.locator('#send_confirmation_email').uncheck();
      const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('#submit').click()]);
      await check(page, resp);
      const row = page.locator('#the-list tr', { hasText: spec.email }).first();
      return { row, status: (await row.locator('td.column-status').innerText()).trim(),
        notices: await texts(page, '#wpbody-content .notice') };
    }
    const ex = await request('export');
    result.export_status = ex.status;
    result.export_notices = ex.notices;
    await ex.row.hover();
    await ex.row.locator('.row-actions .export-personal-data-handle').first().click({ force: true });
    await ex.row.locator('.export-personal-data-success, .export-personal-data-failed')
      .locator('visible=true').first().waitFor({ timeout: ACTION_MS * 2 });
    result.export_done = await ex.row.locator('.export-personal-data-success').first().isVisible();
    result.export_results = await texts(page, 'tr.request-results');
    if (spec.shot_export) await page.screenshot({ path: spec.shot_export, fullPage: true });

    const er = await request('erase');
    result.erase_status = er.status;
    await er.row.locator('td.column-next_steps .remove-personal-data-handle').first().click();
    await er.row.locator('td.column-next_steps .remove-personal-data-success, td.column-next_steps .remove-personal-data-failed')
      .locator('visible=true').first().waitFor({ timeout: ACTION_MS * 2 });
    result.erase_done = await er.row.locator('td.column-next_steps .remove-personal-data-success').isVisible();
    result.erase_results = await texts(page, 'tr.request-results');
    if (spec.shot_erase) await page.screenshot({ path: spec.shot_erase, fullPage: true });
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
    acceptDownloads: true,
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
