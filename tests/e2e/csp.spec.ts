// The Content-Security-Policy of index.html: every view works under it (no violation, no page
// error: a model loads and generates through the engine worker, the grader's CAS runs), an inline
// script and eval are refused, and connections go only where connect-src allows.
import { expect, test, type Page } from '@playwright/test';

async function violations(page: Page): Promise<{ directive: string; blocked: string }[]> {
  return page.evaluate(() => (window as unknown as { __csp: { directive: string; blocked: string }[] }).__csp);
}

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: { directive: string; blocked: string }[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push({ directive: e.effectiveDirective, blocked: e.blockedURI }));
  });
});

test('every view works under the CSP; a model loads and generates; the grader runs', async ({ page }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const policy = await (await page.request.get('./')).text();
  expect(policy).toMatch(/http-equiv="Content-Security-Policy"[^>]*script-src 'self' 'wasm-unsafe-eval';[^>]*object-src 'none'; base-uri 'none'/);
  for (const view of ['data', 'train', 'evaluate', 'models', 'playground']) {
    await page.goto(`./?view=${view}`);
    await expect(page.getByTestId(`view-${view}`)).toBeVisible();
    await page.waitForLoadState('networkidle');
    expect(await violations(page), view).toEqual([]);
  }
  // Playground: the bundled model loads in the engine worker and a short run finishes.
  await page.getByTestId('pg-load-bundled').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  await page.getByTestId('pg-max-tokens').fill('12');
  await page.getByTestId('pg-compare-on').uncheck();
  await page.getByTestId('pg-run').click();
  await expect(page.getByTestId('pg-fingerprint')).not.toHaveText('', { timeout: 120_000 });
  // Data: the bundled pool imports through the data worker.
  await page.goto('./?view=data');
  await page.getByTestId('import-bundled').click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', /ok|partial/, { timeout: 90_000 });
  // Evaluate: the grader (numeric and symbolic, on the main thread).
  await page.goto('./?view=evaluate');
  await page.getByTestId('grade-pred').fill('(x+1)^2');
  await page.getByTestId('grade-ref').fill('x^2+2x+1');
  await page.getByTestId('grade-check').click();
  await expect(page.getByTestId('grade-verdict')).toContainText('equal');
  await expect(page.getByTestId('grade-verdict')).not.toContainText('not equal');
  expect(await violations(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test('an inline script and eval are refused; connect-src allows loopback and HTTPS, not plain HTTP elsewhere', async ({ page }) => {
  await page.goto('./?view=data');
  await expect(page.getByTestId('view-data')).toBeVisible();
  const r = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.append(s);
    // (code run by page.evaluate itself bypasses CSP; a string timer is compiled later, by the page)
    (setTimeout as unknown as (code: string, ms: number) => void)('window.__evalRan = true', 0);
    const attr = document.createElement('img');
    attr.setAttribute('onerror', 'window.__handlerRan = true');
    attr.src = 'data:,x';
    document.body.append(attr);
    const tryFetch = async (u: string) => { try { await fetch(u, { mode: 'no-cors' }); return 'ok'; } catch { return 'failed'; } };
    const lan = await tryFetch('http://10.255.255.1:9/x');
    const loop = await tryFetch(`${location.origin}/favicon.svg`);
    await new Promise((res) => setTimeout(res, 300));
    const w = window as unknown as { __inlineRan?: boolean; __handlerRan?: boolean; __evalRan?: boolean };
    return { inline: !!w.__inlineRan, handler: !!w.__handlerRan, evalRan: !!w.__evalRan, lan, loop };
  });
  expect(r).toEqual({ inline: false, handler: false, evalRan: false, lan: 'failed', loop: 'ok' });
  const v = await violations(page);
  expect(v.some((x) => x.directive === 'script-src-elem')).toBe(true);
  expect(v.some((x) => x.directive === 'script-src' && x.blocked === 'eval')).toBe(true);
  expect(v.some((x) => x.directive === 'connect-src' && x.blocked.startsWith('http://10.255.255.1'))).toBe(true);
  expect(v.some((x) => x.directive === 'connect-src' && x.blocked.startsWith(page.url().slice(0, 20)))).toBe(false);
});
