// The ops the 2026 students add to the block (model/arch.ts), each kernel vs its float64 reference
// and each reference backward vs finite differences: sliding-window attention (packed forward and
// backward, the KV-cache kernels), GeGLU with tanh GELU, RMSNorm per head (Qwen3 / Gemma 3 q/k
// norms), Llama 3 RoPE frequency scaling, and the scaled embedding (Gemma 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { attentionParams, attentionRef, attentionRowsDispatch, attentionRowsRef } from '../../src/engine/ops/attention.ts';
import { attentionBackwardRef } from '../../src/engine/ops/attention-backward.ts';
import { attentionCacheRowsDispatch, attentionPackedBackwardDispatches, attentionPackedBackwardRef, attentionPackedDispatch, attentionPackedParams, attentionPackedRef, packedRows } from '../../src/engine/ops/attention-packed.ts';
import { embeddingDispatch, embeddingParams, embeddingRef } from '../../src/engine/ops/embedding.ts';
import { rmsnormBackwardRef, rmsnormDispatch, rmsnormDxDispatch, rmsnormParams, rmsnormRef, rmsnormRowsDispatch } from '../../src/engine/ops/rmsnorm.ts';
import { ropeInvFreq } from '../../src/engine/ops/rope.ts';
import { swigluBackwardDispatch, swigluBackwardRef, swigluDispatch, swigluParams, swigluRef } from '../../src/engine/ops/swiglu.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { asF16, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());
const up = (a: Float32Array | Uint32Array) => uploadStorage(ctx.device, a);

