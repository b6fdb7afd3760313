// Models panel: loading the bundled tiny model in the engine worker, local files, a URL source through
// the browser Cache API, and clear errors for bad sources (the network is closed in CI: a hub id fails).
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { countParams, parseModelConfig } from '../../src/engine/model/config.ts';
import { formatBytes } from '../../src/lib/bytes.ts';

const TINY = 'models/tiny';
const tinyConfig = parseModelConfig(JSON.parse(readFileSync(`${TINY}/config.json`, 'utf8')));
const tinyParams = `${(countParams(tinyConfig) / 1e6).toFixed(2)}M`;
// the bundled model the app loads with one click: the tiny-world student
const bundledConfig = parseModelConfig(JSON.parse(readFileSync('models/tiny-world/config.json', 'utf8')));
const bundledParams = `${(countParams(bundledConfig) / 1e6).toFixed(2)}M`;
const file = (name: string, buffer = readFileSync(`${TINY}/${name}`)) => ({ name, mimeType: 'application/octet-stream', buffer });

async function openModels(page: Page): Promise<void> {
  await page.goto('./?view=models');
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
}

test('loads the bundled tiny model and shows its architecture, params, GPU memory and context', async ({ page }) => {
  await openModels(page);
  await expect(page.getByTestId('no-model')).toBeVisible();
  await page.getByTestId('load-bundled').click();
  const info = page.getByTestId('model-info');
  await expect(info).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('model-arch')).toContainText(`Qwen2ForCausalLM (${bundledConfig.numLayers} layers, hidden ${bundledConfig.hiddenSize}`);
  await expect(page.getByTestId('model-params')).toHaveText(bundledParams);
  await expect(page.getByTestId('model-context')).toHaveText(`${bundledConfig.maxPositionEmbeddings} tokens`);
  await expect(page.getByTestId('model-gpu')).toContainText(/[\d.]+ KiB/);
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  // The bundled model is served by the app itself and is not put in the download cache.
  await expect(page.getByTestId('cache-empty')).toBeVisible();
  await page.getByTestId('unload').click();
  await expect(page.getByTestId('no-model')).toBeVisible();
});

test('a hub id that cannot be fetched gives a clear error and keeps the loaded model and the page usable', async ({ page }) => {
  await openModels(page);
  await page.getByTestId('load-bundled').click();
  await expect(page.getByTestId('model-params')).toHaveText(bundledParams, { timeout: 90_000 });
  await page.getByTestId('hub-id').fill('rb-tests/no-such-model');
  await page.getByTestId('load-hub').click();
  const err = page.getByTestId('model-error');
  await expect(err).toBeVisible({ timeout: 60_000 });
  // Offline: the host is unreachable; online: the hub answers 401 for an unknown repository.
  await expect(err).toContainText(/Could not reach huggingface\.co for config\.json of rb-tests\/no-such-model .*offline|config\.json in rb-tests\/no-such-model: HTTP 40[134]/);
  await expect(page.getByTestId('model-params')).toHaveText(bundledParams); // the loaded model is still there
  await page.getByTestId('hub-id').fill('not a model id');
  await page.getByTestId('load-hub').click();
  await expect(err).toContainText('"not a model id" is not a Hugging Face model id');
  await page.locator('nav a[data-view="data"]').click();
  await expect(page.getByTestId('view-data')).toBeVisible();
});

test('local files: a set without config.json, with a cut-short safetensors or too large for the GPU is refused clearly; a full set loads', async ({ page }) => {
  await openModels(page);
  const input = page.getByTestId('model-files');
  await input.setInputFiles([file('tokenizer.json'), file('model.safetensors')]);
  await page.getByTestId('load-files').click();
  await expect(page.getByTestId('model-error')).toContainText('config.json not found in the picked files (model.safetensors, tokenizer.json)', { timeout: 60_000 });
  await expect(page.getByTestId('no-model')).toBeVisible();

  const full = readFileSync(`${TINY}/model.safetensors`);
  await input.setInputFiles([file('config.json'), file('tokenizer.json'), file('tokenizer_config.json'), file('model.safetensors', full.subarray(0, 5000))]);
  await page.getByTestId('load-files').click();
  await expect(page.getByTestId('model-error')).toContainText(`model.safetensors is truncated: expected ${full.byteLength} bytes, got 5000`, { timeout: 60_000 });

  // A Qwen2.5-7B-shaped config: refused from config.json alone, saying how large and what fits.
  const big = { ...JSON.parse(readFileSync(`${TINY}/config.json`, 'utf8')), vocab_size: 152064, hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, head_dim: 128 };
  await input.setInputFiles([file('config.json', Buffer.from(JSON.stringify(big))), file('tokenizer.json'), file('model.safetensors')]);
  await page.getByTestId('load-files').click();
  await expect(page.getByTestId('model-error')).toContainText(/needs 13\.4 GiB of GPU memory \(weights 13\.2 GiB, KV cache 112 MiB at 2048 tokens\); this device allows ~[\d.]+ [GM]iB \(up to [\d.]+ [GM]iB per buffer\); try \S+/, { timeout: 60_000 });

  await input.setInputFiles(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map((n) => file(n)));
  await page.getByTestId('load-files').click();
  await expect(page.getByTestId('model-params')).toHaveText(tinyParams, { timeout: 90_000 });
  await expect(page.getByTestId('model-label')).toContainText('the picked files');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
});

