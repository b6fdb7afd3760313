// Training benchmark, one run: device FMA peak | per model: a LoRA training step (forward, chunked
// head + loss, backward, AdamW, grad-norm readback) vs a forward pass over the same tokens (the same
// kernels, loss only), tokens/s, dispatches/submits/readbacks per step, achieved GFLOP/s vs the peak,
// the allocation tracker's peak | the bundled student (models/tiny, one sequence of T = 256 and a
// packed batch), models/tiny-world when present, a Qwen2.5-0.5B-shaped model (1 and 2 layers
// measured, 24 extrapolated, as bench:engine does) | the memory of a Qwen2.5-0.5B-shaped step at
// T = 1024 with a 0.30% adapter | where /usr/bin/python3 has torch: the same model and step in
// torch (2 threads) and the ratio | the memory table of issue 23 (Qwen3-0.6B, Llama-3.2-1B, Qwen3-1.7B
// shapes; base f16 / q8 / q4; adapter 0.30%; T = 1K..16K) | one Qwen3-0.6B-shaped layer's training
// step at T = 512..4K, its time in attention, attention-backward GFLOP/s vs the matmul kernels'.
//   npm run bench:train [-- --steps N] [--sections models,qwen,table,layer] [--layer-t 512,1024]
//   sections: models (tiny students), qwen (Qwen2.5-0.5B-shaped + its memory line), table (memory table),
//   layer (per-layer cost; off by default on a fallback adapter, where T = 4K takes many minutes)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type LoraAdapter, type LoraTarget, createLoraAdapter, loraModuleDims } from '../src/engine/adapter/lora.ts';
import { LoraAdamW } from '../src/engine/adapter/optimizer.ts';
import { LoraTrainPass, type PackedBatch } from '../src/engine/adapter/train-pass.ts';
import { measurePeakGflops } from '../src/engine/device/microbench.ts';
import { timeMatmul } from '../src/engine/device/kernel-choice.ts';
import { countParams } from '../src/engine/model/config.ts';
import { type WeightPrecision, weightBytes } from '../src/engine/model/memory-quant.ts';
import { attentionPackedBackwardDispatches, attentionPackedDispatch, attentionPackedParams, packedRows } from '../src/engine/ops/attention-packed.ts';
import { flashAttentionBackwardDispatches, flashAttentionDispatch } from '../src/engine/ops/flash-attention.ts';
import { type Dispatch, encodeDispatches } from '../src/engine/runtime/kernel.ts';
import { nodeGpuContext } from '../src/engine/device/node-gpu.ts';
import type { GpuContext } from '../src/engine/device/gpu-context.ts';
import { SeededRng } from '../src/lib/rng.ts';
import { parseModelConfig } from '../src/engine/model/config.ts';
import { createDecoder, type Decoder } from '../src/engine/model/decoder.ts';
import { randomModelTensors } from '../src/engine/model/random-model.ts';
import { chunked, readSafetensors } from '../src/engine/model/safetensors.ts';
import type { ModelConfig } from '../src/engine/model/types.ts';

const args = process.argv.slice(2);
const arg = (k: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? Number(args[i + 1]) : undefined; };
const REPS = arg('steps') ?? 3;
const listArg = (k: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1].split(',') : undefined; };
const sectionsArg = listArg('sections');
const layerTs = listArg('layer-t')?.map(Number);
const fmt = (v: number, d = 2) => v.toFixed(d);
const MiB = (b: number) => b / 2 ** 20;

/** FLOPs of a forward and of a training step (frozen base: dx only, no dW) over packed sequences. */
function flops(c: ModelConfig, lens: readonly number[], a: LoraAdapter, recompute: boolean): { forward: number; step: number } {
  const t = lens.reduce((s, n) => s + n, 0);
  const C = c.hiddenSize; const QD = c.numHeads * c.headDim; const KD = c.numKvHeads * c.headDim; const F = c.intermediateSize;
  const linear = 2 * t * (C * QD + 2 * C * KD + QD * C + 3 * C * F); // per layer
  const pairs = lens.reduce((s, n) => s + (n * (n + 1)) / 2, 0);
  const attF = 4 * pairs * c.numHeads * c.headDim; // q·k and p·v
  const attB = 14 * pairs * c.numHeads * c.headDim; // dq kernel: s, dp, dq; dkv kernel: s, dp, dv, dk
  const lora = a.modules.reduce((s, m) => s + 2 * t * m.A.length / m.inFeatures * (m.inFeatures + m.outFeatures), 0);
  const head = 2 * t * c.vocabSize * C;
  const L = c.numLayers;
  const forward = L * (linear + attF) + lora + head;
  const recomputed = recompute ? L * (linear - 2 * t * F * C + attF) : 0; // the layer forward again, less down_proj
  const step = forward + L * (linear + attB) + 2 * lora + head + recomputed;
  return { forward, step };
}

