// Linear layer: out = x · Wᵀ (+ bias) (+ out, when accumulating a residual), with W stored as packed
// f16 (two halves per u32, row-major (out, in) as in PyTorch) and x, out in f32.
//   forward:  x (M,K) f32, W (N,K) f16, bias (N) f16  -> out (M,N) f32  [written at column offset noff
//             of an output with row stride ldo, so a weight split by rows fills one output]
//   backward: dout (M,N) -> dx (M,K) = dout · W ; dW (N,K) = doutᵀ · x (f32, for trainable weights)
// Variants share one binding interface and one bind group:
//   generic   any K; one output per thread (tests with odd K, tiny layers)
//   register  K % 8 == 0; 4x4 outputs per thread, vec4 loads, no workgroup memory (fast on SwiftShader)
//   workgroup K % 8 == 0; 64x64 tile per workgroup through workgroup memory (fast on real GPUs)
//   matvec    K % 8 == 0, M = 1 (decode); 32 threads per row, vec4<u32> loads (8 halves), tree reduction
//             (real GPUs: many threads per row hide memory latency)
//   rowdot    K % 8 == 0, M = 1 (decode); one thread per 4 rows, vec4<u32> loads, no barriers
//             (SwiftShader: barriers there cost ~100x a real GPU's, matvec is pathological)
//   subgroup  K % 8 == 0, M = 1 (decode), needs the 'subgroups' feature; one subgroup per row,
//             reduced by subgroupAdd: matvec's many-threads-per-row without its barriers
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

export type MatmulVariant = 'generic' | 'register' | 'workgroup' | 'matvec' | 'rowdot' | 'subgroup';

/** x, W, bias, out, params, step */
export const MATMUL_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'uniform', 'uniform'];

export const FLAG_BIAS = 1;
export const FLAG_ACCUMULATE = 2;

// params: n = rows of W (this chunk), k, ldo = output row stride, noff = output column offset,
// flags, m = fixed row count (0: use step.t).
const COMMON = /* wgsl */ `
${STEP_WGSL}
struct P { n: u32, k: u32, ldo: u32, noff: u32, flags: u32, m: u32, p0: u32, p1: u32 }
@group(0) @binding(2) var<storage, read> B: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@group(0) @binding(5) var<uniform> step: Step;
fn rows() -> u32 { return select(step.t, p.m, p.m != 0u); }
fn half_at(words_idx: u32, e: u32) -> f32 { let v = unpack2x16float(B[words_idx]); return select(v.x, v.y, (e & 1u) == 1u); }
fn finish(m: u32, n: u32, acc: f32) {
  var r = acc;
  if ((p.flags & 1u) != 0u) { let e = p.noff + n; r += half_at(e >> 1u, e); }
  let o = m * p.ldo + p.noff + n;
  if ((p.flags & 2u) != 0u) { r += O[o]; }
  O[o] = r;
}
fn unpack8(w: vec4<u32>) -> array<vec4<f32>, 2> {
  return array<vec4<f32>, 2>(vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)),
                             vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w)));
}
`;

const GENERIC_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> W: array<u32>;
${COMMON}
fn w_at(e: u32) -> f32 { let v = unpack2x16float(W[e >> 1u]); return select(v.x, v.y, (e & 1u) == 1u); }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y;
  if (n >= p.n || m >= rows()) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.k; k++) { acc += X[m * p.k + k] * w_at(n * p.k + k); }
  finish(m, n, acc);
}`;

const REGISTER_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
${COMMON}
@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let M = rows();
  let n0 = g.x * 4u; let m0 = g.y * 4u;
  if (n0 >= p.n || m0 >= M) { return; }
  let kw = p.k / 8u;
  var xr: array<u32, 4>; var wr: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { xr[i] = min(m0 + i, M - 1u) * kw * 2u; wr[i] = min(n0 + i, p.n - 1u) * kw; }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < kw; k++) {
    let w0 = unpack8(W[wr[0] + k]); let w1 = unpack8(W[wr[1] + k]);
    let w2 = unpack8(W[wr[2] + k]); let w3 = unpack8(W[wr[3] + k]);
    for (var i = 0u; i < 4u; i++) {
      let xa = X[xr[i] + 2u * k]; let xb = X[xr[i] + 2u * k + 1u];
      acc[i] += vec4<f32>(dot(xa, w0[0]) + dot(xb, w0[1]), dot(xa, w1[0]) + dot(xb, w1[1]),
                          dot(xa, w2[0]) + dot(xb, w2[1]), dot(xa, w3[0]) + dot(xb, w3[1]));
    }
  }
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= M) { break; }
    for (var j = 0u; j < 4u; j++) { if (n0 + j < p.n) { finish(m0 + i, n0 + j, acc[i][j]); } }
  }
}`;

