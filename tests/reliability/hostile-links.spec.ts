// Hostile links: random and corrupt hashes, deflate bombs, deeply nested and oversized recipes,
// wrong types, script payloads in every text field, key-like strings, "#R=" upper case, and valid
// but costly recipes. With a model loaded, a costly link must show its cost and not run; no link
// may run script, throw, or make a banner longer than the message cap.
import { expect, test } from '@playwright/test';
import { deflateSync, strToU8 } from 'fflate';
import { encodeRecipe, MAX_MESSAGE, toBase64Url } from '../../src/share/codec.ts';
import { recipeCost } from '../../src/share/link-cost.ts';
import type { Recipe } from '../../src/domain/recipe.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { count, installHooks, newHooks, readHooks, report, watchPage } from './support.ts';

const LINKS = count(100, 1000);
const base: Recipe = {
  v: 1, model: 'bundled:tiny-world', problem: { kind: 'text', text: 'What is 2 + 3?' }, seed: 1,
  sampling: { temperature: 0.8, topP: 0.95, topK: 5, maxNewTokens: 4 }, interventions: {},
};
const pack = (json: string) => `#r=1.${toBase64Url(deflateSync(strToU8(json), { level: 9 }))}`;
const XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)', '$\\href{javascript:alert(1)}{x}$', '{{constructor.constructor("alert(1)")()}}', '"><svg onload=alert(1)>'];

type Kind = 'garbage' | 'bomb' | 'nested' | 'types' | 'xss' | 'private' | 'upper' | 'costly' | 'small';
function link(rnd: () => number, i: number): { kind: Kind; hash: string } {
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  // Links that run (small, upper) only among the first 18, so the count of links stays cheap.
  const kinds: Kind[] = i < 18 ? ['garbage', 'bomb', 'nested', 'types', 'xss', 'private', 'upper', 'costly', 'small'] : ['garbage', 'bomb', 'nested', 'types', 'xss', 'private', 'costly'];
  const kind = kinds[i % kinds.length];
  switch (kind) {
    case 'garbage': return { kind, hash: `#r=1.${Array.from({ length: 1 + Math.floor(rnd() * 3000) }, () => String.fromCharCode(33 + Math.floor(rnd() * 94))).join('')}` };
    case 'bomb': return { kind, hash: pack(`{"v":1,"model":"${'A'.repeat(2_000_000)}"}`) };
    case 'nested': { const d = 1000 + Math.floor(rnd() * 30000); return { kind, hash: pack(`{"v":${'['.repeat(d)}${']'.repeat(d)}}`) }; }
    case 'types': {
      const r = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
      const k = pick(['v', 'model', 'problem', 'seed', 'sampling', 'interventions', 'compare']);
      r[k] = pick([null, 1e308, -1, 'x'.repeat(20000), [], {}, true, { __proto__: { polluted: 1 } }]);
      return { kind, hash: pack(JSON.stringify(r)) };
    }
    case 'xss': {
      const r = JSON.parse(JSON.stringify(base)) as Recipe;
      r.problem = { kind: 'text', text: `${pick(XSS)} ${'$x$ '.repeat(Math.floor(rnd() * 50))}`, reference: pick(XSS) };
      r.sampling = { ...r.sampling, maxNewTokens: 4096 }; // over the bound: shown with its cost, not run
      r.interventions = { budget: { minThinking: 0, maxThinking: 0, extension: pick(XSS).slice(0, 100), answerPhrase: 'Final Answer:', endMarkers: [pick(XSS).slice(0, 40)], maxAnswerTokens: 4 } };
      return { kind, hash: encodeRecipe(r) };
    }
    case 'private': return { kind, hash: pack(JSON.stringify({ ...base, problem: { kind: 'text', text: `my key sk-${'a1'.repeat(20)} /home/me/x` } })) };
    case 'upper': return { kind, hash: `#R=${encodeRecipe({ ...base, seed: i }).slice(3)}` };
    case 'costly': {
      const r: Recipe = { ...base, seed: i, sampling: { ...base.sampling, maxNewTokens: 256 + Math.floor(rnd() * 7937) }, interventions: { consistency: { n: 2 + Math.floor(rnd() * 31) }, verify: { threshold: 0.5, action: 'resample', maxResamples: 8, checkPhrase: 'check' } } };
      return { kind, hash: encodeRecipe(r) };
    }
    case 'small': return { kind, hash: encodeRecipe({ ...base, seed: i }) };
  }
}

test('hostile links: no script, no page error, bounded banners; costly links wait for a click', async ({ page }) => {
  test.setTimeout(count(240_000, 900_000));
  const hooks = newHooks();
  await installHooks(page);
  watchPage(page, hooks);
  await page.goto('./?view=playground');
  await page.getByTestId('pg-load-bundled').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  const rnd = mulberry32(99);
  const byKind: Record<string, number> = {};
  let longBanners = 0, costlyRan = 0, costlyShown = 0, refused = 0, opened = 0, upperRead = 0, autoRan = 0;
  for (let i = 0; i < LINKS; i++) {
    const { kind, hash } = link(rnd, i);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    await page.evaluate((h) => { location.hash = h; }, hash);
    if (kind === 'small' || kind === 'upper') {
      // Small recipes run on their own (model loaded): a saved run appears.
      const ran = await expect.poll(() => page.getByTestId('pg-saved').locator('li').count(), { timeout: 120_000 }).toBe(autoRan + 1).then(() => true, () => false);
      await expect(page.getByTestId('pg-run')).toBeEnabled({ timeout: 120_000 });
      if (await page.getByTestId('pg-link-error').count()) refused++; else opened++;
      if (ran) autoRan++;
      if (ran && kind === 'upper') upperRead++;
      continue;
    }
    if (kind === 'costly' || kind === 'xss') {
      const shown = await page.getByTestId('pg-link-confirm').waitFor({ timeout: 10_000 }).then(() => true, () => false);
      if (shown) costlyShown++;
      if (await page.getByTestId('pg-progress').count()) costlyRan++;
      await page.getByTestId('pg-link-dismiss').click().catch(() => {});
      continue;
    }
    const err = page.getByTestId('pg-link-error');
    const got = await err.waitFor({ timeout: 10_000 }).then(() => true, () => false);
    if (got) {
      refused++;
      if ((await err.innerText()).length > MAX_MESSAGE) longBanners++;
    } else opened++;
    if (await page.getByTestId('pg-progress').count()) costlyRan++;
  }
  await readHooks(page, hooks);
  const polluted = await page.evaluate(() => 'polluted' in ({} as object));
  const exec = hooks.alerts + hooks.injected + hooks.dialogs;
  report('hostile links', {
    links: LINKS, ...Object.fromEntries(Object.entries(byKind).map(([k, v]) => [`kind ${k}`, v])), refused, opened,
    'small links run unasked': autoRan, 'costly links shown with cost': costlyShown, 'costly links run unasked': costlyRan,
    '"#R=" read': upperRead, 'banners over the cap': longBanners, 'script executions': exec, 'page errors': hooks.pageErrors.length,
  });
  expect({ longBanners, costlyRan, exec, errors: hooks.pageErrors, polluted, costlyShown, upperRead }).toEqual({
    longBanners: 0, costlyRan: 0, exec: 0, errors: [], polluted: false, costlyShown: (byKind.costly ?? 0) + (byKind.xss ?? 0), upperRead: byKind.upper ?? 0,
  });
  // The cost bound in words (the unit test covers recipeCost itself).
  expect(recipeCost({ ...base, sampling: { ...base.sampling, maxNewTokens: 8192 } }).autoRun).toBe(false);
});
