// Multi-view flows that several end-to-end specs start from.
import { expect, type Page } from '@playwright/test';

/** From the Train view: load the bundled tiny model, add the bundled GSM8K pool, come back to Train. */
export async function tinyModelAndBundledPool(page: Page): Promise<void> {
  await page.getByTestId('train-load-bundled').click();
  await expect(page.getByTestId('train-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  await page.locator('a[data-view=data]').click();
  await page.getByTestId('import-bundled').click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'ok', { timeout: 120_000 });
  await page.locator('a[data-view=train]').click();
  await expect(page.getByTestId('train-source')).toContainText('GSM8K');
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
