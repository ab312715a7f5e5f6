#!/usr/bin/env node
// admin_screens.mjs - the merchant's Reviews, Returns and Surveys screens of
// the aftersale WordPress plugin (wp-admin > Aftersale) in a real shop, in
// headless Chromium (Debian's /usr/bin/chromium) through playwright-core.
//
//   node tests/browser/admin_screens.mjs '<json>'
//
//   {"step": "moderate", "base", "user", "password", "profile", "shots", "review"}
//       Reviews: read the queue row of review `review`, approve it inline,
//       read the notice; then the statistics tab with its charts
//   {"step": "return", ..., "return"}
//       Returns: the queue, the request's page, approve (with instructions),
//       receive (the quantities shown), read the refund the service
//       computes, confirm it; then the report tab
//   {"step": "return_page", ..., "return"}  the request's page, read only
//   {"step": "survey_new", ..., "name"}
//       Surveys: add a survey from the post_purchase_nps template (active)
//       and land on its report
//   {"step": "survey_report", ..., "survey"}  the report: charts and figures
//
// One JSON line on stdout: {"ok", "step", ... what the step read, "console",
// "errors", "php", "scripts_run", "shots"}. Exit 0 on success, 1 on
// failure, 2 on bad arguments. Bounded: 15 s per browser action, 90 s in
// all; the browser is always closed. Screenshots of each screen go to
// spec.shots (build/artifacts/screenshots/).
//
// Used by tests/realwoo/test_admin_screens.py.

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ACTION_MS = 15000;
const TOTAL_MS = 90000;
const PHP_MESSAGE = /<b>(Notice|Warning|Deprecated|Fatal error|Parse error)<\/b>:|^(PHP )?(Notice|Warning|Deprecated|Fatal error): /m;

let spec;
try {
  spec = JSON.parse(process.argv[2] || '');
} catch (e) {
  process.stderr.write('usage: node admin_screens.mjs \'{"step": ...}\'\n');
  process.exit(2);
}
for (const k of ['step', 'base', 'user', 'password', 'profile', 'shots']) {
  if (!spec[k]) {
    process.stderr.write(`missing ${k}\n`);
    process.exit(2);
  }
}

let context = null;
const result = { ok: false, step: spec.step, console: [], errors: [], php: [], visited: [], shots: [] };

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
// sent back (as plugin_returns.mjs), the second refusal with its message.
async function login(page) {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1 || !page.url().includes('/wp-login.php')) {
      await page.goto(new URL('/wp-login.php', spec.base).toString(), { waitUntil: 'load' });
    }
    await page.locator('#user_login').fill(spec.user);
    await page.locator('#user_pass').fill(spec.password);
    await page.locator('#rememberme').check();
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('#wp-submit').click()]);
    if (!page.url().includes('/wp-login.php')) return;
    const why = (await page.locator('#login_error').count()) > 0
      ? (await page.locator('#login_error').innerText()).trim() : 'no message';
    if (attempt >= 2) throw new Error(`login as ${spec.user} failed: ${why}`);
    result.notes = (result.notes || []).concat(`login as ${spec.user} refused once (${why})`);
  }
}

async function check(page, resp) {
  const status = resp ? resp.status() : null;
  const u = new URL(page.url());
  result.visited.push(`${status} ${u.pathname}${u.search}`);
  if (status !== null && status >= 400) throw new Error(`${status} on ${u.pathname}${u.search}`);
  const html = await page.content();
  const m = html.match(PHP_MESSAGE);
  if (m) {
    const at = html.indexOf(m[0]);
    result.php.push(html.slice(Math.max(0, at - 40), at + 300).replace(/<[^>]+>/g, ''));
  }
}

// Click what submits a form and wait for the page it leads to.
async function submit(page, locator) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  await check(page, resp);
  return resp;
}

async function text(page, selector) {
  const loc = page.locator(selector);
  if (await loc.count() === 0) return null;
  return (await loc.first().innerText()).trim();
}

async function texts(page, selector) {
  return (await page.locator(selector).allInnerTexts()).map((t) => t.trim());
}

async function notices(page) {
  return texts(page, '.wrap .notice p');
}

