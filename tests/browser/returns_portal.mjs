#!/usr/bin/env node
// returns_portal.mjs - a guest returns an item through aftersale's returns
// portal (GET/POST /returns) in a real (headless) Chromium, with a photo:
// Debian's /usr/bin/chromium driven by playwright-core.
//
//   node tests/browser/returns_portal.mjs <portal url> <screenshot.png> <order> <email> <line item id> <photo file>
//
// It types the order number and the billing email, finds the order, picks
// quantity 1 and the reason "damaged" for the line, types a note, attaches
// the photo with the line's file input (as a person would with the file
// chooser), sends, and waits for the request page with its RMA number and
// the photo shown (the <img> loaded: naturalWidth > 0). Then it saves a
// full-page screenshot and prints one JSON line on stdout: {"ok", "rma",
// "state", "title", "images", "requests", "failed", "console", "errors"}. Exit 0 on
// success, 1 when something on the page failed, 2 on bad arguments.
// Bounded: 10 s per browser action, 45 s in all; the browser and its
// profile directory are always removed. Used by
// tests/integration/test_returns_portal_browser.py.

import { openOk, recordPage, runInBrowser } from './lib.mjs';

const [url, shot, order, email, line, photo] = process.argv.slice(2);
if (!url || !shot || !/^\d+$/.test(order || '') || !email || !/^\d+$/.test(line || '') || !photo) {
  process.stderr.write('usage: node returns_portal.mjs <url> <screenshot.png> <order> <email> <line item id> <photo file>\n');
  process.exit(2);
}

const result = { ok: false, rma: null, state: null, title: null, images: [], requests: [], failed: [], console: [], errors: [] };

await runInBrowser({
  result,
  actionMs: 10000,
  totalMs: 45000,
  async body(page, context) {
    recordPage(page, result);
    // what answered an error, so a console "404" can be told apart (Chromium
    // asks for /favicon.ico by itself)
    context.on('response', (r) => {
      if (r.status() >= 400) result.failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });

    await openOk(page, url);
    // the look-up, through the labels as a person reads them
    await page.getByLabel('Order number').fill(order);
    await page.getByLabel('Billing email').fill(email);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Find my order' }).click()]);
    // the line: quantity, reason, note, photo
    await page.locator(`#q${line}`).selectOption('1');
    await page.locator(`#r${line}`).selectOption('damaged');
    await page.locator(`#n${line}`).fill('Arrived <b>cracked</b>');
    await page.locator(`#p${line}`).setInputFiles(photo);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Send my return request' }).click()]);
    result.title = await page.title();
    result.rma = (await page.locator('#rma').textContent()).trim();
    result.state = (await page.locator('#state').textContent()).trim();
    // every photo on the page is loaded and decoded by the browser
    result.images = await page.$$eval('#photos img', (imgs) => imgs.map((i) => ({
      complete: i.complete, width: i.naturalWidth, alt: i.alt,
    })));
    await page.screenshot({ path: shot, fullPage: true });
    if (!/^R-\d+$/.test(result.rma)) throw new Error(`rma: ${result.rma}`);
    if (result.images.length === 0 || result.images.some((i) => !i.complete || i.width === 0)) {
      throw new Error(`photos not shown: ${JSON.stringify(result.images)}`);
    }
    result.ok = true;
  },
});
