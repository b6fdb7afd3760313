// Engine benchmark, one run, figures side by side:
//   device peaks (FMA GFLOP/s, copy GB/s) | matmul GFLOP/s per kernel variant | prefill and decode
//   tokens/s of the tiny model and of a Qwen2.5-0.5B-shaped random model (fewer layers on a fallback
//   adapter, said in the output) | decode bandwidth efficiency = weight bytes per second / copy GB/s
//   | GPU memory of the model at 2k context | batched decode tok/s at B = 1, 4, 8, 16 | self-consistency
//   maj@5 of the guided run (tiny model, with budget forcing) sequential vs batched | per-op decode time
//   | decode tok/s at context 512, 4K, 16K (flash-decoding), f16 / q8_0 / q4_0 weights, ratio 16K/512.
//   npm run bench:engine [-- --layers N --context N] [-- --batch-only: only the batched decode section]
//   [-- --long-only: only the long-context decode section]
import { readFileSync } from 'node:fs';
import { type DecodeVariant, type PrefillVariant, decodeVariants, measureDecodeVariants, measureMatmulVariants, timeMatmul } from '../src/engine/device/kernel-choice.ts';
import type { MatmulVariant } from '../src/engine/ops/matmul.ts';
import { measureCopyBandwidth, measurePeakGflops } from '../src/engine/device/microbench.ts';
import { nodeGpuContext } from '../src/engine/device/node-gpu.ts';
import type { GpuContext } from '../src/engine/device/gpu-context.ts';
import { parseModelConfig } from '../src/engine/model/config.ts';
import { createDecoder, type Decoder, type WebGpuSession } from '../src/engine/model/decoder.ts';
import { quantizeHostTensor } from '../src/engine/model/quant.ts';
import { randomModelTensors } from '../src/engine/model/random-model.ts';
import { chunked, readSafetensors } from '../src/engine/model/safetensors.ts';
import type { HostTensor, ModelConfig } from '../src/engine/model/types.ts';
import { type Dispatch, encodeDispatches } from '../src/engine/runtime/kernel.ts';
import { loadTokenizer } from '../src/engine/tokenizer/hf-tokenizer.ts';
import { INTERVENTION_DEFAULTS } from '../src/guide/interventions/defaults.ts';
import { benchSelfConsistency, printSelfConsistency, type ScBench } from './bench/engine/self-consistency.ts';

const args = process.argv.slice(2);
const arg = (k: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? Number(args[i + 1]) : undefined; };
const fmt = (v: number, d = 2) => v.toFixed(d);
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

interface ModelBench { name: string; layers: string; prefillTokens: number; prefillTps: number; decodeTps: number; decodeMs: number; weightBytes: number; gpuBytes: number; gbps: number }

async function benchModel(ctx: GpuContext, name: string, dec: Decoder, prefillTokens: number, decodeTokens: number, context: number, layersNote: string): Promise<{ r: ModelBench; session: ReturnType<Decoder['newSession']> }> {
  const session = dec.newSession(context);
  const ids = Array.from({ length: prefillTokens }, (_, i) => 5 + ((i * 7919) % (dec.config.vocabSize - 5)));
  const greedy = { temperature: 0, topP: 1, topK: 5, u: 0 };
  // warm-up (pipelines compile on first use)
  await session.feed(ids.slice(0, 2), greedy);
  await session.feed([7], greedy);
  session.truncate(0);
  let t0 = performance.now();
  let tok = await session.feed(ids, greedy);
  const prefillMs = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < decodeTokens; i++) tok = await session.feed([tok.id], { temperature: 0.8, topP: 0.95, topK: 5, u: (i * 0.618) % 1 });
  const decodeMs = (performance.now() - t0) / decodeTokens;
  // weight bytes read per decode step: every layer weight + the LM head (tied: the embedding table)
  const bytesPerToken = dec.weightBytes - (dec.config.tieWordEmbeddings ? 0 : dec.config.vocabSize * dec.config.hiddenSize * 2);
  return {
    r: { name, layers: layersNote, prefillTokens, prefillTps: prefillTokens / (prefillMs / 1000), decodeTps: 1000 / decodeMs, decodeMs, weightBytes: dec.weightBytes, gpuBytes: dec.gpuBytes, gbps: bytesPerToken / (decodeMs * 1e6) },
    session,
  };
}

