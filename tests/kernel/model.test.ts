// The bundled tiny model (models/tiny) on the GPU vs the float64 CPU reference: logits over a
// 32-token prompt, KV-cache decode vs full recomputation, greedy generation, both matmul variants,
// prefill chunking, clear errors for bad weights, and the allocation tracker.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { createDecoder, type Decoder } from '../../src/engine/model/decoder.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import type { HostTensor, ModelConfig } from '../../src/engine/model/types.ts';
import { rng } from './helpers.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

let ctx: GpuContext;
let config: ModelConfig;
let tensors: HostTensor[];
let ref: ReferenceModel;
let dec: Decoder;
const prompt: number[] = [];

beforeAll(async () => {
  ctx = await nodeGpuContext();
  config = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'), 'models/tiny/config.json');
  tensors = await readTinyTensors();
  ref = new ReferenceModel(config, tensors);
  dec = await createDecoder(ctx, config, tensors, undefined, { kvCache: 'f32' }); // f32 cache: compared with the float64 reference (the f16 cache: kv16.test.ts)
  const r = rng(2024);
  for (let i = 0; i < 32; i++) prompt.push(5 + Math.floor(r() * (config.vocabSize - 5)));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

// f32 GPU vs float64 reference through 2 layers: logits are O(3), errors O(1e-5)
const LOGIT_TOL = { atol: 2e-4, rtol: 1e-4 };

function argmaxRow(l: ArrayLike<number>, row: number, v: number): number {
  let b = 0;
  for (let j = 1; j < v; j++) if (l[row * v + j] > l[row * v + b]) b = j;
  return b;
}

function logSoftmaxRow(l: ArrayLike<number>, row: number, v: number): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < v; j++) m = Math.max(m, l[row * v + j]);
  let s = 0;
  for (let j = 0; j < v; j++) s += Math.exp(l[row * v + j] - m);
  return Float64Array.from({ length: v }, (_, j) => l[row * v + j] - m - Math.log(s));
}

