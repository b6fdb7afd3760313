// Adapter merged into the decoder's f16 weights (src/engine/adapter/merge.ts) on models/tiny:
// session logits vs the float64 LoRA reference, row-split weights, exact restore, content hash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoraAdapter, createLoraAdapter, loraScaling } from '../../src/engine/adapter/lora.ts';
import { activeAdapter, adapterHash, applyAdapter, restoreBase } from '../../src/engine/adapter/merge.ts';
import { loraLogits } from '../../src/engine/adapter/reference.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { type Decoder, createDecoder } from '../../src/engine/model/decoder.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import type { HostTensor, ModelConfig } from '../../src/engine/model/types.ts';
import { f16ToF32, f32ToF16 } from '../../src/engine/model/f16.ts';
import { loadTinyModel, rng } from './helpers.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

let ctx: GpuContext;
let decoder: Decoder;
let split: Decoder;
let config: ModelConfig;
let model: ReferenceModel;
let tensors: HostTensor[];
const prompt: number[] = [];
beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder, config } = await loadTinyModel(ctx, 'models/tiny', { kvCache: 'f32' })); // f32 KV cache: logits vs float64 at 2e-4 (f16 cache: kv16.test.ts)
  const ts = await readTinyTensors();
  model = new ReferenceModel(config, ts);
  tensors = ts;
  // 2000-byte buffers: q_proj (64x64 f16 = 8 KiB) lands in 5 row chunks
  split = await createDecoder(ctx, config, ts, undefined, { maxBindingBytes: 2000, kvCache: 'f32' });
  const r = rng(7);
  for (let i = 0; i < 12; i++) prompt.push(5 + Math.floor(r() * (config.vocabSize - 5)));
});
afterAll(() => { decoder?.dispose(); split?.dispose(); ctx?.device.destroy(); });

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