test('a URL source is cached in the browser (rb-models-v1), listed after a reload, and deletable', async ({ page, baseURL }) => {
  await openModels(page);
  const url = new URL('models/tiny/', baseURL).href;
  await page.getByTestId('model-url').fill(url);
  await page.getByTestId('load-url').click();
  await expect(page.getByTestId('model-params')).toHaveText(tinyParams, { timeout: 90_000 });
  const row = page.getByTestId('cached-model');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(url);
  const bytes = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].reduce((a, n) => a + readFileSync(`${TINY}/${n}`).byteLength, 0);
  await expect(row).toContainText(formatBytes(bytes));
  const keys = await page.evaluate(async () => (await (await caches.open('rb-models-v1')).keys()).map((r) => r.url));
  expect(keys.filter((k) => k.endsWith('model.safetensors'))).toEqual([`${url}model.safetensors`]);

  await page.reload();
  await expect(page.getByTestId('cached-model')).toHaveCount(1);
  await page.getByTestId('delete-cached').click();
  await expect(page.getByTestId('cache-empty')).toBeVisible();
  const left = await page.evaluate(async () => (await (await caches.open('rb-models-v1')).keys()).length);
  expect(left).toBe(0);
});

test('cancelling a download stops it at once and says so; a cut download leaves no cache entry', async ({ page, context, baseURL }) => {
  // A URL model whose weights take 60 s to arrive (served by the test through the browser's network layer).
  await context.route('**/slow-model/*', async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    if (name === 'model.safetensors' && route.request().method() === 'GET') await new Promise((r) => setTimeout(r, 60_000));
    try {
      await route.fulfill({ status: 200, contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream', body: readFileSync(`${TINY}/${name}`) });
    } catch {
      await route.fulfill({ status: 404, body: 'not found' }).catch(() => {});
    }
  });
  await openModels(page);
  const url = new URL('slow-model/', baseURL).href;
  await page.getByTestId('model-url').fill(url);
  await page.getByTestId('load-url').click();
  await expect(page.getByTestId('model-progress')).toBeVisible();
  await page.waitForTimeout(1500);
  await page.getByTestId('cancel-load').click();
  await expect(page.getByTestId('model-error')).toContainText('Loading was cancelled', { timeout: 20_000 }); // within 20 s of the click
  await expect(page.getByTestId('no-model')).toBeVisible();
  // Nothing worth resuming from (no weight file was complete): no "(incomplete)" entry stays.
  await expect(page.getByTestId('cache-empty')).toBeVisible();
  expect(await page.evaluate(async () => (await (await caches.open('rb-models-v1')).keys()).length)).toBe(0);
});

test('a hub model downloads once into the cache and loads again offline from it', async ({ page, context }) => {
  // huggingface.co stands in for the test: the hub's URL layout, served from models/tiny.
  const fetched: string[] = [];
  await context.route('https://huggingface.co/**', async (route) => {
    const m = /^https:\/\/huggingface\.co\/rb-tests\/tiny\/resolve\/main\/([\w.-]+)$/.exec(route.request().url());
    let body: Buffer | undefined;
    try { body = m ? readFileSync(`${TINY}/${m[1]}`) : undefined; } catch { body = undefined; }
    if (route.request().method() === 'GET') fetched.push(m?.[1] ?? route.request().url());
    if (!body) return route.fulfill({ status: m ? 404 : 401, body: 'Entry not found' });
    return route.fulfill({ status: 200, contentType: 'application/octet-stream', body });
  });
  await openModels(page);
  await page.getByTestId('hub-id').fill('rb-tests/tiny');
  await page.getByTestId('load-hub').click();
  await expect(page.getByTestId('model-params')).toHaveText(tinyParams, { timeout: 90_000 });
  await expect(page.getByTestId('model-label')).toHaveText('rb-tests/tiny');
  expect(fetched.filter((f) => f === 'model.safetensors')).toHaveLength(1);
  const row = page.getByTestId('cached-model');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('rb-tests/tiny');
  await expect(row).not.toContainText('incomplete');

  // Offline now: the hub is unreachable, yet the cached copy loads.
  await context.unroute('https://huggingface.co/**');
  await context.route('https://huggingface.co/**', (route) => route.abort('internetdisconnected'));
  await page.reload();
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
  await page.getByTestId('cached-model').getByRole('button', { name: 'Load' }).click();
  await expect(page.getByTestId('model-params')).toHaveText(tinyParams, { timeout: 90_000 });
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await page.getByTestId('delete-cached').click();
  await expect(page.getByTestId('cache-empty')).toBeVisible();
});

test('a model loaded from another view shows in the Models panel', async ({ page }) => {
  await page.goto('./?view=playground');
  await page.getByTestId('pg-load-bundled').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  await page.locator('nav a[data-view="models"]').click();
  await expect(page.getByTestId('model-params')).toHaveText(bundledParams);
  await expect(page.getByTestId('model-label')).toHaveText('the tiny-world student');
});
