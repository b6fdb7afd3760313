// npm run bench:peers — our engine against the browser peers in one headless Chromium page (figures
// printed, never asserted): ours (WebGPU), transformers.js webgpu and wasm (ONNX Runtime Web), wllama
// wasm and webgpu (llama.cpp in WASM), on the same model (ours from safetensors, transformers.js
// from its ONNX export, wllama from a GGUF), the same prompt ids, greedy, N new tokens; a warm-up run
// each, then the median of the measured runs. Prints a table, the CPU-only comparison, for a shaped
// model (make_onnx.py --shape S --layers N) the full-depth estimate, then the model line and, exactly,
//   decode ratio ours/transformers.js-webgpu: X.XX
// or why not (and exits 1). Options:
//   -- --ours DIR (models/tiny) --onnx DIR (models/onnx/tiny) --gguf FILE (ONNX_DIR/model.gguf)
//      --dtype fp16|fp32 (transformers.js; default fp16 where onnx/model_fp16.onnx exists)
//      --tokens N (64) --runs N (3) --prompt TEXT --no-build (reuse the last build)
//      --backends ours-webgpu,tjs-webgpu,tjs-wasm,wllama-wasm,wllama-webgpu (default: the first
//        three, and wllama-wasm when the GGUF exists)
// The page is scripts/bench/peers/ (built by Vite into BENCH_OUTDIR, default dist-bench-peers),
// served with the model folders by a server on 127.0.0.1 (BENCH_PORT, default a free port).
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { build } from 'vite';
import { BASE_ARGS, CHROMIUM_PATH } from '../playwright.config.ts';
import { loadTokenizer } from '../src/engine/tokenizer/hf-tokenizer.ts';
import { BACKEND_LABELS, type BackendId, cpuComparison, decodeRatio, extrapolateTable, formatTable, modelLine, type PageReport, ratioLine, type ShapeInfo, stepWeightBytes } from './bench/peers/report.ts';
import { startStaticServer } from './bench/peers/static-server.ts';