interface BatchBench { b: number; tps: number; msPerStep: number }

/** Batched decode: B sequences (prompts of P tokens, prefilled in one feed), then `steps` decode
 *  steps of B tokens each (greedy, top-k 5 read back); tokens/s = B·steps / decode time. */
async function benchBatch(dec: Decoder, sizes: readonly number[], prefill: number, steps: number): Promise<BatchBench[]> {
  const out: BatchBench[] = [];
  const V = dec.config.vocabSize;
  for (const b of sizes) {
    const session = dec.newBatchSession(b, prefill + steps + 2);
    const greedy = { temperature: 0, topP: 1, topK: 5, u: 0 };
    const prompts = Array.from({ length: b }, (_, s) => Array.from({ length: prefill }, (_, i) => 5 + ((i * 7919 + s * 104729) % (V - 5))));
    // warm-up (pipelines compile on first use), then the timed run from an empty cache
    let toks = await session.feed(prompts.map((ids, slot) => ({ slot, ids: ids.slice(0, 2), opts: greedy })));
    await session.feed(toks.map((t, slot) => ({ slot, ids: [t.id], opts: greedy })));
    for (let s = 0; s < b; s++) session.truncate(s, 0);
    toks = await session.feed(prompts.map((ids, slot) => ({ slot, ids, opts: greedy })));
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) toks = await session.feed(toks.map((t, slot) => ({ slot, ids: [t.id], opts: greedy })));
    const ms = performance.now() - t0;
    session.dispose();
    out.push({ b, tps: (b * steps) / (ms / 1000), msPerStep: ms / steps });
  }
  return out;
}

function printBatch(name: string, rows: BatchBench[]): void {
  console.log(`\n== batched decode: ${name} (B sequences per step, one KV region each; greedy, top-k 5 read back) ==`);
  console.log('   B   decode tok/s   ms/step   x B=1');
  for (const r of rows) console.log(`${String(r.b).padStart(4)} ${fmt(r.tps, 1).padStart(14)} ${fmt(r.msPerStep, 2).padStart(9)} ${fmt(r.tps / rows[0].tps, 2).padStart(7)}`);
  console.log(`decode tok/s at B = ${rows.map((r) => `${r.b}: ${fmt(r.tps, 1)}`).join(', ')}`);
}

/** Per-op time of one decode step. With timestamp-query: every dispatch in its own pass with
 *  begin/end timestamps, in one submit (GPU time). Without: each op group submitted alone (CPU time). */