const WORKGROUP_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
${COMMON}
var<workgroup> xs: array<f32, 1024>; // 64 rows x 16 k
var<workgroup> ws: array<f32, 1024>; // 64 rows x 16 k
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let M = rows();
  let lid = l.y * 16u + l.x;
  let mBase = wg.y * 64u; let nBase = wg.x * 64u;
  let kw = p.k / 8u; // vec4<u32> per W row; 2*kw vec4<f32> per X row
  var acc: array<vec4<f32>, 4>;
  let tiles = (p.k + 15u) / 16u;
  for (var t = 0u; t < tiles; t++) {
    // X tile: 64 rows x 4 vec4 = 256 loads, one per thread.
    let xrow = lid / 4u; let xc = lid % 4u;
    let xk = t * 4u + xc; // vec4 index along k
    var xv = vec4<f32>(0.0);
    if (mBase + xrow < M && xk < 2u * kw) { xv = X[(mBase + xrow) * 2u * kw + xk]; }
    xs[xrow * 16u + xc * 4u] = xv.x; xs[xrow * 16u + xc * 4u + 1u] = xv.y;
    xs[xrow * 16u + xc * 4u + 2u] = xv.z; xs[xrow * 16u + xc * 4u + 3u] = xv.w;
    // W tile: 64 rows x 2 vec4<u32> = 128 loads.
    if (lid < 128u) {
      let wrow = lid / 2u; let wc = lid % 2u;
      let wk = t * 2u + wc;
      var a = vec4<f32>(0.0); var b = vec4<f32>(0.0);
      if (nBase + wrow < p.n && wk < kw) { let u = unpack8(W[(nBase + wrow) * kw + wk]); a = u[0]; b = u[1]; }
      let o = wrow * 16u + wc * 8u;
      ws[o] = a.x; ws[o + 1u] = a.y; ws[o + 2u] = a.z; ws[o + 3u] = a.w;
      ws[o + 4u] = b.x; ws[o + 5u] = b.y; ws[o + 6u] = b.z; ws[o + 7u] = b.w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let bv = vec4<f32>(ws[(l.x) * 16u + kk], ws[(l.x + 16u) * 16u + kk], ws[(l.x + 32u) * 16u + kk], ws[(l.x + 48u) * 16u + kk]);
      for (var i = 0u; i < 4u; i++) { acc[i] += xs[(l.y + 16u * i) * 16u + kk] * bv; }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mBase + l.y + 16u * i;
    if (m >= M) { continue; }
    for (var j = 0u; j < 4u; j++) { let n = nBase + l.x + 16u * j; if (n < p.n) { finish(m, n, acc[i][j]); } }
  }
}`;

const MATVEC_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
${COMMON}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = (wg.x + wg.y * nwg.x) * 8u + lid / 32u; // 8 rows per workgroup
  let lane = lid % 32u;
  let kw = p.k / 8u;
  let row = min(n, p.n - 1u) * kw;
  var acc = 0.0;
  for (var k = lane; k < kw; k += 32u) {
    let w = unpack8(W[row + k]);
    acc += dot(X[2u * k], w[0]) + dot(X[2u * k + 1u], w[1]);
  }
  red[lid] = acc;
  for (var s = 16u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lane < s) { red[lid] += red[lid + s]; }
  }
  if (lane == 0u && n < p.n) { finish(0u, n, red[lid]); }
}`;

