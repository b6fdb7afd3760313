// RMSNorm: out = x / sqrt(mean(x²) + eps) * w
//   forward:  x (T,C) f32, w (C) f16 -> out (T,C) f32
//   per head (Qwen3 / Gemma 3 q and k norms): x (T,nh,D) as T·nh rows of C = D (params.per = nh)
//   Gemma's norms multiply by (1 + w): params.one = 1 adds it to the stored w (in f32, as Gemma3RMSNorm)
//   backward: dout (T,C) -> dx (T,C) = (w·dout)/r - x·Σ(w·dout·x)/(C·r³), r = sqrt(mean(x²)+eps)
//             dw (C) f32 = Σ_t dout·x/r  (for a trainable norm weight)
// Two shapes of the same math: one workgroup per row with a tree reduction (real GPUs), or one
// thread per row, no barriers (the *_ROWS kernels: SwiftShader, where barriers are very costly).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** x, w, out, params, step */
export const RMSNORM_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

// params: c, eps, m = fixed row count (0 = step.t·per), last = 1: normalise only row step.t-1 into row 0,
// per = rows per token (heads, for the per-head norms; 1 otherwise), one = added to every weight
const P_WGSL = 'struct P { c: u32, eps: f32, m: u32, last: u32, per: u32, one: f32, p1: u32, p2: u32 }';
const W_AT = 'fn w_at(e: u32) -> f32 { let v = unpack2x16float(w[e >> 1u]); return select(v.x, v.y, (e & 1u) == 1u) + p.one; }';
export const RMSNORM_WGSL = /* wgsl */ `
${STEP_WGSL}
${P_WGSL}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
var<workgroup> red: array<f32, 64>;
${W_AT}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = select(wg.x, step.t - 1u, p.last == 1u) * p.c;
  let orow = select(wg.x * p.c, 0u, p.last == 1u);
  var ss = 0.0;
  for (var c = lid; c < p.c; c += 64u) { let v = x[row + c]; ss += v * v; }
  red[lid] = ss;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] += red[lid + s]; } workgroupBarrier(); }
  let inv = inverseSqrt(red[0] / f32(p.c) + p.eps);
  for (var c = lid; c < p.c; c += 64u) { out[orow + c] = x[row + c] * inv * w_at(c); }
}`;

/** dx for one row per workgroup. Bindings: x, w, dout, dx, params */
export const RMSNORM_DX_WGSL = /* wgsl */ `
${P_WGSL}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> red: array<f32, 64>;
var<workgroup> red2: array<f32, 64>;
${W_AT}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x * p.c;
  var ss = 0.0; var dot = 0.0;
  for (var c = lid; c < p.c; c += 64u) { let v = x[row + c]; ss += v * v; dot += w_at(c) * dout[row + c] * v; }
  red[lid] = ss; red2[lid] = dot;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] += red[lid + s]; red2[lid] += red2[lid + s]; } workgroupBarrier(); }
  let inv = inverseSqrt(red[0] / f32(p.c) + p.eps);
  let k = red2[0] * inv * inv * inv / f32(p.c);
  for (var c = lid; c < p.c; c += 64u) { dx[row + c] = w_at(c) * dout[row + c] * inv - x[row + c] * k; }
}`;

/** Forward, one thread per row; bindings as RMSNORM_WGSL (rows = p.m, or step.t when 0; no `last`). */
export const RMSNORM_ROWS_WGSL = /* wgsl */ `
${STEP_WGSL}
${P_WGSL}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
${W_AT}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= select(step.t * p.per, p.m, p.m != 0u)) { return; }
  let row = g.x * p.c;
  var ss = 0.0;
  for (var c = 0u; c < p.c; c++) { let v = x[row + c]; ss += v * v; }
  let inv = inverseSqrt(ss / f32(p.c) + p.eps);
  for (var c = 0u; c < p.c; c++) { out[row + c] = x[row + c] * inv * w_at(c); }
}`;

/** dx, one thread per row (rows < p.m); bindings as RMSNORM_DX_WGSL. */
export const RMSNORM_DX_ROWS_WGSL = /* wgsl */ `
${P_WGSL}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
${W_AT}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.m) { return; }
  let row = g.x * p.c;
  var ss = 0.0; var dot = 0.0;
  for (var c = 0u; c < p.c; c++) { let v = x[row + c]; ss += v * v; dot += w_at(c) * dout[row + c] * v; }
  let inv = inverseSqrt(ss / f32(p.c) + p.eps);
  let k = dot * inv * inv * inv / f32(p.c);
  for (var c = 0u; c < p.c; c++) { dx[row + c] = w_at(c) * dout[row + c] * inv - x[row + c] * k; }
}`;