async function perOp(ctx: GpuContext, session: WebGpuSession): Promise<{ how: string; rows: Array<[string, number]> }> {
  // the single session is one slot of a batch session; its rows, gather and tail buffers still hold
  // the last decode step (one row), so replaying the one-row lists times one decode step
  const s = session.batch;
  const { device } = ctx;
  device.queue.writeBuffer(s.step, 0, new Uint32Array([1, 0, 0, 0]));
  const list = [...s.layers.one, ...s.tail.one];
  const key = (d: Dispatch) => d.label.replace(/model\.layers\.\d+\./, '').replace(/\.weight$/, '');
  const totals = new Map<string, number>();
  let how: string;
  if (ctx.has('timestamp-query')) {
    how = 'GPU timestamps, one pass per dispatch, summed over layers';
    const n = list.length;
    const qs = device.createQuerySet({ type: 'timestamp', count: 2 * n });
    const resolve = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (let rep = 0; rep < 2; rep++) { // the first run warms up
      const enc = device.createCommandEncoder();
      list.forEach((d, i) => {
        const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        const [x, y, z] = d.grid(1);
        pass.setPipeline(d.pipeline); pass.setBindGroup(0, d.bind); pass.dispatchWorkgroups(x, y, z); pass.end();
      });
      enc.resolveQuerySet(qs, 0, 2 * n, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      if (rep === 1) list.forEach((d, i) => totals.set(key(d), (totals.get(key(d)) ?? 0) + Number(t[2 * i + 1] - t[2 * i]) / 1e6));
    }
    qs.destroy(); resolve.destroy(); read.destroy();
  } else {
    how = 'no timestamp-query: each op group submitted alone, CPU time';
    const groups = new Map<string, Dispatch[]>();
    for (const d of list) { if (!groups.has(key(d))) groups.set(key(d), []); groups.get(key(d))!.push(d); }
    for (const [k, g] of groups) {
      const run = async () => { const enc = device.createCommandEncoder(); encodeDispatches(enc, g, 1); device.queue.submit([enc.finish()]); await device.queue.onSubmittedWorkDone(); };
      await run();
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) await run();
      totals.set(k, (performance.now() - t0) / 3);
    }
  }
  return { how, rows: [...totals.entries()].sort((a, b) => b[1] - a[1]) };
}

const qwenShaped = (layers: number): ModelConfig => parseModelConfig({
  architectures: ['Qwen2ForCausalLM'], vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: layers,
  num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true,
}, 'qwen2.5-0.5b-shaped');

/** maj@5 on the tiny model with its tokenizer, budget forcing on (min 16, max 48 thinking tokens). */
async function tinySelfConsistency(tiny: Decoder, eosIds: readonly number[], fallback: boolean): Promise<ScBench> {
  const tok = await loadTokenizer({
    tokenizerJson: readFileSync('models/tiny/tokenizer.json', 'utf8'), tokenizerConfig: readFileSync('models/tiny/tokenizer_config.json', 'utf8'),
    source: 'models/tiny', extraEosIds: eosIds,
  });
  const budget = { ...INTERVENTION_DEFAULTS.budget, endMarkers: [...INTERVENTION_DEFAULTS.budget.endMarkers], minThinking: 16, maxThinking: 48 };
  return benchSelfConsistency(tiny, tok, { n: 5, maxNewTokens: fallback ? 48 : 64, interventions: { budget } });
}
const SC_NAME = 'tiny (models/tiny), budget forcing on';

async function batchOnly(ctx: GpuContext, fallback: boolean): Promise<void> {
  const sizes = [1, 4, 8, 16];
  const tinyCfg = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'), 'models/tiny/config.json');
  const tiny = await createDecoder(ctx, tinyCfg, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))));
  printBatch('tiny (models/tiny)', await benchBatch(tiny, sizes, 32, 24));
  printSelfConsistency(SC_NAME, await tinySelfConsistency(tiny, tinyCfg.eosTokenIds, fallback));
  tiny.dispose();
  const layers = arg('layers') ?? (fallback ? 2 : 24);
  const cfg = qwenShaped(layers);
  const big = await createDecoder(ctx, cfg, randomModelTensors(cfg, { seed: 1, tiled: true, embedStd: 0.05 }));
  printBatch(`Qwen2.5-0.5B-shaped (random), ${layers} layers`, await benchBatch(big, sizes, fallback ? 4 : 128, fallback ? 3 : 32));
  big.dispose();
}

interface LongRow { precision: string; context: number; ms: number; msLayers: number }
const LONG_CONTEXTS = [512, 4096, 16384];

/** Decode at long context: one sequence holding `c` tokens (counted without computing them: their cache
 *  rows hold zeros, and attention's cost does not depend on the values), one warm-up step, then `tokens`
 *  timed decode steps (greedy, top-k 5 read back). The layer stack alone is timed as well (one step's
 *  dispatches replayed in one submit), so the full depth is extrapolated:
 *  ms(24 layers) = ms − ms_layers + ms_layers · 24 / layers. */
