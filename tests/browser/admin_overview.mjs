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

import { screenshot, shopScript, text, texts } from './lib.mjs';

const { spec, result, open, submit, run } = shopScript('admin_overview.mjs');

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
    await screenshot(page, spec.shot);
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
    await screenshot(page, spec.shot);
  },

  async settings(page) {
    await open(page, '/wp-admin/admin.php?page=aftersale-loyalty&tab=settings');
    result.points_per_unit = await page.locator('#aftersale-ppu').inputValue();
    result.tiers = await page.locator('table.aftersale-tiers input[name$="[name]"]').evaluateAll((is) => is.map((i) => i.value));
    await submit(page, page.getByRole('button', { name: 'Save loyalty settings' }));
    result.final_url = page.url();
    result.notices = await texts(page, '.aftersale-notice');
    await screenshot(page, spec.shot);
  },
};


await run(steps, { launch: { viewport: { width: 1280, height: 1200 } } });
