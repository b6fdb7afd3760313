// Evaluate view end to end in Chromium with real IndexedDB and the bundled tiny model on WebGPU
// (SwiftShader): start an evaluation over a small subset, reload mid-run, load the model again,
// resume, and the run completes with every item stored exactly once; items finished before the
// reload are not regenerated. Also the grader in the page, and CSV/JSON export.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { loadTinyWorldWithQwen3Template } from './flows.ts';

interface StoredItem { runId: string; itemKey: string; finishedAt: number; reason: string; tokens: number }
interface StoredRun { id: string; status: string; summary?: { done: number; total: number }; config: { itemKeys: string[] } }

async function idbAll<T>(page: Page, store: string): Promise<T[]> {
  return page.evaluate((s) => new Promise<T[]>((resolve, reject) => {
    const req = indexedDB.open('reasonbridge');
    req.onsuccess = () => {
      const db = req.result;
      const g = db.transaction(s).objectStore(s).getAll();
      g.onsuccess = () => { resolve(g.result as T[]); db.close(); };
      g.onerror = () => reject(g.error);
    };
    req.onerror = () => reject(req.error);
  }), store);
}

async function loadTinyModel(page: Page): Promise<void> {
  await page.locator('a[data-view=models]').click();
  await expect(page.getByTestId('bundled-description')).toContainText('tiny-world student');
  await page.getByTestId('load-bundled').click();
  await expect(page.getByTestId('model-info')).toBeVisible({ timeout: 90_000 });
  await page.locator('a[data-view=evaluate]').click();
  await expect(page.getByTestId('eval-model')).not.toContainText('none loaded');
  // the bundled student: the set picker opens on its world and its committed adapter is offered
  await expect(page.locator('select[name=evalSet]')).toHaveValue('tiny_world');
  await expect(page.getByTestId('eval-adapter').locator('option', { hasText: 'Reason1K adapter (bundled)' })).toHaveCount(1, { timeout: 60_000 });
  await expect(page.getByTestId('eval-adapter')).toHaveValue('');
}

