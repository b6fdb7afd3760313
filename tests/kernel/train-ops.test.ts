// Training kernels (adapter backward pass): each WGSL kernel vs its float64 CPU reference on small
// odd shapes, and the attention backward reference vs finite differences (its kernels, over packed
// rows: train-packed.test.ts, train-block-ops.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { attentionRef } from '../../src/engine/ops/attention.ts';
import { attentionBackwardRef } from '../../src/engine/ops/attention-backward.ts';
import { axpbyDispatch, axpbyParams, axpbyRef } from '../../src/engine/ops/axpby.ts';
import { NO_TARGET, crossEntropyDispatch, crossEntropyParams, crossEntropyRef } from '../../src/engine/ops/cross-entropy.ts';
import { GEMM_ACCUMULATE, GEMM_GATE, type GemmShape, gemmDispatch, gemmParams, gemmRef } from '../../src/engine/ops/gemm.ts';
import { linearDxDispatch, linearDxParams, linearDxRef } from '../../src/engine/ops/matmul-dx.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { asF16, randArray, rng, runAndRead, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());
const up = (a: Float32Array | Uint32Array) => uploadStorage(ctx.device, a);

describe('gemm (strided f32, LoRA)', () => {
  const cases: Array<[string, (T: number, r: number, o: number) => GemmShape]> = [
    ['u = h·Aᵀ', (T, r, o) => ({ m: T, n: r, k: o, x: { s0: o, s1: 1 }, y: { s0: 1, s1: o }, out: { s0: r, s1: 1 } })],
    ['y += s·g·u·Bᵀ', (T, r, o) => ({ m: T, n: o, k: r, x: { s0: r, s1: 1 }, y: { s0: 1, s1: r }, out: { s0: o, s1: 1 }, alpha: 2, flags: GEMM_ACCUMULATE | GEMM_GATE, gidx: 1 })],
    ['M = dyᵀ·u with offsets', (T, r, o) => ({ m: o, n: r, k: T, x: { off: 3, s0: 1, s1: o }, y: { off: 1, s0: r, s1: 1 }, out: { off: 2, s0: r, s1: 1 }, alpha: 0.5 })],
    ['dot (1x1)', (T, r, o) => ({ m: 1, n: 1, k: o * r, x: { s0: 0, s1: 1 }, y: { s0: 1, s1: 0 }, out: { off: 2, s0: 0, s1: 0 }, flags: GEMM_GATE, gidx: 2 })],
  ];
  for (const [name, mk] of cases) {
    it(name, async () => {
      const r = rng(name.length);
      const s = mk(7, 3, 37);
      const x = randArray(r, 400); const y = randArray(r, 400); const g = Float32Array.from([0.3, -1.7, 2.5]); const o0 = randArray(r, 400);
      const out = up(o0);
      const got = await runAndRead(ctx, [gemmDispatch(ctx.device, { x: up(x), y: up(y), gates: up(g), out, params: uniformBuffer(ctx, gemmParams(s)) }, s.m, s.n)], 1, out, 400);
      expect(got).toBeAllclose(gemmRef(x, y, g, o0, s), { atol: 1e-5, rtol: 1e-5 });
    });
  }
});

describe('axpby, linear dx, cross-entropy', () => {
  it('axpby copy and accumulate', async () => {
    const r = rng(3); const n = 1000;
    const x = randArray(r, n); const y0 = randArray(r, n);
    for (const [a, b] of [[1, 0], [1, 1], [-0.5, 2]]) {
      const y = up(y0);
      const got = await runAndRead(ctx, [axpbyDispatch(ctx.device, { x: up(x), y, params: uniformBuffer(ctx, axpbyParams(n, a, b)) }, n)], 1, y, n);
      expect(got).toBeAllclose(axpbyRef(x, y0, a, b), { atol: 1e-6, rtol: 1e-6 });
    }
  });

  it('linear dx over a row chunk of W, with dout offset, overwrite and accumulate', async () => {
    const r = rng(5);
    const M = 5; const N = 11; const K = 13; const ldd = 20; const noff = 4; const doff = 3;
    const dout = randArray(r, doff + M * ldd); const w = asF16(randArray(r, N * K)); const dx0 = randArray(r, M * K);
    for (const accumulate of [false, true]) {
      const s = { m: M, n: N, k: K, ldd, noff, doff, accumulate };
      const dx = up(dx0);
      const got = await runAndRead(ctx, [linearDxDispatch(ctx.device, { dout: up(dout), w: up(w.packed), dx, params: uniformBuffer(ctx, linearDxParams(s)) }, M, K)], 1, dx, M * K);
      expect(got).toBeAllclose(linearDxRef(dout, w.values, dx0, s), { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it('weighted cross-entropy: per-row losses and dlogits, skipped rows zero', async () => {
    const r = rng(9); const T = 6; const V = 203;
    const logits = randArray(r, T * V, 6);
    const targets = [5, NO_TARGET, 202, 0, 17, 100]; const weights = Float32Array.from([0.25, 1, 0.5, 0, 2, 1 / 3]);
    const dl = allocStorage(ctx.device, T * V * 4); const losses = allocStorage(ctx.device, T * 4);
    const got = await runAndRead(ctx, [crossEntropyDispatch(ctx.device, { logits: up(logits), targets: up(Uint32Array.from(targets)), weights: up(weights), dlogits: dl, losses, params: uniformBuffer(ctx, crossEntropyParams(T, V)) }, T)], 1, dl, T * V);
    const ref = crossEntropyRef(logits, targets, weights, T, V);
    expect(got).toBeAllclose(ref.dlogits, { atol: 1e-6, rtol: 1e-5 });
    expect(await readF32(ctx.device, losses, T)).toBeAllclose(ref.losses, { atol: 1e-5, rtol: 1e-5 });
    expect(ref.losses[1]).toBe(0); expect(ref.losses[3]).toBe(0);
  });
});

describe('attention backward (causal, GQA)', () => {
  const T = 5; const H = 4; const KV = 2; const D = 6;
  it('reference vs finite differences of Σ dout·attention(q,k,v)', () => {
    const r = rng(21);
    const q = Float64Array.from(randArray(r, T * H * D)); const k = Float64Array.from(randArray(r, T * KV * D)); const v = Float64Array.from(randArray(r, T * KV * D));
    const dout = randArray(r, T * H * D);
    const f = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => attentionRef(qq, kk, vv, T, 0, H, KV, D).reduce((s, o, i) => s + o * dout[i], 0);
    const g = attentionBackwardRef(q, k, v, dout, T, H, KV, D);
    const h = 1e-6;
    for (const [name, arr, grad] of [['q', q, g.dq], ['k', k, g.dk], ['v', v, g.dv]] as const) {
      for (const i of [0, 7, arr.length - 1, Math.floor(arr.length / 2)]) {
        const p = Float64Array.from(arr); p[i] += h; const m = Float64Array.from(arr); m[i] -= h;
        const call = (x: Float64Array) => (name === 'q' ? f(x, k, v) : name === 'k' ? f(q, x, v) : f(q, k, x));
        const num = (call(p) - call(m)) / (2 * h);
        expect(Math.abs(num - grad[i]), `${name}[${i}]`).toBeLessThan(1e-7 + 1e-6 * Math.abs(num));
      }
    }
  });
});