const ROWDOT_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
${COMMON}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n0 = (g.x + g.y * nwg.x * 64u) * 4u;
  if (n0 >= p.n) { return; }
  let kw = p.k / 8u;
  var wr: array<u32, 4>;
  for (var j = 0u; j < 4u; j++) { wr[j] = min(n0 + j, p.n - 1u) * kw; }
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < kw; k++) {
    let xa = X[2u * k]; let xb = X[2u * k + 1u];
    let w0 = unpack8(W[wr[0] + k]); let w1 = unpack8(W[wr[1] + k]);
    let w2 = unpack8(W[wr[2] + k]); let w3 = unpack8(W[wr[3] + k]);
    acc += vec4<f32>(dot(xa, w0[0]) + dot(xb, w0[1]), dot(xa, w1[0]) + dot(xb, w1[1]),
                     dot(xa, w2[0]) + dot(xb, w2[1]), dot(xa, w3[0]) + dot(xb, w3[1]));
  }
  for (var j = 0u; j < 4u; j++) { if (n0 + j < p.n) { finish(0u, n0 + j, acc[j]); } }
}`;

// 8 rows per workgroup of 32 invocations. The subgroup size is only known in the shader (and may vary
// between the adapter's subgroupMinSize and subgroupMaxSize), so each subgroup loops over the rows
// lid / lanes, lid / lanes + 32 / lanes, ...: correct for any size from 1 to 32 (and for a larger
// subgroup only partly filled by this 32-wide workgroup). Every lane of a subgroup runs the same
// trip count, so subgroupAdd is reached by all of them; WGSL's uniformity analysis cannot prove
// that (the bound depends on the subgroup), hence the diagnostic.
const SUBGROUP_WGSL = /* wgsl */ `enable subgroups;
diagnostic(off, subgroup_uniformity);
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
${COMMON}
@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgs: u32) {
  let lanes = min(sgs, 32u);
  let n0 = (wg.x + wg.y * nwg.x) * 8u;
  let kw = p.k / 8u;
  for (var j = lid / lanes; j < 8u; j += 32u / lanes) {
    let n = n0 + j;
    let row = min(n, p.n - 1u) * kw;
    var acc = 0.0;
    for (var k = sid; k < kw; k += lanes) {
      let w = unpack8(W[row + k]);
      acc += dot(X[2u * k], w[0]) + dot(X[2u * k + 1u], w[1]);
    }
    let total = subgroupAdd(acc);
    if (sid == 0u && n < p.n) { finish(0u, n, total); }
  }
}`;

/** The shared bindings 2-5 (bias, out, params, step) and finish(): the quantized kernels (matmul-q.ts) bind the same interface. */
export const MATMUL_COMMON_WGSL = COMMON;

const SOURCES: Record<MatmulVariant, string> = {
  generic: GENERIC_WGSL, register: REGISTER_WGSL, workgroup: WORKGROUP_WGSL, matvec: MATVEC_WGSL, rowdot: ROWDOT_WGSL, subgroup: SUBGROUP_WGSL,
};

/** The device feature a variant needs, if any. */
export function variantFeature(v: MatmulVariant): GPUFeatureName | null { return v === 'subgroup' ? 'subgroups' : null; }

export function matmulWgsl(v: MatmulVariant): string { return SOURCES[v]; }

/** Whether `variant` can run a layer with inner size k and m rows. */
export function variantFits(v: MatmulVariant, k: number, m: number): boolean {
  if (v === 'generic') return true;
  if (k % 8 !== 0) return false;
  return (v !== 'matvec' && v !== 'rowdot' && v !== 'subgroup') || m === 1;
}

/** Workgroup grid for `variant` over m rows x n (chunk) columns. */
export function matmulGrid(v: MatmulVariant, m: number, n: number): [number, number, number] {
  switch (v) {
    case 'generic': return [Math.ceil(n / 64), m, 1];
    case 'register': return [Math.ceil(n / 64), Math.ceil(m / 16), 1];
    case 'workgroup': return [Math.ceil(n / 64), Math.ceil(m / 64), 1];
    case 'matvec': case 'subgroup': return grid2(Math.ceil(n / 8));
    case 'rowdot': return grid2(Math.ceil(n / 256));
  }
}

export interface MatmulShape {
  /** rows of W in this chunk */ n: number;
  k: number;
  /** output row stride (total out features) */ ldo: number;
  /** output column where this chunk starts */ noff: number;
  flags: number;
  /** fixed row count; 0 = the step's token count */ m: number;
}

export function matmulParams(s: MatmulShape): Uint32Array {
  return paramWords([s.n, s.k, s.ldo, s.noff, s.flags, s.m, 0, 0]);
}

/** A dispatch of `variant` over bound buffers; m rows come from `rowsOf(t)` (t = step tokens). */
export function matmulDispatch(
  device: GPUDevice, variant: MatmulVariant, buffers: { x: GPUBuffer; w: GPUBuffer; bias: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer },
  n: number, rowsOf: (t: number) => number, label = 'matmul',
): Dispatch {
  const k = kernel(device, `matmul-${variant}`, SOURCES[variant], MATMUL_BINDINGS);
  const { x, w, bias, out, params, step } = buffers;
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [x, w, bias, out, params, step], label), grid: (t) => matmulGrid(variant, rowsOf(t), n) };
}

// ---------------------------------------------------------------- backward kernels (generic)

// dx (M,K) = dout (M,N) · W (N,K) through a frozen packed-f16 weight is ops/matmul-dx.ts (strided,
// row-chunk aware, optionally accumulating); matmulDxRef below is its reference.

/** dW (N,K) f32 = doutᵀ (N,M) · x (M,K). Bindings: dout, x, dW, params{m,n,k} */
export const MATMUL_DW_WGSL = /* wgsl */ `
struct P { m: u32, n: u32, k: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> D: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> DW: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let k = g.x; let n = g.y;
  if (k >= p.k || n >= p.n) { return; }
  var acc = 0.0;
  for (var m = 0u; m < p.m; m++) { acc += D[m * p.n + n] * X[m * p.k + k]; }
  DW[n * p.k + k] = acc;
}`;

export const BACKWARD_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform'];

// ---------------------------------------------------------------- CPU reference (float64)

/** x (M,K), w (N,K), bias (N)|undefined -> (M,N) */
export function matmulRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | undefined, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = bias ? bias[j] : 0;
      for (let q = 0; q < k; q++) acc += x[i * k + q] * w[j * k + q];
      out[i * n + j] = acc;
    }
  }
  return out;
}

/** dout (M,N), w (N,K) -> dx (M,K) */
export function matmulDxRef(dout: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number): Float64Array {
  const dx = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    const d = dout[i * n + j];
    for (let q = 0; q < k; q++) dx[i * k + q] += d * w[j * k + q];
  }
  return dx;
}

/** dout (M,N), x (M,K) -> dW (N,K) */
export function matmulDwRef(dout: ArrayLike<number>, x: ArrayLike<number>, m: number, n: number, k: number): Float64Array {
  const dw = new Float64Array(n * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    const d = dout[i * n + j];
    for (let q = 0; q < k; q++) dw[j * k + q] += d * x[i * k + q];
  }
  return dw;
}
