// Strided f32 matrix product for small trainable tensors (LoRA A, B and their gradients):
//   out[ooff + m·os0 + n·os1] (= or +=) alpha · gate[gidx]? · Σ_k X[xoff + m·xs0 + k·xs1] · Y[yoff + k·ys0 + n·ys1]
//   X (M,K), Y (K,N), out (M,N) as strided views, so transposes are just strides:
//   LoRA forward  u = h·Aᵀ (T,r); y += s·g·u·Bᵀ (T,out)
//   LoRA backward M = s·dyᵀ·u (out,r); dB = g·M; dgate = Σ M⊙B (M=N=1, K=out·r); du = s·g·dy·B; dA = duᵀ·x; dx += du·A
// One thread per output, 8x8 threads per workgroup. f32 accumulation.
// With a step uniform bound (gemmDispatch's b.step), GEMM_M_ROWS / GEMM_K_ROWS take m or k from the
// step's row count, so a pass sized for R rows runs only the t rows of this step.
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** X, Y, gates, out, params */
export const GEMM_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'uniform'];

export const GEMM_ACCUMULATE = 1;
/** multiply by gates[gidx] */
export const GEMM_GATE = 2;
/** m = step.t (needs the step binding) */
export const GEMM_M_ROWS = 4;
/** k = step.t (needs the step binding) */
export const GEMM_K_ROWS = 8;

function gemmWgsl(withStep: boolean): string {
  return /* wgsl */ `
${withStep ? `${STEP_WGSL}\n@group(0) @binding(5) var<uniform> step: Step;` : ''}
struct P { m: u32, n: u32, k: u32, xs0: u32, xs1: u32, ys0: u32, ys1: u32, os0: u32,
           os1: u32, xoff: u32, yoff: u32, ooff: u32, flags: u32, gidx: u32, alpha: f32, p0: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y;
  ${withStep ? `let M = select(p.m, step.t, (p.flags & 4u) != 0u); let KK = select(p.k, step.t, (p.flags & 8u) != 0u);` : 'let M = p.m; let KK = p.k;'}
  if (n >= p.n || m >= M) { return; }
  var acc = 0.0;
  for (var k = 0u; k < KK; k++) { acc += X[p.xoff + m * p.xs0 + k * p.xs1] * Y[p.yoff + k * p.ys0 + n * p.ys1]; }
  var r = acc * p.alpha;
  if ((p.flags & 2u) != 0u) { r *= G[p.gidx]; }
  let o = p.ooff + m * p.os0 + n * p.os1;
  if ((p.flags & 1u) != 0u) { r += O[o]; }
  O[o] = r;
}`;
}

export const GEMM_WGSL = gemmWgsl(false);
/** X, Y, gates, out, params, step */
export const GEMM_ROWS_BINDINGS: readonly BindingKind[] = [...GEMM_BINDINGS, 'uniform'];

/** A strided view: element (i, j) at off + i·s0 + j·s1. */
export interface View { off?: number; s0: number; s1: number }

export interface GemmShape { m: number; n: number; k: number; x: View; y: View; out: View; alpha?: number; flags?: number; gidx?: number }

export function gemmParams(s: GemmShape): Uint32Array {
  return paramWords([s.m, s.n, s.k, s.x.s0, s.x.s1, s.y.s0, s.y.s1, s.out.s0, s.out.s1, s.x.off ?? 0, s.y.off ?? 0, s.out.off ?? 0, s.flags ?? 0, s.gidx ?? 0, { f: s.alpha ?? 1 }, 0]);
}

/** m rows of output (mOf(t) with GEMM_M_ROWS) by n columns. */
export function gemmDispatch(device: GPUDevice, b: { x: GPUBuffer; y: GPUBuffer; gates: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step?: GPUBuffer }, m: number, n: number, label = 'gemm', mOf?: (t: number) => number): Dispatch {
  if (b.step) {
    const k = kernel(device, 'gemm-rows', gemmWgsl(true), GEMM_ROWS_BINDINGS);
    return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.y, b.gates, b.out, b.params, b.step], label), grid: (t) => [Math.ceil(n / 8), Math.ceil((mOf ? mOf(t) : m) / 8), 1] };
  }
  const k = kernel(device, 'gemm', GEMM_WGSL, GEMM_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.y, b.gates, b.out, b.params], label), grid: () => [Math.ceil(n / 8), Math.ceil(m / 8), 1] };
}

/** CPU reference (float64): returns the new contents of `out` (a copy). */
export function gemmRef(x: ArrayLike<number>, y: ArrayLike<number>, gates: ArrayLike<number>, out: ArrayLike<number>, s: GemmShape): Float64Array {
  const o = Float64Array.from(out);
  for (let m = 0; m < s.m; m++) for (let n = 0; n < s.n; n++) {
    let acc = 0;
    for (let k = 0; k < s.k; k++) acc += x[(s.x.off ?? 0) + m * s.x.s0 + k * s.x.s1] * y[(s.y.off ?? 0) + k * s.y.s0 + n * s.y.s1];
    let r = acc * (s.alpha ?? 1);
    if ((s.flags ?? 0) & GEMM_GATE) r *= gates[s.gidx ?? 0];
    const i = (s.out.off ?? 0) + m * s.out.s0 + n * s.out.s1;
    o[i] = ((s.flags ?? 0) & GEMM_ACCUMULATE ? o[i] : 0) + r;
  }
  return o;
}
