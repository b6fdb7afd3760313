// Kernel variants per adapter. The default follows the adapter kind (ENVIRONMENT.md: register-tiled
// matmul is fastest on SwiftShader, workgroup-tiled on real GPUs); measureMatmulVariants() times
// both on this device so the choice can be made by measurement (the worker and the bench do).
import { FLAG_BIAS, type MatmulVariant, matmulDispatch, matmulParams, variantFeature } from '../ops/matmul.ts';
import type { MatmulF16Variant } from '../ops/matmul-f16.ts';
import { encodeDispatches } from '../runtime/kernel.ts';
import type { GpuContext } from './gpu-context.ts';

export type PrefillVariant = Extract<MatmulVariant, 'register' | 'workgroup'>;
export type DecodeVariant = Extract<MatmulVariant, 'matvec' | 'rowdot' | 'subgroup'>;

export function defaultMatmulVariant(ctx: Pick<GpuContext, 'report'>): PrefillVariant {
  return ctx.report.isFallbackAdapter ? 'register' : 'workgroup';
}

/** Decode (matrix-vector) kernel: SwiftShader's barriers make the workgroup-reduced matvec slow
 *  (rowdot there); on a GPU with subgroups, subgroupAdd replaces matvec's barrier tree. */
export function defaultDecodeVariant(ctx: Pick<GpuContext, 'report' | 'has'>): DecodeVariant {
  if (ctx.report.isFallbackAdapter) return 'rowdot';
  return ctx.has('subgroups') ? 'subgroup' : 'matvec';
}

/** Packed training attention: the barrier-free kernels (attention-packed.ts, one thread per row tile)
 *  where barriers are costly (SwiftShader), else the workgroup-tiled flash kernels (flash-attention.ts). */
export type AttentionVariant = 'rows' | 'flash';
export function defaultAttentionVariant(ctx: Pick<GpuContext, 'report'>): AttentionVariant {
  return ctx.report.isFallbackAdapter ? 'rows' : 'flash';
}

/** f16-arithmetic linear kernels (ops/matmul-f16.ts) where the adapter has 'shader-f16' (never on
 *  SwiftShader, which lacks it): decode by subgroupAdd where 'subgroups' exists too, else the
 *  workgroup-reduced matvec; prefill by the f16 64x64 tile. undefined: keep the f32 kernels. Chosen by
 *  the feature, never by timing (a timed choice can flip between runs and change the tokens). */
export function defaultF16Variants(ctx: Pick<GpuContext, 'has'>): { decode: Extract<MatmulF16Variant, 'matvec-f16' | 'subgroup-f16'>; prefill: Extract<MatmulF16Variant, 'tile-f16'> } | undefined {
  if (!ctx.has('shader-f16')) return undefined;
  return { decode: ctx.has('subgroups') ? 'subgroup-f16' : 'matvec-f16', prefill: 'tile-f16' };
}

/** Sampling workgroup size: wide on GPUs, narrow where barriers are expensive. */
export function defaultSampleWorkgroup(ctx: Pick<GpuContext, 'report'>): number {
  return ctx.report.isFallbackAdapter ? 64 : 256;
}

export interface MatmulTiming { variant: MatmulVariant; m: number; n: number; k: number; ms: number; gflops: number }

/** Times `variant` on x (m,k) · W(n,k)ᵀ: one warm-up, then `reps` dispatches in one submit. */
export async function timeMatmul(ctx: GpuContext, variant: MatmulVariant, m: number, n: number, k: number, reps = 5): Promise<MatmulTiming> {
  const { device } = ctx;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const x = device.createBuffer({ size: m * k * 4, usage });
  const w = device.createBuffer({ size: Math.ceil((n * k) / 2) * 4, usage });
  const bias = device.createBuffer({ size: Math.ceil(n / 2) * 4 + 16, usage });
  const out = device.createBuffer({ size: m * n * 4, usage });
  const params = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const step = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, matmulParams({ n, k, ldo: n, noff: 0, flags: FLAG_BIAS, m: 0 }));
  device.queue.writeBuffer(step, 0, new Uint32Array([m, 0, 0, 0]));
  const d = matmulDispatch(device, variant, { x, w, bias, out, params, step }, n, (t) => t);
  const run = async (times: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < times; i++) encodeDispatches(enc, [d], m);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run(1);
  const t0 = performance.now();
  await run(reps);
  const ms = (performance.now() - t0) / reps;
  for (const b of [x, w, bias, out, params, step]) b.destroy();
  return { variant, m, n, k, ms, gflops: (2 * m * n * k) / (ms * 1e6) };
}

/** Decode kernels this device can run ('subgroup' needs the 'subgroups' feature). */
export function decodeVariants(ctx: Pick<GpuContext, 'has'>): DecodeVariant[] {
  return (['matvec', 'rowdot', 'subgroup'] as const).filter((v) => { const f = variantFeature(v); return f === null || ctx.has(f); });
}

/** Times the decode kernels on a matrix-vector product (n, k); returns the fastest. */
export async function measureDecodeVariants(ctx: GpuContext, n = 1024, k = 512): Promise<{ best: DecodeVariant; timings: MatmulTiming[] }> {
  const timings: MatmulTiming[] = [];
  for (const v of decodeVariants(ctx)) timings.push(await timeMatmul(ctx, v, 1, n, k));
  const best = timings.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { best: best.variant as DecodeVariant, timings };
}

/** Times the register- and workgroup-tiled kernels on a prefill-like shape; returns the faster. */
export async function measureMatmulVariants(ctx: GpuContext, m = 64, n = 256, k = 256): Promise<{ best: PrefillVariant; timings: MatmulTiming[] }> {
  const timings = [await timeMatmul(ctx, 'register', m, n, k), await timeMatmul(ctx, 'workgroup', m, n, k)];
  const best = timings[0].ms <= timings[1].ms ? 'register' : 'workgroup';
  return { best, timings };
}