/** Central differences of f at a few indices of x vs grad. */
function fdCheck(name: string, x: Float64Array, grad: ArrayLike<number>, f: (x: Float64Array) => number, at: number[]): void {
  const h = 1e-6;
  for (const i of at) {
    const p = Float64Array.from(x); p[i] += h; const m = Float64Array.from(x); m[i] -= h;
    const num = (f(p) - f(m)) / (2 * h);
    expect(Math.abs(num - grad[i]), `${name}[${i}]: numeric ${num} vs ${grad[i]}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(num));
  }
}

describe('sliding-window attention (Gemma 3 local layers)', () => {
  const H = 4; const KV = 2; const D = 8; const W = 3; const scale = 0.3;

  it('the window changes the result, and the reference backward matches finite differences', () => {
    const T = 7; const r = rng(61);
    const q = Float64Array.from(randArray(r, T * H * D)); const k = Float64Array.from(randArray(r, T * KV * D)); const v = Float64Array.from(randArray(r, T * KV * D));
    const full = attentionRef(q, k, v, T, 0, H, KV, D, 0, scale); const win = attentionRef(q, k, v, T, 0, H, KV, D, W, scale);
    // rows t < W see the same keys either way; the last row does not
    expect(win.subarray(0, W * H * D)).toBeAllclose(full.subarray(0, W * H * D), { atol: 1e-12, rtol: 0 });
    expect(Math.abs(win[(T - 1) * H * D] - full[(T - 1) * H * D])).toBeGreaterThan(1e-4);
    const dout = randArray(r, T * H * D);
    const f = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => attentionRef(qq, kk, vv, T, 0, H, KV, D, W, scale).reduce((s, o, i) => s + o * dout[i], 0);
    const g = attentionBackwardRef(q, k, v, dout, T, H, KV, D, W, scale);
    fdCheck('dq', q, g.dq, (x) => f(x, k, v), [0, 9, q.length - 1]);
    fdCheck('dk', k, g.dk, (x) => f(q, x, v), [0, 5, k.length - 1]);
    fdCheck('dv', v, g.dv, (x) => f(q, k, x), [1, 17, v.length - 2]);
  });

  it('packed forward and backward kernels vs the reference, window and scale', async () => {
    const lens = [6, 2, 9]; const R = 17; const cap = R + 3;
    const rows = packedRows(lens);
    const r = rng(62);
    const q = randArray(r, cap * H * D, 1.5); const k = randArray(r, cap * KV * D, 1.5); const v = randArray(r, cap * KV * D); const dout = randArray(r, cap * H * D);
    const o = allocStorage(ctx.device, cap * H * D * 4); const lse = allocStorage(ctx.device, cap * H * 4);
    const params = uniformBuffer(ctx, attentionPackedParams(H, KV, D, cap, W, scale)); const step = stepBuffer(ctx, R);
    const rb = up(Uint32Array.from([...rows.flat(), ...new Array(2 * (cap - R)).fill(0)])); const qb = up(q); const kb = up(k); const vb = up(v);
    const got = await runAndRead(ctx, [attentionPackedDispatch(ctx.device, { q: qb, k: kb, v: vb, out: o, lse, rows: rb, params, step }, { h: H, d: D })], R, o, R * H * D);
    expect(got).toBeAllclose(attentionPackedRef(q, k, v, rows, H, KV, D, W, scale), { atol: 1e-5, rtol: 1e-5 });
    const dq = allocStorage(ctx.device, cap * H * D * 4); const dkv = allocStorage(ctx.device, 2 * cap * KV * D * 4); const delta = allocStorage(ctx.device, cap * H * 4);
    const list = attentionPackedBackwardDispatches(ctx.device, { q: qb, k: kb, v: vb, o, dout: up(dout), lse, delta, dq, dkv, rows: rb, params, step }, { h: H, hkv: KV, d: D });
    const gq = await runAndRead(ctx, list, R, dq, R * H * D);
    const gkv = await readF32(ctx.device, dkv, 2 * cap * KV * D);
    const ref = attentionPackedBackwardRef(q, k, v, dout, rows, H, KV, D, W, scale);
    expect(gq).toBeAllclose(ref.dq, { atol: 1e-5, rtol: 1e-4 });
    expect(gkv.subarray(0, R * KV * D)).toBeAllclose(ref.dk, { atol: 1e-5, rtol: 1e-4 });
    expect(gkv.subarray(cap * KV * D, (cap + R) * KV * D)).toBeAllclose(ref.dv, { atol: 1e-5, rtol: 1e-4 });
  });

  it('the KV-cache kernels (thread per row, and workgroup per row) keep only the window', async () => {
    // two sequences in cache regions of 12 rows; queries at positions 8 and 3 of slot 0, 10 of slot 1
    const maxLen = 12; const r = rng(63);
    const kc = randArray(r, 2 * maxLen * KV * D); const vc = randArray(r, 2 * maxLen * KV * D);
    const qrows: Array<[number, number]> = [[0, 8], [0, 3], [maxLen, 10]];
    const q = randArray(r, qrows.length * H * D);
    const want = attentionRowsRef(q, kc, vc, qrows, H, KV, D, W, scale);
    const rowsB = up(Uint32Array.from(qrows.flat()));
    const step = stepBuffer(ctx, qrows.length);
    const out1 = allocStorage(ctx.device, qrows.length * H * D * 4);
    const lse = allocStorage(ctx.device, qrows.length * H * 4);
    const got1 = await runAndRead(ctx, [attentionCacheRowsDispatch(ctx.device, { q: up(q), k: up(kc), v: up(vc), out: out1, lse, rows: rowsB, params: uniformBuffer(ctx, attentionPackedParams(H, KV, D, qrows.length, W, scale)), step }, { h: H, d: D })], qrows.length, out1, qrows.length * H * D);
    expect(got1).toBeAllclose(want, { atol: 1e-5, rtol: 1e-5 });
    const out2 = allocStorage(ctx.device, qrows.length * H * D * 4);
    const got2 = await runAndRead(ctx, [attentionRowsDispatch(ctx.device, { q: up(q), k: up(kc), v: up(vc), out: out2, params: uniformBuffer(ctx, attentionParams(H, KV, D, W, scale)), step, rows: rowsB }, H)], qrows.length, out2, qrows.length * H * D);
    expect(got2).toBeAllclose(want, { atol: 1e-5, rtol: 1e-5 });
    expect(Math.abs(want[0] - attentionRowsRef(q, kc, vc, qrows, H, KV, D, 0, scale)[0])).toBeGreaterThan(1e-4);
  });
});

describe('GeGLU with tanh GELU (Gemma 3 MLP)', () => {
  it('forward and backward kernels vs the reference; the reference backward vs finite differences', async () => {
    const F = 37; const T = 5; const cap = 7; const r = rng(64);
    const g = randArray(r, cap * F, 4); const u = randArray(r, cap * F, 2); const dout = randArray(r, cap * F);
    const out = allocStorage(ctx.device, cap * F * 4);
    const got = await runAndRead(ctx, [swigluDispatch(ctx.device, { gate: up(g), up: up(u), out, params: uniformBuffer(ctx, swigluParams(F, 0, 'gelu_tanh')), step: stepBuffer(ctx, T) }, F)], T, out, T * F);
    const want = swigluRef(g.subarray(0, T * F), u.subarray(0, T * F), 'gelu_tanh');
    expect(got).toBeAllclose(want, { atol: 1e-5, rtol: 1e-5 });
    // not the SiLU result
    expect(Math.max(...Array.from(want, (w, i) => Math.abs(w - swigluRef(g, u)[i])))).toBeGreaterThan(1e-2);
    const dg = allocStorage(ctx.device, cap * F * 4); const du = allocStorage(ctx.device, cap * F * 4);
    const gd = await runAndRead(ctx, [swigluBackwardDispatch(ctx.device, { gate: up(g), up: up(u), dout: up(dout), dgate: dg, dup: du, params: uniformBuffer(ctx, swigluParams(F, T, 'gelu_tanh')) }, F)], T, dg, T * F);
    const gu = await readF32(ctx.device, du, T * F);
    const ref = swigluBackwardRef(g.subarray(0, T * F), u.subarray(0, T * F), dout.subarray(0, T * F), 'gelu_tanh');
    expect(gd).toBeAllclose(ref.dgate, { atol: 1e-5, rtol: 1e-4 });
    expect(gu).toBeAllclose(ref.dup, { atol: 1e-5, rtol: 1e-4 });
    const g64 = Float64Array.from(g.subarray(0, T * F)); const u64 = Float64Array.from(u.subarray(0, T * F));
    const f = (gg: Float64Array, uu: Float64Array) => swigluRef(gg, uu, 'gelu_tanh').reduce((s, o, i) => s + o * dout[i], 0);
    fdCheck('dgate', g64, ref.dgate, (x) => f(x, u64), [0, 11, 40, T * F - 1]);
    fdCheck('dup', u64, ref.dup, (x) => f(g64, x), [3, 50]);
  });
});

describe('RMSNorm per head (Qwen3 / Gemma 3 q and k norms), and Gemma\'s (1 + w)', () => {
  const T = 5; const NH = 3; const D = 8; const cap = 7; const eps = 1e-6;
  for (const one of [0, 1]) {
    it(`forward kernels over T·heads rows of head_dim, and dx with the row count from the step (weight + ${one})`, async () => {
      const r = rng(65 + one);
      const x = randArray(r, cap * NH * D, 2); const w = asF16(randArray(r, D, 1)); const dout = randArray(r, cap * NH * D);
      const wEff = w.values.map((v) => v + one);
      const want = rmsnormRef(x, wEff, T * NH, D, eps);
      for (const k of [rmsnormDispatch, rmsnormRowsDispatch]) {
        const out = allocStorage(ctx.device, cap * NH * D * 4);
        const got = await runAndRead(ctx, [k(ctx.device, { x: up(x), w: up(w.packed), out, params: uniformBuffer(ctx, rmsnormParams(D, eps, 0, false, NH, one)), step: stepBuffer(ctx, T) }, (t) => t * NH)], T, out, T * NH * D);
        expect(got).toBeAllclose(want, { atol: 1e-5, rtol: 1e-5 });
      }
      const refDx = rmsnormBackwardRef(x, wEff, dout, T * NH, D, eps).dx;
      for (const rowwise of [false, true]) {
        const dx = allocStorage(ctx.device, cap * NH * D * 4);
        const got = await runAndRead(ctx, [rmsnormDxDispatch(ctx.device, { x: up(x), w: up(w.packed), dout: up(dout), dx, params: uniformBuffer(ctx, rmsnormParams(D, eps, cap * NH, false, 1, one)) }, rowwise, 'dx', (t) => t * NH)], T, dx, T * NH * D);
        expect(got).toBeAllclose(refDx, { atol: 1e-5, rtol: 1e-4 });
      }
      const x64 = Float64Array.from(x.subarray(0, T * NH * D));
      fdCheck('dx', x64, refDx, (xx) => rmsnormRef(xx, wEff, T * NH, D, eps).reduce((s, o, i) => s + o * dout[i], 0), [0, 13, T * NH * D - 1]);
    });
  }
});

describe('Llama 3 RoPE scaling and the scaled embedding', () => {
  it('inv_freq: high frequencies kept, low ones divided by factor, the band between interpolated', () => {
    // Llama 3.2: theta 500000, factor 32, low 1, high 4, original context 8192, head_dim 64
    const s = { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    const D = 64; const theta = 500000;
    let kept = 0; let divided = 0; let between = 0;
    for (let i = 0; i < D / 2; i++) {
      const plain = ropeInvFreq(i, D, theta); const scaled = ropeInvFreq(i, D, theta, s);
      const wl = (2 * Math.PI) / plain;
      if (wl < 8192 / 4) { expect(scaled).toBe(plain); kept++; }
      else if (wl > 8192) { expect(scaled).toBeCloseTo(plain / 32, 12); divided++; }
      else { expect(scaled).toBeLessThan(plain); expect(scaled).toBeGreaterThan(plain / 32); between++; }
    }
    expect([kept > 0, divided > 0, between > 0]).toEqual([true, true, true]);
  });

  it('embedding x scale on the GPU vs the reference', async () => {
    const V = 11; const C = 6; const T = 4; const r = rng(66);
    const table = asF16(randArray(r, V * C));
    const ids = [3, 0, 10, 3];
    const out = allocStorage(ctx.device, T * C * 4);
    const got = await runAndRead(ctx, [embeddingDispatch(ctx.device, { ids: up(Uint32Array.from(ids)), table: up(table.packed), out, params: uniformBuffer(ctx, embeddingParams(C, 0, V, Math.sqrt(C))), step: stepBuffer(ctx, T) }, C)], T, out, T * C);
    expect(got).toBeAllclose(embeddingRef(ids, table.values, C, Math.sqrt(C)), { atol: 1e-6, rtol: 1e-6 });
  });
});
