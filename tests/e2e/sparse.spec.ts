// The sparse reasoning adapter end to end in Chromium (WebGPU on SwiftShader, real IndexedDB): the
// Train view probes reasoning importance, shows the layer-by-module heatmap with the solved placement
// and its exact budget line (importance vs uniform), trains that placement, and the adapter is kept
// as a record: after a reload it is listed, offered in Playground and Evaluate, renamed and deleted.
import { expect, test } from '@playwright/test';
import { tinyModelAndBundledPool, trainSteps, trainedRows } from './flows.ts';

const TINY_PARAMS = '136,000'; // the bundled tiny-world student

test('importance heatmap and placement, sparse training, adapter records survive a reload', async ({ page }) => {
  test.setTimeout(420_000);
  await page.goto('./?view=train');
  await tinyModelAndBundledPool(page);
  for (const t of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']) await page.getByTestId(`train-target-${t}`).check();
  await page.getByTestId('train-examples').fill('2');
  await page.getByTestId('train-seqlen').fill('160');
  await page.getByTestId('train-placement-mode').selectOption('importance');
  await page.getByTestId('train-budget').fill('1');
  await page.getByTestId('train-probe-examples').fill('2');
  await page.getByTestId('train-probe').click();
  const heat = page.getByTestId('placement-heatmap');
  await expect(heat).toBeVisible({ timeout: 120_000 });
  const cells = heat.getByTestId('heat-cell');
  await expect(cells).toHaveCount(21); // 3 layers x 7 modules
  const ranks = await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rank'))));
  const placed = ranks.filter((r) => r > 0).length;
  expect(placed).toBeGreaterThan(0);
  expect(placed).toBeLessThan(21); // sparse
  const report = page.getByTestId('placement-report');
  await expect(report).toContainText(new RegExp(`Importance placement: [\\d,]+ trainable = (?:0\\.\\d+|1\\.00)% of ${TINY_PARAMS}\\s+\\(budget 1,360 = 1\\.00% of the base\\), ${placed} of 21 modules`));
  const importanceLine = (await report.textContent())!.match(/[\d,]+ trainable = [\d.]+% of [\d,]+/)![0];

  // the uniform ablation at the same budget, then back to importance
  await page.getByTestId('train-placement-mode').selectOption('uniform');
  await page.getByTestId('train-probe').click();
  await expect(report).toContainText('Uniform placement:', { timeout: 120_000 });
  const uniRanks = await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rank'))));
  expect(new Set(uniRanks.filter((r) => r > 0))).toEqual(new Set([1]));
  await page.getByTestId('train-placement-mode').selectOption('importance');
  await page.getByTestId('train-probe').click();
  await expect(report).toContainText(`Importance placement: ${importanceLine}`, { timeout: 120_000 });

  // training uses the placement shown
  await trainSteps(page, 2, 0.05);
  await expect(page.getByTestId('train-params')).toContainText(`importance placement: ${importanceLine}, ${placed} modules`);
  const row = trainedRows(page);
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('importance');
  const sha = (await row.getAttribute('data-sha'))!;
  expect(sha).toMatch(/^[0-9a-f]{64}$/);

  // reload: the record is still there and is offered in the Playground and Evaluate for the model
  await page.reload();
  await expect(row).toHaveCount(1);
  await row.getByTestId('adapter-name').fill('sparse run A');
  await row.getByTestId('adapter-rename').click();
  await page.reload();
  await expect(row.getByTestId('adapter-name')).toHaveValue('sparse run A');
  await page.getByTestId('train-load-bundled').click();
  await expect(page.getByTestId('train-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  await page.locator('a[data-view=playground]').click();
  const pgOpt = page.getByTestId('pg-adapter').locator(`option[value="${sha}"]`);
  await expect(pgOpt).toHaveCount(1);
  await expect(pgOpt).toContainText('sparse run A');
  await page.getByTestId('pg-adapter').selectOption(sha);
  await page.locator('a[data-view=evaluate]').click();
  await expect(page.getByTestId('eval-adapter').locator(`option[value="${sha}"]`)).toHaveCount(1);

  // delete: gone from the library and the selects
  await page.locator('a[data-view=train]').click();
  await row.getByTestId('adapter-delete').click();
  await expect(row).toHaveCount(0);
  await page.locator('a[data-view=evaluate]').click();
  await page.getByTestId('eval-adapter').focus();
  await expect(page.getByTestId('eval-adapter').locator(`option[value="${sha}"]`)).toHaveCount(0);
});