describe('tiny model: GPU decoder vs CPU reference', () => {
  it('has the parameters of the config and tracks its GPU bytes', () => {
    expect(dec.params).toBe(tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0));
    expect(dec.gpuBytes).toBeGreaterThanOrEqual(dec.weightBytes);
  });

  it('logits over a 32-token prompt match the reference at every position', async () => {
    const s = dec.newSession(64);
    const got = await s.logits(prompt);
    const want = ref.logits(prompt);
    expect(got).toBeAllclose(want, LOGIT_TOL);
    // the logits are not degenerate: positions differ and the spread is real
    let spread = 0;
    for (let j = 0; j < config.vocabSize; j++) spread = Math.max(spread, Math.abs(want[j] - want[config.vocabSize * 31 + j]));
    expect(spread).toBeGreaterThan(1);
    s.dispose();
  });

  for (const matmul of ['register', 'workgroup'] as const) {
    it(`${matmul}-tiled prefill in chunks gives the same logits`, async () => {
      const d2 = await createDecoder(ctx, config, tensors, undefined, { matmul, prefillChunk: matmul === 'register' ? 5 : 16, kvCache: 'f32' });
      const s = d2.newSession(40);
      expect(await s.logits(prompt)).toBeAllclose(ref.logits(prompt), LOGIT_TOL);
      d2.dispose();
      expect(d2.gpuBytes).toBe(0);
    });
  }

  it('weights split across buffers (binding limit lowered to 20 kB) give the same logits and steps', async () => {
    const d2 = await createDecoder(ctx, config, tensors, undefined, { maxBindingBytes: 20_000, kvCache: 'f32' });
    expect(d2.weightBytes).toBe(dec.weightBytes);
    const s = d2.newSession(40);
    expect(await s.logits(prompt.slice(0, 8))).toBeAllclose(ref.logits(prompt.slice(0, 8)), LOGIT_TOL);
    const s2 = d2.newSession(40);
    const s1 = dec.newSession(40);
    const o = { temperature: 0, topP: 1, topK: 3, u: 0 };
    const [a, b] = [await s1.feed(prompt.slice(0, 8), o), await s2.feed(prompt.slice(0, 8), o)];
    expect(b.id).toBe(a.id);
    expect(b.logprob).toBeCloseTo(a.logprob, 4);
    s1.dispose();
    d2.dispose();
  });

  it('KV-cache decode (one token a step, matrix-vector kernels) equals full recomputation', async () => {
    const s = dec.newSession(48);
    const V = config.vocabSize;
    const ids = prompt.slice(0, 20);
    let tok = await s.feed(ids, { temperature: 0, topP: 1, topK: 5, u: 0 });
    for (let step = 0; step < 6; step++) {
      const full = ref.logits(ids);
      const row = ids.length - 1;
      const lp = logSoftmaxRow(full, row, V);
      expect(tok.id).toBe(argmaxRow(full, row, V));
      expect(tok.logprob).toBeCloseTo(lp[tok.id], 3);
      const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => lp[b] - lp[a]);
      expect(tok.alternatives.map((a) => a.id)).toEqual(order.slice(0, 5));
      const ent = -lp.reduce((a, l) => a + Math.exp(l) * l, 0);
      expect(tok.entropy).toBeCloseTo(ent, 3);
      ids.push(tok.id);
      tok = await s.feed([tok.id], { temperature: 0, topP: 1, topK: 5, u: 0 });
    }
    expect(s.length).toBe(26);
    s.dispose();
  });

  it.each(['matvec', 'subgroup'] as const)('the %s decode kernel and SwiftShader-style rowdot give the same steps', async (decode) => {
    if (decode === 'subgroup' && !ctx.has('subgroups')) { console.warn('subgroup decode skipped: the adapter lacks subgroups'); return; }
    const d2 = await createDecoder(ctx, config, tensors, undefined, { decode, sampleWorkgroup: 256, kvCache: 'f32' });
    const [s1, s2] = [dec.newSession(16), d2.newSession(16)];
    const o = { temperature: 0, topP: 1, topK: 4, u: 0 };
    let [a, b] = [await s1.feed(prompt.slice(0, 6), o), await s2.feed(prompt.slice(0, 6), o)];
    for (let i = 0; i < 2; i++) {
      expect(b.id).toBe(a.id);
      expect(b.alternatives.map((x) => x.logprob)).toBeAllclose(a.alternatives.map((x) => x.logprob), { atol: 1e-4 });
      [a, b] = [await s1.feed([a.id], o), await s2.feed([b.id], o)];
    }
    s1.dispose();
    d2.dispose();
  });

  it('greedy generation equals the reference greedy tokens', async () => {
    const s = dec.newSession(64);
    const p = prompt.slice(0, 12);
    const want = ref.greedy(p, 12);
    const got: number[] = [];
    let t = await s.feed(p, { temperature: 0, topP: 1, topK: 0, u: 0 });
    for (let i = 0; i < 12; i++) {
      got.push(t.id);
      if (i < 11) t = await s.feed([t.id], { temperature: 0, topP: 1, topK: 0, u: 0 });
    }
    expect(got).toEqual(want);
    s.dispose();
  });

  it('truncate() branches: re-feeding from a shorter cache reproduces the step', async () => {
    const s = dec.newSession(32);
    const opts = { temperature: 0.9, topP: 0.9, topK: 3, u: 0.37 };
    const a = await s.feed(prompt.slice(0, 10), opts);
    const b = await s.feed([a.id], opts);
    s.truncate(10);
    const b2 = await s.feed([a.id], opts);
    expect(b2.id).toBe(b.id);
    expect(b2.logprob).toBeCloseTo(b.logprob, 5);
    expect(() => s.truncate(40)).toThrow(/holds 11 tokens/);
    await expect(s.feed(new Array(30).fill(7), opts)).rejects.toThrow(/Context full/);
    await expect(s.feed([config.vocabSize], opts)).rejects.toThrow(/outside the vocabulary/);
    s.dispose();
  });

  it('a session frees its buffers on dispose', () => {
    const before = dec.gpuBytes;
    const s = dec.newSession(100);
    expect(dec.gpuBytes - before).toBeGreaterThanOrEqual(dec.kvBytes(100));
    s.dispose();
    expect(dec.gpuBytes).toBe(before);
  });
});

describe('tiny model: bad weights get clear errors', () => {
  it('names a mis-shaped tensor with expected and actual shapes', async () => {
    const bad = tensors.map((t) => (t.name === 'model.layers.1.self_attn.k_proj.weight' ? { ...t, shape: [16, 64] } : t));
    await expect(createDecoder(ctx, config, bad)).rejects.toThrow(/model\.layers\.1\.self_attn\.k_proj\.weight.*expected shape \[32, 64\], got \[16, 64\]/);
  });
  it('names a missing tensor', async () => {
    const bad = tensors.filter((t) => t.name !== 'model.norm.weight');
    await expect(createDecoder(ctx, config, bad)).rejects.toThrow(/"model\.norm\.weight": is missing/);
  });
  it('an untied config needs lm_head.weight', async () => {
    await expect(createDecoder(ctx, { ...config, tieWordEmbeddings: false }, tensors)).rejects.toThrow(/lm_head\.weight/);
  });
});
