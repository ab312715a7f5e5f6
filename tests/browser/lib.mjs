// lib.mjs - what every browser script in tests/browser shares: Debian's
// /usr/bin/chromium launched through playwright-core, the time bounds (a
// watchdog, the browser always closed), the one JSON line on stdout, and
// for the real-shop scripts (plugin_*.mjs, admin_*.mjs) the JSON argument,
// WordPress's login, the per-page checks (status, PHP messages) and the
// console capture.
//
// Two ways in:
//   runInBrowser({...})   the service's own pages (review_page.mjs,
//                         survey_page.mjs, returns_portal.mjs): a throwaway
//                         profile, every console message kept
//   shopScript(name, {...}) then .run(steps, {...})   the real shop: a step
//                         named in the JSON argument, a profile the caller
//                         keeps between steps

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Flags for a quiet headless Chromium in a container (no sandbox, nothing
// fetched from the internet by the browser itself).
export const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A PHP message printed into a page, as HTML (display_errors) or as text.
export const PHP_MESSAGE = /<b>(Notice|Warning|Deprecated|Fatal error|Parse error)<\/b>:|^(PHP )?(Notice|Warning|Deprecated|Fatal error): /m;

// Launch Chromium on `profile` (a --user-data-dir) and run `body(page,
// context)` within `totalMs`, each browser action bounded by `actionMs`.
// `result` is printed as one JSON line at the end, whatever happens; the exit
// code is 0 when the body left result.ok true, else 1 (a thrown error and the
// watchdog land in result.errors). Without `profile` a throwaway one is made
// and removed. `launch` adds to playwright's launch options (viewport,
// locale, acceptDownloads); `navigationMs` bounds navigations apart.
export async function runInBrowser({ result, body, profile = null, actionMs, totalMs, navigationMs = null, launch = {} }) {
  const temporary = profile ? null : mkdtempSync(join(tmpdir(), 'aftersale-chromium-'));
  let context = null;

  async function finish(code) {
    clearTimeout(watchdog);
    try {
      if (context) await context.close();
    } catch (e) {
      result.errors.push(`close: ${e.message}`);
    }
    if (temporary) rmSync(temporary, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(code);
  }

  const watchdog = setTimeout(async () => {
    result.errors.push(`gave up after ${totalMs} ms`);
    await finish(1);
  }, totalMs);

  try {
    // A persistent context is how playwright takes a --user-data-dir.
    context = await chromium.launchPersistentContext(profile || temporary, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 900, height: 1100 },
      ...launch,
      timeout: actionMs * 2,
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(actionMs);
    if (navigationMs) page.setDefaultNavigationTimeout(navigationMs);
    await body(page, context);
    await finish(result.ok ? 0 : 1);
  } catch (e) {
    result.errors.push(e.message.split('\n')[0]);
    await finish(1);
  }
}

// The service's pages: every console message (`type: text`), page errors,
// and every request the page made (method and path).
export function recordPage(page, result) {
  page.on('console', (m) => result.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => result.errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => result.requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
}

// Load `url` and fail unless it answers 200.
export async function openOk(page, url) {
  const resp = await page.goto(url, { waitUntil: 'load' });
  if (!resp || resp.status() !== 200) throw new Error(`GET ${url}: ${resp ? resp.status() : 'no response'}`);
  return resp;
}

// The trimmed text of the first element matching `selector`, null when none.
export async function text(page, selector) {
  const loc = page.locator(selector);
  if (await loc.count() === 0) return null;
  return (await loc.first().innerText()).trim();
}

// The trimmed texts of every element matching `selector`.
export async function texts(page, selector) {
  return (await page.locator(selector).allInnerTexts()).map((t) => t.trim());
}

// A full-page screenshot at `path`, when the caller asked for one.
export async function screenshot(page, path) {
  if (path) await page.screenshot({ path, fullPage: true });
}

const SHOP_ACTION_MS = 15000;
const SHOP_TOTAL_MS = 90000;

// A real-shop script: reads the JSON argument (exit 2 when it is not JSON or
// lacks one of `required`) and returns {spec, result, open, login, check,
// submit, run, ACTION_MS}. `result` starts as {ok, step, console, errors,
// php, visited, ...extra}. With `httpErrorsFail`, a page answering 400 or
// more fails the step (check throws).
export function shopScript(name, { required = ['step', 'base', 'user', 'password', 'profile'], extra = {}, httpErrorsFail = false } = {}) {
  let spec;
  try {
    spec = JSON.parse(process.argv[2] || '');
  } catch (e) {
    process.stderr.write(`usage: node ${name} '{"step": ...}'\n`);
    process.exit(2);
  }
  for (const k of required) {
    if (!spec[k]) {
      process.stderr.write(`missing ${k}\n`);
      process.exit(2);
    }
  }
  const result = { ok: false, step: spec.step, console: [], errors: [], php: [], visited: [], ...extra };

  // Every page: its status and any PHP message printed into it.
  async function check(page, resp) {
    const status = resp ? resp.status() : null;
    const u = new URL(page.url());
    result.visited.push(`${status} ${u.pathname}${u.search}`);
    if (httpErrorsFail && status !== null && status >= 400) throw new Error(`${status} on ${u.pathname}${u.search}`);
    const html = await page.content();
    const m = html.match(PHP_MESSAGE);
    if (m) {
      const at = html.indexOf(m[0]);
      result.php.push(html.slice(Math.max(0, at - 40), at + 300).replace(/<[^>]+>/g, ''));
    }
  }

  // WordPress's login form. One more try, on a fresh wp-login.php, when
  // WordPress sends the form back (seen once in a full CI run, cause not
  // found); the second refusal fails the step with WordPress's own message.
  async function login(page) {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 || !page.url().includes('/wp-login.php')) {
        await page.goto(new URL('/wp-login.php', spec.base).toString(), { waitUntil: 'load' });
      }
      await page.locator('#user_login').fill(spec.user);
      await page.locator('#user_pass').fill(spec.password);
      // "Remember me": the login cookies outlive this browser, so the next
      // step (a new browser on the same profile) is the same WordPress
      // session, and the nonces a page of this session printed still verify.
      await page.locator('#rememberme').check();
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('#wp-submit').click()]);
      if (!page.url().includes('/wp-login.php')) return;
      const why = (await page.locator('#login_error').count()) > 0
        ? (await page.locator('#login_error').innerText()).trim() : 'no message';
      if (attempt >= 2) throw new Error(`login as ${spec.user} failed: ${why}`);
      result.notes = (result.notes || []).concat(`login as ${spec.user} refused once (${why})`);
    }
  }

  // Go to a page (a path of the shop); log in first when WordPress or
  // WooCommerce's My Account asks for it. Checks the page, returns the response.
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

  // Click what submits a form, wait for the page it leads to and check it.
  async function submit(page, locator) {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
    await check(page, resp);
    return resp;
  }

  // Console errors of the shop's pages go to result.console (the tests want
  // it empty); failed loads of other hosts (the test shop has no internet)
  // and WooCommerce admin's Jetpack REST route (403 without Jetpack) are not
  // the plugin's: kept apart in result.external.
  function recordShopConsole(page) {
    const origin = new URL(spec.base).origin;
    result.external = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const where = m.location() && m.location().url ? m.location().url : '';
      const jetpack = where.startsWith(`${origin}/wp-json/jetpack/`);
      if (m.text().startsWith('Failed to load resource') && where && (!where.startsWith(origin) || jetpack)) {
        result.external.push(where);
      } else {
        result.console.push(`${m.text()} ${where}`.trim());
      }
    });
    page.on('pageerror', (e) => result.errors.push(`pageerror: ${e.message}`));
  }

  // Run the step `spec.step` of `steps` (each an async function of the page)
  // in the caller's profile; ok when nothing landed in result.errors.
  // `launch` adds to the launch options; `initScript` runs in every page.
  function run(steps, { launch = {}, initScript = null } = {}) {
    return runInBrowser({
      result,
      profile: spec.profile,
      actionMs: SHOP_ACTION_MS,
      totalMs: SHOP_TOTAL_MS,
      navigationMs: SHOP_ACTION_MS * 2,
      launch: { viewport: { width: 1100, height: 1200 }, ...launch },
      async body(page) {
        if (!steps[spec.step]) throw new Error(`unknown step ${spec.step}`);
        if (initScript) await page.addInitScript(initScript);
        recordShopConsole(page);
        await steps[spec.step](page);
        result.ok = result.errors.length === 0;
      },
    });
  }

  return { spec, result, open, login, check, submit, run, ACTION_MS: SHOP_ACTION_MS };
}
