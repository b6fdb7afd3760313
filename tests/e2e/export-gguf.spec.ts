// Export GGUF from the Train view end to end in Chromium: train an adapter for 2 steps on the bundled
// tiny-world student, click "Export GGUF" (written in the engine worker), and read the downloaded file
// with our GGUF reader: the student's architecture and every tensor under its HF name, the base weights
// where the adapter has no module, and merged (changed) weights only in adapted projections.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { readGgufHeader, readGgufTensors } from '../../src/engine/model/gguf-read.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';
import { tinyModelAndBundledPool, trainSteps } from './flows.ts';

test('Export GGUF writes the student merged with the trained adapter', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('./?view=train');
  await tinyModelAndBundledPool(page);
  await trainSteps(page, 2, 0.05);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('train-export-gguf').click()]);
  expect(download.suggestedFilename()).toMatch(/-merged-f16\.gguf$/);
  await expect(page.getByTestId('train-export-gguf-status')).toContainText('MiB');
  await expect(page.getByTestId('train-export-gguf-error')).toHaveCount(0);
  const bytes = new Uint8Array(readFileSync((await download.path())!));
  const h = readGgufHeader(bytes);
  expect(h.arch).toBe('qwen2');
  expect((h.metadata.get('tokenizer.ggml.tokens') as string[]).length).toBe(384);
  const got = readGgufTensors(h, bytes).host;
  const base: HostTensor[] = [];
  for await (const t of readSafetensors(chunked(readFileSync('models/tiny-world/model.safetensors')))) base.push(t);
  expect(got.map((t) => t.name).sort()).toEqual(base.map((t) => t.name).sort());
  const changed = base.filter((b) => {
    const g = got.find((t) => t.name === b.name)!;
    return !Buffer.from(g.packed.buffer).equals(Buffer.from(b.packed.buffer, b.packed.byteOffset, b.packed.byteLength));
  }).map((t) => t.name);
  expect(changed.length).toBeGreaterThan(0);
  for (const n of changed) expect(n).toMatch(/\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/);
});
