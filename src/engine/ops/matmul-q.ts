// Linear layers through a block-quantized frozen weight (Q8_0 / Q4_0, model/quant.ts), dequantized
// inside the kernels so the weight never exists in f16 on the GPU:
//   forward:  x (M,K) f32, W (N,K) quantized, bias (N) f16 -> out (M,N) f32   [decode: M = 1; prefill]
//   dx:       dx (M,K) (= or +=) dout[:, noff:noff+n] · W (n,K)              [the training pass]
// Same binding interfaces, params, flags and grids as the f16 kernels (matmul.ts, matmul-dx.ts), so a
// caller picks a variant per adapter as for f16 (kernel-choice.ts) and swaps only the dispatch:
//   generic   any K; one output per thread (element-wise dequantization)
//   register  K % 8 == 0; 4x4 outputs per thread, one 8-value group of 4 blocks at a time, no
//             workgroup memory (SwiftShader)
//   workgroup K % 8 == 0; 64x64 outputs per workgroup, one block (32 k) of X and of dequantized W per
//             tile in workgroup memory (real GPUs)
//   matvec / rowdot / subgroup  K % 8 == 0, M = 1 (decode), as in matmul.ts
// Weight buffer = one row chunk in quant.ts's GPU layout: n·bpr blocks of QW words, then the f16
// scales; the kernels find the scales after p.n·bpr·QW words (p.n = the chunk's rows).
// A block's values in groups of 8: group g (0..3) is two vec4 of values and the X vec4 slots they
// multiply within the block: Q8_0 elements 8g..8g+7 (slots 2g, 2g+1); Q4_0 byte word g = elements
// 4g..4g+3 (low nibbles, slot g) and 16+4g..16+4g+3 (high nibbles, slot 4+g).
// K past the row's end (a zero-padded tail block) is masked on the X side; the padding's weights are
// exact zeros anyway.
// Also the embedding gather from a quantized table (embedding.ts's interface), for a tied LM head kept
// quantized.
// CPU reference: the f32 reference of the f16 kernels over the dequantized weight, i.e.
// matmulRef(x, dequantizeMatrix(format, W, n, k), ...) and linearDxRef(dout, dequantizeMatrix(...), ...)
// (model/quant.ts; ops may not import model, the layer rule's folder graph would cycle).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel } from '../runtime/kernel.ts';
import { MATMUL_BINDINGS, MATMUL_COMMON_WGSL, type MatmulVariant, matmulGrid } from './matmul.ts';

/** llama.cpp block formats the kernels read (layout: model/quant.ts). */
export type QuantFormat = 'q8_0' | 'q4_0';

/** Per format: block words, the scale, an 8-value group (unscaled) and a single element. Needs
 *  wword(i) and the chunk's row count and K (p.n, p.k unless named). */
function formatWgsl(format: QuantFormat, rows = 'p.n', k = 'p.k'): string {
  const q8 = format === 'q8_0';
  return /* wgsl */ `
const QW = ${q8 ? 8 : 4}u;
fn bpr() -> u32 { return (${k} + 31u) / 32u; }
fn scale(e: u32) -> f32 { let i = ${rows} * bpr() * QW + (e >> 1u); let v = unpack2x16float(wword(i)); return select(v.x, v.y, (e & 1u) == 1u); }
${q8 ? `
fn i8x4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<i32>(bitcast<i32>(w)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)); }
fn grp(e: u32, g: u32) -> array<vec4<f32>, 2> { let i = e * 8u + 2u * g; return array<vec4<f32>, 2>(i8x4(wword(i)), i8x4(wword(i + 1u))); }
fn slot_a(g: u32) -> u32 { return 2u * g; }
fn slot_b(g: u32) -> u32 { return 2u * g + 1u; }
fn q_at(e: u32, j: u32) -> f32 { return f32((bitcast<i32>(wword(e * 8u + j / 4u)) << (24u - 8u * (j % 4u))) >> 24u); }` : `
fn nib(w: u32, s: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(w) >> vec4<u32>(s, s + 8u, s + 16u, s + 24u)) & vec4<u32>(15u)) - vec4<f32>(8.0); }
fn grp(e: u32, g: u32) -> array<vec4<f32>, 2> { let w = wword(e * 4u + g); return array<vec4<f32>, 2>(nib(w, 0u), nib(w, 4u)); }
fn slot_a(g: u32) -> u32 { return g; }
fn slot_b(g: u32) -> u32 { return 4u + g; }
fn q_at(e: u32, j: u32) -> f32 { let b = j % 16u; return f32((wword(e * 4u + b / 4u) >> (8u * (b % 4u) + select(0u, 4u, j >= 16u))) & 15u) - 8.0; }`}
/** W[n][k], dequantized */
fn w_at(n: u32, k: u32) -> f32 { let e = n * bpr() + k / 32u; return q_at(e, k % 32u) * scale(e); }
`;
}

