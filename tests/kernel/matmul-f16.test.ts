// shader-f16 linear kernels (ops/matmul-f16.ts) against the float64 reference of the same f16 weights.
// They need the adapter's 'shader-f16' feature: SwiftShader (the CI adapter) lacks it, so the GPU
// cases skip there and say so in their titles; the case below that always runs checks that the
// per-adapter choice never picks them without the feature, and that the error bound the kernels
// promise holds for an emulation of their f16 rounding on the CPU, and the kernels' indexing (tiles,
// rows per workgroup, subgroup loop, bias/residual) runs everywhere on an f32 twin of each kernel: the
// same WGSL with f16 replaced by f32 (what only the rounding, not the layout, depends on).
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { defaultF16Variants } from '../../src/engine/device/kernel-choice.ts';
import { FLAG_ACCUMULATE, FLAG_BIAS, matmulParams, matmulRef } from '../../src/engine/ops/matmul.ts';
import { f16Tolerance, f16VariantFeatures, type MatmulF16Variant, matmulF16Dispatch, matmulF16Grid, matmulF16Wgsl } from '../../src/engine/ops/matmul-f16.ts';
import { MATMUL_BINDINGS } from '../../src/engine/ops/matmul.ts';
import { bindGroup, kernel } from '../../src/engine/runtime/kernel.ts';
import { packF32AsF16, unpackF16 } from '../../src/engine/model/f16.ts';
import { uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { asF16, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

const ctx: GpuContext = await nodeGpuContext();
afterAll(() => ctx?.device.destroy());

const h = (v: number): number => unpackF16(packF32AsF16(Float32Array.of(v)), 1)[0];

/** The kernels' rounding, emulated: x to f16, each product and each partial sum of `run` terms in f16, f32 across runs. */
function emulate(x: Float32Array, w: Float32Array, m: number, n: number, k: number, run: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let k0 = 0; k0 < k; k0 += run) {
      let part = 0;
      for (let kk = k0; kk < Math.min(k, k0 + run); kk++) part = h(part + h(h(x[i * k + kk]) * w[j * k + kk]));
      acc = Math.fround(acc + part);
    }
    out[i * n + j] = acc;
  }
  return out;
}

function absSums(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float64Array {
  const s = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let kk = 0; kk < k; kk++) s[i * n + j] += Math.abs(x[i * k + kk] * w[j * k + kk]);
  return s;
}

describe('matmul f16: per-adapter choice and the error bound', () => {
  it(`picks f16 kernels only where the adapter has 'shader-f16' (this adapter: ${ctx.has('shader-f16') ? 'has it' : 'lacks it'})`, () => {
    const chosen = defaultF16Variants(ctx);
    if (!ctx.has('shader-f16')) expect(chosen).toBeUndefined();
    else expect(chosen?.prefill).toBe('tile-f16');
    // a fallback adapter (SwiftShader) never has it (ENVIRONMENT.md); the choice follows the feature alone
    const fake = (features: string[]) => ({ has: (f: GPUFeatureName) => features.includes(f), report: ctx.report });
    expect(defaultF16Variants(fake([]))).toBeUndefined();
    expect(defaultF16Variants(fake(['shader-f16']))).toEqual({ decode: 'matvec-f16', prefill: 'tile-f16' });
    expect(defaultF16Variants(fake(['shader-f16', 'subgroups']))).toEqual({ decode: 'subgroup-f16', prefill: 'tile-f16' });
  });

  it('the emulated f16 rounding stays within the stated bound at a Qwen MLP width (K = 4864)', () => {
    const [m, n, k] = [2, 6, 4864];
    const r = rng(5);
    const x = randArray(r, m * k, 3);
    const w = asF16(randArray(r, n * k, 0.05)).values;
    const ref = matmulRef(x, w, undefined, m, n, k);
    const sums = absSums(x, w, m, n, k);
    let worst = 0;
    for (const run of [8, 16]) {
      const got = emulate(x, w, m, n, k, run);
      for (let i = 0; i < m * n; i++) {
        expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(f16Tolerance(sums[i]));
        worst = Math.max(worst, Math.abs(got[i] - ref[i]) / sums[i]);
      }
    }
    // a single f16 sum over all K would not meet it (why the kernels accumulate runs in f32)
    const naive = emulate(x, w, m, n, k, k);
    expect(naive.some((v, i) => Math.abs(v - ref[i]) > f16Tolerance(sums[i]) / 4)).toBe(true);
    console.log(`f16 emulation: worst |d| / sum|xw| = ${worst.toExponential(2)} (bound 2e-3)`);
  });
});

