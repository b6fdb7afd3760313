// Grouped-query causal attention against a KV cache, for prefill (T tokens) and decode (T = 1).
//   q (T, H, D) f32, kcache/vcache (B·maxLen, Hkv, D): one region per sequence; rows (T) = (base, pos):
//   query t attends to cache rows base..base+pos (with a sliding window w > 0: the last w of them,
//   pos−w < j) -> out (T, H, D) f32; head h reads kv head h / (H/Hkv); scores scaled by params.scale.
// Cache storage (`kv`): 'f32', or 'f16' = packed halves, two per u32 (element 2i in the low half, as
// model/f16.ts packs; half the bytes; no shader-f16 feature needed). Scores, softmax and the weighted
// sum are f32 either way.
// One workgroup per (head, query). Keys go in chunks of 256 through workgroup memory with an online
// softmax (running max and sum), so any context length fits in 1 KiB of workgroup memory. Each of the
// 64 threads owns dims lid, lid+64, lid+128, lid+192 of the output (D <= 256).
// Flash-decoding (`split`, for decode steps at long context): workgroup (h, t, s) takes keys
// [s·n, (s+1)·n) of its row's L keys, n = ceil(L / splits(L)), and writes its partial max m_s, sum l_s
// and unnormalised output o_s; attentionCombine merges them:
//   M = max_s m_s,  out = Σ_s e^(m_s−M)·o_s / Σ_s e^(m_s−M)·l_s
// splits(L) = ceil(L / max(SPLIT_KEYS, ceil(L / MAX_SPLITS))) (<= MAX_SPLITS); the combine recomputes it.
// Backward: the packed kernels in attention-packed.ts (training); float64 attentionBackwardRef.
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

/** KV-cache element storage. */
export type KvDtype = 'f32' | 'f16';

/** Keys per split of flash-decoding (at least), and the most splits of one row. */
export const SPLIT_KEYS = 256;
export const MAX_SPLITS = 64;

/** Splits of a row with L keys (the WGSL `splits_of` is the same formula). */
export function splitsOf(L: number): number { return Math.ceil(L / Math.max(SPLIT_KEYS, Math.ceil(L / MAX_SPLITS))); }

export const SPLITS_WGSL = /* wgsl */ `
fn splits_of(L: u32) -> u32 { let n = max(${SPLIT_KEYS}u, (L + ${MAX_SPLITS - 1}u) / ${MAX_SPLITS}u); return (L + n - 1u) / n; }`;

/** WGSL declarations of the K/V cache bindings and their element reads kv_k(e) / kv_v(e). */
export function kvCacheWgsl(kv: KvDtype, kBinding: number, vBinding: number): string {
  return kv === 'f32' ? /* wgsl */ `
@group(0) @binding(${kBinding}) var<storage, read> K: array<f32>;
@group(0) @binding(${vBinding}) var<storage, read> V: array<f32>;
fn kv_k(e: u32) -> f32 { return K[e]; }
fn kv_v(e: u32) -> f32 { return V[e]; }` : /* wgsl */ `
@group(0) @binding(${kBinding}) var<storage, read> K: array<u32>;
@group(0) @binding(${vBinding}) var<storage, read> V: array<u32>;
fn kv_k(e: u32) -> f32 { let w = unpack2x16float(K[e >> 1u]); return select(w.x, w.y, (e & 1u) == 1u); }
fn kv_v(e: u32) -> f32 { let w = unpack2x16float(V[e >> 1u]); return select(w.x, w.y, (e & 1u) == 1u); }`;
}