const FWD_HEAD = (vec: boolean) => /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<${vec ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read> W: array<${vec ? 'vec4<u32>' : 'u32'}>;
${MATMUL_COMMON_WGSL}
fn wword(i: u32) -> u32 { return ${vec ? 'W[i >> 2u][i & 3u]' : 'W[i]'}; }`;

// X (vec4) of row base xr, block b, group g, masked past K: (slot a, slot b)
const X_GROUP = /* wgsl */ `
fn xg(xr: u32, b: u32, g: u32) -> array<vec4<f32>, 2> {
  let kr = p.k - b * 32u; let sa = slot_a(g); let sb = slot_b(g);
  return array<vec4<f32>, 2>(select(vec4<f32>(0.0), X[xr + b * 8u + sa], sa * 4u < kr), select(vec4<f32>(0.0), X[xr + b * 8u + sb], sb * 4u < kr));
}
/** Σ over block e (row of W) · X block b at row base xr, unscaled */
fn block_dot(e: u32, xr: u32, b: u32) -> f32 {
  var t = 0.0;
  for (var g = 0u; g < 4u; g++) { let w = grp(e, g); let x = xg(xr, b, g); t += dot(x[0], w[0]) + dot(x[1], w[1]); }
  return t;
}`;

const GENERIC = /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y;
  if (n >= p.n || m >= rows()) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.k; k++) { acc += X[m * p.k + k] * w_at(n, k); }
  finish(m, n, acc);
}`;

const REGISTER = /* wgsl */ `
@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) g3: vec3<u32>) {
  let M = rows();
  let n0 = g3.x * 4u; let m0 = g3.y * 4u;
  if (n0 >= p.n || m0 >= M) { return; }
  let nb = bpr(); let kv = p.k / 4u;
  var xr: array<u32, 4>; var er: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { xr[i] = min(m0 + i, M - 1u) * kv; er[i] = min(n0 + i, p.n - 1u) * nb; }
  var acc: array<vec4<f32>, 4>;
  for (var b = 0u; b < nb; b++) {
    let s = vec4<f32>(scale(er[0] + b), scale(er[1] + b), scale(er[2] + b), scale(er[3] + b));
    for (var g = 0u; g < 4u; g++) {
      let w0 = grp(er[0] + b, g); let w1 = grp(er[1] + b, g); let w2 = grp(er[2] + b, g); let w3 = grp(er[3] + b, g);
      for (var i = 0u; i < 4u; i++) {
        let x = xg(xr[i], b, g);
        acc[i] += s * vec4<f32>(dot(x[0], w0[0]) + dot(x[1], w0[1]), dot(x[0], w1[0]) + dot(x[1], w1[1]),
                                dot(x[0], w2[0]) + dot(x[1], w2[1]), dot(x[0], w3[0]) + dot(x[1], w3[1]));
      }
    }
  }
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= M) { break; }
    for (var j = 0u; j < 4u; j++) { if (n0 + j < p.n) { finish(m0 + i, n0 + j, acc[i][j]); } }
  }
}`;

const WORKGROUP = /* wgsl */ `
var<workgroup> xs: array<f32, 2048>; // 64 rows x 32 k
var<workgroup> ws: array<f32, 2048>; // 64 rows x 32 k, dequantized and scaled
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let M = rows();
  let lid = l.y * 16u + l.x;
  let mBase = wg.y * 64u; let nBase = wg.x * 64u;
  let nb = bpr(); let kv = p.k / 4u;
  var acc: array<vec4<f32>, 4>;
  for (var b = 0u; b < nb; b++) {
    // X tile: 64 rows x 8 vec4, two loads per thread
    for (var h = 0u; h < 2u; h++) {
      let q = lid + h * 256u; let xrow = q / 8u; let xc = q % 8u;
      var xv = vec4<f32>(0.0);
      if (mBase + xrow < M && b * 32u + xc * 4u < p.k) { xv = X[(mBase + xrow) * kv + b * 8u + xc]; }
      let o = xrow * 32u + xc * 4u;
      xs[o] = xv.x; xs[o + 1u] = xv.y; xs[o + 2u] = xv.z; xs[o + 3u] = xv.w;
    }
    // W tile: 64 rows x 4 groups, one group per thread
    let wrow = lid / 4u; let g = lid % 4u;
    var wa = vec4<f32>(0.0); var wb = vec4<f32>(0.0);
    if (nBase + wrow < p.n) { let e = (nBase + wrow) * nb + b; let sc = scale(e); let w = grp(e, g); wa = w[0] * sc; wb = w[1] * sc; }
    let oa = wrow * 32u + slot_a(g) * 4u; let ob = wrow * 32u + slot_b(g) * 4u;
    ws[oa] = wa.x; ws[oa + 1u] = wa.y; ws[oa + 2u] = wa.z; ws[oa + 3u] = wa.w;
    ws[ob] = wb.x; ws[ob + 1u] = wb.y; ws[ob + 2u] = wb.z; ws[ob + 3u] = wb.w;
    workgroupBarrier();
    for (var kk = 0u; kk < 32u; kk++) {
      let bv = vec4<f32>(ws[l.x * 32u + kk], ws[(l.x + 16u) * 32u + kk], ws[(l.x + 32u) * 32u + kk], ws[(l.x + 48u) * 32u + kk]);
      for (var i = 0u; i < 4u; i++) { acc[i] += xs[(l.y + 16u * i) * 32u + kk] * bv; }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = mBase + l.y + 16u * i;
    if (m >= M) { continue; }
    for (var j = 0u; j < 4u; j++) { let n = nBase + l.x + 16u * j; if (n < p.n) { finish(m, n, acc[i][j]); } }
  }
}`;

const ROWDOT = /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n0 = (g3.x + g3.y * nwg.x * 64u) * 4u;
  if (n0 >= p.n) { return; }
  let nb = bpr();
  var er: array<u32, 4>;
  for (var j = 0u; j < 4u; j++) { er[j] = min(n0 + j, p.n - 1u) * nb; }
  var acc = vec4<f32>(0.0);
  for (var b = 0u; b < nb; b++) {
    let s = vec4<f32>(scale(er[0] + b), scale(er[1] + b), scale(er[2] + b), scale(er[3] + b));
    var t = vec4<f32>(0.0);
    for (var g = 0u; g < 4u; g++) {
      let x = xg(0u, b, g);
      let w0 = grp(er[0] + b, g); let w1 = grp(er[1] + b, g); let w2 = grp(er[2] + b, g); let w3 = grp(er[3] + b, g);
      t += vec4<f32>(dot(x[0], w0[0]) + dot(x[1], w0[1]), dot(x[0], w1[0]) + dot(x[1], w1[1]),
                     dot(x[0], w2[0]) + dot(x[1], w2[1]), dot(x[0], w3[0]) + dot(x[1], w3[1]));
    }
    acc += s * t;
  }
  for (var j = 0u; j < 4u; j++) { if (n0 + j < p.n) { finish(0u, n0 + j, acc[j]); } }
}`;

// 8 rows per workgroup, 32 lanes per row over the row's blocks, tree reduction
const MATVEC = /* wgsl */ `
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = (wg.x + wg.y * nwg.x) * 8u + lid / 32u;
  let lane = lid % 32u;
  let nb = bpr();
  let row = min(n, p.n - 1u) * nb;
  var acc = 0.0;
  for (var b = lane; b < nb; b += 32u) { acc += scale(row + b) * block_dot(row + b, 0u, b); }
  red[lid] = acc;
  for (var s = 16u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lane < s) { red[lid] += red[lid + s]; }
  }
  if (lane == 0u && n < p.n) { finish(0u, n, red[lid]); }
}`;

// one subgroup per row (any subgroup size up to 32; see matmul.ts SUBGROUP_WGSL)
const SUBGROUP = /* wgsl */ `
@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgs: u32) {
  let lanes = min(sgs, 32u);
  let n0 = (wg.x + wg.y * nwg.x) * 8u;
  let nb = bpr();
  for (var j = lid / lanes; j < 8u; j += 32u / lanes) {
    let n = n0 + j;
    let row = min(n, p.n - 1u) * nb;
    var acc = 0.0;
    for (var b = sid; b < nb; b += lanes) { acc += scale(row + b) * block_dot(row + b, 0u, b); }
    let total = subgroupAdd(acc);
    if (sid == 0u && n < p.n) { finish(0u, n, total); }
  }
}`;

const BODIES: Record<MatmulVariant, string> = { generic: GENERIC, register: REGISTER, workgroup: WORKGROUP, matvec: MATVEC, rowdot: ROWDOT, subgroup: SUBGROUP };

/** WGSL of a quantized forward kernel. */
export function matmulQWgsl(format: QuantFormat, v: MatmulVariant): string {
  const vec = v !== 'generic';
  const pre = v === 'subgroup' ? 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n' : '';
  return `${pre}${FWD_HEAD(vec)}\n${formatWgsl(format)}\n${vec ? X_GROUP : ''}\n${BODIES[v]}`;
}

/** A forward dispatch through a quantized weight chunk; bindings, params (matmulParams) and grid as
 *  matmulDispatch's. Which variants fit a shape: matmul.ts variantFits. */
export function matmulQDispatch(
  device: GPUDevice, format: QuantFormat, variant: MatmulVariant,
  buffers: { x: GPUBuffer; w: GPUBuffer; bias: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer },
  n: number, rowsOf: (t: number) => number, label = `matmul-${format}`,
): Dispatch {
  const k = kernel(device, `matmul-${format}-${variant}`, matmulQWgsl(format, variant), MATMUL_BINDINGS);
  const { x, w, bias, out, params, step } = buffers;
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [x, w, bias, out, params, step], label), grid: (t) => matmulGrid(variant, rowsOf(t), n) };
}

// ---------------------------------------------------------------- input gradient

const DX_HEAD = (vec: boolean, withStep: boolean) => /* wgsl */ `
${withStep ? STEP_WGSL : ''}
struct P { m: u32, n: u32, k: u32, ldd: u32, noff: u32, doff: u32, acc: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> D: array<f32>;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read_write> DX: array<${vec ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<uniform> p: P;
${withStep ? '@group(0) @binding(4) var<uniform> step: Step;' : ''}
fn wword(i: u32) -> u32 { return W[i]; }`;

const DX_GENERIC = /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let k = g.x; let m = g.y;
  if (k >= p.k || m >= p.m) { return; }
  var acc = 0.0;
  let d0 = p.doff + m * p.ldd + p.noff;
  for (var n = 0u; n < p.n; n++) { acc += D[d0 + n] * w_at(n, k); }
  let o = m * p.k + k;
  if (p.acc != 0u) { acc += DX[o]; }
  DX[o] = acc;
}`;

// one 8-value group of a block (x) by 4 rows (y) per thread; rows from the step when p.m = 0
const DX_TILED = /* wgsl */ `
@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) g3: vec3<u32>) {
  let M = select(step.t, p.m, p.m != 0u);
  let nb = bpr();
  let gi = g3.x; let m0 = g3.y * 4u;
  if (gi >= nb * 4u || m0 >= M) { return; }
  let b = gi / 4u; let g = gi % 4u;
  let kr = p.k - b * 32u; let sa = slot_a(g); let sb = slot_b(g);
  if (sa * 4u >= kr) { return; } // the group lies in the padded tail (slot b is past slot a)
  var dr: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { dr[i] = p.doff + min(m0 + i, M - 1u) * p.ldd + p.noff; }
  var acc: array<vec4<f32>, 8>;
  for (var n = 0u; n < p.n; n++) {
    let e = n * nb + b;
    let w = grp(e, g); let sc = scale(e);
    for (var i = 0u; i < 4u; i++) { let d = D[dr[i] + n] * sc; acc[2u * i] += d * w[0]; acc[2u * i + 1u] += d * w[1]; }
  }
  let kv = p.k / 4u;
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= M) { break; }
    let oa = (m0 + i) * kv + b * 8u + sa;
    var ra = acc[2u * i];
    if (p.acc != 0u) { ra += DX[oa]; }
    DX[oa] = ra;
    if (sb * 4u < kr) {
      let ob = (m0 + i) * kv + b * 8u + sb;
      var rb = acc[2u * i + 1u];
      if (p.acc != 0u) { rb += DX[ob]; }
      DX[ob] = rb;
    }
  }
}`;

/** dout, W, dx, params (linearDxParams) */
export const LINEAR_DX_Q_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform'];
/** dout, W, dx, params, step */
export const LINEAR_DX_Q_TILED_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export function linearDxQWgsl(format: QuantFormat, tiled: boolean): string {
  return `${DX_HEAD(tiled, tiled)}\n${formatWgsl(format)}\n${tiled ? DX_TILED : DX_GENERIC}`;
}

/** dx through a quantized chunk, any K, m rows fixed in the params (as linearDxDispatch). */
export function linearDxQDispatch(device: GPUDevice, format: QuantFormat, b: { dout: GPUBuffer; w: GPUBuffer; dx: GPUBuffer; params: GPUBuffer }, m: number, k: number, label = `linear-dx-${format}`): Dispatch {
  const kk = kernel(device, `linear-dx-${format}`, linearDxQWgsl(format, false), LINEAR_DX_Q_BINDINGS);
  return { label, pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.dout, b.w, b.dx, b.params], label), grid: () => [Math.ceil(k / 64), m, 1] };
}