/** Seeded inputs of one case: x (M,K), W (N,K) and bias (N) as f16, the prior output (M,N) the kernel accumulates onto. */
function inputs(seed: number, m: number, n: number, k: number) {
  const r = rng(seed);
  const x = randArray(r, m * k);
  const w = asF16(randArray(r, n * k));
  const b = asF16(randArray(r, n));
  return { x, w, b, prior: randArray(r, m * n) };
}

describe('matmul f16 kernels vs float64 reference', () => {
  const cases: Array<[MatmulF16Variant, number, number, number]> = [
    ['matvec-f16', 1, 37, 24], ['matvec-f16', 1, 130, 264], ['matvec-f16', 1, 64, 4864],
    ['subgroup-f16', 1, 37, 24], ['subgroup-f16', 1, 1029, 64], ['subgroup-f16', 1, 130, 896],
    ['tile-f16', 7, 37, 24], ['tile-f16', 70, 130, 72], ['tile-f16', 3, 5, 8], ['tile-f16', 33, 64, 896],
  ];
  for (const [variant, m, n, k] of cases) {
    const lacking = f16VariantFeatures(variant).filter((f) => !ctx.has(f));
    const why = lacking.length ? ` (skipped: adapter lacks ${lacking.map((f) => `'${f}'`).join(', ')})` : '';
    it.skipIf(lacking.length > 0)(`${variant} M=${m} N=${n} K=${k} with bias and residual accumulate${why}`, async () => {
      const { x, w, b, prior } = inputs(m * 1000 + n * 10 + k, m, n, k);
      const out = uploadStorage(ctx.device, prior);
      const d = matmulF16Dispatch(ctx.device, variant, {
        x: uploadStorage(ctx.device, x), w: uploadStorage(ctx.device, w.packed), bias: uploadStorage(ctx.device, b.packed), out,
        params: uniformBuffer(ctx, matmulParams({ n, k, ldo: n, noff: 0, flags: FLAG_BIAS | FLAG_ACCUMULATE, m: 0 })),
        step: stepBuffer(ctx, m),
      }, n, (t) => t);
      const got = await runAndRead(ctx, [d], m, out, m * n);
      const ref = matmulRef(x, w.values, b.values, m, n, k).map((v, i) => v + prior[i]);
      const sums = absSums(x, w.values, m, n, k);
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - ref[i]), `output ${i}`).toBeLessThanOrEqual(f16Tolerance(sums[i]));
    });
  }
});

/** The kernel's WGSL with f16 arithmetic replaced by f32 (same indexing, same bindings): runs without 'shader-f16'. */
function f32Twin(src: string): string {
  return src.replace('enable f16;\n', '').replace(/bitcast<vec2<f16>>\(([^)]*)\)/g, 'unpack2x16float($1)').replace(/f16/g, 'f32');
}

describe('matmul f16 kernels, f32 twin (layout check on any adapter)', () => {
  const cases: Array<[MatmulF16Variant, number, number, number]> = [
    ['matvec-f16', 1, 130, 264], ['subgroup-f16', 1, 1029, 64], ['tile-f16', 70, 130, 72], ['tile-f16', 3, 5, 8],
  ];
  for (const [variant, m, n, k] of cases) {
    const lacking = f16VariantFeatures(variant).filter((f) => f !== 'shader-f16' && !ctx.has(f));
    it.skipIf(lacking.length > 0)(`${variant} twin M=${m} N=${n} K=${k}${lacking.length ? ` (skipped: adapter lacks '${lacking[0]}')` : ''}`, async () => {
      const src = f32Twin(matmulF16Wgsl(variant));
      expect(src).not.toContain('f16');
      const { x, w, b, prior } = inputs(m * 7 + n * 3 + k, m, n, k);
      const out = uploadStorage(ctx.device, prior);
      const kern = kernel(ctx.device, `twin-${variant}`, src, MATMUL_BINDINGS);
      const bufs = [uploadStorage(ctx.device, x), uploadStorage(ctx.device, w.packed), uploadStorage(ctx.device, b.packed), out,
        uniformBuffer(ctx, matmulParams({ n, k, ldo: n, noff: 0, flags: FLAG_BIAS | FLAG_ACCUMULATE, m: 0 })), stepBuffer(ctx, m)];
      const d = { label: variant, pipeline: kern.pipeline, bind: bindGroup(ctx.device, kern, bufs), grid: (t: number) => matmulF16Grid(variant, t, n) };
      const got = await runAndRead(ctx, [d], m, out, m * n);
      const ref = matmulRef(x, w.values, b.values, m, n, k).map((v, i) => v + prior[i]);
      expect(got).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-4 });
    });
  }
});
