// Linear layer with f16 arithmetic, for adapters with the 'shader-f16' feature: out = x · Wᵀ (+ bias)
// (+ out), the same formula, shapes, bindings and params as ops/matmul.ts (x (M,K) f32, W (N,K) packed
// f16, bias (N) f16, out (M,N) f32; FLAG_BIAS / FLAG_ACCUMULATE / FLAG_ROWS_AT_POS), so a decoder can
// bind these kernels where it binds those. What changes is the arithmetic:
//   - W is read as f16 (bitcast<vec2<f16>> of each u32: no unpack2x16float to f32), x is converted to
//     f16 once per load, and products are summed in f16 over short runs: 8 products (one vec4<u32> of
//     W) in the matrix-vector kernels, 16 (one k-tile) in the matrix-matrix kernel;
//   - each short f16 sum is then added to an f32 accumulator (the f32 accumulation that matters: a
//     K = 4,864 dot product summed in f16 would lose ~3 decimal digits), and bias/residual/finish are f32.
// Variants (K % 8 == 0 for all):
//   matvec-f16    M = 1 (decode); 32 threads per row, tree reduction in workgroup memory (f32)
//   subgroup-f16  M = 1 (decode), needs 'subgroups' too; one subgroup per row, subgroupAdd (f32)
//   tile-f16      any M (prefill, training forward); 64x64 output tile per workgroup, x and W tiles
//                 held as f16 in workgroup memory (half the bytes of matmul.ts's 'workgroup'), 4x4
//                 outputs per thread
// Error bound (tests/kernel/matmul-f16.test.ts): against the float64 reference of the same f16 weights,
// |d| <= 2e-3 * (sum_k |x_k w_nk|) + 1e-3 per output: x rounded to f16 (rel. 2^-11) plus f16 partial
// sums over at most 16 terms (rel. ~16 * 2^-11 of the partial magnitude).
// CPU reference: matmulRef in ops/matmul.ts (the formula is the same; only the rounding differs).
import { MATMUL_BINDINGS, MATMUL_COMMON_WGSL } from './matmul.ts';
import { type Dispatch, bindGroup, grid2, kernel } from '../runtime/kernel.ts';

export type MatmulF16Variant = 'matvec-f16' | 'subgroup-f16' | 'tile-f16';

export const MATMUL_F16_VARIANTS: readonly MatmulF16Variant[] = ['matvec-f16', 'subgroup-f16', 'tile-f16'];

/** The device features a variant needs (all need 'shader-f16'). */
export function f16VariantFeatures(v: MatmulF16Variant): GPUFeatureName[] {
  return v === 'subgroup-f16' ? ['shader-f16', 'subgroups'] : ['shader-f16'];
}

/** Whether `variant` can run a layer with inner size k and m rows. */
export function f16VariantFits(v: MatmulF16Variant, k: number, m: number): boolean {
  if (k % 8 !== 0) return false;
  return v === 'tile-f16' || m === 1;
}

const F16_COMMON = /* wgsl */ `
fn w8(w: vec4<u32>) -> array<vec4<f16>, 2> {
  let a = bitcast<vec2<f16>>(w.x); let b = bitcast<vec2<f16>>(w.y);
  let c = bitcast<vec2<f16>>(w.z); let d = bitcast<vec2<f16>>(w.w);
  return array<vec4<f16>, 2>(vec4<f16>(a, b), vec4<f16>(c, d));
}
// 8 products summed in f16, returned widened: one vec4<u32> of W against 8 x values.
fn dot8(xa: vec4<f32>, xb: vec4<f32>, w: vec4<u32>) -> f32 {
  let h = w8(w);
  return f32(dot(vec4<f16>(xa), h[0]) + dot(vec4<f16>(xb), h[1]));
}
`;

