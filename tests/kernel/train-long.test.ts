// Long traces in training (issue 23) on a small random Qwen3-shaped model (q/k norms, GQA):
// 1. a 16,384-row packed micro-batch of 16 documents (one of them 3 tokens, the longest 1,500)
//    trains with per-layer recompute through the adapter's attention kernels (SwiftShader: the
//    barrier-free ones), and its loss and every LoRA gradient equal the unpacked reference: each
//    document alone with every activation kept, gradients summed over the documents;
// 2. on a 1,024-row packed batch, the GPU-tiled flash kernels with recompute on and off (the same
//    kernels on the same inputs: equal to the last bits) and vs the barrier-free kernels. (The flash
//    kernels at 16K rows take ~90 s on SwiftShader, whose workgroup barriers are slow: past this file's
//    budget; tests/kernel/flash-attention.test.ts checks them against the float64 reference.)
// Tolerances: per tensor relative to its largest entry. Packed vs unpacked and flash vs barrier-free
// differ by f32 summation order (the LoRA weight gradients sum over all rows at once vs per document):
// 2e-4 (observed values are printed); a row attending across a document border moves them by O(1e-2+).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLoraAdapter } from '../../src/engine/adapter/lora.ts';
import { type GpuTrainResult, LoraTrainPass, type PackedBatch } from '../../src/engine/adapter/train-pass.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { type Decoder, createDecoder } from '../../src/engine/model/decoder.ts';
import { randomModelTensors } from '../../src/engine/model/random-model.ts';
import { rng } from './helpers.ts';

let ctx: GpuContext;
let decoder: Decoder;
const config = parseModelConfig({
  architectures: ['Qwen3ForCausalLM'], vocab_size: 96, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, head_dim: 8, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true,
}, 'tiny-qwen3-long');
beforeAll(async () => {
  ctx = await nodeGpuContext();
  decoder = await createDecoder(ctx, config, randomModelTensors(config, { seed: 23, embedStd: 0.5 }));
});
afterAll(() => { decoder?.dispose(); ctx?.device.destroy(); });

// 16 documents of 3..1,500 tokens (attention's cost grows with the square of a document's length)
const LENS = [1500, 3, 1200, 900, 1100, 1000, 1300, 800, 1000, 1200, 1400, 700, 1000, 1100, 981, 1200];

/** Documents with a repeating pattern plus noise (so the model's loss differs by position), next-token
 *  targets within each document, weights 1/(tokens with a target) overall. */
function docs(lens: readonly number[]): PackedBatch[] {
  const r = rng(7);
  const n = lens.reduce((s, l) => s + l - 1, 0);
  return lens.map((len, d) => {
    const ids = Array.from({ length: len }, (_, i) => (r() < 0.7 ? (i * (d + 3)) % 96 : Math.floor(r() * 96)));
    return { ids, targets: ids.map((_, i) => (i + 1 < len ? ids[i + 1] : -1)), weights: ids.map((_, i) => (i + 1 < len ? 1 / n : 0)) };
  });
}

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

function compareGrads(got: GpuTrainResult, want: GpuTrainResult, tol: number, label: string): number {
  let worst = 0;
  for (const [path, w] of want.grads) {
    const g = got.grads.get(path)!;
    for (const [name, a, b] of [['dA', g.dA, w.dA], ['dB', g.dB, w.dB]] as const) {
      const scale = maxAbs(b);
      expect(scale, `${label} ${path} ${name} is zero`).toBeGreaterThan(0);
      worst = Math.max(worst, maxDiff(a, b) / scale);
      expect(a, `${label} ${path} ${name}`).toBeAllclose(b, { atol: tol * scale, rtol: 0 });
    }
    expect(Math.abs(g.dGate - w.dGate), `${label} ${path} dgate`).toBeLessThanOrEqual(tol * Math.max(1e-3, Math.abs(w.dGate)));
  }
  return worst;
}

function adapter() {
  const a = createLoraAdapter(config, { r: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj'] }, rng(3));
  const r = rng(4);
  for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.3; m.gate = 0.7 + 0.6 * r(); }
  return a;
}
const pack = (ds: PackedBatch[]): PackedBatch => ({ ids: ds.flatMap((d) => d.ids), targets: ds.flatMap((d) => d.targets), weights: ds.flatMap((d) => d.weights), lengths: ds.map((d) => d.ids.length) });

it('a 16,384-row packed batch (16 documents, recompute) equals the documents trained one by one', async () => {
  const a = adapter();
  const ds = docs(LENS);
  const packed = pack(ds);
  expect(packed.ids.length).toBe(16384);
  const t0 = performance.now();
  const long = new LoraTrainPass(ctx, decoder, a, packed.ids.length, { recompute: true });
  const got = await long.run(packed);
  const msPacked = performance.now() - t0;
  long.dispose();
  // the unpacked reference: one document at a time, every activation kept, gradients accumulated
  const one = new LoraTrainPass(ctx, decoder, a, Math.max(...LENS), { recompute: false });
  let want!: GpuTrainResult; let loss = 0;
  for (let i = 0; i < ds.length; i++) { want = await one.run(ds[i], { accumulate: i > 0 }); loss += want.loss; }
  one.dispose();
  expect(Math.abs(got.loss - loss)).toBeLessThan(1e-5 * loss);
  expect(loss).toBeGreaterThan(1); // an untrained model on 96 tokens: CE ~ ln 96 = 4.6
  const worst = compareGrads(got, { ...want, loss }, 2e-4, 'packed vs per document');
  console.log(`16K packed (${long.attentionVariant} attention): loss ${got.loss.toFixed(6)} vs per-document ${loss.toFixed(6)}; worst |dgrad|/max ${worst.toExponential(2)}; packed step ${msPacked.toFixed(0)} ms, all ${(performance.now() - t0).toFixed(0)} ms`);
}, 90_000);

it('flash kernels with recompute on and off, vs the barrier-free kernels, on a packed batch', async () => {
  const a = adapter();
  const packed = pack(docs([300, 3, 400, 321]));
  const run = async (o: { attention: 'flash' | 'rows'; recompute: boolean }) => {
    const p = new LoraTrainPass(ctx, decoder, a, packed.ids.length, o);
    try { expect(p.recompute).toBe(o.recompute); return await p.run(packed); } finally { p.dispose(); }
  };
  const on = await run({ attention: 'flash', recompute: true });
  const off = await run({ attention: 'flash', recompute: false });
  const rows = await run({ attention: 'rows', recompute: false });
  expect(on.loss).toBe(off.loss); // the same kernels on the same inputs
  const worstRec = compareGrads(on, off, 1e-6, 'recompute on vs off');
  expect(Math.abs(on.loss - rows.loss)).toBeLessThan(1e-5 * rows.loss);
  const worstK = compareGrads(on, rows, 2e-4, 'flash vs rows');
  console.log(`1,024 packed rows: recompute on vs off worst |dgrad|/max ${worstRec.toExponential(2)}; flash vs barrier-free ${worstK.toExponential(2)}`);
}, 90_000);
