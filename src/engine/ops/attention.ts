// Grouped-query causal attention against a KV cache, for prefill (T tokens) and decode (T = 1).
//   q (T, H, D), kcache/vcache (maxLen, Hkv, D) holding positions 0..pos+T-1 -> out (T, H, D)
//   batched: kcache/vcache (B·maxLen, Hkv, D), one region per sequence; rows (T) = (base, pos) per query
//   query t (absolute position pos+t) attends to keys 0..pos+t (with a sliding window w > 0: the last
//   w of them, pos+t−w < j); head h reads kv head h / (H/Hkv); scores scaled by params.scale.
// One workgroup per (head, query). Keys go in chunks of 256 through workgroup memory with an
// online softmax (running max and sum), so any context length fits in 1 KiB of workgroup memory.
// Each of the 64 threads owns dims lid, lid+64, lid+128, lid+192 of the output (D <= 256).
// Backward: attention-backward.ts (recomputes the probabilities from q and k).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** q, kcache, vcache, out, params, step */
export const ATTENTION_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'uniform', 'uniform'];

/** The kernel; `rows`: batched decoding, where query t belongs to a sequence whose keys live at cache
 *  rows base.. (rows[t] = (base, pos)) instead of every query sharing step.pos and rows 0... */
export function attentionWgsl(rows: boolean): string {
  return /* wgsl */ `
${STEP_WGSL}
struct P { h: u32, hkv: u32, d: u32, scale: f32, window: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@group(0) @binding(5) var<uniform> step: Step;${rows ? `
@group(0) @binding(6) var<storage, read> rows: array<vec2<u32>>; // per query: (first cache row of its sequence, position)` : ''}
var<workgroup> sc: array<f32, 256>;
var<workgroup> red: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x; let t = wg.y;
  let kvh = h / (p.h / p.hkv);
${rows ? `  let base0 = rows[t].x; let L0 = rows[t].y + 1u;` : `  let base0 = 0u; let L0 = step.pos + t + 1u;`}
  let skip = select(0u, L0 - min(L0, p.window), p.window > 0u); // keys before the window
  let base = base0 + skip; let L = L0 - skip;
  let qo = (t * p.h + h) * p.d;
  let ks = p.hkv * p.d; let ko = kvh * p.d;
  var m = -1e30; var l = 0.0;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var j0 = 0u; j0 < L; j0 += 256u) {
    let n = min(256u, L - j0);
    var lmax = -1e30;
    for (var j = lid; j < n; j += 64u) {
      let kb = (base + j0 + j) * ks + ko;
      var s = 0.0;
      for (var d = 0u; d < p.d; d++) { s += Q[qo + d] * K[kb + d]; }
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
      for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { acc[i] += pj * V[vb + d]; } }
    }
    l = l * f + csum;
    m = newm;
    workgroupBarrier(); // sc and red are rewritten by the next chunk
  }
  for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { O[qo + d] = acc[i] / l; } }
}`;
}
/** q, kcache, vcache, out, params, step, rows */
export const ATTENTION_ROWS_BINDINGS: readonly BindingKind[] = [...ATTENTION_BINDINGS, 'read'];

/** window: sliding window in positions (0 = full causal); scale: score scale (default d^-1/2). */
export function attentionParams(h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): Uint32Array {
  if (d > 256) throw new Error(`attention: head_dim ${d} > 256 is not supported`);
  if (h % hkv !== 0) throw new Error(`attention: ${h} query heads are not a multiple of ${hkv} kv heads`);
  return paramWords([h, hkv, d, { f: scale }, window, 0, 0, 0]);
}

/** Batched: query t of the step attends to cache rows rows[t].x .. rows[t].x + rows[t].y. */
export function attentionRowsDispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer; rows: GPUBuffer }, h: number): Dispatch {
  const k = kernel(device, 'attention-rows', attentionWgsl(true), ATTENTION_ROWS_BINDINGS);
  return { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.params, b.step, b.rows]), grid: (t) => [h, t, 1] };
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
