// Multi-view flows that several end-to-end specs start from.
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