async function benchLongContext(ctx: GpuContext, layers: number, tokens: number, precisions: ReadonlyArray<'f16' | 'q8_0' | 'q4_0'>, variants: { matmul?: PrefillVariant; decode?: DecodeVariant }): Promise<LongRow[]> {
  const out: LongRow[] = [];
  const { device } = ctx;
  for (const precision of precisions) {
    const cfg = qwenShaped(layers);
    const src = randomModelTensors(cfg, { seed: 1, tiled: true, embedStd: 0.05 });
    // the 2-D weights block-quantized on the CPU, as a load at that precision makes them (model/sources.ts)
    const tensors = precision === 'f16' ? src : (function* (): Generator<HostTensor> { for (const t of src) yield t.shape.length === 2 ? quantizeHostTensor(t, precision) : t; })();
    const dec = await createDecoder(ctx, cfg, tensors, undefined, variants);
    const s = dec.newBatchSession(1, Math.max(...LONG_CONTEXTS) + tokens + 2);
    const greedy = { temperature: 0, topP: 1, topK: 5, u: 0 };
    for (const c of LONG_CONTEXTS) {
      s.truncate(0, 0);
      s.assumeFilled(0, c - 1);
      let tok = (await s.feed([{ slot: 0, ids: [7], opts: greedy }]))[0]; // warm-up: c keys
      const t0 = performance.now();
      for (let i = 0; i < tokens; i++) tok = (await s.feed([{ slot: 0, ids: [tok.id], opts: greedy }]))[0];
      const ms = (performance.now() - t0) / tokens;
      // the layers alone (the rows buffer and step still hold the last one-row step)
      const keys = c + tokens;
      const list = s.layerList(1, keys);
      const run = async (n: number) => { const enc = device.createCommandEncoder(); for (let i = 0; i < n; i++) encodeDispatches(enc, list, 1); device.queue.submit([enc.finish()]); await device.queue.onSubmittedWorkDone(); };
      await run(1);
      const t1 = performance.now();
      await run(tokens);
      out.push({ precision, context: c, ms, msLayers: (performance.now() - t1) / tokens });
    }
    s.dispose();
    dec.dispose();
  }
  return out;
}

function printLongContext(rows: LongRow[], layers: number, fullLayers: number): void {
  console.log(`\n== decode at long context (Qwen2.5-0.5B-shaped, random weights; ${layers} layers measured, ${fullLayers} extrapolated from the layer stack's time; flash-decoding past 512 keys) ==`);
  console.log(`precision  context   ms/token  layers ms   tok/s (${layers} layers)   tok/s (${fullLayers} layers, est.)`);
  const full = (r: LongRow) => 1000 / (r.ms - r.msLayers + (r.msLayers * fullLayers) / layers);
  for (const r of rows) console.log(`${r.precision.padEnd(9)} ${String(r.context).padStart(8)} ${fmt(r.ms, 1).padStart(10)} ${fmt(r.msLayers, 1).padStart(11)} ${fmt(1000 / r.ms, 2).padStart(18)} ${fmt(full(r), 2).padStart(28)}`);
  const byP = new Map<string, LongRow[]>();
  for (const r of rows) { if (!byP.has(r.precision)) byP.set(r.precision, []); byP.get(r.precision)!.push(r); }
  const hi = LONG_CONTEXTS[LONG_CONTEXTS.length - 1]; const lo = LONG_CONTEXTS[0];
  const ratio = (rs: LongRow[], f: (r: LongRow) => number) => f(rs.find((r) => r.context === hi)!) / f(rs.find((r) => r.context === lo)!);
  console.log(`decode tok/s ratio 16K/512 (aim >= 0.70): ${[...byP].map(([p, rs]) => `${p} ${fmt(ratio(rs, (r) => 1000 / r.ms), 2)} (${fullLayers} layers est. ${fmt(ratio(rs, full), 2)})`).join(', ')}`);
}