/** dw (C) over m rows, one thread per channel. Bindings: x, dout, dw, params */
export const RMSNORM_DW_WGSL = /* wgsl */ `
${P_WGSL}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x;
  if (c >= p.c) { return; }
  var acc = 0.0;
  for (var t = 0u; t < p.m; t++) {
    var ss = 0.0;
    for (var j = 0u; j < p.c; j++) { let v = x[t * p.c + j]; ss += v * v; }
    acc += dout[t * p.c + c] * x[t * p.c + c] * inverseSqrt(ss / f32(p.c) + p.eps);
  }
  dw[c] = acc;
}`;

/** per: rows per token (the per-head norms: heads); m: fixed row count (the dx kernels: the capacity in
 *  rows); one: added to every weight (Gemma's (1 + w) norms: 1). */
export function rmsnormParams(c: number, eps: number, m = 0, lastRowOnly = false, per = 1, one = 0): Uint32Array { return paramWords([c, { f: eps }, m, lastRowOnly ? 1 : 0, per, { f: one }, 0, 0]); }

/** rows(t): how many rows this dispatch normalises for a step of t tokens. */
export function rmsnormDispatch(device: GPUDevice, b: { x: GPUBuffer; w: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, rows: (t: number) => number, label = 'rmsnorm'): Dispatch {
  const k = kernel(device, 'rmsnorm', RMSNORM_WGSL, RMSNORM_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.w, b.out, b.params, b.step]), grid: (t) => [rows(t), 1, 1] };
}

/** One thread per row (RMSNORM_ROWS_WGSL): for adapters where barriers are expensive (SwiftShader). */
export function rmsnormRowsDispatch(device: GPUDevice, b: { x: GPUBuffer; w: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, rows: (t: number) => number, label = 'rmsnorm'): Dispatch {
  const k = kernel(device, 'rmsnorm-rows', RMSNORM_ROWS_WGSL, RMSNORM_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.w, b.out, b.params, b.step]), grid: (t) => [Math.ceil(rows(t) / 64), 1, 1] };
}

// ---------------------------------------------------------------- CPU reference (float64)

/** x (T,C), w (C) -> (T,C) */
/** x, w, dout, dx, params (the dx kernels, RMSNORM_DX_WGSL and RMSNORM_DX_ROWS_WGSL) */
export const RMSNORM_DX_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'uniform'];

/** dx (t,C) over the step's t rows (p.m = capacity): one workgroup per row, or one thread per row
 *  (`rowwise`, for adapters where barriers are costly). */
export function rmsnormDxDispatch(device: GPUDevice, b: { x: GPUBuffer; w: GPUBuffer; dout: GPUBuffer; dx: GPUBuffer; params: GPUBuffer }, rowwise: boolean, label = 'rmsnorm-dx', rows: (t: number) => number = (t) => t): Dispatch {
  const k = rowwise ? kernel(device, 'rmsnorm-dx-rows', RMSNORM_DX_ROWS_WGSL, RMSNORM_DX_BINDINGS) : kernel(device, 'rmsnorm-dx', RMSNORM_DX_WGSL, RMSNORM_DX_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.w, b.dout, b.dx, b.params]), grid: (t) => (rowwise ? [Math.ceil(rows(t) / 64), 1, 1] : [rows(t), 1, 1]) };
}

/** dw (C) over p.m rows, one thread per channel. */
export function rmsnormDwDispatch(device: GPUDevice, b: { x: GPUBuffer; dout: GPUBuffer; dw: GPUBuffer; params: GPUBuffer }, c: number, label = 'rmsnorm-dw'): Dispatch {
  const k = kernel(device, 'rmsnorm-dw', RMSNORM_DW_WGSL, ['read', 'read', 'rw', 'uniform']);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.dout, b.dw, b.params]), grid: () => [Math.ceil(c / 64), 1, 1] };
}

export function rmsnormRef(x: ArrayLike<number>, w: ArrayLike<number>, t: number, c: number, eps: number): Float64Array {
  const out = new Float64Array(t * c);
  for (let i = 0; i < t; i++) {
    let ss = 0;
    for (let j = 0; j < c; j++) ss += x[i * c + j] ** 2;
    const inv = 1 / Math.sqrt(ss / c + eps);
    for (let j = 0; j < c; j++) out[i * c + j] = x[i * c + j] * inv * w[j];
  }
  return out;
}

/** -> { dx (T,C), dw (C) } */
export function rmsnormBackwardRef(x: ArrayLike<number>, w: ArrayLike<number>, dout: ArrayLike<number>, t: number, c: number, eps: number): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(t * c);
  const dw = new Float64Array(c);
  for (let i = 0; i < t; i++) {
    let ss = 0; let dot = 0;
    for (let j = 0; j < c; j++) { const v = x[i * c + j]; ss += v * v; dot += w[j] * dout[i * c + j] * v; }
    const inv = 1 / Math.sqrt(ss / c + eps);
    for (let j = 0; j < c; j++) {
      dx[i * c + j] = w[j] * dout[i * c + j] * inv - (x[i * c + j] * dot * inv ** 3) / c;
      dw[j] += dout[i * c + j] * x[i * c + j] * inv;
    }
  }
  return { dx, dw };
}
