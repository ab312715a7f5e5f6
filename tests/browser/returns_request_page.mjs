#!/usr/bin/env node
// returns_request_page.mjs - the customer's page of a return request
// (GET /returns/requests/{id}?token=) in a real (headless) Chromium:
// Debian's /usr/bin/chromium driven by playwright-core.
//
//   node tests/browser/returns_request_page.mjs <page url> <screenshot.png>
//
// It opens the page from the link the portal gave, reads it through the
// accessibility tree as a screen reader would (the headings, the tables
// and their column headers, the history's rows), saves a full-page
// screenshot, then presses "Cancel this return" and reads the page it
// gets back. Prints one JSON line on stdout: {"ok", "title", "state",
// "headings", "tables", "history", "after", "status", "images", "requests",
// "failed", "console", "errors"}. Exit 0 on success, 1 when something
// failed, 2 on bad arguments. Bounded: 10 s per browser action, 45 s in
// all; the browser and its profile are always removed. Used by
// tests/integration/test_returns_portal_history.py.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ACTION_MS = 10000;
const TOTAL_MS = 45000;

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  process.stderr.write('usage: node returns_request_page.mjs <page url> <screenshot.png>\n');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'aftersale-chromium-'));
let context = null;
const result = { ok: false, title: null, state: null, headings: [], tables: [], history: [],
  after: null, status: null, images: [], requests: [], failed: [], console: [], errors: [] };

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
  rmSync(profile, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(code);
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 900, height: 1100 },
    timeout: ACTION_MS * 2,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(ACTION_MS);
  page.on('console', (m) => result.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => result.errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => result.requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  context.on('response', (r) => {
    if (r.status() >= 400) result.failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });

  const resp = await page.goto(url, { waitUntil: 'load' });
  if (!resp || resp.status() !== 200) throw new Error(`GET: ${resp ? resp.status() : 'no response'}`);
  result.title = await page.title();
  result.state = (await page.locator('#state').textContent()).trim();
  result.headings = await page.getByRole('heading').allTextContents();
  // each table with its column headers, as the accessibility tree has them
  for (const t of await page.getByRole('table').all()) {
    result.tables.push(await t.getByRole('columnheader').allTextContents());
  }
  result.history = await page.locator('#history tbody tr').evaluateAll(
    (rows) => rows.map((r) => Array.from(r.cells).map((c) => c.innerText.trim())));
  result.images = await page.$$eval('#photos img', (imgs) => imgs.map((i) => ({
    complete: i.complete, width: i.naturalWidth, alt: i.alt,
  })));
  await page.screenshot({ path: shot, fullPage: true });
  // the customer cancels: a plain form post, no script
  const [nav] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: 'Cancel this return' }).click()]);
  result.after = (await page.locator('#state').textContent()).trim();
  result.status = (await page.getByRole('status').textContent()).trim();
  if (!nav || nav.status() !== 200) throw new Error(`cancel: ${nav ? nav.status() : 'no response'}`);
  result.ok = true;
  await finish(0);
} catch (e) {
  result.errors.push(e.message.split('\n')[0]);
  await finish(1);
}
