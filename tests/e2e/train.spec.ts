// Train view end to end in Chromium (WebGPU on SwiftShader, real IndexedDB): load the bundled tiny
// model from the Train view, add the bundled GSM8K pool in the Data view, train a LoRA adapter for a
// few steps in the engine worker, see the loss curve and figures, and download the PEFT adapter zip
// whose two files load back as a LoRA adapter.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { tinyModelAndBundledPool, trainSteps } from './flows.ts';

test('train a LoRA adapter on the bundled pool and download it as PEFT files', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('./?view=train');
  await expect(page.getByTestId('train-model')).toContainText('none loaded');
  await expect(page.getByTestId('train-start')).toBeDisabled();
  await tinyModelAndBundledPool(page);
  await trainSteps(page, 5, 0.02);
  await expect(page.getByTestId('train-progress')).toContainText(/Step 5 \/ 5 · loss \d+\.\d{4} · lr [\d.]+e[-+]\d+ · grad norm \d+\.\d{4} · \d+ tokens\/s · \d+ tokens in \d+ micro-batch(es)? · \d+ ms per step · GPU /);
  await expect(page.getByTestId('train-summary')).toContainText('Trained 5 steps on 2 examples, 4 per step');
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-points', '5');
  await expect(page.getByTestId('train-loss-chart').locator('canvas')).toHaveCount(1);
  const before = Number(await page.getByTestId('train-loss-before').textContent());
  const after = Number(await page.getByTestId('train-loss-after').textContent());
  expect(Number.isFinite(before) && Number.isFinite(after)).toBe(true);
  expect(after).toBeLessThan(before);
  // q_proj + v_proj on 3 layers at r 4: 3·4·((64+64)+(64+32)) = 2,688 of 136,000 (the tiny-world student)
  await expect(page.getByTestId('train-params')).toContainText('2,688 (1.976% of the base 136,000)');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('train-download').click()]);
  expect(download.suggestedFilename()).toBe('peft-adapter.zip');
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const cfgText = new TextDecoder().decode(files['adapter_config.json']);
  expect(JSON.parse(cfgText)).toMatchObject({ peft_type: 'LORA', r: 4, target_modules: ['q_proj', 'v_proj'] });
  const config = parseModelConfig(readFileSync('models/tiny-world/config.json', 'utf8'), 'config.json');
  const adapter = loadPeftAdapter(config, cfgText, files['adapter_model.safetensors']);
  expect(adapter.modules).toHaveLength(6); // q_proj + v_proj on 3 layers
  expect(adapter.modules.some((m) => m.B.some((v) => v !== 0))).toBe(true);
});