const ROOT = resolve(new URL('../', import.meta.url).pathname);
const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(`--${k}`); return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : d; };
const OURS = resolve(ROOT, opt('ours', 'models/tiny'));
const ONNX = resolve(ROOT, opt('onnx', 'models/onnx/tiny'));
const TOKENS = Number(opt('tokens', '64'));
const RUNS = Number(opt('runs', '3'));
const GGUF = resolve(ROOT, opt('gguf', join(ONNX, 'model.gguf')));
const DTYPE = opt('dtype', existsSync(join(ONNX, 'onnx/model_fp16.onnx')) ? 'fp16' : 'fp32');
const BACKENDS = opt('backends', `ours-webgpu,tjs-webgpu,tjs-wasm${existsSync(GGUF) ? ',wllama-wasm' : ''}`).split(',') as BackendId[];
// A GSM8K-style problem in the tiny tokenizer's alphabet: about a hundred prompt tokens.
const PROMPT = opt('prompt', 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?');
const OUTDIR = resolve(ROOT, process.env.BENCH_OUTDIR ?? 'dist-bench-peers');
const PAGE_TIMEOUT_MS = 30 * 60_000;

function fail(msg: string): never {
  console.error(`bench:peers: ${msg}`);
  process.exit(1);
}

function checkInputs(): void {
  for (const b of BACKENDS) if (!(b in BACKEND_LABELS)) fail(`unknown backend "${b}" (known: ${Object.keys(BACKEND_LABELS).join(', ')})`);
  if (!(TOKENS >= 2) || !(RUNS >= 1)) fail('--tokens must be at least 2 and --runs at least 1');
  if (DTYPE !== 'fp16' && DTYPE !== 'fp32') fail(`--dtype is fp16 or fp32, not "${DTYPE}"`);
  const need: Array<[string, string]> = [[OURS, 'config.json'], [OURS, 'model.safetensors'], [OURS, 'tokenizer.json']];
  if (BACKENDS.some((b) => b.startsWith('tjs-'))) need.push([ONNX, 'config.json'], [ONNX, 'generation_config.json'], [ONNX, DTYPE === 'fp16' ? 'onnx/model_fp16.onnx' : 'onnx/model.onnx']);
  if (BACKENDS.some((b) => b.startsWith('wllama-'))) need.push([GGUF, '']);
  const missing = need.filter(([d, f]) => !existsSync(join(d, f))).map(([d, f]) => join(d, f));
  if (missing.length) fail(`missing ${missing.join(', ')} (the ONNX export: /usr/bin/python3 scripts/onnx/make_onnx.py MODEL_DIR --out DIR [--dtype f16]; the GGUF: npm run export:gguf -- --model DIR --out FILE.gguf)`);
}

/** For a shaped model (make_onnx.py --shape), the measured and the real depth and the bytes a step reads. */
function shapeInfo(): { name: string; shape?: ShapeInfo } {
  const c = JSON.parse(readFileSync(join(OURS, 'config.json'), 'utf8')) as Record<string, unknown>;
  const from = c.shaped_from as { model: string; num_hidden_layers: number } | undefined;
  const layers = Number(c.num_hidden_layers);
  const name = from ? ({ 'qwen2.5-0.5b': 'Qwen2.5-0.5B', 'qwen3-0.6b': 'Qwen3-0.6B' } as Record<string, string>)[from.model] ?? from.model : OURS.replace(ROOT + '/', '');
  if (!from) return { name };
  const hidden = Number(c.hidden_size);
  const heads = Number(c.num_attention_heads);
  const dims = {
    hidden, inter: Number(c.intermediate_size), heads, kvHeads: Number(c.num_key_value_heads ?? heads), headDim: Number(c.head_dim ?? hidden / heads),
    vocab: Number(c.vocab_size), qkvBias: c.architectures instanceof Array && c.architectures[0] === 'Qwen2ForCausalLM', qkNorm: c.architectures instanceof Array && c.architectures[0] === 'Qwen3ForCausalLM',
  };
  return { name, shape: { model: from.model, layers, fullLayers: from.num_hidden_layers, bytesMeasured: stepWeightBytes(dims, layers), bytesFull: stepWeightBytes(dims, from.num_hidden_layers) } };
}

/** The prompt ids, from the model's own tokenizer (the app's loader), handed to every backend. */
async function promptIds(): Promise<number[]> {
  const read = (f: string) => (existsSync(join(OURS, f)) ? readFileSync(join(OURS, f), 'utf8') : undefined);
  const tok = await loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json'), source: OURS });
  return tok.encode(PROMPT);
}

async function buildPage(): Promise<void> {
  if (args.includes('--no-build') && existsSync(join(OUTDIR, 'index.html'))) return;
  await build({
    configFile: false, root: join(ROOT, 'scripts/bench/peers'), base: './', logLevel: 'error',
    build: { outDir: OUTDIR, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192 },
    worker: { format: 'es' },
  });
}

async function runPage(url: string): Promise<PageReport> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // precise-memory-info + expose-gc: performance.memory after a real GC, not a bucketed guess.
    args: [...BASE_ARGS, '--enable-unsafe-webgpu', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('[peers]')) console.error(t);
      else if ((m.type() === 'error' || m.type() === 'warning') && !t.startsWith('Failed to load resource')) console.error(`[page ${m.type()}] ${t}`);
    });
    page.on('response', (r) => { if (r.status() >= 400) console.error(`[http ${r.status()}] ${new URL(r.url()).pathname}`); });
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(url);
    // Polled inside the page by a function (the page's CSP refuses the string predicates of waitForFunction).
    const done = page.evaluate(() => new Promise<unknown>((ok) => {
      const w = window as unknown as { __peers?: { done: boolean } };
      const t = setInterval(() => { if (w.__peers?.done) { clearInterval(t); ok(w.__peers); } }, 500);
    }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, no) => { timer = setTimeout(() => no(new Error(`the bench page did not finish in ${PAGE_TIMEOUT_MS / 60_000} minutes`)), PAGE_TIMEOUT_MS); });
    const out = (await Promise.race([done, timeout]).finally(() => clearTimeout(timer))) as { report?: PageReport; error?: string };
    if (!out.report) throw new Error(`the bench page failed: ${out.error}`);
    return out.report;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  checkInputs();
  const ids = await promptIds();
  console.error(`bench:peers: building the page into ${OUTDIR}`);
  await buildPage();
  const mounts: Record<string, string> = { '/': OUTDIR, '/ours/': OURS, '/onnx/peer/': ONNX };
  if (existsSync(GGUF)) mounts['/gguf/model.gguf'] = GGUF;
  const server = await startStaticServer(mounts, Number(process.env.BENCH_PORT ?? 0));
  let report: PageReport;
  try {
    const q = new URLSearchParams({ ids: ids.join(','), tokens: String(TOKENS), runs: String(RUNS), backends: BACKENDS.join(','), dtype: DTYPE, text: PROMPT });
    report = await runPage(`${server.url}?${q}`);
  } finally {
    await server.close();
  }
  const browser = /Chrome\/([\d.]+)/.exec(report.userAgent)?.[1] ?? report.userAgent;
  console.log(`bench:peers: Chromium ${browser}, adapter ${report.adapter}; crossOriginIsolated ${report.crossOriginIsolated}; machine load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rel = (p: string) => p.replace(ROOT + '/', '');
  const tjsWhat = DTYPE === 'fp16' ? 'ONNX fp16: the same f16 weights, f16 activations' : 'ONNX fp32: the same f16 weights widened';
  console.log(`model: ours ${rel(OURS)} (safetensors, f16 weights, f32 math) | transformers.js ${rel(ONNX)} (${tjsWhat}) | wllama ${existsSync(GGUF) ? `${rel(GGUF)} (GGUF from npm run export:gguf)` : 'no GGUF'}`);
  console.log(`prompt ${report.promptTokens} tokens, ${report.newTokens} new tokens, greedy, end-of-sequence masked; warm-up run, then median of ${RUNS}`);
  console.log('TTFT = call to first new token; prefill tok/s = prompt tokens / TTFT; decode tok/s = (N-1) / (last token - first token)');
  console.log('');
  console.log(formatTable(report.results));
  console.log('');
  const { name, shape } = shapeInfo();
  if (shape && shape.layers < shape.fullLayers) { console.log(extrapolateTable(report.results, shape)); console.log(''); }
  const cpu = cpuComparison(report.results);
  if (cpu) {
    const who = `ours on ${report.adapter.includes('fallback adapter') ? 'this software adapter' : 'this adapter'}`;
    console.log(`CPU-only user: ${who} ${cpu.ours.toFixed(2)} tok/s vs ${BACKEND_LABELS[cpu.best]} ${cpu.theirs.toFixed(2)} tok/s decode: ${cpu.ratio >= 1 ? `ours ahead (x ${cpu.ratio.toFixed(2)})` : `the WASM engine ahead (x ${(1 / cpu.ratio).toFixed(2)})`}`);
    console.log('');
  }
  const r = decodeRatio(report.results);
  if ('ratio' in r) {
    console.log(modelLine(name, shape, DTYPE === 'fp16' ? 'f16 weights on both sides' : 'ours f16 weights, transformers.js fp32'));
    console.log(ratioLine(r.ratio));
    return;
  }
  fail(`no decode ratio: ${r.reason}`);
}

main().then(() => process.exit(0), (e) => fail((e as Error).stack ?? String(e)));