/** Tiled dx over rows rowsOf(t); K % 8 == 0 (as linearDxTiledDispatch). */
export function linearDxQTiledDispatch(
  device: GPUDevice, format: QuantFormat, b: { dout: GPUBuffer | GPUBufferBinding; w: GPUBuffer; dx: GPUBuffer | GPUBufferBinding; params: GPUBuffer; step: GPUBuffer },
  k: number, rowsOf: (t: number) => number, label = `linear-dx-${format}`,
): Dispatch {
  if (k % 8 !== 0) throw new Error(`tiled quantized linear dx: K = ${k} is not a multiple of 8`);
  const kk = kernel(device, `linear-dx-${format}-tiled`, linearDxQWgsl(format, true), LINEAR_DX_Q_TILED_BINDINGS);
  const groups = Math.ceil(k / 32) * 4;
  return { label, pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.dout, b.w, b.dx, b.params, b.step], label), grid: (t) => [Math.ceil(groups / 16), Math.ceil(rowsOf(t) / 16), 1] };
}

// ---------------------------------------------------------------- embedding gather

/** ids, table chunk (quantized), out, params (embedding.ts embeddingParams: c, r0, rows, scale), step */
export const EMBEDDING_Q_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export function embeddingQWgsl(format: QuantFormat): string {
  return /* wgsl */ `
${STEP_WGSL}
struct P { c: u32, r0: u32, rows: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
fn wword(i: u32) -> u32 { return W[i]; }
${formatWgsl(format, 'p.rows', 'p.c')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x; let t = g.y;
  if (c >= p.c || t >= step.t) { return; }
  let id = ids[t];
  if (id < p.r0 || id >= p.r0 + p.rows) { return; } // another chunk holds this row
  out[t * p.c + c] = w_at(id - p.r0, c) * p.scale;
}`;
}

/** out (T,C) = table[ids] · scale from one quantized row chunk (as embeddingDispatch); reference:
 *  embedding.ts embeddingRef over the dequantized table. */
export function embeddingQDispatch(device: GPUDevice, format: QuantFormat, b: { ids: GPUBuffer; table: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, c: number): Dispatch {
  const k = kernel(device, `embedding-${format}`, embeddingQWgsl(format), EMBEDDING_Q_BINDINGS);
  return { label: 'embedding', pipeline: k.pipeline, bind: bindGroup(device, k, [b.ids, b.table, b.out, b.params, b.step]), grid: (t) => [Math.ceil(c / 64), t, 1] };
}
