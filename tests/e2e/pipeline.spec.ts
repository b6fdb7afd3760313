// "Run the whole pipeline" on the tiny world, at a reduced size, as a person clicks it: the landing
// view, every stage through the real workers, IndexedDB and WebGPU (SwiftShader), the table, a
// reload that keeps it, a link that carries the settings, and cancel.
import { expect, test } from '@playwright/test';
import { makeWorldPool } from './flows.ts';

test('the pipeline runs end to end: pool, Reason1K, adapter, base vs adapter vs budget forcing', async ({ page }) => {
  test.setTimeout(420_000);
  await page.goto('./?view=pipeline&pool=60&select=30&steps=4&test=6&seed=3');
  for (const [k, v] of [['pool', '60'], ['select', '30'], ['steps', '4'], ['test', '6'], ['seed', '3']]) await expect(page.getByTestId(`pipeline-${k}`)).toHaveValue(v);
  await page.getByTestId('pipeline-run').click();
  for (const st of ['model', 'pool', 'selection', 'training', 'eval-base', 'eval-adapter', 'eval-guided']) {
    await expect(page.getByTestId(`stage-${st}`)).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  }
  await expect(page.getByTestId('pipeline-error')).toHaveCount(0);
  const table = page.getByTestId('pipeline-table');
  await expect(table.locator('tbody tr')).toHaveCount(3);
  await expect(table).toContainText('base + adapter');
  await expect(page.getByTestId('stage-pool')).toContainText(/\d+ traces/); // 60 problems, plus the teacher's near-duplicates
  await expect(page.getByTestId('stage-selection')).toContainText('kept');
  await expect(page.getByTestId('pipeline-chart')).toBeVisible();
  // the stages' results are in IndexedDB: the pool is in the Data view, the runs in Evaluate
  await page.getByTestId('stage-pool').getByRole('link', { name: 'open' }).click();
  await expect(page.getByTestId('view-data')).toContainText('Tiny world (60 problems, seed 3)');
  await page.locator('nav a[data-view="evaluate"]').click();
  await expect(page.getByTestId('view-evaluate')).toContainText('tiny-world student + adapter + budget forcing');
  // a reload keeps the table
  await page.goto('./?view=pipeline');
  await expect(page.getByTestId('pipeline-table').locator('tbody tr')).toHaveCount(3);
});

test('bad link settings are named and ignored; cancel stops a run', async ({ page }) => {
  await page.goto('./?view=pipeline&pool=abc&steps=999999&test=6&seed=2&select=20');
  await expect(page.getByTestId('pipeline-link-errors')).toContainText('"pool" must be an integer');
  await expect(page.getByTestId('pipeline-link-errors')).toContainText('"steps" must be an integer in 1..20000');
  await expect(page.getByTestId('pipeline-steps')).toHaveValue('40'); // the measured recipe's default (src/world/recipe.ts)
  await page.getByTestId('pipeline-pool').fill('40');
  await page.getByTestId('pipeline-steps').fill('5000');
  await page.getByTestId('pipeline-run').click();
  await expect(page.getByTestId('stage-training')).toHaveAttribute('data-status', 'running', { timeout: 120_000 });
  await page.getByTestId('pipeline-cancel').click();
  await expect(page.getByTestId('pipeline-error')).toContainText('Cancelled', { timeout: 60_000 });
  await expect(page.getByTestId('stage-training')).toHaveAttribute('data-status', 'cancelled');
});

test('the Data view makes a tiny-world pool with the local teacher', async ({ page }) => {
  await page.goto('./?view=data');
  await makeWorldPool(page, 30);
  await expect(page.getByTestId('view-data')).toContainText('Tiny world (30 problems, seed 1)');
});
