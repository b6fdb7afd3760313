// LoRA training pass on the GPU (src/engine/adapter/train-pass.ts) vs the float64 CPU reference
// (src/engine/adapter/reference.ts) on models/tiny: logits, loss and every A, B, gate gradient.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalLmBatch, segmentBatch } from '../../src/engine/adapter/batch.ts';
import { type LoraAdapter, createLoraAdapter, loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { loraLogits, loraLossAndGrads } from '../../src/engine/adapter/reference.ts';
import { LoraTrainPass, type TrainPassOptions } from '../../src/engine/adapter/train-pass.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { type Decoder, createDecoder } from '../../src/engine/model/decoder.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import { loadTinyModel, rng } from './helpers.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

let ctx: GpuContext;
let decoder: Decoder;
let config: ModelConfig;
let model: ReferenceModel;
beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder, config } = await loadTinyModel(ctx, 'models/tiny', { kvCache: 'f32' })); // f32 KV cache: the session logits are compared at 1e-4 (f16 cache: kv16.test.ts)
  const ts = await readTinyTensors();
  model = new ReferenceModel(config, ts);
});
afterAll(() => { decoder?.dispose(); ctx?.device.destroy(); });

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

/** Every target module, random A and B, gates != 1. */
function fullAdapter(): LoraAdapter {
  const a = createLoraAdapter(config, { r: 3, alpha: 6, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, rng(31));
  const r = rng(32);
  for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.2; m.gate = 0.6 + 0.8 * r(); }
  return a;
}

async function compare(a: LoraAdapter, ids: number[], batch: ReturnType<typeof causalLmBatch>, label: string, opts: TrainPassOptions = {}): Promise<void> {
  const pass = new LoraTrainPass(ctx, decoder, a, ids.length, opts);
  try {
    const gl = await pass.logits(ids);
    const cl = loraLogits(model, a, ids);
    const ldev = maxDiff(gl, cl);
    const gpu = await pass.run(batch);
    const cpu = loraLossAndGrads(model, a, batch);
    let worstRel = 0;
    // GPU: f32 activations and accumulation vs float64. Tolerance per tensor relative to its largest
    // entry: 1e-4 (observed ~4e-6 on SwiftShader; printed below); a wrong index, sign or missing path is O(1).
    for (const m of a.modules) {
      const g = gpu.grads.get(m.path)!; const c = cpu.grads.get(m.path)!;
      for (const [name, got, want] of [['dA', g.dA, c.dA], ['dB', g.dB, c.dB]] as const) {
        const scale = maxAbs(want);
        expect(scale, `${m.path} ${name} is zero`).toBeGreaterThan(0);
        worstRel = Math.max(worstRel, maxDiff(got, want) / scale);
        expect(got, `${m.path} ${name}`).toBeAllclose(want, { atol: 1e-4 * scale, rtol: 0 });
      }
      expect(Math.abs(g.dGate - c.dGate), `${m.path} dgate ${g.dGate} vs ${c.dGate}`).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(c.dGate)) + 1e-6);
    }
    console.log(`[adapter-train ${label}] logits max |gpu-cpu| ${ldev.toExponential(2)}; loss gpu ${gpu.loss.toFixed(6)} cpu ${cpu.loss.toFixed(6)}; worst grad |diff|/max ${worstRel.toExponential(2)}`);
    expect(gl).toBeAllclose(cl, { atol: 2e-4, rtol: 1e-4 }); // |logits| up to ~20, f32
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-5 * Math.abs(cpu.loss));
  } finally {
    pass.dispose();
  }
}