test('the grader in the page: an answer pair and a JSONL file', async ({ page }) => {
  await page.goto('./?view=evaluate');
  await page.getByTestId('grade-pred').fill('\\sqrt{8}');
  await page.getByTestId('grade-ref').fill('2\\sqrt{2}');
  await page.getByTestId('grade-check').click();
  await expect(page.getByTestId('grade-verdict')).toContainText('equal — symbolic: \\sqrt{8} == 2\\sqrt{2}');
  await page.getByTestId('grade-pred').fill('(1,2)');
  await page.getByTestId('grade-ref').fill('[1,2]');
  await page.getByTestId('grade-check').click();
  await expect(page.getByTestId('grade-verdict')).toContainText('not equal — mismatch: brackets');

  const rows = [
    JSON.stringify({ out: 'so \\boxed{0.5}', gold: '\\frac{1}{2}' }),
    JSON.stringify({ out: 'The answer is 7.', gold: '8' }),
    '{broken',
    JSON.stringify({ out: ['\\boxed{3}', '\\boxed{3.0}', '\\boxed{4}'], gold: '3' }),
  ].join('\n');
  await page.getByTestId('grade-jsonl').fill(rows);
  await page.getByTestId('grade-response-field').fill('out');
  await page.getByTestId('grade-answer-field').fill('gold');
  await page.getByTestId('grade-run').click();
  // pass@1 = mean(1, 0, 2/3) = 55.56%; one bad row named by line.
  await expect(page.getByTestId('grade-summary')).toContainText('3 graded, 1 bad row(s) · accuracy 55.56%');
  await expect(page.getByTestId('grade-rows')).toContainText('pasted.jsonl:3: invalid JSON');
  const dl = page.waitForEvent('download');
  await page.getByTestId('grade-download').click();
  const file = await (await dl).path();
  const out = readFileSync(file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(out).toHaveLength(4);
  expect(out[0]).toMatchObject({ row: 1, correct: true });
  expect(out[3].majority).toMatchObject({ prediction: '3', votes: 2, correct: true });
});

test('evaluate on the tiny model, reload mid-run, resume: no item lost or counted twice', async ({ page }) => {
  test.setTimeout(600_000);
  // More items than one decode batch (DEFAULT_EVAL_BATCH = 16): the reload lands while a later batch runs.
  const N = 40;
  await page.goto('./?view=evaluate');
  await expect(page.getByTestId('eval-provenance')).toContainText('GAIR-NLP/LIMO');
  await loadTinyModel(page);

  await page.locator('select[name=evalSet]').selectOption('gsm8k_test');
  await expect(page.getByTestId('eval-provenance')).toContainText('openai/grade-school-math');
  await page.locator('select[name=subset]').selectOption('random');
  await page.locator('input[name=n]').fill(String(N));
  await page.locator('input[name=maxTokens]').fill('24');
  await page.locator('input[name=seed]').fill('4');
  await page.getByRole('button', { name: 'Start evaluation' }).click();
  await expect(page.getByTestId('eval-progress')).toBeVisible();

  // Wait for two stored items, then reload while the run is still going.
  await expect.poll(async () => (await idbAll<StoredItem>(page, 'evalItems')).length, { timeout: 240_000, intervals: [100] }).toBeGreaterThanOrEqual(2);
  const before = await idbAll<StoredItem>(page, 'evalItems');
  const runs0 = await idbAll<StoredRun>(page, 'evalRuns');
  expect(runs0).toHaveLength(1);
  const runId = runs0[0].id;
  expect(runs0[0].config.itemKeys).toHaveLength(N);
  await page.reload();

  // After the reload the worker is gone: the run is shown interrupted and can be resumed.
  const row = page.locator(`tr[data-run="${runId}"]`);
  await expect(row.getByTestId('run-status')).toHaveText('cancelled');
  const afterReload = await idbAll<StoredItem>(page, 'evalItems');
  expect(afterReload.length).toBeGreaterThanOrEqual(before.length);
  // The reload really interrupted the run (items left to do).
  expect(afterReload.length).toBeLessThan(N);
  await expect(row.getByTestId('run-done')).toHaveText(`${afterReload.length}/${N}`);

  // Resuming without a model fails with a clear message and loses nothing.
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('eval-error')).toContainText('No model is loaded');
  expect((await idbAll<StoredItem>(page, 'evalItems')).length).toBe(afterReload.length);

  await loadTinyModel(page);
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(row.getByTestId('run-status')).toHaveText('done', { timeout: 300_000 });
  await expect(row.getByTestId('run-done')).toHaveText(`${N}/${N}`);

  const items = await idbAll<StoredItem>(page, 'evalItems');
  expect(items.filter((i) => i.runId === runId)).toHaveLength(N);
  expect(new Set(items.map((i) => i.itemKey)).size).toBe(N);
  // Items finished before the reload kept their original record (not regenerated).
  for (const b of afterReload) expect(items.find((i) => i.itemKey === b.itemKey)!.finishedAt).toBe(b.finishedAt);
  for (const i of items) {
    expect(i.tokens).toBeLessThanOrEqual(24);
    expect(i.reason).toMatch(/^(string|numeric|symbolic|elementwise|mismatch): /);
  }
  const run = (await idbAll<StoredRun>(page, 'evalRuns')).find((r) => r.id === runId)!;
  expect(run.status).toBe('done');
  expect(run.summary!.done).toBe(N);

  // Drill-down shows a verdict reason; CSV export has one row per item.
  await row.getByTestId('open-run').click();
  await page.getByTestId('item-drill').locator('button[data-item]').first().click();
  await expect(page.getByTestId('item-reason')).toContainText(/correct|wrong/);
  const dl = page.waitForEvent('download');
  await row.getByRole('button', { name: 'CSV' }).click();
  const csv = readFileSync((await (await dl).path())!, 'utf8').trim().split(/\r?\n/);
  expect(csv[0]).toContain('item_key');
  expect(csv).toHaveLength(N + 1);
  const dlj = page.waitForEvent('download');
  await row.getByRole('button', { name: 'JSON' }).click();
  const json = JSON.parse(readFileSync((await (await dlj).path())!, 'utf8'));
  expect(json.items).toHaveLength(N);
  expect(json.run.id).toBe(runId);

  // Drill-down into the Playground: the item opens there as a share recipe (bench problem, model).
  await page.getByTestId('item-playground').click();
  await expect(page).toHaveURL(/\?view=playground#r=1\./);
  await expect(page.getByTestId('view-playground')).toBeVisible();
  await expect(page.getByTestId('pg-link-error')).toHaveCount(0);
});

test('runs at two thinking budgets draw the accuracy-versus-budget chart', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('./?view=evaluate');
  await loadTinyModel(page);
  // A broken share link is refused with its reason and blocks the start.
  await page.locator('input[name=interventionsLink]').fill('http://127.0.0.1/?view=playground#r=1.not-deflate');
  await expect(page.getByTestId('eval-link-error')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start evaluation' })).toBeDisabled();
  await page.locator('input[name=interventionsLink]').fill('');
  for (const [i, budget] of ['4', '12'].entries()) {
    await page.locator('select[name=evalSet]').selectOption('gsm8k_test');
    await page.locator('select[name=subset]').selectOption('random');
    await page.locator('input[name=n]').fill('2');
    await page.locator('input[name=maxTokens]').fill('8');
    await page.locator('input[name=seed]').fill('9');
    await page.locator('input[name=budget]').fill(budget);
    await expect(page.getByTestId('eval-interventions')).toHaveText(`budget forcing ≤${budget} thinking tokens`);
    await page.getByRole('button', { name: 'Start evaluation' }).click();
    // Wait for this run's row: until it appears, the first row is the previous (already done) run.
    await expect(page.locator('tr[data-run]')).toHaveCount(i + 1);
    await expect(page.locator('tr[data-run]').first().getByTestId('run-status')).toHaveText('done', { timeout: 300_000 });
  }
  const runs = await idbAll<StoredRun & { config: { budget: number; maxTokens: number; interventions: { budget: { maxThinking: number } } } }>(page, 'evalRuns');
  expect(runs.map((r) => r.config.budget).sort((a, b) => a - b)).toEqual([4, 12]);
  for (const r of runs) {
    expect(r.config.interventions.budget.maxThinking).toBe(r.config.budget);
    expect(r.config.maxTokens).toBe(r.config.budget + 40);
  }
  const chart = page.getByTestId('budget-chart');
  await expect(chart).toBeVisible();
  await expect(chart.locator('canvas')).toHaveCount(1);
  await expect(chart).toContainText('gsm8k_test');
});

test("a model whose chat template reads enable_thinking (Qwen3's): Evaluate offers the switch (on by default) and the run records it", async ({ page }) => {
  test.setTimeout(300_000);
  await loadTinyWorldWithQwen3Template(page);
  await page.locator('a[data-view=evaluate]').click();
  await expect(page.getByTestId('eval-model')).not.toContainText('none loaded');
  const sw = page.getByTestId('eval-thinking');
  await expect(sw).toBeChecked({ timeout: 30_000 });
  await sw.uncheck();
  await page.locator('select[name=evalSet]').selectOption('tiny_world');
  await page.locator('select[name=subset]').selectOption('random');
  await page.locator('input[name=n]').fill('1');
  await page.locator('input[name=maxTokens]').fill('8');
  await page.getByRole('button', { name: 'Start evaluation' }).click();
  await expect(page.locator('tr[data-run]')).toHaveCount(1);
  await expect(page.locator('tr[data-run]').first().getByTestId('run-status')).toHaveText('done', { timeout: 200_000 });
  await expect(page.locator('tr[data-run]').first()).toContainText('thinking off');
  const runs = await idbAll<StoredRun & { config: { thinking?: boolean } }>(page, 'evalRuns');
  expect(runs.map((r) => r.config.thinking)).toEqual([false]);
});