/** The kernel. `split`: flash-decoding's first pass (grid z = splits), partials instead of out. */
export function attentionWgsl(kv: KvDtype = 'f32', split = false): string {
  // q·k over D: f16 reads a word (two halves) per step (head offsets are even: D even)
  const dot = kv === 'f32'
    ? 'for (var d = 0u; d < p.d; d++) { s += Q[qo + d] * K[kb + d]; }'
    : 'for (var d = 0u; d < p.d; d += 2u) { let kk = unpack2x16float(K[(kb + d) >> 1u]); s += Q[qo + d] * kk.x + Q[qo + d + 1u] * kk.y; }';
  return /* wgsl */ `
${STEP_WGSL}
${SPLITS_WGSL}
struct P { h: u32, hkv: u32, d: u32, scale: f32, window: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> Q: array<f32>;
${kvCacheWgsl(kv, 1, 2)}
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@group(0) @binding(5) var<uniform> step: Step;
@group(0) @binding(6) var<storage, read> rows: array<vec2<u32>>; // per query: (first cache row of its sequence, position)${split ? `
@group(0) @binding(7) var<storage, read_write> ML: array<vec2<f32>>; // per (t, h, split): (max, sum); O: (t, h, split, D)` : ''}
var<workgroup> sc: array<f32, 256>;
var<workgroup> red: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x; let t = wg.y;
  if (t >= step.t) { return; }
  let kvh = h / (p.h / p.hkv);
  let base0 = rows[t].x; let L0 = rows[t].y + 1u;
  let skip = select(0u, L0 - min(L0, p.window), p.window > 0u); // keys before the window
  let qo = (t * p.h + h) * p.d;
${split ? `  let ns = splits_of(L0 - skip);
  if (wg.z >= ns) { return; }
  let per = (L0 - skip + ns - 1u) / ns;
  let lo = min(wg.z * per, L0 - skip);
  let base = base0 + skip + lo; let L = min(per, L0 - skip - lo);` : `  let base = base0 + skip; let L = L0 - skip;`}
  let ks = p.hkv * p.d; let ko = kvh * p.d;
  var m = -1e30; var l = 0.0;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var j0 = 0u; j0 < L; j0 += 256u) {
    let n = min(256u, L - j0);
    var lmax = -1e30;
    for (var j = lid; j < n; j += 64u) {
      let kb = (base + j0 + j) * ks + ko;
      var s = 0.0;
      ${dot}
      s *= p.scale;
      sc[j] = s; lmax = max(lmax, s);
    }
    red[lid] = lmax;
    workgroupBarrier();
    for (var r = 32u; r > 0u; r >>= 1u) { if (lid < r) { red[lid] = max(red[lid], red[lid + r]); } workgroupBarrier(); }
    let newm = max(m, red[0]);
    for (var j = lid; j < n; j += 64u) { sc[j] = exp(sc[j] - newm); }
    workgroupBarrier();
    let f = exp(m - newm);
    var csum = 0.0;
    for (var i = 0u; i < 4u; i++) { acc[i] *= f; }
    for (var j = 0u; j < n; j++) {
      let pj = sc[j];
      csum += pj;
      let vb = (base + j0 + j) * ks + ko;
      for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { acc[i] += pj * kv_v(vb + d); } }
    }
    l = l * f + csum;
    m = newm;
    workgroupBarrier(); // sc and red are rewritten by the next chunk
  }