describe('LoRA train pass (GPU) vs float64 reference', () => {
  it('the PEFT fixture adapter (q, v), causal-LM mean loss; gates 1 and 0.5/1.5', async () => {
    const golden = JSON.parse(readFileSync('tests/fixtures/golden/tiny-lora-grads.json', 'utf8')) as { ids: number[] };
    const a = loadPeftAdapter(config, readFileSync('tests/fixtures/golden/peft-tiny-lora/adapter_config.json', 'utf8'), new Uint8Array(readFileSync('tests/fixtures/golden/peft-tiny-lora/adapter_model.safetensors')));
    await compare(a, golden.ids, causalLmBatch(golden.ids), 'peft');
    a.modules.forEach((m, i) => { m.gate = i % 2 ? 1.5 : 0.5; });
    await compare(a, golden.ids, causalLmBatch(golden.ids), 'peft-gated');
  });

  it('all seven module kinds, hierarchical segment weights', async () => {
    const ids = [3, 140, 22, 301, 77, 5, 260, 411, 9, 88, 120];
    const batch = segmentBatch(ids, [{ start: 2, end: 5, lambda: 0.3 }, { start: 5, end: 9, lambda: 1 }, { start: 9, end: 11, lambda: 2 }]);
    await compare(fullAdapter(), ids, batch, 'all-modules');
    await compare(fullAdapter(), ids, batch, 'all-modules-recompute', { recompute: true });
  });

  it('recomputing activations per layer gives the gradients of stored activations', async () => {
    const r = rng(7);
    const ids = Array.from({ length: 90 }, () => Math.floor(r() * config.vocabSize));
    const batch = causalLmBatch(ids);
    const a = fullAdapter();
    const p1 = new LoraTrainPass(ctx, decoder, a, ids.length, { recompute: true }); const p2 = new LoraTrainPass(ctx, decoder, a, ids.length, { recompute: false });
    try {
      expect(p1.recompute).toBe(true); expect(p2.recompute).toBe(false);
      expect(p1.gpuBytes).toBeLessThan(p2.gpuBytes);
      const [g1, g2] = [await p1.run(batch), await p2.run(batch)];
      expect(g1.loss).toBe(g2.loss); // same kernels on the same inputs
      for (const m of a.modules) {
        expect(g1.grads.get(m.path)!.dA).toEqual(g2.grads.get(m.path)!.dA);
        expect(g1.grads.get(m.path)!.dB).toEqual(g2.grads.get(m.path)!.dB);
      }
    } finally { p1.dispose(); p2.dispose(); }
  });

  it('LM head + cross-entropy in 64-row chunks equals one chunk over all 150 rows', async () => {
    const r = rng(8);
    const ids = Array.from({ length: 150 }, () => Math.floor(r() * config.vocabSize));
    const batch = causalLmBatch(ids);
    const a = fullAdapter();
    const p1 = new LoraTrainPass(ctx, decoder, a, ids.length, { headChunkRows: 64 }); const p2 = new LoraTrainPass(ctx, decoder, a, ids.length, { headChunkRows: 192 });
    try {
      expect(p1.headChunkRows).toBe(64); expect(p2.headChunkRows).toBe(150);
      const [g1, g2] = [await p1.run(batch), await p2.run(batch)];
      expect(g1.rowLosses).toBeAllclose(g2.rowLosses, { atol: 1e-7, rtol: 1e-6 });
      expect(Math.abs(g1.loss - g2.loss)).toBeLessThan(1e-6 * g2.loss);
      for (const m of a.modules) {
        const x = g1.grads.get(m.path)!; const y = g2.grads.get(m.path)!;
        expect(x.dA).toBeAllclose(y.dA, { atol: 1e-6 * maxAbs(y.dA), rtol: 0 });
        expect(x.dB).toBeAllclose(y.dB, { atol: 1e-6 * maxAbs(y.dB), rtol: 0 });
      }
      expect(await p1.logits(ids)).toBeAllclose(await p2.logits(ids), { atol: 1e-6, rtol: 1e-6 });
    } finally { p1.dispose(); p2.dispose(); }
  });

  it('three sequences packed in one micro-batch (capacity to spare): loss and gradients = the sum over each through the reference', async () => {
    const seqs = [[3, 140, 22, 301, 77, 5, 260], [9, 88], [411, 120, 7, 7, 33, 60, 1, 2, 500, 12, 64]];
    const batches = seqs.map((ids) => causalLmBatch(ids));
    const a = fullAdapter();
    const packedBatch = { ids: batches.flatMap((b) => b.ids), targets: batches.flatMap((b) => b.targets), weights: batches.flatMap((b) => b.weights), lengths: seqs.map((q) => q.length) };
    const pass = new LoraTrainPass(ctx, decoder, a, packedBatch.ids.length + 13);
    try {
      const gpu = await pass.run(packedBatch);
      const refs = batches.map((b) => loraLossAndGrads(model, a, b));
      const loss = refs.reduce((s, r) => s + r.loss, 0);
      expect(Math.abs(gpu.loss - loss)).toBeLessThan(1e-5 * loss);
      for (const m of a.modules) {
        const g = gpu.grads.get(m.path)!;
        const dA = refs.reduce((acc, r) => acc.map((v, i) => v + r.grads.get(m.path)!.dA[i]), new Float64Array(m.A.length));
        const dB = refs.reduce((acc, r) => acc.map((v, i) => v + r.grads.get(m.path)!.dB[i]), new Float64Array(m.B.length));
        expect(g.dA, `${m.path} dA`).toBeAllclose(dA, { atol: 1e-4 * maxAbs(dA), rtol: 0 });
        expect(g.dB, `${m.path} dB`).toBeAllclose(dB, { atol: 1e-4 * maxAbs(dB), rtol: 0 });
      }
      // accumulate: a second micro-batch adds its gradients to the first's
      const again = await pass.run(packedBatch, { accumulate: true });
      for (const m of a.modules) expect(again.grads.get(m.path)!.dA).toBeAllclose(gpu.grads.get(m.path)!.dA.map((v) => 2 * v), { atol: 1e-6 * maxAbs(gpu.grads.get(m.path)!.dA), rtol: 1e-6 });
      await expect(pass.run({ ...packedBatch, lengths: [7, 2, 10] })).rejects.toThrow(/sum to the 20 ids/);
    } finally { pass.dispose(); }
  });

  it('mixed per-module ranks and alphas on a sparse placement (ranks 1..5, some layers only)', async () => {
    const a = createLoraAdapter(config, { r: 2, alpha: 4, modules: [
      { layer: 0, target: 'k_proj', r: 1, alpha: 2 }, { layer: 0, target: 'gate_proj', r: 5, alpha: 3 },
      { layer: 1, target: 'q_proj', r: 3, alpha: 4 }, { layer: 1, target: 'o_proj', r: 2, alpha: 7 }, { layer: 1, target: 'down_proj', r: 4, alpha: 1 },
    ] }, rng(41));
    const r = rng(42);
    for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.2; m.gate = 0.6 + 0.8 * r(); }
    expect(a.modules.map((m) => m.A.length / m.inFeatures)).toEqual([1, 5, 3, 2, 4]);
    const ids = [3, 140, 22, 301, 77, 5, 260, 411, 9];
    await compare(a, ids, segmentBatch(ids, [{ start: 1, end: 4, lambda: 1 }, { start: 4, end: 9, lambda: 0.5 }]), 'mixed-ranks');
  });

  /** Teacher top-k targets for `ids` (the next token among the top-k, renormalised with 30% tail mass). */
  const teacherFor = (ids: number[], K: number, seed: number) => {
    const T = ids.length; const r = rng(seed);
    const tIds: number[] = []; const lps: number[] = [];
    for (let t = 0; t < T; t++) {
      const s = new Set<number>([ids[Math.min(t + 1, T - 1)]]);
      while (s.size < K) s.add(Math.floor(r() * config.vocabSize));
      const raw = [...s].map((_, k) => (k === 0 ? 3 : 1) * (0.2 + r()));
      const tot = raw.reduce((x, y) => x + y, 0) * 1.3;
      [...s].forEach((id, k) => { tIds.push(id); lps.push(Math.log(raw[k] / tot)); });
    }
    return { k: K, ids: tIds, logprobs: Array.from(Float32Array.from(lps)), weights: ids.map((_, t) => (t < T - 1 ? 0.4 : 0)) };
  };

  it('with the teacher top-k KL term: loss and gradients match the float64 reference (CE + KL), one head chunk and three', async () => {
    const ids = [3, 140, 22, 301, 77, 5, 260, 411, 9];
    const batch = { ...segmentBatch(ids, [{ start: 1, end: 5, lambda: 1 }, { start: 5, end: 9, lambda: 0.5 }]), teacher: teacherFor(ids, 3, 51) };
    const a = fullAdapter();
    await compare(a, ids, batch, 'kl', { klTopK: 3 });
    const cpu = loraLossAndGrads(model, a, batch);
    const ce = loraLossAndGrads(model, a, { ...batch, teacher: undefined });
    expect(cpu.loss - ce.loss).toBeGreaterThan(0.05); // the KL part is really there
    const pass = new LoraTrainPass(ctx, decoder, a, ids.length);
    try { await expect(pass.run(batch)).rejects.toThrow(/built without klTopK/); } finally { pass.dispose(); }
    // 130 rows in head chunks of 64: the KL of rows 64.. goes through chunks with r0 > 0
    const r = rng(52);
    const long = Array.from({ length: 130 }, () => Math.floor(r() * config.vocabSize));
    await compare(a, long, { ...segmentBatch(long, [{ start: 1, end: 130, lambda: 1 }]), teacher: teacherFor(long, 4, 53) }, 'kl-chunked', { klTopK: 4, headChunkRows: 64 });
  });

  it('weights split into row chunks (small binding limit): same loss and gradients as unsplit', async () => {
    const split = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'), 4096)), undefined, { maxBindingBytes: 4096 });
    expect(split.weight('model.embed_tokens.weight')!.chunks.length).toBeGreaterThan(1);
    expect(split.weight('model.layers.0.mlp.down_proj.weight')!.chunks.length).toBeGreaterThan(1);
    const ids = [3, 140, 22, 301, 77, 5, 260];
    const batch = causalLmBatch(ids);
    const a = fullAdapter();
    const p1 = new LoraTrainPass(ctx, split, a, ids.length); const p2 = new LoraTrainPass(ctx, decoder, a, ids.length);
    try {
      const [g1, g2] = [await p1.run(batch), await p2.run(batch)];
      expect(Math.abs(g1.loss - g2.loss)).toBeLessThan(1e-5 * g2.loss);
      for (const m of a.modules) {
        const x = g1.grads.get(m.path)!; const y = g2.grads.get(m.path)!;
        expect(x.dA).toBeAllclose(y.dA, { atol: 1e-5 * maxAbs(y.dA), rtol: 0 });
        expect(x.dB).toBeAllclose(y.dB, { atol: 1e-5 * maxAbs(y.dB), rtol: 0 });
      }
    } finally { p1.dispose(); p2.dispose(); split.dispose(); }
  });

  it('with B = 0 (fresh adapter) the pass reproduces the decoder session logits', async () => {
    const ids = [1, 2, 3, 50, 400, 7];
    const a = createLoraAdapter(config, { r: 2, alpha: 4, targetModules: ['q_proj', 'down_proj'] }, rng(3));
    const pass = new LoraTrainPass(ctx, decoder, a, ids.length);
    const s = decoder.newSession(16);
    try {
      expect(await pass.logits(ids)).toBeAllclose(await s.logits(ids), { atol: 1e-4, rtol: 1e-4 });
      await expect(pass.logits([1, 2, 3, 4, 5, 6, 7])).rejects.toThrow(/up to 6 rows, got 7/);
    } finally { pass.dispose(); s.dispose(); }
  });
});
