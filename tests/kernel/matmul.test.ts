import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import {
  BACKWARD_BINDINGS, FLAG_ACCUMULATE, FLAG_BIAS, MATMUL_DW_WGSL, type MatmulVariant,
  matmulDispatch, matmulDwRef, matmulDxRef, matmulParams, matmulRef, variantFeature,
} from '../../src/engine/ops/matmul.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { bindGroup, kernel } from '../../src/engine/runtime/kernel.ts';
import { asF16, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

// top-level, so the cases can ask which features the adapter has while they are collected
const ctx: GpuContext = await nodeGpuContext();
afterAll(() => ctx?.device.destroy());

// f32 accumulation of K products of values in [-1,1]: error grows ~ sqrt(K) * 6e-8 * |terms|.
const TOL = { rtol: 1e-4, atol: 1e-4 };

describe('matmul forward: every variant vs float64 reference', () => {
  const cases: Array<[MatmulVariant, number, number, number]> = [
    ['generic', 5, 7, 13], ['generic', 1, 33, 9],
    ['register', 7, 37, 24], ['register', 17, 65, 64], ['register', 1, 3, 8],
    ['workgroup', 7, 37, 24], ['workgroup', 70, 130, 72], ['workgroup', 3, 5, 8],
    ['matvec', 1, 37, 24], ['matvec', 1, 130, 264],
    ['rowdot', 1, 37, 24], ['rowdot', 1, 1029, 64],
    ['subgroup', 1, 37, 24], ['subgroup', 1, 1029, 64], ['subgroup', 1, 130, 264],
  ];
  for (const [variant, m, n, k] of cases) {
    const feature = variantFeature(variant);
    // SwiftShader has 'subgroups' (size 4); an adapter without the feature skips, and the title says so
    const missing = feature !== null && !ctx.has(feature);
    it.skipIf(missing)(`${variant} M=${m} N=${n} K=${k} with bias and residual accumulate${missing ? ` (skipped: adapter lacks '${feature}')` : ''}`, async () => {
      const r = rng(m * 1000 + n * 10 + k);
      const x = randArray(r, m * k);
      const w = asF16(randArray(r, n * k));
      const b = asF16(randArray(r, n));
      const prior = randArray(r, m * n);
      const out = uploadStorage(ctx.device, prior);
      const d = matmulDispatch(ctx.device, variant, {
        x: uploadStorage(ctx.device, x), w: uploadStorage(ctx.device, w.packed), bias: uploadStorage(ctx.device, b.packed), out,
        params: uniformBuffer(ctx, matmulParams({ n, k, ldo: n, noff: 0, flags: FLAG_BIAS | FLAG_ACCUMULATE, m: 0 })),
        step: stepBuffer(ctx, m),
      }, n, (t) => t);
      const got = await runAndRead(ctx, [d], m, out, m * n);
      const ref = matmulRef(x, w.values, b.values, m, n, k).map((v, i) => v + prior[i]);
      expect(got).toBeAllclose(ref, TOL);
    });
  }

  it('a weight split in two row chunks fills one output (noff, ldo)', async () => {
    const [m, n, k] = [3, 20, 16];
    const r = rng(7);
    const x = randArray(r, m * k);
    const w = asF16(randArray(r, n * k));
    const out = allocStorage(ctx.device, m * n * 4);
    const gx = uploadStorage(ctx.device, x);
    const step = stepBuffer(ctx, m);
    const dummy = allocStorage(ctx.device, 16);
    const ds = [[0, 12], [12, 8]].map(([r0, rows]) =>
      matmulDispatch(ctx.device, 'register', {
        x: gx, w: uploadStorage(ctx.device, w.packed.slice((r0 * k) / 2, ((r0 + rows) * k) / 2)), bias: dummy, out,
        params: uniformBuffer(ctx, matmulParams({ n: rows, k, ldo: n, noff: r0, flags: 0, m: 0 })), step,
      }, rows, (t) => t));
    expect(await runAndRead(ctx, ds, m, out, m * n)).toBeAllclose(matmulRef(x, w.values, undefined, m, n, k), TOL);
  });
});

describe('matmul backward', () => {
  const [m, n, k] = [5, 11, 7];
  const r = rng(99);
  const x = randArray(r, m * k);
  const w = asF16(randArray(r, n * k));
  const dout = randArray(r, m * n);

  it('reference gradients match finite differences of L = sum(dout * (x Wᵀ))', () => {
    const loss = (xx: ArrayLike<number>, ww: ArrayLike<number>) => matmulRef(xx, ww, undefined, m, n, k).reduce((s, v, i) => s + v * dout[i], 0);
    const dx = matmulDxRef(dout, w.values, m, n, k);
    const dw = matmulDwRef(dout, x, m, n, k);
    const h = 1e-6;
    for (const i of [0, 6, m * k - 1]) {
      const xp = Float64Array.from(x); xp[i] += h; const xm = Float64Array.from(x); xm[i] -= h;
      expect((loss(xp, w.values) - loss(xm, w.values)) / (2 * h)).toBeCloseTo(dx[i], 6);
    }
    for (const i of [0, 10, n * k - 1]) {
      const wp = Float64Array.from(w.values); wp[i] += h; const wm = Float64Array.from(w.values); wm[i] -= h;
      expect((loss(x, wp) - loss(x, wm)) / (2 * h)).toBeCloseTo(dw[i], 6);
    }
  });

  it('dx and dW kernels match the reference', async () => {
    const run = async (code: string, a: Float32Array | Uint32Array, b: Float32Array | Uint32Array, rows: number, cols: number) => {
      const kk = kernel(ctx.device, 'bw', code, BACKWARD_BINDINGS);
      const out = allocStorage(ctx.device, rows * cols * 4);
      const bg = bindGroup(ctx.device, kk, [uploadStorage(ctx.device, a), uploadStorage(ctx.device, b), out, uniformBuffer(ctx, new Uint32Array([m, n, k, 0]))]);
      const enc = ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(kk.pipeline); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(Math.ceil(cols / 64), rows); pass.end();
      ctx.device.queue.submit([enc.finish()]);
      return readF32(ctx.device, out, rows * cols);
    };
    expect(await run(MATMUL_DW_WGSL, dout, x, n, k)).toBeAllclose(matmulDwRef(dout, x, m, n, k), TOL);
  });
});