interface Row { name: string; tokens: number; seqs: number; stepMs: number; fwdMs: number; gflops: number; peakMiB: number; dispatches: number; recompute: boolean }

async function timeStep(ctx: GpuContext, dec: Decoder, a: LoraAdapter, lens: number[], name: string, peak: number, opts: { recompute?: boolean; reps?: number } = {}): Promise<Row> {
  const rng = new SeededRng(9);
  const V = dec.config.vocabSize;
  const t = lens.reduce((s, n) => s + n, 0);
  const b: PackedBatch = { ids: [], targets: [], weights: [], lengths: lens };
  for (const n of lens) {
    const ids = Array.from({ length: n }, () => Math.floor(rng.next() * V));
    b.ids.push(...ids); b.targets.push(...ids.map((_, i) => (i + 1 < n ? ids[i + 1] : -1))); b.weights.push(...ids.map((_, i) => (i + 1 < n ? 1 / (n - 1) / lens.length : 0)));
  }
  const pass = new LoraTrainPass(ctx, dec, a, t, { recompute: opts.recompute });
  const opt = new LoraAdamW(ctx, pass, { lr: 1e-3, maxGradNorm: 1, weightDecay: 0.01 });
  try {
    const reps = opts.reps ?? REPS;
    const step = async () => { await pass.run(b, { readGrads: false }); opt.step(); await opt.lastGradNorm(); };
    await step(); await pass.forwardLoss(b); // warm-up: pipelines compile on first use
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) await step();
    const stepMs = (performance.now() - t0) / reps;
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await pass.forwardLoss(b);
    const fwdMs = (performance.now() - t0) / reps;
    const f = flops(dec.config, lens, a, pass.recompute);
    const d = pass.dispatchCount(t);
    const row: Row = { name, tokens: t, seqs: lens.length, stepMs, fwdMs, gflops: f.step / (stepMs * 1e6), peakMiB: MiB(dec.gpuBytes + pass.peakBytes + opt.gpuBytes), dispatches: d.forward + d.head + d.backward, recompute: pass.recompute };
    console.log(`${name.padEnd(44)} ${String(t).padStart(5)} ${String(lens.length).padStart(4)} ${fmt(stepMs, 1).padStart(9)} ${fmt(fwdMs, 1).padStart(9)} ${fmt(stepMs / fwdMs, 2).padStart(6)} ${fmt(t / (stepMs / 1000), 0).padStart(8)} ${fmt(row.gflops, 2).padStart(8)} ${fmt((100 * row.gflops) / peak, 1).padStart(6)}% ${fmt(row.peakMiB, 1).padStart(9)}  ${row.dispatches} dispatches, 2 submits, 2 readbacks${row.recompute ? ', recompute' : ''}`);
    return row;
  } finally { opt.dispose(); pass.dispose(); }
}

function loadDir(ctx: GpuContext, dir: string): Promise<Decoder> {
  const cfg = parseModelConfig(readFileSync(`${dir}/config.json`, 'utf8'), `${dir}/config.json`);
  return createDecoder(ctx, cfg, readSafetensors(chunked(readFileSync(`${dir}/model.safetensors`))));
}

function qwenShaped(layers: number): ModelConfig {
  return parseModelConfig({
    architectures: ['Qwen2ForCausalLM'], vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: layers,
    num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true,
  }, 'qwen2.5-0.5b-shaped');
}

/** Qwen2.5-0.5B parameters (24 layers, tied head) and the 0.30% adapter: rank 11 on q, k, v, o of every layer. */
const QWEN_PARAMS = 494_032_768;
const QWEN_ADAPTER = { r: 11, alpha: 22, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as LoraTarget[] };

