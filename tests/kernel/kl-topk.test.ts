// KL top-k kernel (src/engine/ops/kl-topk.ts) vs its float64 reference: losses and dlogits added
// into existing values, for the whole sequence and for a chunk of rows (r0 > 0).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { NO_TARGET } from '../../src/engine/ops/cross-entropy.ts';
import { klTopKDispatch, klTopKParams, klTopKRef } from '../../src/engine/ops/kl-topk.ts';
import { readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { randArray, rng, runAndRead, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());
const up = (a: Float32Array | Uint32Array) => uploadStorage(ctx.device, a);

describe('kl-topk kernel', () => {
  const T = 7; const V = 301; const K = 5;
  const r = rng(13);
  const logits = randArray(r, T * V, 5);
  const ids: number[] = []; const lps: number[] = [];
  for (let t = 0; t < T; t++) {
    const picked = new Set<number>();
    while (picked.size < K) picked.add(Math.floor(r() * V));
    const raw = [...picked].map(() => r());
    const total = raw.reduce((a, b) => a + b, 0) * (t === 3 ? 1 : 1.25); // row 3: no tail mass
    [...picked].forEach((id, k) => { ids.push(t === 5 && k === 0 ? NO_TARGET : id); lps.push(Math.log(raw[k] / total)); });
  }
  const weights = Float32Array.from([0.3, 1, 0, 2, 0.5, 1, 0.25]);
  const tk = { k: K, ids, logprobs: Array.from(Float32Array.from(lps)), weights: Array.from(weights) };

  for (const [name, r0, rows] of [['all rows', 0, T], ['a chunk of rows 2..5', 2, 4]] as const) {
    it(name, async () => {
      const chunk = logits.slice(r0 * V, (r0 + rows) * V);
      const d0 = randArray(rng(3), rows * V, 0.1);
      const dl = up(d0); const losses = up(new Float32Array(T).fill(9));
      const got = await runAndRead(ctx, [klTopKDispatch(ctx.device, { logits: up(chunk), ids: up(Uint32Array.from(ids)), lp: up(Float32Array.from(lps)), weights: up(weights), dlogits: dl, losses, params: uniformBuffer(ctx, klTopKParams(rows, V, K, r0)) }, rows)], 1, dl, rows * V);
      const ref = klTopKRef(chunk, tk, rows, V, r0, d0);
      expect(got).toBeAllclose(ref.dlogits, { atol: 1e-6, rtol: 1e-5 });
      const gl = await readF32(ctx.device, losses, T);
      expect(gl.slice(r0, r0 + rows)).toBeAllclose(ref.losses, { atol: 1e-5, rtol: 1e-5 });
      expect(Array.from(gl.slice(0, r0))).toEqual(new Array(r0).fill(9)); // rows outside the chunk untouched
      expect(ref.loss).toBeGreaterThan(0.1);
    });
  }
});
