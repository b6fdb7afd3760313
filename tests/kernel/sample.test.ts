// On-GPU distribution summary and sampling vs the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { decodeSample, sampleDispatch, sampleOutWords, sampleParams, sampleRef, type SampleRefOptions } from '../../src/engine/ops/sample.ts';
import { allocStorage, readBack, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { encodeDispatches } from '../../src/engine/runtime/kernel.ts';
import type { SampledToken } from '../../src/engine/generation/types.ts';
import { randArray, rng } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());

async function gpuSample(logits: Float32Array, o: SampleRefOptions, wg = 256): Promise<SampledToken> {
  const sup = o.suppress ?? [];
  const out = allocStorage(ctx.device, sampleOutWords(o.topK) * 4);
  const d = sampleDispatch(ctx.device, {
    logits: uploadStorage(ctx.device, logits), suppress: uploadStorage(ctx.device, Uint32Array.from(sup.length ? sup : [0])), out,
    params: uploadStorage(ctx.device, sampleParams(logits.length, { ...o, suppressCount: sup.length })),
  }, wg);
  const enc = ctx.device.createCommandEncoder();
  encodeDispatches(enc, [d], 1);
  ctx.device.queue.submit([enc.finish()]);
  return decodeSample(new Uint32Array(await readBack(ctx.device, out, sampleOutWords(o.topK) * 4)), o.topK);
}

function expectSummary(got: SampledToken, ref: SampledToken) {
  expect(got.entropy).toBeCloseTo(ref.entropy, 4);
  expect(got.logprob).toBeCloseTo(ref.logprob, 4);
  expect(got.alternatives.map((a) => a.id)).toEqual(ref.alternatives.map((a) => a.id));
  expect(got.alternatives.map((a) => a.logprob)).toBeAllclose(ref.alternatives.map((a) => a.logprob), { atol: 1e-4, rtol: 1e-5 });
}

describe('sample: summary and greedy', () => {
  for (const v of [7, 1003, 151936]) {
    it(`V=${v}: top-k, entropy, logprob, argmax`, async () => {
      const logits = randArray(rng(v), v, 6);
      const o = { temperature: 0, topP: 1, topK: Math.min(v === 1003 ? 64 : 5, v), u: 0.5 }; // 64 = MAX_TOP_K
      const got = await gpuSample(logits, o);
      const ref = sampleRef(logits, o);
      expect(got.id).toBe(ref.id);
      expectSummary(got, ref);
      // entropy is a real entropy: between 0 and log V
      expect(got.entropy).toBeGreaterThan(0);
      expect(got.entropy).toBeLessThan(Math.log(v));
    });
  }

  it('suppressed ids are never chosen; logprob/top-k stay those of the unsuppressed distribution', async () => {
    const logits = randArray(rng(3), 300, 5);
    const ref0 = sampleRef(logits, { temperature: 0, topP: 1, topK: 3, u: 0 });
    const suppress = [ref0.alternatives[0].id, ref0.alternatives[1].id];
    const got = await gpuSample(logits, { temperature: 0, topP: 1, topK: 3, u: 0, suppress });
    expect(got.id).toBe(ref0.alternatives[2].id);
    expect(got.alternatives.map((a) => a.id)).toEqual(ref0.alternatives.map((a) => a.id));
    expect(got.logprob).toBeCloseTo(ref0.alternatives[2].logprob, 4);
  });

  it('ties in the argmax go to the lowest id', async () => {
    const logits = new Float32Array(513).fill(-1);
    logits[400] = 2; logits[17] = 2;
    expect((await gpuSample(logits, { temperature: 0, topP: 1, topK: 2, u: 0 })).alternatives.map((a) => a.id)).toEqual([17, 400]);
  });
});

describe('sample: temperature and nucleus', () => {
  const logits = randArray(rng(42), 777, 4);

  for (const [temperature, topP] of [[1, 1], [0.7, 0.9], [1.3, 0.5], [1, 0.05]]) {
    it(`T=${temperature} top-p=${topP}: every u picks the reference token (u near a boundary may pick a neighbour)`, async () => {
      const base = { temperature, topP, topK: 4 };
      const ref0 = sampleRef(logits, { ...base, u: 0 });
      const us = [0, 1e-7, 0.1, 0.25, 0.5, 0.77, 0.9, 0.999999];
      for (const u of us) {
        const got = await gpuSample(logits, { ...base, u });
        const ref = sampleRef(logits, { ...base, u });
        if (got.id !== ref.id) {
          const idx = ref0.nucleus.indexOf(got.id);
          expect(idx, `u=${u}: GPU chose ${got.id}, not in the nucleus`).toBeGreaterThanOrEqual(0);
          const [a, b] = ref0.intervals[idx];
          expect(Math.min(Math.abs(u - a), Math.abs(u - b)), `u=${u} far from boundary of ${got.id}`).toBeLessThan(1e-4);
        }
        expectSummary(got, ref);
      }
      // u -> 0 and u -> 1 pick the first and last nucleus member (id order)
      expect((await gpuSample(logits, { ...base, u: 0 })).id).toBe(ref0.nucleus[0]);
      expect((await gpuSample(logits, { ...base, u: 0.9999999 })).id).toBe(ref0.nucleus[ref0.nucleus.length - 1]);
    });
  }

  it('a flat distribution (too many top-p candidates for registers) takes the full-vocabulary search', async () => {
    const flat = randArray(rng(77), 20011, 0.5);
    for (const u of [0.1, 0.6]) {
      const o = { temperature: 1, topP: 0.9, topK: 2, u };
      const got = await gpuSample(flat, o);
      const ref = sampleRef(flat, o);
      expect(ref.nucleus.length).toBeGreaterThan(16 * 256); // more than every thread's registers hold
      const idx = ref.nucleus.indexOf(got.id);
      expect(idx).toBeGreaterThanOrEqual(0);
      if (got.id !== ref.id) expect(Math.min(...ref.intervals[idx].map((b) => Math.abs(b - u)))).toBeLessThan(1e-4);
    }
  });

  it('top-p keeps the smallest high-probability set reaching p (reference check)', () => {
    const l = Float64Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    expect(sampleRef(l, { temperature: 1, topP: 0.79, topK: 1, u: 0 }).nucleus).toEqual([0, 1]);
    expect(sampleRef(l, { temperature: 1, topP: 0.81, topK: 1, u: 0 }).nucleus).toEqual([0, 1, 2]);
    expect(sampleRef(l, { temperature: 1, topP: 1, topK: 1, u: 0 }).nucleus).toEqual([0, 1, 2, 3]);
  });

  it('a sweep of u reproduces the nucleus distribution (64-thread kernel)', async () => {
    const small = Float32Array.from([0.5, 2, -1, 1.5, 0, 3, -2]);
    const o = { temperature: 0.8, topP: 0.95, topK: 1 };
    const ref = sampleRef(small, { ...o, u: 0 });
    const counts = new Map<number, number>();
    const n = 100;
    for (let j = 0; j < n; j++) {
      const id = (await gpuSample(small, { ...o, u: (j + 0.5) / n }, 64)).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    ref.nucleus.forEach((id, i) => {
      const [a, b] = ref.intervals[i];
      expect(Math.abs((counts.get(id) ?? 0) / n - (b - a))).toBeLessThanOrEqual(1 / n + 1e-9);
    });
    expect([...counts.keys()].every((id) => ref.nucleus.includes(id))).toBe(true);
  });
});