function adapter(seed: number): LoraAdapter {
  return randomize(createLoraAdapter(config, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'] }, rng(seed)), seed);
}

/** A sparse placement with mixed ranks and alphas (PEFT rank_pattern / alpha_pattern). */
function mixedAdapter(seed: number): LoraAdapter {
  return randomize(createLoraAdapter(config, { r: 4, alpha: 8, modules: [
    { layer: 0, target: 'q_proj', r: 1, alpha: 3 }, { layer: 0, target: 'down_proj', r: 6, alpha: 8 },
    { layer: 1, target: 'v_proj', r: 2, alpha: 8 }, { layer: 1, target: 'up_proj', r: 4, alpha: 1 },
  ] }, rng(seed)), seed);
}

function randomize(a: LoraAdapter, seed: number): LoraAdapter {
  const r = rng(seed + 1);
  for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.1; m.gate = 0.5 + r(); }
  return a;
}

/** Reference model whose weights are W' = W + gate·s·B·A computed in float64 and stored as f16. */
function mergedReference(a: LoraAdapter): ReferenceModel {
  const mods = new Map(a.modules.map((m) => [`${m.path}.weight`, m]));
  return new ReferenceModel(config, tensors.map((t) => {
    const m = mods.get(t.name);
    if (!m) return t;
    const packed = new Uint32Array(t.packed.length);
    for (let o = 0; o < m.outFeatures; o++) for (let i = 0; i < m.inFeatures; i++) {
      const e = o * m.inFeatures + i;
      let d = 0;
      for (let k = 0; k < m.r; k++) d += m.B[o * m.r + k] * m.A[k * m.inFeatures + i];
      const h = f32ToF16(f16ToF32((t.packed[e >> 1] >>> (16 * (e & 1))) & 0xffff) + loraScaling(m) * m.gate * d);
      packed[e >> 1] |= h << (16 * (e & 1));
    }
    return { ...t, packed };
  }));
}

async function logits(d: Decoder): Promise<Float32Array> {
  const s = d.newSession(32);
  try { return await s.logits(prompt); } finally { s.dispose(); }
}

describe('LoRA merged into the decoder weights', () => {
  it('after applyAdapter the logits match the float64 LoRA reference; restoreBase gives the base bit-for-bit', async () => {
    const a = adapter(11);
    const base = await logits(decoder);
    const hash = await applyAdapter(ctx.device, decoder, a);
    expect(activeAdapter(decoder)).toBe(hash);
    const merged = await logits(decoder);
    const want = loraLogits(model, a, prompt);
    const wantF16 = mergedReference(a).logits(prompt);
    const [err, errF16, shift] = [maxDiff(merged, want), maxDiff(merged, wantF16), maxDiff(merged, base)];
    console.log(`merged logits: vs reference with f16 W' ${errF16.toExponential(2)}, vs float64 unmerged LoRA ${err.toExponential(2)}; the adapter moves logits by up to ${shift.toFixed(3)}`);
    // same f16 weights: only f32-vs-float64 arithmetic differs (as tests/kernel/model.test.ts)
    expect(merged).toBeAllclose(wantF16, { atol: 2e-4, rtol: 1e-4 });
    // unmerged float64 LoRA: adds the f16 rounding of W' (2^-11 relative per weight)
    expect(merged).toBeAllclose(want, { atol: 0.1, rtol: 0 });
    expect(shift).toBeGreaterThan(0.5); // the adapter really changes the model (well above both tolerances)
    restoreBase(ctx.device, decoder);
    expect(activeAdapter(decoder)).toBeNull();
    expect(Array.from(await logits(decoder))).toEqual(Array.from(base));
  });

  it('row-split weights merge the same way; switching adapters restores the base first', async () => {
    const a = adapter(11); const b = adapter(21);
    const base = await logits(split);
    await applyAdapter(ctx.device, split, b);
    await applyAdapter(ctx.device, split, a); // b must not leak into a
    await applyAdapter(ctx.device, decoder, a);
    const [gs, gd] = [await logits(split), await logits(decoder)];
    expect(Array.from(gs)).toEqual(Array.from(gd));
    expect(gs).toBeAllclose(mergedReference(a).logits(prompt), { atol: 2e-4, rtol: 1e-4 });
    restoreBase(ctx.device, split); restoreBase(ctx.device, decoder);
    expect(Array.from(await logits(split))).toEqual(Array.from(base));
  });

  it('mixed per-module ranks and alphas merge as W + gate·(alpha_m/r_m)·B·A per module', async () => {
    const a = mixedAdapter(5);
    expect(a.modules.map((m) => `${m.path}:${m.r}`)).toEqual(['model.layers.0.self_attn.q_proj:1', 'model.layers.0.mlp.down_proj:6', 'model.layers.1.self_attn.v_proj:2', 'model.layers.1.mlp.up_proj:4']);
    const base = await logits(split);
    await applyAdapter(ctx.device, split, a);
    const merged = await logits(split);
    expect(merged).toBeAllclose(mergedReference(a).logits(prompt), { atol: 2e-4, rtol: 1e-4 });
    expect(merged).toBeAllclose(loraLogits(model, a, prompt), { atol: 0.1, rtol: 0 });
    expect(maxDiff(merged, base)).toBeGreaterThan(0.2);
    // a uniform-scaling merge (alpha 8 / r 4 everywhere) would differ: the per-module scaling is what is applied
    const wrong = mergedReference({ ...a, modules: a.modules.map((m) => ({ ...m, alpha: 2 * m.r })) }).logits(prompt);
    expect(maxDiff(merged, wrong)).toBeGreaterThan(1e-2);
    restoreBase(ctx.device, split);
    expect(Array.from(await logits(split))).toEqual(Array.from(base));
  });

  it('the adapter hash is stable and follows the content', async () => {
    const a = adapter(11);
    const h = await adapterHash(a);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await adapterHash(adapter(11))).toBe(h);
    a.modules[0].B[0] += 0.01;
    expect(await adapterHash(a)).not.toBe(h);
  });
});
