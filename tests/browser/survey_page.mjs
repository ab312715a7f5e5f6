#!/usr/bin/env node
// survey_page.mjs - a customer answers aftersale's survey page (/s/{token})
// in a real (headless) Chromium with the KEYBOARD only: Debian's
// /usr/bin/chromium driven by playwright-core.
//
//   node tests/browser/survey_page.mjs <survey link> <screenshot.png> detractor|promoter
//
// The page has no script: the conditions are applied by the server, so the
// follow-up question appears after the score is posted.
//
//   detractor: Tab to the NPS group, Space + ArrowRight x3 (score 3), Tab to
//     "Anything else?" and type, Enter on the button; the page comes back
//     with "What went wrong?"; submitting it empty gives the error (role
//     alert, tied to the field) with the typed text kept; screenshot; type
//     the answer, submit, thank-you.
//   promoter: score 10, submit; the page asks "What did you like most?";
//     Space on its first choice, submit, thank-you.
//
// At every step it checks that every visible control has a label, every
// fieldset a legend, and the page no script. Prints one JSON line on
// stdout: {"ok", "steps", "unlabelled", "scripts", "lang", "title",
// "console", "errors", ...}. Exit 0 on success, 1 when something failed,
// 2 on bad arguments. Bounded: 10 s per action, 45 s in all; the browser
// and its profile directory are always removed. Used by
// tests/integration/test_surveys_browser.py.
//
// Set up: cd tests/browser && npm install --no-audit --no-fund
//         apt-get install -y chromium   (scripts/install-deps)

import { openOk, recordPage, runInBrowser } from './lib.mjs';

const [url, shot, path] = process.argv.slice(2);
if (!url || !shot || !['detractor', 'promoter'].includes(path)) {
  process.stderr.write('usage: node survey_page.mjs <url> <screenshot.png> detractor|promoter\n');
  process.exit(2);
}

const result = {
  ok: false, path, steps: [], unlabelled: [], fieldsets_without_legend: 0, scripts: 0,
  lang: null, title: null, requests: [], console: [], errors: [],
};

let page;

// What a screen reader needs of the page as it is now.
async function audit(name) {
  const a = await page.evaluate(() => {
    const visible = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
    const unlabelled = [];
    for (const el of document.querySelectorAll('input:not([type=hidden]), textarea, select')) {
      if (visible(el) && (!el.labels || el.labels.length === 0)) unlabelled.push(el.id || el.name);
    }
    return {
      unlabelled,
      noLegend: [...document.querySelectorAll('fieldset')].filter((f) => !f.querySelector(':scope > legend')).length,
      scripts: document.scripts.length,
      h1: (document.querySelector('h1') || {}).textContent || '',
      legends: [...document.querySelectorAll('legend')].map((l) => l.textContent.trim()),
      labels: [...document.querySelectorAll('label')].map((l) => l.textContent.trim()),
      alert: (document.querySelector('[role=alert]') || {}).textContent || null,
      status: (document.querySelector('[role=status]') || {}).textContent || null,
    };
  });
  result.unlabelled.push(...a.unlabelled);
  result.fieldsets_without_legend += a.noLegend;
  result.scripts += a.scripts;
  result.steps.push({ name, h1: a.h1.trim(), legends: a.legends, labels: a.labels, alert: a.alert, status: a.status });
  return a;
}

// Press Tab until the focus is on an element matching `selector`.
async function tabTo(selector, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

// Submit with Enter on the focused button and wait for the next page.
async function submit() {
  await tabTo('button[type=submit]');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

// Choose a score in the NPS group: Space checks the first radio, each
// ArrowRight the next one.
async function score(n) {
  await tabTo('input[name="a.nps"]');
  await page.keyboard.press('Space');
  for (let i = 0; i < n; i++) await page.keyboard.press('ArrowRight');
  result.checked = await page.locator('input[name="a.nps"]:checked').getAttribute('value');
}

await runInBrowser({
  result,
  actionMs: 10000,
  totalMs: 45000,
  async body(p) {
    page = p;
    recordPage(page, result);

    await openOk(page, url);
    result.title = await page.title();
    result.lang = await page.getAttribute('html', 'lang');
    await audit('start');

    if (path === 'detractor') {
      await score(3);
      await tabTo('#a-more');
      await page.keyboard.type('The box was dented.');
      await submit();
      await audit('follow-up');
      // Submitted without the required answer: the error, the text kept.
      await submit();
      const err = await audit('error');
      result.error_status = err.alert ? 'alert' : null;
      result.kept_more = await page.inputValue('#a-more');
      result.wrong_described_by = await page.getAttribute('#a-wrong', 'aria-describedby');
      result.error_text = (await page.textContent('#e-wrong')).trim();
      await page.screenshot({ path: shot, fullPage: true });
      await tabTo('#a-wrong');
      await page.keyboard.type('It came a week late.');
      await submit();
    } else {
      await score(10);
      await submit();
      await audit('follow-up');
      await tabTo('input[name="a.liked"]');
      await page.keyboard.press('Space');
      result.liked = await page.locator('input[name="a.liked"]:checked').getAttribute('value');
      await page.screenshot({ path: shot, fullPage: true });
      await submit();
    }
    const end = await audit('end');
    if (!end.h1.startsWith('Thank you')) throw new Error(`last page: ${end.h1}`);
    result.ok = true;
  },
});
