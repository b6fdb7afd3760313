// Training benchmark, one run: device FMA peak | per model: a LoRA training step (forward, chunked
// head + loss, backward, AdamW, grad-norm readback) vs a forward pass over the same tokens (the same
// kernels, loss only), tokens/s, dispatches/submits/readbacks per step, achieved GFLOP/s vs the peak,
// the allocation tracker's peak | the bundled student (models/tiny, one sequence of T = 256 and a
// packed batch), models/tiny-world when present, a Qwen2.5-0.5B-shaped model (1 and 2 layers
// measured, 24 extrapolated, as bench:engine does) | the memory of a Qwen2.5-0.5B-shaped step at
// T = 1024 with a 0.30% adapter | where /usr/bin/python3 has torch: the same model and step in
// torch (2 threads) and the ratio.
//   npm run bench:train [-- --steps N]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type LoraAdapter, type LoraTarget, createLoraAdapter } from '../src/engine/adapter/lora.ts';
import { LoraAdamW } from '../src/engine/adapter/optimizer.ts';
import { LoraTrainPass, type PackedBatch } from '../src/engine/adapter/train-pass.ts';
import { measurePeakGflops } from '../src/engine/device/microbench.ts';
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

async function main(): Promise<void> {
  const ctx = await nodeGpuContext();
  const fallback = ctx.report.isFallbackAdapter;
  console.log(`device: ${ctx.report.description || ctx.report.vendor} (${ctx.report.architecture || '?'})${fallback ? ', fallback adapter (CPU)' : ''}`);
  const peak = await measurePeakGflops(ctx, fallback ? 64 * 64 : 64 * 4096, fallback ? 512 : 4096);
  console.log(`FMA peak ${fmt(peak, 1)} GFLOP/s (ops/microbench.ts)\n`);
  console.log(`${'model / batch'.padEnd(44)} ${'rows'.padStart(5)} ${'seqs'.padStart(4)} ${'step ms'.padStart(9)} ${'fwd ms'.padStart(9)} ${'ratio'.padStart(6)} ${'tok/s'.padStart(8)} ${'GFLOP/s'.padStart(8)} ${'%peak'.padStart(7)} ${'peak MiB'.padStart(9)}`);

  const rows: Row[] = [];
  const tinyA = { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] as LoraTarget[] };
  const lensRng = new SeededRng(4);
  const batchLens = Array.from({ length: 8 }, () => 64 + Math.floor(lensRng.next() * 193)); // 64..256
  const models: Array<[string, string]> = [['tiny', 'models/tiny'], ...(existsSync('models/tiny-world/model.safetensors') ? [['tiny-world', 'models/tiny-world'] as [string, string]] : [])];
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

  // Qwen2.5-0.5B-shaped: step time at 1 and 2 layers -> per layer + fixed (embedding, head), extrapolated to 24
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

  for (const l of torchRows) console.log(l);
  const best = rows.filter((r) => r.seqs > 1).sort((x, y) => y.gflops - x.gflops)[0];
  if (best) console.log(`best batched: ${best.name}: ${fmt(best.gflops, 2)} GFLOP/s = ${fmt((100 * best.gflops) / peak, 1)}% of the FMA peak; step/forward ${fmt(best.stepMs / best.fwdMs, 2)}`);
  ctx.device.destroy();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
