#!/usr/bin/env node
// admin_overview.mjs - the aftersale plugin's wp-admin screens in a real
// shop, in headless Chromium (Debian's /usr/bin/chromium) through
// playwright-core: Aftersale > Overview and Aftersale > Loyalty.
//
//   node tests/browser/admin_overview.mjs '<json>'
//
//   {"step": "overview", "base", "user", "password", "profile", "shot", "query"}
//       opens Aftersale > Overview (with `query`, e.g. "&range=30") and reads
//       the menu's bubbles, every figure (data-figure, data-value, text,
//       link), the period's bounds, the charts (svg role/aria, their
//       tables) and any notice
//   {"step": "adjust", ..., "email", "points", "note", "shot"}
//       Aftersale > Loyalty: searches `email`, opens the account, adjusts
//       `points` with `note`, reads the notice and the ledger's first rows
//   {"step": "settings", ..., "shot"}  opens the settings tab, saves it
//       unchanged, reads the notice
//
// One JSON line on stdout: {"ok", "step", ... what the step read, "console",
// "errors", "php", "external"}; `php` lists PHP messages found in any page's
// HTML. Exit 0 on success, 1 on failure, 2 on bad arguments. Bounded: 15 s
// per browser action, 90 s in all; the browser is always closed.
//
// Used by tests/realwoo/test_admin_overview.py.

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ACTION_MS = 15000;
const TOTAL_MS = 90000;
const PHP_MESSAGE = /<b>(Notice|Warning|Deprecated|Fatal error|Parse error)<\/b>:|^(PHP )?(Notice|Warning|Deprecated|Fatal error): /m;

let spec;
try {
  spec = JSON.parse(process.argv[2] || '');
} catch (e) {
  process.stderr.write('usage: node admin_overview.mjs \'{"step": ...}\'\n');
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
  if (page.url().includes('/wp-login.php')) {
    await login(page);
    resp = await page.goto(url, { waitUntil: 'load' });
  }
  await check(page, resp);
  return resp;
}

// WordPress's login form; one more try on a fresh wp-login.php when it is
// sent back (as plugin_returns.mjs does).
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

async function submit(page, button) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  await check(page, resp);
  return resp;
}

const steps = {
  async overview(page) {
    const resp = await open(page, `/wp-admin/admin.php?page=aftersale${spec.query || ''}`);
    result.status = resp ? resp.status() : null;
    result.title = await text(page, '.aftersale-overview h1');
    result.menu = await text(page, '#toplevel_page_aftersale > a');
    result.bubble = await text(page, '#toplevel_page_aftersale > a .awaiting-mod');
    result.submenu = await texts(page, '#toplevel_page_aftersale .wp-submenu a');
    result.styles = await page.locator('link#aftersale-admin-css').count();
    result.error = await text(page, '.aftersale-overview__error');
    const cards = page.locator('.aftersale-cards');
    if (await cards.count()) {
      result.period = await cards.evaluate((c) => ({ from: c.dataset.from, to: c.dataset.to, prev_from: c.dataset.prevFrom }));
    }
    result.figures = await page.locator('.aftersale-card').evaluateAll((cs) => cs.map((c) => ({
      id: c.dataset.figure,
      value: c.dataset.value,
      text: c.querySelector('.aftersale-card__value').textContent.trim(),
      previous: c.querySelector('.aftersale-card__previous') ? c.querySelector('.aftersale-card__previous').textContent.trim() : null,
      href: c.getAttribute('href'),
    })));
    result.charts = await page.locator('figure.aftersale-chart').evaluateAll((fs) => fs.map((f) => {
      const svg = f.querySelector('svg');
      const named = svg ? document.getElementById(svg.getAttribute('aria-labelledby')) : null;
      return {
        id: f.id,
        role: svg ? svg.getAttribute('role') : null,
        name: named ? named.textContent.trim() : null,
        width: svg ? svg.getBoundingClientRect().width : 0,
        lines: f.querySelectorAll('svg polyline').length,
        bands: f.querySelectorAll('svg polygon').length,
        rows: Array.from(f.querySelectorAll('table tbody tr')).map((tr) => Array.from(tr.children).map((c) => c.textContent.trim())),
      };
    }));
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
  },

  async adjust(page) {
    await open(page, '/wp-admin/admin.php?page=aftersale-loyalty');
    await page.locator('#aftersale-email').fill(spec.email);
    await submit(page, page.getByRole('button', { name: 'Search accounts' }));
    result.found = await page.locator('table.aftersale-accounts tr[data-account]').evaluateAll((rs) => rs.map((r) => Number(r.dataset.account)));
    if (result.found.length !== 1) throw new Error(`accounts found: ${result.found}`);
    await submit(page, page.locator('table.aftersale-accounts tr[data-account] a').first());
    result.summary = await text(page, '.aftersale-account__summary');
    await page.locator('#aftersale-points').fill(String(spec.points));
    await page.locator('#aftersale-note').fill(spec.note);
    await submit(page, page.getByRole('button', { name: 'Adjust', exact: true }));
    result.final_url = page.url();
    result.notices = await texts(page, '.aftersale-notice');
    result.summary_after = await text(page, '.aftersale-account__summary');
    result.ledger = await page.locator('table.aftersale-ledger tbody tr[data-entry]').evaluateAll((rs) => rs.slice(0, 3).map((r) => ({
      id: Number(r.dataset.entry),
      delta: Number(r.dataset.delta),
      note: r.querySelector('.aftersale-ledger__note').textContent,
      note_html: r.querySelector('.aftersale-ledger__note').innerHTML,
    })));
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
  },

  async settings(page) {
    await open(page, '/wp-admin/admin.php?page=aftersale-loyalty&tab=settings');
    result.points_per_unit = await page.locator('#aftersale-ppu').inputValue();
    result.tiers = await page.locator('table.aftersale-tiers input[name$="[name]"]').evaluateAll((is) => is.map((i) => i.value));
    await submit(page, page.getByRole('button', { name: 'Save loyalty settings' }));
    result.final_url = page.url();
    result.notices = await texts(page, '.aftersale-notice');
    if (spec.shot) await page.screenshot({ path: spec.shot, fullPage: true });
  },
};

try {
  if (!steps[spec.step]) throw new Error(`unknown step ${spec.step}`);
  context = await chromium.launchPersistentContext(spec.profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1200 },
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
    // Failed loads of other hosts (the test shop has no internet) and
    // WooCommerce admin's Jetpack route (403 without Jetpack) are not the
    // plugin's: kept apart, as plugin_returns.mjs does.
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
