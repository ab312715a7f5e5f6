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

import { screenshot, shopScript, text, texts } from './lib.mjs';

const { spec, result, open, submit, run } = shopScript('admin_screens.mjs', {
  required: ['step', 'base', 'user', 'password', 'profile', 'shots'],
  extra: { shots: [] },
  httpErrorsFail: true, // a page answering 4xx/5xx fails the step
});

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


await run(steps, {
  launch: { viewport: { width: 1280, height: 1000 } },
  initScript: () => { window.__aftersale_xss = 0; },
});
