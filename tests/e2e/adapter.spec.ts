// Adapters at inference end to end in Chromium (WebGPU on SwiftShader, real IndexedDB): train a
// LoRA adapter for 3 steps on the bundled tiny model, then in the Playground run the same problem
// and seed with the adapter merged and with the base weights side by side (the texts differ), and
// in Evaluate run 2 items with the adapter: the runs table names the adapter by its content hash.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { tinyModelAndBundledPool, trainSteps } from './flows.ts';

test('a trained adapter changes Playground output vs the base model and is recorded on an evaluation run', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('./?view=train');
  await tinyModelAndBundledPool(page);
  await trainSteps(page, 3, 0.05);

  // Playground: base vs adapter, same seed and interventions
  await page.locator('a[data-view=playground]').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny');
  const adapterOpt = page.getByTestId('pg-adapter').locator('option', { hasText: 'trained in this session' });
  await expect(adapterOpt).toHaveCount(1);
  const sha = (await adapterOpt.getAttribute('value'))!;
  expect(sha).toMatch(/^[0-9a-f]{64}$/);
  await page.getByTestId('pg-adapter').selectOption(sha);
  await page.getByTestId('pg-compare-with').selectOption('adapter');
  await page.getByTestId('pg-problem').fill('What is 12 + 30?');
  await page.getByTestId('pg-budget-on').uncheck();
  await page.getByTestId('pg-max-tokens').fill('32');
  await page.getByTestId('pg-seed').fill('3');
  await page.getByTestId('pg-run').click();
  await expect(page.getByTestId('pg-compare')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('pg-error')).toHaveCount(0);
  await expect(page.getByTestId('pg-compare-base-label')).toContainText('Base model');
  await expect(page.getByTestId('pg-compare-guided-label')).toContainText('With the adapter');
  const base = await page.getByTestId('pg-compare-base').innerText();
  const adapted = await page.getByTestId('pg-compare-guided').innerText();
  expect(base.length).toBeGreaterThan(0);
  expect(adapted).not.toBe(base);
  // control: the adapter on both sides, no interventions to compare -> the same text twice
  await page.getByTestId('pg-compare-with').selectOption('interventions');
  await page.getByTestId('pg-run').click();
  await expect(page.getByTestId('pg-compare-base-label')).toContainText('Without interventions', { timeout: 120_000 });
  await expect(page.getByTestId('pg-run')).toBeEnabled({ timeout: 120_000 });
  expect(await page.getByTestId('pg-compare-base').innerText()).toBe(adapted);
  expect(await page.getByTestId('pg-compare-guided').innerText()).toBe(adapted);

  // the downloaded PEFT files load back (Train view picker) as an adapter with the same content hash
  await page.locator('a[data-view=train]').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('train-download').click()]);
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  await page.getByTestId('train-load-peft').locator('summary').click();
  await expect(page.getByTestId('train-adapter')).toHaveValue('');
  await page.getByTestId('train-adapter-files').setInputFiles([
    { name: 'adapter_config.json', mimeType: 'application/json', buffer: Buffer.from(files['adapter_config.json']) },
    { name: 'adapter_model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(files['adapter_model.safetensors']) },
  ]);
  await expect(page.getByTestId('train-adapter')).toHaveValue(sha); // set to the hash the worker computed for the loaded files
  await expect(page.getByTestId('train-adapter-error')).toHaveCount(0);

  // Evaluate: 2 items with the adapter merged
  await page.locator('a[data-view=evaluate]').click();
  await expect(page.getByTestId('eval-model')).not.toContainText('none loaded');
  await expect(page.getByTestId('eval-adapter').locator(`option[value="${sha}"]`)).toHaveCount(1);
  await page.getByTestId('eval-adapter').selectOption(sha);
  await expect(page.getByTestId('eval-adapter-text')).toHaveText(sha.slice(0, 12));
  await page.locator('select[name=evalSet]').selectOption('gsm8k_test');
  await page.locator('select[name=subset]').selectOption('random');
  await page.locator('input[name=n]').fill('2');
  await page.locator('input[name=maxTokens]').fill('16');
  await page.getByRole('button', { name: 'Start evaluation' }).click();
  const row = page.locator('tbody tr').filter({ has: page.getByTestId('run-adapter') }).first();
  await expect(row.getByTestId('run-adapter')).toHaveText(sha.slice(0, 12));
  await expect(row.getByTestId('run-adapter')).toHaveAttribute('title', sha);
  await expect(row.getByTestId('run-status')).toHaveText('done', { timeout: 120_000 });
  await expect(row.getByTestId('run-done')).toHaveText('2/2');
});