const HEAD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
${MATMUL_COMMON_WGSL}
${F16_COMMON}`;

const MATVEC_F16_WGSL = /* wgsl */ `enable f16;
${HEAD}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = (wg.x + wg.y * nwg.x) * 8u + lid / 32u; // 8 rows per workgroup
  let lane = lid % 32u;
  let kw = p.k / 8u;
  let row = min(n, p.n - 1u) * kw;
  var acc = 0.0;
  for (var k = lane; k < kw; k += 32u) { acc += dot8(X[2u * k], X[2u * k + 1u], W[row + k]); }
  red[lid] = acc;
  for (var s = 16u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lane < s) { red[lid] += red[lid + s]; }
  }
  if (lane == 0u && n < p.n) { finish(0u, n, red[lid]); }
}`;

// As matmul.ts's 'subgroup': each subgroup loops over rows lid / lanes, + 32 / lanes, ... (correct for
// any subgroup size 1..32); subgroupAdd is reached by every lane of a subgroup (same trip count).
const SUBGROUP_F16_WGSL = /* wgsl */ `enable f16;
enable subgroups;
diagnostic(off, subgroup_uniformity);
${HEAD}
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
    for (var k = sid; k < kw; k += lanes) { acc += dot8(X[2u * k], X[2u * k + 1u], W[row + k]); }
    let total = subgroupAdd(acc);
    if (sid == 0u && n < p.n) { finish(0u, n, total); }
  }
}`;

const TILE_F16_WGSL = /* wgsl */ `enable f16;
${HEAD}
var<workgroup> xs: array<vec4<f16>, 256>; // 64 rows x 16 k (4 vec4 per row)
var<workgroup> ws: array<vec4<f16>, 256>; // 64 rows x 16 k
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let M = rows();
  let lid = l.y * 16u + l.x;
  let mBase = wg.y * 64u; let nBase = wg.x * 64u;
  let kw = p.k / 8u; // vec4<u32> per W row; 2*kw vec4<f32> per X row
  var acc: array<vec4<f32>, 4>;
  let tiles = (p.k + 15u) / 16u;
  for (var t = 0u; t < tiles; t++) {
    // X tile: 64 rows x 4 vec4 = 256 loads, one per thread, rounded to f16.
    let xrow = lid / 4u; let xc = lid % 4u;
    let xk = t * 4u + xc;
    var xv = vec4<f32>(0.0);
    if (mBase + xrow < M && xk < 2u * kw) { xv = X[(mBase + xrow) * 2u * kw + xk]; }
    xs[xrow * 4u + xc] = vec4<f16>(xv);
    // W tile: 64 rows x 2 vec4<u32> = 128 loads, kept as f16.
    if (lid < 128u) {
      let wrow = lid / 2u; let wc = lid % 2u;
      let wk = t * 2u + wc;
      var h = array<vec4<f16>, 2>(vec4<f16>(0.0), vec4<f16>(0.0));
      if (nBase + wrow < p.n && wk < kw) { h = w8(W[(nBase + wrow) * kw + wk]); }
      ws[wrow * 4u + wc * 2u] = h[0]; ws[wrow * 4u + wc * 2u + 1u] = h[1];
    }
    workgroupBarrier();
    // 4x4 outputs per thread: rows l.y + 16i, columns l.x + 16j; 16 products per output in f16.
    // zeroed explicitly every tile (a declaration without initializer inside the loop kept the last
    // tile's sums on SwiftShader, found by the f32 twin test)
    var part = array<vec4<f16>, 4>(vec4<f16>(0.0), vec4<f16>(0.0), vec4<f16>(0.0), vec4<f16>(0.0));
    for (var c = 0u; c < 4u; c++) {
      let b0 = ws[(l.x) * 4u + c]; let b1 = ws[(l.x + 16u) * 4u + c];
      let b2 = ws[(l.x + 32u) * 4u + c]; let b3 = ws[(l.x + 48u) * 4u + c];
      for (var i = 0u; i < 4u; i++) {
        let a = xs[(l.y + 16u * i) * 4u + c];
        part[i] += vec4<f16>(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
      }
    }
    for (var i = 0u; i < 4u; i++) { acc[i] += vec4<f32>(part[i]); }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mBase + l.y + 16u * i;
    if (m >= M) { continue; }
    for (var j = 0u; j < 4u; j++) { let n = nBase + l.x + 16u * j; if (n < p.n) { finish(m, n, acc[i][j]); } }
  }
}`;

const SOURCES: Record<MatmulF16Variant, string> = { 'matvec-f16': MATVEC_F16_WGSL, 'subgroup-f16': SUBGROUP_F16_WGSL, 'tile-f16': TILE_F16_WGSL };

export function matmulF16Wgsl(v: MatmulF16Variant): string { return SOURCES[v]; }

/** Workgroup grid for `variant` over m rows x n (chunk) columns. */
export function matmulF16Grid(v: MatmulF16Variant, m: number, n: number): [number, number, number] {
  return v === 'tile-f16' ? [Math.ceil(n / 64), Math.ceil(m / 64), 1] : grid2(Math.ceil(n / 8));
}

/** A dispatch of `variant` over the buffers matmul.ts's matmulDispatch binds (x, W, bias, out, params, step). */
export function matmulF16Dispatch(
  device: GPUDevice, variant: MatmulF16Variant, buffers: { x: GPUBuffer; w: GPUBuffer; bias: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer },
  n: number, rowsOf: (t: number) => number, label = 'matmul-f16',
): Dispatch {
  const k = kernel(device, `matmul-${variant}`, SOURCES[variant], MATMUL_BINDINGS);
  const { x, w, bias, out, params, step } = buffers;
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [x, w, bias, out, params, step], label), grid: (t) => matmulF16Grid(variant, rowsOf(t), n) };
}

/** The bound the tests hold each output to (see the header): 2e-3 of sum |x w| + 1e-3. */
export function f16Tolerance(absSum: number): number {
  return 2e-3 * absSum + 1e-3;
}