${split ? `  let pi = (t * p.h + h) * ${MAX_SPLITS}u + wg.z;
  for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { O[pi * p.d + d] = acc[i]; } }
  if (lid == 0u) { ML[pi] = vec2<f32>(m, l); }` : `  for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { O[qo + d] = acc[i] / l; } }`}
}`;
}

/** Flash-decoding's second pass: one thread per (row, head, element) merges the row's splits.
 *  Bindings: part (t, h, MAX_SPLITS, D), ml (t, h, MAX_SPLITS), out (t, h, D), rows, params
 *  (attentionCombineParams), step. */
export const ATTENTION_COMBINE_WGSL = /* wgsl */ `
${STEP_WGSL}
${SPLITS_WGSL}
struct P { h: u32, d: u32, window: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> PART: array<f32>;
@group(0) @binding(1) var<storage, read> ML: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(4) var<uniform> p: P;
@group(0) @binding(5) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
  if (i >= step.t * p.h * p.d) { return; }
  let d = i % p.d; let th = i / p.d; let t = th / p.h;
  let L0 = rows[t].y + 1u;
  let ns = splits_of(L0 - select(0u, L0 - min(L0, p.window), p.window > 0u));
  let pb = th * ${MAX_SPLITS}u;
  var mx = -1e30;
  for (var s = 0u; s < ns; s++) { mx = max(mx, ML[pb + s].x); }
  var l = 0.0; var o = 0.0;
  for (var s = 0u; s < ns; s++) { let w = exp(ML[pb + s].x - mx); l += w * ML[pb + s].y; o += w * PART[(pb + s) * p.d + d]; }
  O[i] = o / l;
}`;

/** q, kcache, vcache, out, params, step, rows */
export const ATTENTION_ROWS_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'uniform', 'uniform', 'read'];
/** q, kcache, vcache, part (rw), params, step, rows, ml (rw) */
export const ATTENTION_SPLIT_BINDINGS: readonly BindingKind[] = [...ATTENTION_ROWS_BINDINGS, 'rw'];
/** part, ml, out, rows, params, step */
export const ATTENTION_COMBINE_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'read', 'uniform', 'uniform'];

/** window: sliding window in positions (0 = full causal); scale: score scale (default d^-1/2). */
export function attentionParams(h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): Uint32Array {
  if (d > 256) throw new Error(`attention: head_dim ${d} > 256 is not supported`);
  if (h % hkv !== 0) throw new Error(`attention: ${h} query heads are not a multiple of ${hkv} kv heads`);
  return paramWords([h, hkv, d, { f: scale }, window, 0, 0, 0]);
}

/** Query t of the step attends to cache rows rows[t].x .. rows[t].x + rows[t].y; `kv`: cache storage. */
export function attentionRowsDispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer; rows: GPUBuffer }, h: number, kv: KvDtype = 'f32'): Dispatch {
  const k = kernel(device, `attention-rows-${kv}`, attentionWgsl(kv), ATTENTION_ROWS_BINDINGS);
  return { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.params, b.step, b.rows]), grid: (t) => [h, t, 1] };
}

/** The combine pass's params (both split kernels use it: this file's and attention-packed.ts's). */
export function attentionCombineParams(h: number, d: number, window = 0): Uint32Array { return paramWords([h, d, window, 0]); }

/** Bytes of flash-decoding's scratch for `rows` query rows of h heads: partial outputs, then (max, sum). */
export function attentionSplitScratch(rows: number, h: number, d: number): { part: number; ml: number } {
  return { part: rows * h * MAX_SPLITS * d * 4, ml: rows * h * MAX_SPLITS * 8 };
}

/** Flash-decoding: the split pass (grid (h, t, splits(maxKeys()))) and the combine pass. `maxKeys`:
 *  the longest row's key count in the step being encoded (read when the step is encoded). */
export function attentionSplitDispatches(
  device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; part: GPUBuffer; ml: GPUBuffer; params: GPUBuffer; combineParams: GPUBuffer; step: GPUBuffer; rows: GPUBuffer },
  s: { h: number; d: number; kv?: KvDtype }, maxKeys: () => number,
): Dispatch[] {
  const kv = s.kv ?? 'f32';
  const k = kernel(device, `attention-split-${kv}`, attentionWgsl(kv, true), ATTENTION_SPLIT_BINDINGS);
  return [
    { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.part, b.params, b.step, b.rows, b.ml]), grid: (t) => [s.h, t, splitsOf(maxKeys())] },
    attentionCombineDispatch(device, { ...b, params: b.combineParams }, s),
  ];
}

/** The combine pass alone (shared with the barrier-free split kernel of attention-packed.ts). */
export function attentionCombineDispatch(device: GPUDevice, b: { part: GPUBuffer; ml: GPUBuffer; out: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, s: { h: number; d: number }): Dispatch {
  const c = kernel(device, 'attention-combine', ATTENTION_COMBINE_WGSL, ATTENTION_COMBINE_BINDINGS);
  return { label: 'attention', pipeline: c.pipeline, bind: bindGroup(device, c, [b.part, b.ml, b.out, b.rows, b.params, b.step]), grid: (t) => grid2(Math.ceil((t * s.h * s.d) / 64)) };
}

/** Batched reference: query t (row t of q) attends to rows base[t]..base[t]+pos[t] of k/v. */
export function attentionRowsRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, rows: ReadonlyArray<[number, number]>, h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): Float64Array {
  const out = new Float64Array(rows.length * h * d);
  const kd = hkv * d;
  rows.forEach(([base, pos], t) => {
    const n = pos + 1;
    const kk = Array.from({ length: n * kd }, (_, i) => k[base * kd + i]);
    const vv = Array.from({ length: n * kd }, (_, i) => v[base * kd + i]);
    const qq = Array.from({ length: h * d }, (_, i) => q[t * h * d + i]);
    out.set(attentionRef(qq, kk, vv, 1, pos, h, hkv, d, window, scale), t * h * d);
  });
  return out;
}

/** q (T,H,D), k/v (>= pos+T, Hkv, D) -> (T,H,D), causal from absolute position pos; `window` > 0:
 *  only keys with pos_q − pos_k < window (sliding window); `scale` default d^-1/2. */
export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, t: number, pos: number, h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): Float64Array {
  const out = new Float64Array(t * h * d);
  const g = h / hkv;
  for (let ti = 0; ti < t; ti++) for (let hi = 0; hi < h; hi++) {
    const kvh = Math.floor(hi / g); const L = pos + ti + 1;
    const s = new Float64Array(L);
    let mx = -Infinity;
    for (let j = 0; j < L; j++) {
      let acc = 0;
      for (let e = 0; e < d; e++) acc += q[(ti * h + hi) * d + e] * k[(j * hkv + kvh) * d + e];
      s[j] = window > 0 && pos + ti - j >= window ? -Infinity : acc * scale; mx = Math.max(mx, s[j]);
    }
    let z = 0;
    for (let j = 0; j < L; j++) { s[j] = Math.exp(s[j] - mx); z += s[j]; }
    for (let e = 0; e < d; e++) {
      let acc = 0;
      for (let j = 0; j < L; j++) acc += s[j] * v[(j * hkv + kvh) * d + e];
      out[(ti * h + hi) * d + e] = acc / z;
    }
  }
  return out;
}
