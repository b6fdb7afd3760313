// Kernels of the packed, chunked training pass vs their float64 references: attention over packed
// sequences (forward + backward), RoPE at per-row positions, the tiled dx, row-per-thread RMSNorm,
// the chunked weighted cross-entropy, gemm with step-sized rows. Capacity rows > step rows, so the
// kernels must use the step's row count (stale data lies beyond it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { attentionPackedBackwardDispatches, attentionPackedBackwardRef, attentionPackedDispatch, attentionPackedParams, attentionPackedRef, packedRows } from '../../src/engine/ops/attention-packed.ts';
import { NO_TARGET, crossEntropyRef, xentChunkDispatch, xentChunkParams } from '../../src/engine/ops/cross-entropy.ts';
import { GEMM_ACCUMULATE, GEMM_K_ROWS, GEMM_M_ROWS, gemmDispatch, gemmParams, gemmRef } from '../../src/engine/ops/gemm.ts';
import { linearDxParams, linearDxRef, linearDxTiledDispatch } from '../../src/engine/ops/matmul-dx.ts';
import { RMSNORM_BINDINGS, RMSNORM_DX_ROWS_WGSL, RMSNORM_ROWS_WGSL, rmsnormBackwardRef, rmsnormParams, rmsnormRef } from '../../src/engine/ops/rmsnorm.ts';
import { ropeParams, ropeRef, ropeRowsDispatch, ropeTable } from '../../src/engine/ops/rope.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { bindGroup, kernel } from '../../src/engine/runtime/kernel.ts';
import { asF16, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());
const up = (a: Float32Array | Uint32Array) => uploadStorage(ctx.device, a);

describe('attention over packed sequences', () => {
  const lens = [5, 1, 9, 3]; const H = 4; const KV = 2; const D = 8;
  const R = lens.reduce((a, b) => a + b, 0); const cap = R + 6;
  const rows = packedRows(lens);
  const rowsBuf = () => up(Uint32Array.from([...rows.flat(), ...new Array(2 * (cap - R)).fill(0)]));

  it('forward and backward vs each sequence through the float64 reference', async () => {
    const r = rng(41);
    const q = randArray(r, cap * H * D, 1.5); const k = randArray(r, cap * KV * D, 1.5); const v = randArray(r, cap * KV * D); const dout = randArray(r, cap * H * D);
    const o = allocStorage(ctx.device, cap * H * D * 4); const lse = allocStorage(ctx.device, cap * H * 4);
    const params = uniformBuffer(ctx, attentionPackedParams(H, KV, D, cap)); const step = stepBuffer(ctx, R);
    const rb = rowsBuf(); const qb = up(q); const kb = up(k); const vb = up(v);
    const got = await runAndRead(ctx, [attentionPackedDispatch(ctx.device, { q: qb, k: kb, v: vb, out: o, lse, rows: rb, params, step }, { h: H, d: D })], R, o, R * H * D);
    expect(got).toBeAllclose(attentionPackedRef(q, k, v, rows, H, KV, D), { atol: 1e-5, rtol: 1e-5 });
    // lse of row 0 (a sequence's first row attends to itself only): scale·q·k
    const s00 = Array.from({ length: D }, (_, e) => q[e] * k[e]).reduce((a, b) => a + b, 0) / Math.sqrt(D);
    expect((await readF32(ctx.device, lse, 1))[0]).toBeCloseTo(s00, 5);

    const dq = allocStorage(ctx.device, cap * H * D * 4); const dkv = allocStorage(ctx.device, 2 * cap * KV * D * 4); const delta = allocStorage(ctx.device, cap * H * 4);
    const list = attentionPackedBackwardDispatches(ctx.device, { q: qb, k: kb, v: vb, o, dout: up(dout), lse, delta, dq, dkv, rows: rb, params, step }, { h: H, hkv: KV, d: D });
    const gq = await runAndRead(ctx, list, R, dq, R * H * D);
    const gkv = await readF32(ctx.device, dkv, 2 * cap * KV * D);
    const ref = attentionPackedBackwardRef(q, k, v, dout, rows, H, KV, D);
    expect(gq).toBeAllclose(ref.dq, { atol: 1e-5, rtol: 1e-4 });
    expect(gkv.subarray(0, R * KV * D)).toBeAllclose(ref.dk, { atol: 1e-5, rtol: 1e-4 });
    expect(gkv.subarray(cap * KV * D, (cap + R) * KV * D)).toBeAllclose(ref.dv, { atol: 1e-5, rtol: 1e-4 });
  });

  it('RoPE at per-row positions equals each sequence rotated from position 0', async () => {
    const r = rng(42); const theta = 10000;
    const x = randArray(r, cap * H * D);
    const xb = up(x);
    const got = await runAndRead(ctx, [ropeRowsDispatch(ctx.device, { x: xb, table: up(ropeTable(cap, D, theta)), params: uniformBuffer(ctx, ropeParams(H, D)), step: stepBuffer(ctx, R), rows: rowsBuf() }, H, D)], R, xb, R * H * D);
    const want = new Float64Array(R * H * D);
    let base = 0;
    for (const n of lens) { want.set(ropeRef(x.subarray(base * H * D, (base + n) * H * D), n, H, D, 0, theta), base * H * D); base += n; }
    expect(got).toBeAllclose(want, { atol: 1e-6, rtol: 1e-5 });
  });
});

