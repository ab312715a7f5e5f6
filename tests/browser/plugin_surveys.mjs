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

import { screenshot, shopScript, text, texts } from './lib.mjs';

const { spec, result, open, check, run, ACTION_MS } = shopScript('plugin_surveys.mjs');

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
        await screenshot(page, spec.shot);
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
    await screenshot(page, spec.shot);
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
    await screenshot(page, spec.shot_answered);
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
    await screenshot(page, spec.shot);
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
    await screenshot(page, spec.shot_export);

    const er = await request('erase');
    result.erase_status = er.status;
    await er.row.locator('td.column-next_steps .remove-personal-data-handle').first().click();
    await er.row.locator('td.column-next_steps .remove-personal-data-success, td.column-next_steps .remove-personal-data-failed')
      .locator('visible=true').first().waitFor({ timeout: ACTION_MS * 2 });
    result.erase_done = await er.row.locator('td.column-next_steps .remove-personal-data-success').isVisible();
    result.erase_results = await texts(page, 'tr.request-results');
    await screenshot(page, spec.shot_erase);
  },
};


await run(steps, { launch: { acceptDownloads: true } });