async function longOnly(ctx: GpuContext, fallback: boolean): Promise<void> {
  const layers = arg('layers') ?? (fallback ? 2 : 24);
  printLongContext(await benchLongContext(ctx, layers, fallback ? 2 : 16, ['f16', 'q8_0', 'q4_0'], {}), layers, 24);
}

async function main(): Promise<void> {
  const ctx = await nodeGpuContext();
  const fallback = ctx.report.isFallbackAdapter;
  console.log(`device: ${ctx.report.description || ctx.report.vendor} (${ctx.report.architecture || '?'})${fallback ? ', fallback adapter (CPU)' : ''}; shader-f16: ${ctx.report.features.includes('shader-f16')}`);
  if (args.includes('--batch-only')) { await batchOnly(ctx, fallback); ctx.device.destroy(); return; }
  if (args.includes('--long-only')) { await longOnly(ctx, fallback); ctx.device.destroy(); return; }

  const peak = await measurePeakGflops(ctx, fallback ? 64 * 64 : 64 * 4096, fallback ? 512 : 4096);
  const bw = await measureCopyBandwidth(ctx, fallback ? 32 << 20 : 256 << 20);
  console.log(`\n== device peaks ==\nFMA peak ${fmt(peak, 1)} GFLOP/s | copy bandwidth ${fmt(bw.best, 1)} GB/s (copyBufferToBuffer ${fmt(bw.copyBufferGBs, 1)}, vec4 kernel ${fmt(bw.kernelGBs, 1)})`);

  console.log(`\n== matmul kernels (x f32 · W f16ᵀ) ==`);
  const shapes: Array<[number, number, number]> = fallback ? [[64, 896, 896], [1, 4864, 896]] : [[512, 4864, 896], [128, 896, 896], [1, 4864, 896], [1, 151936, 896]];
  console.log('variant    M      N     K      ms      GFLOP/s  % of peak');
  for (const [m, n, k] of shapes) {
    const variants: MatmulVariant[] = m === 1 ? [...decodeVariants(ctx), 'register'] : ['register', 'workgroup', 'generic'];
    for (const v of variants) {
      if (v === 'generic' && m * n * k > 2e8 && fallback) continue;
      const t = await timeMatmul(ctx, v, m, n, k, fallback ? 2 : 10);
      console.log(`${v.padEnd(9)} ${String(m).padStart(4)} ${String(n).padStart(6)} ${String(k).padStart(5)} ${fmt(t.ms, 3).padStart(8)} ${fmt(t.gflops, 2).padStart(10)} ${fmt((100 * t.gflops) / peak, 1).padStart(8)}%` + (m === 1 ? `   (weights ${fmt((n * k * 2) / (t.ms * 1e6), 1)} GB/s = ${fmt((100 * (n * k * 2)) / (t.ms * 1e6) / bw.best, 0)}% of copy)` : ''));
    }
  }
  const pre = await measureMatmulVariants(ctx);
  const decv = await measureDecodeVariants(ctx);
  console.log(`chosen by measurement on this device: prefill ${pre.best}, decode ${decv.best}`);

  const results: ModelBench[] = [];
  const context = arg('context') ?? 2048;
  // tiny model from disk
  const tinyCfg = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'), 'models/tiny/config.json');
  const tiny = await createDecoder(ctx, tinyCfg, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))), undefined, { matmul: pre.best, decode: decv.best });
  const t = await benchModel(ctx, 'tiny (models/tiny)', tiny, 128, 32, 512, `${tinyCfg.numLayers}/${tinyCfg.numLayers}`);
  results.push(t.r);
  t.session.dispose();
  const batchSizes = [1, 4, 8, 16];
  const tinyBatch = await benchBatch(tiny, batchSizes, 32, 24);
  const sc = await tinySelfConsistency(tiny, tinyCfg.eosTokenIds, fallback);
  tiny.dispose();

  // Qwen2.5-0.5B-shaped, random weights
  const fullLayers = 24;
  const layers = arg('layers') ?? (fallback ? 2 : fullLayers);
  const qwen = qwenShaped(layers);
  const tl = performance.now();
  const big = await createDecoder(ctx, qwen, randomModelTensors(qwen, { seed: 1, tiled: true, embedStd: 0.05 }), undefined, { matmul: pre.best, decode: decv.best });
  const loadS = (performance.now() - tl) / 1000;
  const b = await benchModel(ctx, 'Qwen2.5-0.5B-shaped (random)', big, fallback ? 32 : 512, fallback ? 4 : 64, context, `${layers}/${fullLayers}${layers < fullLayers ? ' (fewer layers: slow device)' : ''}`);
  results.push(b.r);
  const ops = await perOp(ctx, b.session);
  // memory at the full depth: measured total minus per-layer weight and KV scaled to 24 layers
  const perLayerW = (big.weightBytes - 151936 * 896 * 2 - 896 * 2) / layers;
  const perLayerKv = big.kvBytes(context) / layers;
  const fullBytes = big.gpuBytes + (fullLayers - layers) * (perLayerW + perLayerKv);
  b.session.dispose();
  const bigBatch = await benchBatch(big, batchSizes, fallback ? 4 : 128, fallback ? 3 : 32);
  big.dispose();
  const longRows = await benchLongContext(ctx, layers, fallback ? 2 : 16, ['f16', 'q8_0', 'q4_0'], { matmul: pre.best, decode: decv.best });

  console.log(`\n== models (prefill in one feed of P tokens; decode = one token per step incl. top-p sampling and readback) ==`);
  console.log('model                           layers                          P    prefill tok/s   decode tok/s   ms/token   weights     GB/s  bw-eff   GPU bytes');
  for (const r of results) {
    console.log(`${r.name.padEnd(31)} ${r.layers.padEnd(31)} ${String(r.prefillTokens).padStart(4)} ${fmt(r.prefillTps, 1).padStart(14)} ${fmt(r.decodeTps, 2).padStart(14)} ${fmt(r.decodeMs, 1).padStart(10)} ${MiB(r.weightBytes).padStart(10)} ${fmt(r.gbps, 2).padStart(8)} ${fmt((100 * r.gbps) / bw.best, 1).padStart(6)}%  ${MiB(r.gpuBytes)}`);
  }
  console.log(`decode bandwidth efficiency = weight bytes read per second / measured copy bandwidth (${fmt(bw.best, 1)} GB/s); bound = ${fmt(bw.best / (results[1].weightBytes / 1e9), 1)} tok/s for these weights`);
  console.log(`Qwen2.5-0.5B at ${fullLayers} layers, ${context} context: ${MiB(fullBytes)} of GPU memory (${layers < fullLayers ? `measured ${layers} layers + ${fullLayers - layers} x (weights ${MiB(perLayerW)} + KV ${MiB(perLayerKv)})` : 'measured'}; target <= 1.3 GB); load of the random weights ${fmt(loadS, 1)} s`);
  printBatch('tiny (models/tiny)', tinyBatch);
  printBatch(`${results[1].name}, ${layers} layers`, bigBatch);
  printSelfConsistency(SC_NAME, sc);
  const opTotal = ops.rows.reduce((a, r) => a + r[1], 0);
  console.log(`\n== decode step time per op (${results[1].name}, ${layers} layers; ${ops.how}) ==`);
  for (const [k, ms] of ops.rows) console.log(`${k.padEnd(28)} ${fmt(ms, 2).padStart(9)} ms ${fmt((100 * ms) / opTotal, 1).padStart(6)}%`);
  printLongContext(longRows, layers, fullLayers);
  ctx.device.destroy();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
