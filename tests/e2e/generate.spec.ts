// Generation in the app: load the bundled tiny model in the Models view, stream tokens from the
// engine worker (WebGPU kernels), reproduce a seed, and stop a long generation mid-sequence.
import { expect, test, type Page } from '@playwright/test';

async function loadTiny(page: Page): Promise<void> {
  await page.goto('./?view=models');
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
  await page.getByTestId('load-bundled').click();
  await expect(page.getByTestId('model-info')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('generate-panel')).toBeVisible();
}

async function generateOnce(page: Page, maxTokens: number, seed: number): Promise<string> {
  await page.getByTestId('gen-max').fill(String(maxTokens));
  await page.getByTestId('gen-seed').fill(String(seed));
  await page.getByTestId('gen-run').click();
  await expect(page.getByTestId('gen-stop-reason')).toHaveText(/length|eos/, { timeout: 90_000 });
  return (await page.getByTestId('gen-output').textContent()) ?? '';
}

test('streams tokens with entropies from the worker, and a seed reproduces the text', async ({ page }) => {
  await loadTiny(page);
  const first = await generateOnce(page, 8, 7);
  const toks = page.getByTestId('gen-token');
  const n = await toks.count();
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(8);
  // Entropy lies in [0, log V]. The trained student is near-certain on many steps (entropies far
  // below 1e-3, so the attribute carries full precision), but a sampled step is never exactly certain.
  const hs = await toks.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-entropy'))));
  for (const h of hs) {
    expect(h).toBeGreaterThanOrEqual(0);
    expect(h).toBeLessThanOrEqual(Math.log(512) + 1e-3);
  }
  expect(Math.max(...hs)).toBeGreaterThan(0);
  await expect(page.getByTestId('gen-stats')).toContainText(/decode [\d.]+ tok\/s/);
  expect(await generateOnce(page, 8, 7)).toBe(first);
  const other = await generateOnce(page, 8, 8);
  expect(other).not.toBe(first);
  await expect(page.getByTestId('gen-error')).toHaveCount(0);
});

test('Stop cancels a long generation mid-sequence', async ({ page, baseURL }) => {
  // The random-weights models/tiny (by URL): the tiny-world student ends its answers with EOS within a
  // few tokens, so a generation long enough to stop needs a model that never learned to stop.
  await page.goto('./?view=models');
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
  await page.getByTestId('model-url').fill(new URL('models/tiny/', baseURL).href);
  await page.getByTestId('load-url').click();
  await expect(page.getByTestId('model-info')).toBeVisible({ timeout: 90_000 });
  await page.getByTestId('gen-max').fill('2000');
  await page.getByTestId('gen-run').click();
  await expect.poll(() => page.getByTestId('gen-token').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
  await page.getByTestId('gen-stop').click();
  await expect(page.getByTestId('gen-stop-reason')).toHaveText('cancelled', { timeout: 30_000 });
  const n = await page.getByTestId('gen-token').count();
  expect(n).toBeLessThan(2000);
  // the engine is free again: a new generation runs
  await page.getByTestId('gen-max').fill('3');
  await page.getByTestId('gen-run').click();
  await expect(page.getByTestId('gen-stop-reason')).toHaveText(/length|eos/, { timeout: 60_000 });
});