function torchPeer(dir: string, T: number, B: number, a: { r: number; alpha: number; targetModules: string[] }): { single: { tokensPerSec: number; stepMs: number; forwardMs: number }; batch: { tokensPerSec: number; stepMs: number } } | string {
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  const r = spawnSync('/usr/bin/python3', ['scripts/bench/torch_train.py', `${dir}/config.json`, String(T), String(B), String(a.r), String(a.alpha), a.targetModules.join(','), '3'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return `torch run failed: ${(r.stderr || r.error?.message || '').split('\n').filter(Boolean).slice(-1)[0] ?? 'no output'}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// ---------------------------------------------------------------- memory table (issue 23)

const qwen3Shaped = (name: string, C: number, F: number) => (layers: number, vocab = 151936): ModelConfig => parseModelConfig({
  architectures: ['Qwen3ForCausalLM'], vocab_size: vocab, hidden_size: C, intermediate_size: F, num_hidden_layers: layers, num_attention_heads: 16,
  num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true,
}, name);
const llama32Shaped = (layers: number, vocab = 128256): ModelConfig => parseModelConfig({
  architectures: ['LlamaForCausalLM'], vocab_size: vocab, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: layers, num_attention_heads: 32,
  num_key_value_heads: 8, head_dim: 64, max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000, tie_word_embeddings: true,
  rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
}, 'llama-3.2-1b-shaped');
/** The published shapes (config.json of each model); layers: the real depth. */
const TABLE_SHAPES = [
  { name: 'Qwen3-0.6B', layers: 28, cfg: qwen3Shaped('qwen3-0.6b-shaped', 1024, 3072) },
  { name: 'Llama-3.2-1B', layers: 16, cfg: llama32Shaped },
  { name: 'Qwen3-1.7B', layers: 28, cfg: qwen3Shaped('qwen3-1.7b-shaped', 2048, 6144) },
];
const TABLE_T = [1024, 4096, 8192, 16384];
const PRECISIONS: WeightPrecision[] = ['f16', 'q8_0', 'q4_0'];
const precName = (p: WeightPrecision) => (p === 'f16' ? 'f16' : p === 'q8_0' ? 'q8' : 'q4');

/** Targets and one rank for every layer whose adapter is closest to `share` of the base parameters. */
function adapterAt(cfg: ModelConfig, share = 0.003): { init: { r: number; alpha: number; targetModules: LoraTarget[] }; pct: number } {
  const P = countParams(cfg);
  const all: LoraTarget[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  // q/k/v/o first, then every other subset of the 7 modules (the first closest wins)
  const sets: LoraTarget[][] = [all.slice(0, 4), ...Array.from({ length: 127 }, (_, m) => all.filter((_, i) => ((m + 1) >> i) & 1))];
  let best = { init: { r: 1, alpha: 2, targetModules: sets[0] }, pct: 0 };
  for (const t of sets) {
    const S = t.reduce((a, m) => { const [i, o] = loraModuleDims(cfg, m); return a + i + o; }, 0);
    for (let r = 1; r <= 64; r++) {
      const pct = (100 * r * S * cfg.numLayers) / P;
      if (Math.abs(pct - 100 * share) < Math.abs(best.pct - 100 * share)) best = { init: { r, alpha: 2 * r, targetModules: t }, pct };
    }
  }
  return best;
}

/** Tracker bytes of the train pass (recompute on: the long-trace mode) + AdamW state at `layers` layers, for each T. */
async function passBytes(ctx: GpuContext, cfg: ModelConfig, init: { r: number; alpha: number; targetModules: LoraTarget[] }, Ts: number[]): Promise<number[]> {
  const dec = await createDecoder(ctx, cfg, randomModelTensors(cfg, { seed: 1, tiled: true, embedStd: 0.05 }));
  const a = createLoraAdapter(cfg, init, () => 0.5);
  const out: number[] = [];
  for (const T of Ts) {
    const pass = new LoraTrainPass(ctx, dec, a, T, { recompute: true });
    const opt = new LoraAdamW(ctx, pass, { lr: 1e-3 });
    out.push(pass.peakBytes + opt.gpuBytes);
    opt.dispose(); pass.dispose();
  }
  dec.dispose();
  return out;
}

/** Memory table: the pass's tracker bytes at 1 and 2 layers and T = 256, 512 give its fixed and per-layer
 *  bytes, each linear in T (every buffer is rows x width, or fixed: the head's 64-row logits chunk, the
 *  adapter); weights from memory-quant.ts (the bytes weights.ts uploads at that precision). */
async function memoryTable(ctx: GpuContext): Promise<void> {
  console.log(`\nmemory table (MiB): base weights (memory-quant.ts weightBytes: embedding + tied head quantized too) + train pass and AdamW (allocation tracker at 1 and 2 layers, T = 256 and 512, per layer x real depth, linear in T), recompute on, LM head + loss in 64-row chunks`);
  console.log(`${'model'.padEnd(14)} ${'base'.padEnd(4)} ${'adapter'.padStart(8)} ${TABLE_T.map((t) => `T=${t}`.padStart(9)).join(' ')}`);
  const lines: string[] = []; const notes: string[] = [];
  for (const sh of TABLE_SHAPES) {
    const full = sh.cfg(sh.layers);
    const { init, pct } = adapterAt(full);
    const [b1a, b1b, b1c] = await passBytes(ctx, sh.cfg(1), init, [256, 512, 1024]);
    const [b2a, b2b] = await passBytes(ctx, sh.cfg(2), init, [256, 512]);
    const at = (b1: number, b2: number) => ({ layer: b2 - b1, fixed: 2 * b1 - b2 });
    const A = at(b1a, b2a); const B = at(b1b, b2b);
    const lin = (x: number, y: number, T: number) => x + ((y - x) * (T - 256)) / 256;
    const pass = (T: number, layers: number) => lin(A.fixed, B.fixed, T) + layers * lin(A.layer, B.layer, T);
    const check = pass(1024, 1);
    notes.push(`  ${sh.name}: adapter r ${init.r} on ${init.targetModules.map((m) => m.replace('_proj', '')).join('/')} = ${fmt(pct, 3)}%; pass per layer ${fmt(MiB(lin(A.layer, B.layer, 1024)), 1)} MiB at T=1024 (${fmt(MiB(B.layer - A.layer) / 256 * 1024, 1)} MiB per 1K rows), fixed ${fmt(MiB(lin(A.fixed, B.fixed, 1024)), 1)} MiB; check: 1 layer at T=1024 allocated ${fmt(MiB(b1c), 1)} MiB vs linear model ${fmt(MiB(check), 1)} MiB`);
    for (const p of PRECISIONS) {
      const w = weightBytes(full, p).totalBytes;
      const cells = TABLE_T.map((T) => Math.round(MiB(w + pass(T, sh.layers))));
      console.log(`${sh.name.padEnd(14)} ${precName(p).padEnd(4)} ${`${fmt(pct, 2)}%`.padStart(8)} ${cells.map((c) => String(c).padStart(9)).join(' ')}   (weights ${Math.round(MiB(w))})`);
      if ((sh.name === 'Qwen3-1.7B' && p === 'q4_0') || (sh.name === 'Qwen3-0.6B' && p === 'f16')) {
        const T = sh.name === 'Qwen3-1.7B' ? 8192 : 16384;
        lines.push(`memory: ${sh.name}-shaped, ${precName(p)} base, T=${T}, adapter ${fmt(pct, 2)}%: ${cells[TABLE_T.indexOf(T)]} MiB`);
      }
    }
  }
  for (const n of notes) console.log(n);
  for (const l of lines.sort().reverse()) console.log(l);
}

// ---------------------------------------------------------------- per-layer cost (issue 23)

/** Times `list` run `reps` times in one submit (after one warm-up run). */
async function timeList(ctx: GpuContext, list: Dispatch[], t: number, reps: number): Promise<number> {
  const run = async (n: number) => { const enc = ctx.device.createCommandEncoder(); for (let i = 0; i < n; i++) encodeDispatches(enc, list, t); ctx.device.queue.submit([enc.finish()]); await ctx.device.queue.onSubmittedWorkDone(); };
  await run(1);
  const t0 = performance.now(); await run(reps);
  return (performance.now() - t0) / reps;
}

/** One Qwen3-0.6B-shaped layer (a 1-layer model, vocabulary cut to 1,024 so the head is negligible):
 *  its training step at each T, the attention kernels' time in it (forward twice: the step and the
 *  recompute; backward once), and the attention backward's GFLOP/s vs the matmul kernel's. */
async function layerCost(ctx: GpuContext, Ts: number[]): Promise<void> {
  const cfg = qwen3Shaped('qwen3-0.6b-layer', 1024, 3072)(1, 1024);
  const full = qwen3Shaped('qwen3-0.6b-shaped', 1024, 3072)(28);
  const dec = await createDecoder(ctx, cfg, randomModelTensors(cfg, { seed: 2, tiled: true, embedStd: 0.05 }));
  const a = createLoraAdapter(cfg, adapterAt(full).init, () => 0.5);
  const H = cfg.numHeads; const KV = cfg.numKvHeads; const D = cfg.headDim;
  console.log(`\none Qwen3-0.6B-shaped layer, training step (recompute on, 1 sequence of T rows; vocabulary 1,024):`);
  console.log(`${'T'.padStart(6)} ${'step ms'.padStart(9)} ${'attn ms'.padStart(9)} ${'attn %'.padStart(7)} ${'attn-bwd GFLOP/s'.padStart(17)} ${'matmul GFLOP/s'.padStart(15)} ${'bwd/matmul'.padStart(10)}  kernels`);
  for (const T of Ts) {
    const pass = new LoraTrainPass(ctx, dec, a, T, { recompute: true });
    const rng = new SeededRng(T);
    const ids = Array.from({ length: T }, () => Math.floor(rng.next() * cfg.vocabSize));
    const b: PackedBatch = { ids, targets: ids.map((_, i) => (i + 1 < T ? ids[i + 1] : -1)), weights: ids.map((_, i) => (i + 1 < T ? 1 / (T - 1) : 0)) };
    await pass.run(b, { readGrads: false });
    const reps = Math.max(1, Math.min(REPS, Math.round(2e5 / T)));
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) await pass.run(b, { readGrads: false });
    const stepMs = (performance.now() - t0) / reps;
    // the same attention kernels on their own, at the pass's shapes
    const { device } = ctx;
    const st = (n: number) => device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const fill = (n: number, s = 1) => { const bb = st(n); device.queue.writeBuffer(bb, 0, Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * s)); return bb; };
    const rows = st(2 * T); device.queue.writeBuffer(rows, 0, Uint32Array.from(packedRows([T]).flat()));
    const params = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }); device.queue.writeBuffer(params, 0, attentionPackedParams(H, KV, D, T));
    const step = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }); device.queue.writeBuffer(step, 0, new Uint32Array([T, 0, 0, 0]));
    const bufs = { q: fill(T * H * D), k: fill(T * KV * D), v: fill(T * KV * D), out: st(T * H * D), lse: st(T * H), rows, params, step };
    const flash = pass.attentionVariant === 'flash';
    const fwd = [(flash ? flashAttentionDispatch : attentionPackedDispatch)(device, bufs, { h: H, d: D })];
    const bwd = (flash ? flashAttentionBackwardDispatches : attentionPackedBackwardDispatches)(device, { ...bufs, o: bufs.out, dout: fill(T * H * D), delta: st(T * H), dq: st(T * H * D), dkv: st(2 * T * KV * D) }, { h: H, hkv: KV, d: D });
    const fMs = await timeList(ctx, fwd, T, reps); const bMs = await timeList(ctx, [...fwd, ...bwd], T, reps) - fMs;
    const pairs = (T * (T + 1)) / 2;
    const bwdG = (14 * pairs * H * D) / (bMs * 1e6);
    const mm = await timeMatmul(ctx, pass.matmulVariant, T, cfg.intermediateSize, cfg.hiddenSize, reps);
    const attMs = 2 * fMs + bMs;
    console.log(`${String(T).padStart(6)} ${fmt(stepMs, 1).padStart(9)} ${fmt(attMs, 1).padStart(9)} ${fmt((100 * attMs) / stepMs, 1).padStart(6)}% ${fmt(bwdG, 1).padStart(17)} ${fmt(mm.gflops, 1).padStart(15)} ${fmt(bwdG / mm.gflops, 2).padStart(10)}  attention ${pass.attentionVariant}, matmul ${pass.matmulVariant} (${T}x${cfg.intermediateSize}x${cfg.hiddenSize})`);
    for (const bb of [bufs.q, bufs.k, bufs.v, bufs.out, bufs.lse, rows, params, step]) bb.destroy();
    pass.dispose();
  }
  dec.dispose();
}

async function main(): Promise<void> {
  const ctx = await nodeGpuContext();
  const fallback = ctx.report.isFallbackAdapter;
  console.log(`device: ${ctx.report.description || ctx.report.vendor} (${ctx.report.architecture || '?'})${fallback ? ', fallback adapter (CPU)' : ''}`);
  const peak = await measurePeakGflops(ctx, fallback ? 64 * 64 : 64 * 4096, fallback ? 512 : 4096);
  console.log(`FMA peak ${fmt(peak, 1)} GFLOP/s (ops/microbench.ts)\n`);
  const sections = new Set(sectionsArg ?? ['models', 'qwen', 'table', ...(fallback ? [] : ['layer'])]);
  console.log(`sections: ${[...sections].join(', ')} (--sections models,qwen,table,layer)`);
  console.log(`${'model / batch'.padEnd(44)} ${'rows'.padStart(5)} ${'seqs'.padStart(4)} ${'step ms'.padStart(9)} ${'fwd ms'.padStart(9)} ${'ratio'.padStart(6)} ${'tok/s'.padStart(8)} ${'GFLOP/s'.padStart(8)} ${'%peak'.padStart(7)} ${'peak MiB'.padStart(9)}`);

  const rows: Row[] = [];
  const tinyA = { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] as LoraTarget[] };
  const lensRng = new SeededRng(4);
  const batchLens = Array.from({ length: 8 }, () => 64 + Math.floor(lensRng.next() * 193)); // 64..256
  const models: Array<[string, string]> = !sections.has('models') ? [] : [['tiny', 'models/tiny'], ...(existsSync('models/tiny-world/model.safetensors') ? [['tiny-world', 'models/tiny-world'] as [string, string]] : [])];
  const torchRows: string[] = [];
  for (const [name, dir] of models) {
    const dec = await loadDir(ctx, dir);
    const a = createLoraAdapter(dec.config, tinyA, () => 0.5);
    rows.push(await timeStep(ctx, dec, a, [256], `${name}: 1 sequence, T=256`, peak));
    rows.push(await timeStep(ctx, dec, a, batchLens, `${name}: 8 sequences of 64..256, packed`, peak));
    const tp = torchPeer(dir, 256, 8, tinyA);
    if (typeof tp === 'string') torchRows.push(`${name}: torch peer skipped (${tp})`);
    else {
      const ours1 = rows[rows.length - 2]; const oursB = rows[rows.length - 1];
      torchRows.push(`${name}: torch (2 threads, same shape and LoRA) ${fmt(tp.single.tokensPerSec, 0)} tok/s at 1x256 (step ${fmt(tp.single.stepMs, 1)} ms, forward ${fmt(tp.single.forwardMs, 1)} ms), ${fmt(tp.batch.tokensPerSec, 0)} tok/s at 8x256; ours ${fmt(256 / (ours1.stepMs / 1000), 0)} and ${fmt(oursB.tokens / (oursB.stepMs / 1000), 0)} tok/s: torch/ours = ${fmt(tp.single.tokensPerSec / (256 / (ours1.stepMs / 1000)), 1)}x (1 sequence), ${fmt(tp.batch.tokensPerSec / (oursB.tokens / (oursB.stepMs / 1000)), 1)}x (batch)`);
    }
    dec.dispose();
  }

  if (sections.has('qwen')) await qwenSection(ctx, peak);
  if (sections.has('table')) await memoryTable(ctx);
  if (sections.has('layer')) await layerCost(ctx, layerTs ?? [512, 1024, 2048, 4096]);
  for (const l of torchRows) console.log(l);
  const best = rows.filter((r) => r.seqs > 1).sort((x, y) => y.gflops - x.gflops)[0];
  if (best) console.log(`best batched: ${best.name}: ${fmt(best.gflops, 2)} GFLOP/s = ${fmt((100 * best.gflops) / peak, 1)}% of the FMA peak; step/forward ${fmt(best.stepMs / best.fwdMs, 2)}`);
  ctx.device.destroy();
}

/** Qwen2.5-0.5B-shaped: step time at 1 and 2 layers -> per layer + fixed (embedding, head), extrapolated to 24; its memory line. */
async function qwenSection(ctx: GpuContext, peak: number): Promise<void> {
  const fallback = ctx.report.isFallbackAdapter;
  const qT = fallback ? 32 : 1024;
  const measured: Row[] = [];
  for (const layers of [1, 2]) {
    const cfg = qwenShaped(layers);
    const dec = await createDecoder(ctx, cfg, randomModelTensors(cfg, { seed: 1, tiled: true, embedStd: 0.05 }));
    const a = createLoraAdapter(cfg, QWEN_ADAPTER, () => 0.5);
    measured.push(await timeStep(ctx, dec, a, [qT], `Qwen2.5-0.5B-shaped, ${layers} layer${layers > 1 ? 's' : ''}, T=${qT}`, peak, { reps: 1 }));
    dec.dispose();
  }
  const per = (k: 'stepMs' | 'fwdMs') => measured[1][k] - measured[0][k];
  const at24 = (k: 'stepMs' | 'fwdMs') => measured[0][k] + 23 * per(k);
  const noisy = (['stepMs', 'fwdMs'] as const).filter((k) => per(k) <= 0);
  // one rep per size on a shared machine: a layer's cost can drown in the head's (151,936-row) noise
  if (noisy.length) console.log(`Qwen2.5-0.5B-shaped, 24 layers: not extrapolated, the 2-layer ${noisy.map((k) => (k === 'stepMs' ? 'step' : 'forward')).join(' and ')} (${noisy.map((k) => `${fmt(measured[1][k], 1)} ms`).join(', ')}) took no longer than the 1-layer one (${noisy.map((k) => `${fmt(measured[0][k], 1)} ms`).join(', ')}): timing noise; rerun on a quieter machine`);
  else console.log(`Qwen2.5-0.5B-shaped, 24 layers (extrapolated: 1 layer + 23 x (2 layers - 1 layer)), T=${qT}: step ${fmt(at24('stepMs') / 1000, 2)} s, forward ${fmt(at24('fwdMs') / 1000, 2)} s, ratio ${fmt(at24('stepMs') / at24('fwdMs'), 2)}, ${fmt(qT / (at24('stepMs') / 1000), 1)} tok/s`);

  // memory of a T = 1024 step with the 0.30% adapter: the tracker's peak at 1 and 2 layers (construction
  // allocates every buffer the step uses; the step itself allocates only two small readback buffers)
  const mem: number[] = [];
  let pct = 0; let recompute = true;
  for (const layers of [1, 2]) {
    const cfg = qwenShaped(layers);
    const dec = await createDecoder(ctx, cfg, randomModelTensors(cfg, { seed: 1, tiled: true, embedStd: 0.05 }));
    const a = createLoraAdapter(cfg, QWEN_ADAPTER, () => 0.5);
    const pass = new LoraTrainPass(ctx, dec, a, 1024);
    const opt = new LoraAdamW(ctx, pass, { lr: 1e-3 });
    mem.push(dec.gpuBytes + pass.peakBytes + opt.gpuBytes);
    recompute = pass.recompute;
    pct = (100 * (a.modules.reduce((s, m) => s + m.A.length + m.B.length, 0) / layers) * 24) / QWEN_PARAMS;
    opt.dispose(); pass.dispose(); dec.dispose();
  }
  const memAt24 = mem[0] + 23 * (mem[1] - mem[0]);
  console.log(`memory: Qwen2.5-0.5B-shaped, T=1024, adapter ${fmt(pct, 2)}%: ${Math.round(MiB(memAt24))} MiB`);
  console.log(`  (allocation tracker peak: 1 layer ${fmt(MiB(mem[0]), 1)} MiB, 2 layers ${fmt(MiB(mem[1]), 1)} MiB, + 22 x ${fmt(MiB(mem[1] - mem[0]), 1)} MiB per layer; weights f16, ${recompute ? 'activations recomputed per layer (layer inputs kept)' : 'every layer\'s activations kept'}, LM head + loss in row chunks; target <= 2,560 MiB)`);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
