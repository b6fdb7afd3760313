import { expect, test, chromium } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from '../../playwright.config.ts';

test('device panel shows the adapter the engine worker found', async ({ page }) => {
  await page.goto('./?view=models');
  const panel = page.getByTestId('device-panel');
  await expect(panel.getByTestId('adapter-architecture')).not.toHaveText('', { timeout: 60_000 });
  const arch = await panel.getByTestId('adapter-architecture').textContent();
  const fallback = await panel.getByTestId('adapter-fallback').textContent();
  // On CI (no GPU) the only adapter is SwiftShader, a fallback adapter.
  if (process.env.CI) {
    expect(arch).toBe('swiftshader');
    expect(fallback).toBe('true');
  }
  expect(['true', 'false']).toContain(fallback);
  await expect(panel.getByTestId('selftest')).toContainText('passed');
  await expect(page.getByTestId('no-webgpu')).toHaveCount(0);
});

test('navigation keeps the view in the URL across a reload', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('view-pipeline')).toBeVisible(); // the landing view: run the whole pipeline
  await page.locator('nav a[data-view="data"]').click();
  await expect(page.getByTestId('view-data')).toBeVisible();
  await page.locator('nav a[data-view="evaluate"]').click();
  await expect(page).toHaveURL(/view=evaluate/);
  await expect(page.getByTestId('view-evaluate')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('view-evaluate')).toBeVisible();
  await page.goBack();
  await expect(page.getByTestId('view-data')).toBeVisible();
});

test('without WebGPU the app shows a banner and the Data view still works', async ({ baseURL }) => {
  // A separate browser with WebGPU switched off.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...BASE_ARGS, '--disable-features=WebGPU,Vulkan', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${baseURL}?view=models`);
    await expect(page.getByTestId('no-webgpu')).toBeVisible();
    await expect(page.getByTestId('no-webgpu')).toContainText('WebGPU is not available');
    await page.locator('nav a[data-view="data"]').click();
    await expect(page.getByTestId('view-data')).toBeVisible();
  } finally {
    await browser.close();
  }
});

test('a lost GPU device is reported with a way forward', async ({ page }) => {
  await page.goto('./?view=models');
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
  await page.getByTestId('simulate-loss').click();
  await expect(page.getByTestId('gpu-lost')).toBeVisible();
  await expect(page.getByTestId('gpu-lost')).toContainText(/reload/i);
  await page.getByTestId('gpu-reconnect').click();
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
});