async function shot(page, name) {
  const path = `${spec.shots}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  result.shots.push(path);
}

// What a chart offers: the svg (role img, its title), and the table beside it.
async function charts(page) {
  return page.locator('figure.aftersale-chart').evaluateAll((fs) => fs.map((f) => {
    const svg = f.querySelector('svg');
    const table = f.querySelector('table') || (f.nextElementSibling && f.nextElementSibling.tagName === 'TABLE'
      ? f.nextElementSibling : null);
    return {
      title: svg && svg.querySelector('title') ? svg.querySelector('title').textContent.trim() : null,
      role: svg ? svg.getAttribute('role') : null,
      marks: svg ? svg.querySelectorAll('circle, rect, polyline').length : 0,
      band: svg ? svg.querySelectorAll('polygon').length > 0 : false,
      rows: table ? table.querySelectorAll('tbody tr').length : 0,
      cells: table ? [...table.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent.trim())) : [],
      head: table ? [...table.querySelectorAll('thead th')].map((t) => t.textContent.trim()) : [],
    };
  }));
}

const steps = {
  async moderate(page) {
    await open(page, '/wp-admin/admin.php?page=aftersale-reviews');
    result.heading = await text(page, '.wrap h1');
    const row = page.locator(`#aftersale-review-${spec.review}`);
    result.row = (await row.count()) ? (await row.innerText()).trim() : null;
    result.row_html = (await row.count()) ? await row.innerHTML() : '';
    result.scripts_in_queue = await page.locator('#aftersale-reviews-form script').count();
    await shot(page, 'admin-reviews');
    await submit(page, row.locator(`button[value="approve:${spec.review}"]`));
    result.notices = await notices(page);
    result.still_queued = await page.locator(`#aftersale-review-${spec.review}`).count();
    await open(page, '/wp-admin/admin.php?page=aftersale-reviews&tab=stats');
    result.stats_charts = await charts(page);
    result.stats_notices = await notices(page);
    await shot(page, 'admin-reviews-stats');
    result.scripts_run = await page.evaluate(() => window.__aftersale_xss || 0);
  },

  async return(page) {
    await open(page, '/wp-admin/admin.php?page=aftersale-returns&state=requested');
    result.queue = await texts(page, '.wp-list-table tbody tr');
    await shot(page, 'admin-returns');
    await submit(page, page.locator(`a[href*="return=${spec.return}"]`).first());
    result.title = await text(page, '.wrap h2');
    // Photos come through admin-post.php (the plugin), never from the service;
    // scrolled into view (they load lazily) and waited for.
    const imgs = page.locator('.aftersale-photos img');
    for (let i = 0; i < await imgs.count(); i++) {
      await imgs.nth(i).scrollIntoViewIfNeeded();
      await imgs.nth(i).evaluate((img) => (img.complete ? null : new Promise((ok) => {
        img.addEventListener('load', ok); img.addEventListener('error', ok);
      })));
    }
    result.photos = await imgs.evaluateAll((is) => is.map((i) => ({
      src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth })));
    for (const p of result.photos) {
      const r = await page.request.get(p.src);
      p.status = r.status();
      p.type = r.headers()['content-type'];
      p.cache = r.headers()['cache-control'];
    }
    await shot(page, 'admin-return-requested');
    await page.locator('#aftersale-approve-note').fill('Send it back in its box <b>please</b>');
    await submit(page, page.locator('form.aftersale-return-approve button[type="submit"]'));
    result.after_approve = await notices(page);
    result.receive_quantities = await page.locator('form.aftersale-return-receive input[type="number"]')
      .evaluateAll((is) => is.map((i) => i.value));
    await submit(page, page.locator('form.aftersale-return-receive button[type="submit"]'));
    result.after_receive = await notices(page);
    result.preview_amount = await text(page, '.aftersale-refund-amount');
    result.confirm = await text(page, '#aftersale-resolve');
    await shot(page, 'admin-return-resolve');
    await submit(page, page.locator('#aftersale-resolve'));
    result.after_resolve = await notices(page);
    result.history = await texts(page, '.aftersale-history li');
    await open(page, '/wp-admin/admin.php?page=aftersale-returns&tab=report');
    result.report_charts = await charts(page);
    result.report_notices = await notices(page);
    result.top_products = await texts(page, '.aftersale-top-products tbody tr');
    await shot(page, 'admin-returns-report');
  },

  async return_page(page) {
    await open(page, `/wp-admin/admin.php?page=aftersale-returns&return=${spec.return}`);
    result.title = await text(page, '.wrap h2');
    result.history = await texts(page, '.aftersale-history li');
    await shot(page, 'admin-return-resolved');
  },

  async survey_new(page) {
    await open(page, '/wp-admin/admin.php?page=aftersale-surveys&view=new');
    result.templates = await page.locator('input[name="template"]').evaluateAll((is) => is.map((i) => i.value));
    await page.locator('input[name="template"][value="post_purchase_nps"]').check();
    await page.locator('#aftersale-survey-name').fill(spec.name);
    await page.locator('#aftersale-survey-status').selectOption('active');
    await shot(page, 'admin-survey-new');
    await submit(page, page.getByRole('button', { name: 'Create the survey' }));
    result.notices = await notices(page);
    result.url = page.url();
    result.title = await text(page, '.wrap h2');
  },

  async survey_report(page) {
    await open(page, `/wp-admin/admin.php?page=aftersale-surveys&view=report&survey=${spec.survey}`);
    result.title = await text(page, '.wrap h2');
    result.figures = await page.locator('.aftersale-figures li').evaluateAll((ls) => ls.map((l) => [
      l.querySelector('span').textContent.trim(), l.querySelector('strong').textContent.trim()]));
    result.charts = await charts(page);
    result.report_notices = await notices(page);
    await shot(page, 'admin-survey-report');
    await open(page, `/wp-admin/admin.php?page=aftersale-surveys&view=responses&survey=${spec.survey}`);
    result.responses = await page.locator('.wp-list-table tbody tr').count();
    await shot(page, 'admin-survey-responses');
    await open(page, '/wp-admin/admin.php?page=aftersale-surveys');
    result.list = await texts(page, '.wp-list-table tbody tr');
    await shot(page, 'admin-surveys');
  },
};

try {
  if (!steps[spec.step]) throw new Error(`unknown step ${spec.step}`);
  context = await chromium.launchPersistentContext(spec.profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
    timeout: ACTION_MS * 2,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(ACTION_MS);
  page.setDefaultNavigationTimeout(ACTION_MS * 2);
  await page.addInitScript(() => { window.__aftersale_xss = 0; });
  const origin = new URL(spec.base).origin;
  result.external = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location() && m.location().url ? m.location().url : '';
    // WooCommerce's admin asks Jetpack's REST route of a shop without Jetpack
    // (403, some page loads), and the outside world is blocked: not the
    // plugin's, kept apart (as plugin_returns.mjs does).
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