describe('row-sized kernels of the training pass', () => {
  it('tiled linear dx over a row chunk of W, dout offset, accumulate; rows from the step', async () => {
    const r = rng(43);
    const M = 7; const cap = 12; const N = 11; const K = 20; const ldd = 24; const noff = 4; const doff = 8;
    const dout = randArray(r, doff + cap * ldd); const w = asF16(randArray(r, N * K)); const dx0 = randArray(r, cap * K);
    for (const accumulate of [false, true]) {
      const s = { m: 0, n: N, k: K, ldd, noff, doff, accumulate };
      const dx = up(dx0);
      const got = await runAndRead(ctx, [linearDxTiledDispatch(ctx.device, { dout: up(dout), w: up(w.packed), dx, params: uniformBuffer(ctx, linearDxParams(s)), step: stepBuffer(ctx, M) }, K, (t) => t)], M, dx, cap * K);
      expect(got.subarray(0, M * K)).toBeAllclose(linearDxRef(dout, w.values, dx0, { ...s, m: M }).subarray(0, M * K), { atol: 1e-5, rtol: 1e-5 });
      expect(got.subarray(M * K)).toEqual(dx0.subarray(M * K)); // rows past the step untouched
    }
  });

  it('RMSNorm forward and dx, one thread per row', async () => {
    const r = rng(44); const T = 70; const C = 24; const eps = 1e-6;
    const x = randArray(r, T * C, 2); const w = asF16(randArray(r, C)); const dout = randArray(r, T * C);
    const { device } = ctx;
    const kf = kernel(device, 'rmsnorm-rows', RMSNORM_ROWS_WGSL, RMSNORM_BINDINGS);
    const out = allocStorage(device, T * C * 4);
    const fwd = await runAndRead(ctx, [{ label: 'n', pipeline: kf.pipeline, bind: bindGroup(device, kf, [up(x), up(w.packed), out, uniformBuffer(ctx, rmsnormParams(C, eps)), stepBuffer(ctx, T)]), grid: (t) => [Math.ceil(t / 64), 1, 1] }], T, out, T * C);
    expect(fwd).toBeAllclose(rmsnormRef(x, w.values, T, C, eps), { atol: 1e-5, rtol: 1e-5 });
    const kd = kernel(device, 'rmsnorm-dx-rows', RMSNORM_DX_ROWS_WGSL, ['read', 'read', 'read', 'rw', 'uniform']);
    const dx = allocStorage(device, T * C * 4);
    const got = await runAndRead(ctx, [{ label: 'd', pipeline: kd.pipeline, bind: bindGroup(device, kd, [up(x), up(w.packed), up(dout), dx, uniformBuffer(ctx, rmsnormParams(C, eps, T))]), grid: (t) => [Math.ceil(t / 64), 1, 1] }], T, dx, T * C);
    expect(got).toBeAllclose(rmsnormBackwardRef(x, w.values, dout, T, C, eps).dx, { atol: 1e-5, rtol: 1e-4 });
  });

  for (const rowwise of [true, false]) {
    it(`chunked weighted cross-entropy (${rowwise ? 'thread' : 'workgroup'} per row) on rows r0.. of a batch`, async () => {
      const r = rng(45); const T = 9; const V = 133; const r0 = 3; const n = 5;
      const logits = randArray(r, T * V, 5);
      const targets = [1, 2, 3, 5, NO_TARGET, 132, 0, 17, 4]; const weights = Float32Array.from([1, 1, 1, 0.25, 1, 0.5, 0, 2, 1]);
      const ref = crossEntropyRef(logits, targets, weights, T, V);
      const dl = allocStorage(ctx.device, n * V * 4); const losses = up(new Float32Array(T).fill(-7));
      const got = await runAndRead(ctx, [xentChunkDispatch(ctx.device, { logits: up(logits.slice(r0 * V, (r0 + n) * V)), targets: up(Uint32Array.from(targets)), weights: up(weights), dlogits: dl, losses, params: uniformBuffer(ctx, xentChunkParams(V, r0)), step: stepBuffer(ctx, n) }, () => n, rowwise)], n, dl, n * V);
      expect(got).toBeAllclose(ref.dlogits.subarray(r0 * V, (r0 + n) * V), { atol: 1e-6, rtol: 1e-5 });
      const l = await readF32(ctx.device, losses, T);
      expect(l.subarray(r0, r0 + n)).toBeAllclose(ref.losses.subarray(r0, r0 + n), { atol: 1e-5, rtol: 1e-5 });
      expect(l[0]).toBe(-7); expect(l[r0 + n]).toBe(-7); // other rows are another chunk's
    });
  }

  it('gemm with m or k taken from the step rows', async () => {
    const r = rng(46); const t = 5; const K = 7; const N = 3;
    const x = randArray(r, 200); const y = randArray(r, 200); const o0 = randArray(r, 200); const g = Float32Array.from([1]);
    for (const [flag, shape] of [
      [GEMM_M_ROWS, { m: t, n: N, k: K, x: { s0: K, s1: 1 }, y: { s0: 1, s1: K }, out: { s0: N, s1: 1 } }],
      [GEMM_K_ROWS | GEMM_ACCUMULATE, { m: N, n: K, k: t, x: { s0: 1, s1: N }, y: { s0: K, s1: 1 }, out: { s0: K, s1: 1 } }],
    ] as const) {
      const out = up(o0);
      const big = { ...shape, m: flag & GEMM_M_ROWS ? 20 : shape.m, k: flag & GEMM_K_ROWS ? 20 : shape.k, flags: flag };
      const got = await runAndRead(ctx, [gemmDispatch(ctx.device, { x: up(x), y: up(y), gates: up(g), out, params: uniformBuffer(ctx, gemmParams(big)), step: stepBuffer(ctx, t) }, big.m, shape.n, 'gemm', flag & GEMM_M_ROWS ? (tt) => tt : undefined)], t, out, 200);
      expect(got).toBeAllclose(gemmRef(x, y, g, o0, { ...shape, flags: flag & GEMM_ACCUMULATE }), { atol: 1e-5, rtol: 1e-5 });
    }
  });
});
