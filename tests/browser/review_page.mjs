#!/usr/bin/env node
// review_page.mjs - a customer fills in aftersale's review page in a real
// (headless) Chromium: Debian's /usr/bin/chromium driven by playwright-core.
//
//   node tests/browser/review_page.mjs <review link> <screenshot.png> <product>:<stars>[:<text>] ...
//
// For each product it clicks the label of the chosen star (as a person
// would), types a title and a text, submits, and waits for the status line
// to say "Thank you". Then it saves a full-page screenshot and prints one
// JSON line on stdout: {"ok", "status", "title", "checked", "requests",
// "console", "errors"}. Exit 0 on success, 1 when something on the page
// failed, 2 on bad arguments. Everything is bounded: 10 s per browser
// action, 45 s in all; the browser and its profile directory are always
// removed. Used by tests/integration/test_reviews_browser.py.
//
// PAGE_LOCALE (such as "de-DE") makes the browser ask for that language
// (Accept-Language); EXPECT_STATUS is how the status line must start on
// success (default "Thank you"). The output then also has "lang", the
// page's <html lang>, and "button", the submit button's text.
//
// Set up: cd tests/browser && npm install --no-audit --no-fund
//         apt-get install -y chromium   (scripts/install-deps)

import { openOk, recordPage, runInBrowser } from './lib.mjs';

const LOCALE = process.env.PAGE_LOCALE || undefined;
const EXPECT_STATUS = process.env.EXPECT_STATUS || 'Thank you';

function usage(msg) {
  process.stderr.write(`${msg}\nusage: node review_page.mjs <url> <screenshot.png> <product>:<stars>[:<text>] ...\n`);
  process.exit(2);
}

const [url, shot, ...specs] = process.argv.slice(2);
if (!url || !shot || specs.length === 0) usage('missing arguments');
const picks = specs.map((s) => {
  const [product, stars, ...text] = s.split(':');
  if (!/^\d+$/.test(product) || !/^[1-5]$/.test(stars)) usage(`bad pick ${s}`);
  return { product, stars: Number(stars), text: text.join(':') || `${stars} stars from a browser` };
});

const result = { ok: false, status: null, title: null, checked: {}, requests: [], console: [], errors: [] };

await runInBrowser({
  result,
  actionMs: 10000,
  totalMs: 45000,
  launch: { locale: LOCALE },
  async body(page) {
    recordPage(page, result);

    await openOk(page, url);
    result.title = await page.title();
    result.lang = await page.getAttribute('html', 'lang');

    for (const p of picks) {
      const fs = page.locator(`fieldset[data-product="${p.product}"]`);
      // The star is the label around the radio button ("5 stars").
      await fs.locator('label', { has: page.locator(`input[type=radio][value="${p.stars}"]`) }).click();
      await fs.locator(`#title-${p.product}`).pressSequentially(`${p.stars} stars`);
      await fs.locator(`#body-${p.product}`).pressSequentially(p.text);
      result.checked[p.product] = await fs.locator('input[type=radio]:checked').getAttribute('value');
    }
    const button = page.locator('#reviews button[type=submit]');
    result.button = (await button.textContent()).trim();
    await button.click();
    const status = page.locator('#status');
    await status.filter({ hasText: /\S/ }).waitFor();
    result.status = (await status.textContent()).trim();
    await page.screenshot({ path: shot, fullPage: true });
    if (!result.status.startsWith(EXPECT_STATUS)) throw new Error(`status: ${result.status}`);
    result.ok = true;
  },
});
