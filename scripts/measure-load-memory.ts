// Real-size load check, by hand (not a test: it takes minutes on a software adapter): writes a random
// model with a real model's shapes (two shards and an index, f16) to a temp folder, serves it from a
// real HTTP server on 127.0.0.1, loads it in headless Chromium through the built app's Models view
// (URL folder), and prints the load time, the warm-up, the first two tokens' times and the browser's
// process memory (RSS of every Chromium process) before and after, per byte of model GPU memory: the
// figure behind memory.ts SOFTWARE_MEMORY_FACTOR.
//
//   npx vite build --outDir dist-relmodel && npx vite preview --outDir dist-relmodel --port 4186 &
//   node scripts/gpu-env.mjs npx tsx scripts/measure-load-memory.ts --app http://127.0.0.1:4186/ [--shape qwen0.5b|smollm135m]
import { readdirSync, readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from '../playwright.config.ts';
import { parseModelConfig } from '../src/engine/model/config.ts';
import { randomModelTensors } from '../src/engine/model/random-model.ts';
import { hostTensorToF16Bytes, writeSafetensors } from '../src/engine/model/safetensors-write.ts';
import { formatBytes } from '../src/lib/bytes.ts';
import { startModelServer, type ModelFiles } from '../tests/support/model-server.ts';

const SHAPES: Record<string, Record<string, unknown>> = {
  'qwen0.5b': { vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, head_dim: 64, max_position_embeddings: 32768, tie_word_embeddings: true },
  smollm135m: { architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, max_position_embeddings: 8192, tie_word_embeddings: true },
};

const arg = (name: string, dflt: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const app = arg('app', 'http://127.0.0.1:4186/');
const shape = arg('shape', 'qwen0.5b');

/** RSS of every process whose command line is Chromium's, in bytes; and the GPU process's alone. */
function chromiumRss(): { all: number; gpu: number } {
  let all = 0;
  let gpu = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes('chromium')) continue;
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      all += kb * 1024;
      if (cmd.includes('--type=gpu-process')) gpu += kb * 1024;
    } catch { /* gone */ }
  }
  return { all, gpu };
}

const base = JSON.parse(readFileSync('models/tiny/config.json', 'utf8'));
const cfgJson = { ...base, ...SHAPES[shape] };
const cfg = parseModelConfig(cfgJson);
const t0 = Date.now();
const tensors = [...randomModelTensors(cfg, { seed: 1, tiled: true })].map(hostTensorToF16Bytes);
const half = Math.ceil(tensors.length / 2);
const files: ModelFiles = {
  'config.json': JSON.stringify(cfgJson),
  'tokenizer.json': readFileSync('models/tiny/tokenizer.json', 'utf8'),
  'tokenizer_config.json': readFileSync('models/tiny/tokenizer_config.json', 'utf8'),
};
const weightMap: Record<string, string> = {};
let total = 0;
[tensors.slice(0, half), tensors.slice(half)].forEach((part, i) => {
  const name = `model-0000${i + 1}-of-00002.safetensors`;
  for (const t of part) { weightMap[t.name] = name; total += t.data.byteLength; }
  files[name] = writeSafetensors(part);
});
files['model.safetensors.index.json'] = JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap });
console.log(`${shape}: ${formatBytes(total)} of f16 weights in 2 shards, written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const srv = await startModelServer({ m: files });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...BASE_ARGS, '--enable-unsafe-webgpu'] });
try {
  const page = await browser.newPage();
  await page.goto(`${app}?view=models`);
  await page.getByTestId('selftest').filter({ hasText: 'passed' }).waitFor({ timeout: 120_000 });
  const before = chromiumRss();
  let peak = before;
  const timer = setInterval(() => { const r = chromiumRss(); if (r.all > peak.all) peak = r; }, 500);
  const tl = Date.now();
  await page.getByTestId('model-url').fill(srv.folder('m'));
  await page.getByTestId('load-url').click();
  await page.getByTestId('model-progress').waitFor({ state: 'detached', timeout: 1_800_000 });
  const loadS = (Date.now() - tl) / 1000;
  const err = await page.getByTestId('model-error').textContent({ timeout: 1000 }).catch(() => null);
  if (err) throw new Error(`load failed: ${err}`);
  const loaded = chromiumRss();
  const gpuText = await page.getByTestId('model-gpu').textContent();
  const loadedIn = await page.getByTestId('model-info').locator('tr', { hasText: 'Loaded in' }).textContent();
  const warn = await page.getByTestId('model-warnings').textContent({ timeout: 1000 }).catch(() => '');
  // Two tokens: their times (the first after "loaded" should not be slower than the second by the upload).
  await page.getByTestId('gen-max').fill('2');
  await page.getByTestId('gen-chat').uncheck();
  const tg = Date.now();
  const times: number[] = [];
  await page.exposeFunction('__tok', () => { times.push(Date.now() - tg); });
  await page.evaluate(() => new MutationObserver(() => (window as unknown as { __tok: () => void }).__tok()).observe(document.querySelector('[data-testid="gen-output"]')!, { childList: true }));
  await page.getByTestId('gen-run').click();
  await page.getByTestId('gen-stop-reason').waitFor({ timeout: 1_800_000 });
  clearInterval(timer);
  const after = chromiumRss();
  const gpuBytes = total; // the model's f16 weights; KV cache and scratch come on top
  console.log(`load (download, convert, upload, warm-up): ${loadS.toFixed(1)} s; ${loadedIn?.trim()}`);
  console.log(`GPU memory shown: ${gpuText?.trim()}`);
  if (warn) console.log(`warnings: ${warn}`);
  console.log(`token times after the click: ${times.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}`);
  console.log(`Chromium RSS: before ${formatBytes(before.all)} (GPU process ${formatBytes(before.gpu)}), loaded ${formatBytes(loaded.all)} (GPU ${formatBytes(loaded.gpu)}), peak ${formatBytes(peak.all)} (GPU ${formatBytes(peak.gpu)}), after 2 tokens ${formatBytes(after.all)} (GPU ${formatBytes(after.gpu)})`);
  console.log(`process memory per weight byte: peak ${((peak.all - before.all) / gpuBytes).toFixed(2)}x, settled ${((after.all - before.all) / gpuBytes).toFixed(2)}x`);
} finally {
  await browser.close();
  await srv.close();
}
