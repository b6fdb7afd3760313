// A linear layer (and the embedding gather) over a frozen weight of any format (weights.ts: packed f16,
// or Q8_0 / Q4_0 dequantized inside the kernels), as dispatches, one per row chunk of the weight:
//   forward  out (=|+=) x·Wᵀ (+ bias)          x (t,K) f32, W (N,K), out (t,N) f32, chunk c writes
//                                             columns r0..r0+rows of out            [decode, prefill, training]
//   dx       dIn (=|+=) dout[:, noff..]·W      dout (t,N) at element offset doff, dIn (t,K)   [training]
//   embed    out (t,C) = W[ids]·scale          each chunk writes the rows of ids it holds
// Kernels: f16 ops/matmul.ts, ops/matmul-dx.ts, ops/embedding.ts; quantized ops/matmul-q.ts (same
// bindings, params and grids). Row counts come from the step uniform through rowsOf(t). The batch
// session (decode, prefill) and the training pass (forward, LM head, input gradients) build every
// weight read here, so the base never exists in f16 on the GPU when it was loaded quantized.
// References: matmulRef / linearDxRef / embeddingRef over quant.ts hostTensorValues (the dequantized
// weight), as tests/kernel/matmul-q.test.ts and tests/kernel/qlora.test.ts check.
import { embeddingDispatch, embeddingParams } from '../ops/embedding.ts';
import { FLAG_BIAS, MATMUL_BINDINGS, type MatmulVariant, matmulGrid, matmulParams, matmulWgsl } from '../ops/matmul.ts';
import { linearDxParams, linearDxTiledDispatch } from '../ops/matmul-dx.ts';
import { embeddingQDispatch, linearDxQTiledDispatch, matmulQWgsl } from '../ops/matmul-q.ts';
import { type Dispatch, bindGroup, kernel } from '../runtime/kernel.ts';
import type { GpuWeight } from './weights.ts';

/** Makes a uniform buffer (the caller's allocator, so its lifetime follows the caller's). */
export type MakeUniform = (label: string, words: Uint32Array) => GPUBuffer;

type Binding = GPUBuffer | GPUBufferBinding;

export interface LinearForwardBuffers {
  x: Binding;
  out: GPUBuffer;
  /** first chunk of the bias (1-D, f16), or none */
  bias?: GPUBuffer;
  /** bound where there is no bias */
  dummy: GPUBuffer;
  step: GPUBuffer;
}

/** out (=|+=) x·Wᵀ (+ bias): one dispatch per chunk of `w`, kernel `variant` (the caller checks
 *  variantFits(variant, K, rows)). flags: FLAG_ACCUMULATE (FLAG_BIAS is set from `bias`). */
export function linearForward(
  device: GPUDevice, w: GpuWeight, variant: MatmulVariant, b: LinearForwardBuffers, flags: number, uni: MakeUniform,
  rowsOf: (t: number) => number = (t) => t, label = w.name,
): Dispatch[] {
  const [N, K] = w.shape;
  const fmt = w.format;
  const k = fmt === 'f16'
    ? kernel(device, `matmul-${variant}`, matmulWgsl(variant), MATMUL_BINDINGS)
    : kernel(device, `matmul-${fmt}-${variant}`, matmulQWgsl(fmt, variant), MATMUL_BINDINGS);
  return w.chunks.map((ch) => {
    const params = uni(`params.${label}`, matmulParams({ n: ch.rows, k: K, ldo: N, noff: ch.r0, flags: flags | (b.bias ? FLAG_BIAS : 0), m: 0 }));
    const bind = bindGroup(device, k, [b.x, ch.buffer, b.bias ?? b.dummy, b.out, params, b.step], label);
    return { label, pipeline: k.pipeline, bind, grid: (t: number) => matmulGrid(variant, rowsOf(t), ch.rows) };
  });
}

export interface LinearDxBuffers { dout: Binding; dx: Binding; step: GPUBuffer }

/** dIn (=|+=) dout[:, r0..r0+rows]·W_chunk summed over the chunks of `w` (the first chunk overwrites
 *  unless `accumulate`); dout rows of stride N start at element `doff`. K % 4 == 0 (f16), % 8 (quantized). */
export function linearDx(
  device: GPUDevice, w: GpuWeight, b: LinearDxBuffers, accumulate: boolean, uni: MakeUniform,
  opts: { doff?: number; rowsOf?: (t: number) => number; label?: string } = {},
): Dispatch[] {
  const [N, K] = w.shape;
  const rowsOf = opts.rowsOf ?? ((t: number) => t);
  const label = opts.label ?? `dx.${w.name}`;
  return w.chunks.map((ch, i) => {
    const params = uni(`params.${label}`, linearDxParams({ m: 0, n: ch.rows, k: K, ldd: N, noff: ch.r0, doff: opts.doff ?? 0, accumulate: accumulate || i > 0 }));
    const bufs = { dout: b.dout, w: ch.buffer, dx: b.dx, params, step: b.step };
    return w.format === 'f16'
      ? linearDxTiledDispatch(device, bufs, K, rowsOf, label)
      : linearDxQTiledDispatch(device, w.format, bufs, K, rowsOf, label);
  });
}

/** out (t,C) = W[ids]·scale, one dispatch per chunk (rows of ids outside a chunk are left to the others). */
export function embedDispatches(device: GPUDevice, w: GpuWeight, b: { ids: GPUBuffer; out: GPUBuffer; step: GPUBuffer }, scale: number, uni: MakeUniform): Dispatch[] {
  const C = w.shape[1];
  return w.chunks.map((ch) => {
    const bufs = { ids: b.ids, table: ch.buffer, out: b.out, params: uni('params.embed', embeddingParams(C, ch.r0, ch.rows, scale)), step: b.step };
    return w.format === 'f16' ? embeddingDispatch(device, bufs, C) : embeddingQDispatch(device, w.format, bufs, C);
  });
}
