// An f16 KV cache (issue 23): K and V stored as packed f16 (two halves per u32, element 2i in the low
// half, as model/f16.ts packs), half the bytes of the f32 cache; scores, softmax and the weighted sum
// stay f32. Variants of kv-store.ts and attention.ts with the same params, rows and grids:
//   store:     k, v (T, Hkv, D) f32, rows (T) = (base, pos), table (maxPos, D/2) (cos, sin)
//              -> kcache[base+pos] = f16(rope(k[t], pos)), vcache[base+pos] = f16(v[t])
//              caches (B·maxLen, Hkv, D) as B·maxLen·Hkv·D/2 words; one thread per (row, head, i) writes
//              the words of elements 2i, 2i+1 and their rotation partners 2i+D/2, 2i+1+D/2 (D % 4 == 0)
//   attention: q (T, H, D) f32 against the f16 caches -> out (T, H, D) f32; one workgroup per (head,
//              query), keys in chunks of 256 with an online softmax (as attention.ts)
// References: kv-store.ts kvStoreRef rounded to f16 (model/f16.ts; WGSL's pack2x16float may round
// either way, so within one f16 step), and attention.ts attentionRef over the caches' f16 values.
// Not wired in yet: the batch session allocates and fills the f32 caches.
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** k, v, kcache, vcache, table, rows, params, step (as KV_STORE_BINDINGS) */
export const KV16_STORE_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'rw', 'read', 'read', 'uniform', 'uniform'];

export const KV16_STORE_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { nh: u32, d: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> kc: array<u32>;
@group(0) @binding(3) var<storage, read_write> vc: array<u32>;
@group(0) @binding(4) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(6) var<uniform> p: P;
@group(0) @binding(7) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let half = p.d / 2u; let q = half / 2u;
  let i = g.x % q; let h = g.x / q; let t = g.y;
  if (h >= p.nh || t >= step.t) { return; }
  let r = rows[t];
  let e = 2u * i;
  let c0 = cs[r.y * half + e]; let c1 = cs[r.y * half + e + 1u];
  let src = (t * p.nh + h) * p.d + e;
  let dst = (((r.x + r.y) * p.nh + h) * p.d + e) / 2u;
  let a0 = k[src]; let a1 = k[src + 1u]; let b0 = k[src + half]; let b1 = k[src + half + 1u];
  kc[dst] = pack2x16float(vec2<f32>(a0 * c0.x - b0 * c0.y, a1 * c1.x - b1 * c1.y));
  kc[dst + q] = pack2x16float(vec2<f32>(b0 * c0.x + a0 * c0.y, b1 * c1.x + a1 * c1.y));
  vc[dst] = pack2x16float(vec2<f32>(v[src], v[src + 1u]));
  vc[dst + q] = pack2x16float(vec2<f32>(v[src + half], v[src + half + 1u]));
}`;

export function kv16StoreParams(nh: number, d: number): Uint32Array {
  if (d % 4 !== 0) throw new Error(`f16 kv-store: head_dim ${d} must be a multiple of 4`);
  return paramWords([nh, d, 0, 0]);
}

export function kv16StoreDispatch(device: GPUDevice, b: { k: GPUBuffer; v: GPUBuffer; kcache: GPUBuffer; vcache: GPUBuffer; table: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, nh: number, d: number): Dispatch {
  const k = kernel(device, 'kv16-store', KV16_STORE_WGSL, KV16_STORE_BINDINGS);
  return { label: 'kv16-store', pipeline: k.pipeline, bind: bindGroup(device, k, [b.k, b.v, b.kcache, b.vcache, b.table, b.rows, b.params, b.step]), grid: (t) => [Math.ceil((nh * d) / 4 / 64), t, 1] };
}

/** q, kcache (f16), vcache (f16), out, params (attentionParams), step [, rows] */
export const ATTENTION_KV16_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'uniform', 'uniform'];
export const ATTENTION_KV16_ROWS_BINDINGS: readonly BindingKind[] = [...ATTENTION_KV16_BINDINGS, 'read'];

/** attention.ts's kernel reading packed-f16 K and V (D even); `rows`: batched, as attentionWgsl(true). */
export function attentionKv16Wgsl(rows: boolean): string {
  return /* wgsl */ `
${STEP_WGSL}
struct P { h: u32, hkv: u32, d: u32, scale: f32, window: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<u32>;
@group(0) @binding(2) var<storage, read> V: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@group(0) @binding(5) var<uniform> step: Step;${rows ? `
@group(0) @binding(6) var<storage, read> rows: array<vec2<u32>>; // per query: (first cache row of its sequence, position)` : ''}
var<workgroup> sc: array<f32, 256>;
var<workgroup> red: array<f32, 64>;
fn v_at(e: u32) -> f32 { let w = unpack2x16float(V[e >> 1u]); return select(w.x, w.y, (e & 1u) == 1u); }
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x; let t = wg.y;
  let kvh = h / (p.h / p.hkv);
${rows ? `  let base0 = rows[t].x; let L0 = rows[t].y + 1u;` : `  let base0 = 0u; let L0 = step.pos + t + 1u;`}
  let skip = select(0u, L0 - min(L0, p.window), p.window > 0u);
  let base = base0 + skip; let L = L0 - skip;
  let qo = (t * p.h + h) * p.d;
  let ks = p.hkv * p.d; let ko = kvh * p.d;
  let half = p.d / 2u;
  var m = -1e30; var l = 0.0;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var j0 = 0u; j0 < L; j0 += 256u) {
    let n = min(256u, L - j0);
    var lmax = -1e30;
    for (var j = lid; j < n; j += 64u) {
      let kw = ((base + j0 + j) * ks + ko) / 2u;
      var s = 0.0;
      for (var d2 = 0u; d2 < half; d2++) { let kk = unpack2x16float(K[kw + d2]); s += Q[qo + 2u * d2] * kk.x + Q[qo + 2u * d2 + 1u] * kk.y; }
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
      for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { acc[i] += pj * v_at(vb + d); } }
    }
    l = l * f + csum;
    m = newm;
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) { let d = lid + 64u * i; if (d < p.d) { O[qo + d] = acc[i] / l; } }
}`;
}

/** Single sequence: query t at position step.pos + t against cache rows 0..; grid (h, t). */
export function attentionKv16Dispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, h: number): Dispatch {
  const k = kernel(device, 'attention-kv16', attentionKv16Wgsl(false), ATTENTION_KV16_BINDINGS);
  return { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.params, b.step]), grid: (t) => [h, t, 1] };
}

/** Batched: query t attends to cache rows rows[t].x .. rows[t].x + rows[t].y. */
export function attentionKv16RowsDispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer; rows: GPUBuffer }, h: number): Dispatch {
  const k = kernel(device, 'attention-kv16-rows', attentionKv16Wgsl(true), ATTENTION_KV16_ROWS_BINDINGS);
  return { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.params, b.step, b.rows]), grid: (t) => [h, t, 1] };
}
