// Flash attention over packed sequences (training), tiled for GPUs: the same math, bindings and
// params as the barrier-free kernels of attention-packed.ts, laid out for hardware whose workgroup
// barriers are cheap.
//   rows (R) vec2<u32> = (base, pos): row t is position pos of the sequence that starts at row base
//   forward:  q (R,H,D) after RoPE, k, v (R,Hkv,D) -> o (R,H,D), lse (R,H) = log Σ_j exp(s_tj)
//             s_tj = scale·q_t·k_j for base_t <= j <= t (and t − j < window when window > 0)
//   backward: δ_t = Σ_e dO_t[e]·O_t[e]; P_tj = exp(s_tj − lse_t) (recomputed from the saved lse);
//             dS_tj = P_tj·(dO_t·v_j − δ_t); dq_t = scale·Σ_j dS_tj·k_j;
//             dk_j = scale·Σ_{h in group} Σ_t dS_tj·q_t;  dv_j = Σ_h Σ_t P_tj·dO_t
// Forward and dq: one workgroup per (tile of 64 query rows, head), one thread per query row (q and
// its accumulator in registers). The workgroup walks the keys once, from the tile's first sequence
// start to its last row, in tiles of BC keys that the 64 threads load together into workgroup memory
// (each key read from global memory once per query tile instead of once per query row), with the
// online softmax (running max m, sum l, rescaled accumulator): no (T,T) buffer ever exists.
// dk/dv: one workgroup per (tile of 64 key rows, kv head), one thread per key row; the workgroup walks
// the query rows of each head of the group from the tile's first key to the end of its last key's
// sequence, in tiles of BQ rows (q, dO, lse, δ, base) in workgroup memory.
// Workgroup memory per kernel: 2·B·D·4 bytes + small, B = BC or BQ = min(64, 12288 / (8·D)) (the
// 16 KiB every WebGPU device has). D is baked into the source, its loops unrolled; D % 4 == 0.
// The float64 reference is attention-packed.ts attentionPackedRef / attentionPackedBackwardRef (each
// packed sequence through attention.ts attentionRef and attention-backward.ts attentionBackwardRef).
import { STEP_WGSL, type Dispatch, bindGroup, kernel } from '../runtime/kernel.ts';
import { ATTN_PACKED_BINDINGS, ATTN_PACKED_DKV_BINDINGS, ATTN_PACKED_DQ_BINDINGS } from './attention-packed.ts';

export { attentionPackedBackwardRef as flashAttentionBackwardRef, attentionPackedParams as flashAttentionParams, attentionPackedRef as flashAttentionRef } from './attention-packed.ts';

/** Rows per workgroup (query rows in the forward and dq, key rows in dk/dv). */
export const FLASH_ROWS = 64;

/** Keys (forward, dq) or queries (dk/dv) per workgroup-memory tile at head_dim d. */
export function flashTile(d: number): number { return Math.max(1, Math.min(64, Math.floor(12288 / (8 * d)))); }

const U = (n: number, f: (e: number) => string, sep = '\n') => Array.from({ length: n }, (_, e) => f(e)).join(sep);

const head = (d: number) => /* wgsl */ `
${STEP_WGSL}
struct P { h: u32, hkv: u32, scale: f32, cap: u32, window: u32, p0: u32, p1: u32, p2: u32 }
fn inwin(t: u32, j: u32) -> bool { return p.window == 0u || t - j < p.window; }
const D4 = ${d / 4}u;
const B = ${flashTile(d)}u;
const NR = ${FLASH_ROWS}u;`;

/** Forward (`dq` false) or dq + δ (`dq` true): a query tile walks the key tiles once. */
function queryTileWgsl(d: number, dq: boolean): string {
  const n = d / 4;
  const io = dq
    ? `@group(0) @binding(3) var<storage, read> O: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> DO: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read_write> DELTA: array<f32>;
@group(0) @binding(7) var<storage, read_write> DQ: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(9) var<uniform> p: P;
@group(0) @binding(10) var<uniform> step: Step;`
    : `@group(0) @binding(3) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
@group(0) @binding(5) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(6) var<uniform> p: P;
@group(0) @binding(7) var<uniform> step: Step;`;
  const init = dq
    ? `${U(n, (e) => `  let q${e} = Q[qb + ${e}u] * p.scale; let o${e} = DO[qb + ${e}u]; var a${e} = vec4<f32>(0.0);`)}
  let delta = ${U(n, (e) => `dot(o${e}, O[qb + ${e}u])`, ' + ')};
  let lse = LSE[qi];`
    : `${U(n, (e) => `  let q${e} = Q[qb + ${e}u] * p.scale; var a${e} = vec4<f32>(0.0);`)}
  var m = -1e30; var l = 0.0;`;
  const body = dq
    ? `        let dp = ${U(n, (e) => `dot(o${e}, vt[kk + ${e}u])`, ' + ')};
        let ds = exp(s - lse) * (dp - delta);
${U(n, (e) => `        a${e} += ds * kt[kk + ${e}u];`)}`
    : `        if (s > m) {
          let f = exp(m - s); l *= f; m = s;
${U(n, (e) => `          a${e} *= f;`)}
        }
        let pj = exp(s - m);
        l += pj;
${U(n, (e) => `        a${e} += pj * vt[kk + ${e}u];`)}`;
  const out = dq
    ? `    DELTA[qi] = delta;
${U(n, (e) => `    DQ[qb + ${e}u] = a${e} * p.scale;`)}`
    : `${U(n, (e) => `    O[qb + ${e}u] = a${e} / l;`)}
    LSE[qi] = m + log(l);`;
  return /* wgsl */ `${head(d)}
@group(0) @binding(0) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> V: array<vec4<f32>>;
${io}
var<workgroup> kt: array<vec4<f32>, ${flashTile(d) * n}>;
var<workgroup> vt: array<vec4<f32>, ${flashTile(d) * n}>;
var<workgroup> wlo: u32;
@compute @workgroup_size(${FLASH_ROWS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wg.y; let kvh = h / (p.h / p.hkv);
  let t0 = wg.x * NR;
  let t = t0 + lid; let ok = t < step.t;
  let b = rows[min(t, step.t - 1u)].x;
  let qi = min(t, step.t - 1u) * p.h + h; let qb = qi * D4;
${init}
  // keys of the tile: from the first row's sequence start (the smallest base in the tile) to its last row
  if (lid == 0u) { wlo = rows[t0].x; }
  var jlo = workgroupUniformLoad(&wlo);
  let jhi = min(t0 + NR - 1u, step.t - 1u);
  if (p.window > 0u && t0 + 1u > p.window) { jlo = max(jlo, t0 + 1u - p.window); }
  for (var j0 = jlo; j0 <= jhi; j0 += B) {
    workgroupBarrier();
    for (var e = lid; e < B * D4; e += NR) {
      let src = (min(j0 + e / D4, jhi) * p.hkv + kvh) * D4 + e % D4;
      kt[e] = K[src]; vt[e] = V[src];
    }
    workgroupBarrier();
    let jn = min(B, jhi + 1u - j0);
    for (var jj = 0u; jj < jn; jj++) {
      let j = j0 + jj;
      if (ok && j >= b && j <= t && inwin(t, j)) {
        let kk = jj * D4;
        let s = ${U(n, (e) => `dot(q${e}, kt[kk + ${e}u])`, ' + ')};
${body}
      }
    }
  }
  if (ok) {
${out}
  }
}`;
}

function dkvWgsl(d: number): string {
  const n = d / 4;
  return /* wgsl */ `${head(d)}
@group(0) @binding(0) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> V: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> DO: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> LSE: array<f32>;
@group(0) @binding(5) var<storage, read> DELTA: array<f32>;
@group(0) @binding(6) var<storage, read_write> DKV: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(8) var<uniform> p: P;
@group(0) @binding(9) var<uniform> step: Step;
var<workgroup> qt: array<vec4<f32>, ${flashTile(d) * n}>;
var<workgroup> ot: array<vec4<f32>, ${flashTile(d) * n}>;
var<workgroup> lt: array<f32, B>;
var<workgroup> dt: array<f32, B>;
var<workgroup> bt: array<u32, B>;
var<workgroup> wlast: u32;
var<workgroup> wstop: u32;
@compute @workgroup_size(${FLASH_ROWS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let kvh = wg.y; let grp = p.h / p.hkv;
  let j0 = wg.x * NR;
  let j = j0 + lid; let ok = j < step.t;
  let jc = min(j, step.t - 1u);
  let bj = rows[jc].x;
  let kb = (jc * p.hkv + kvh) * D4;
${U(n, (e) => `  let k${e} = K[kb + ${e}u] * p.scale; let v${e} = V[kb + ${e}u]; var dk${e} = vec4<f32>(0.0); var dv${e} = vec4<f32>(0.0);`)}
  let jlast = min(j0 + NR - 1u, step.t - 1u);
  if (lid == 0u) { wlast = rows[jlast].x; }
  let blast = workgroupUniformLoad(&wlast); // queries past this sequence see none of the tile's keys
  for (var hh = 0u; hh < grp; hh++) {
    let h = kvh * grp + hh;
    for (var t0 = j0; t0 < step.t; t0 += B) {
      if (p.window > 0u && t0 > jlast && t0 - jlast >= p.window) { break; }
      workgroupBarrier();
      let tn = min(B, step.t - t0);
      for (var e = lid; e < B * D4; e += NR) {
        let src = (min(t0 + e / D4, step.t - 1u) * p.h + h) * D4 + e % D4;
        qt[e] = Q[src]; ot[e] = DO[src];
      }
      for (var e = lid; e < B; e += NR) {
        let qi = min(t0 + e, step.t - 1u) * p.h + h;
        lt[e] = LSE[qi]; dt[e] = DELTA[qi]; bt[e] = rows[min(t0 + e, step.t - 1u)].x;
      }
      if (lid == 0u) { wstop = select(0u, 1u, rows[t0].x > blast); }
      if (workgroupUniformLoad(&wstop) == 1u) { break; }
      for (var tt = 0u; tt < tn; tt++) {
        let t = t0 + tt;
        if (ok && t >= j && bt[tt] == bj && inwin(t, j)) {
          let qq = tt * D4;
          let s = ${U(n, (e) => `dot(qt[qq + ${e}u], k${e})`, ' + ')};
          let dp = ${U(n, (e) => `dot(ot[qq + ${e}u], v${e})`, ' + ')};
          let pj = exp(s - lt[tt]);
          let ds = pj * (dp - dt[tt]);
${U(n, (e) => `          dv${e} += pj * ot[qq + ${e}u]; dk${e} += ds * qt[qq + ${e}u];`)}
        }
      }
    }
  }
  let nn = p.cap * p.hkv * D4;
  if (ok) {
${U(n, (e) => `    DKV[kb + ${e}u] = dk${e} * p.scale; DKV[nn + kb + ${e}u] = dv${e};`)}
  }
}`;
}

export const flashForwardWgsl = (d: number): string => queryTileWgsl(d, false);
export const flashDqWgsl = (d: number): string => queryTileWgsl(d, true);
export const flashDkvWgsl = dkvWgsl;

const tiles = (t: number) => Math.ceil(t / FLASH_ROWS);

/** Forward: q (cap,H,D), k/v (cap,Hkv,D) -> out (cap,H,D), lse (cap,H); params: attentionPackedParams.
 *  Grid: (ceil(t/64), H) workgroups. Same bindings as attentionPackedDispatch. */
export function flashAttentionDispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; lse: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, s: { h: number; d: number }): Dispatch {
  const k = kernel(device, 'flash-attention', flashForwardWgsl(s.d), ATTN_PACKED_BINDINGS);
  return { label: 'attention-flash', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.lse, b.rows, b.params, b.step]), grid: (t) => [tiles(t), s.h, 1] };
}

/** Backward: dq (cap,H,D) and δ (cap,H), then dkv = dK (cap,Hkv,D) followed by dV (cap,Hkv,D), from
 *  q, k, v, the forward's o and lse, and dout (cap,H,D). Same bindings as attentionPackedBackwardDispatches. */
export function flashAttentionBackwardDispatches(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer; dout: GPUBuffer; lse: GPUBuffer; delta: GPUBuffer; dq: GPUBuffer; dkv: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, s: { h: number; hkv: number; d: number }): Dispatch[] {
  const kq = kernel(device, 'flash-attn-dq', flashDqWgsl(s.d), ATTN_PACKED_DQ_BINDINGS);
  const kk = kernel(device, 'flash-attn-dkv', flashDkvWgsl(s.d), ATTN_PACKED_DKV_BINDINGS);
  return [
    { label: 'attn-bwd-dq', pipeline: kq.pipeline, bind: bindGroup(device, kq, [b.q, b.k, b.v, b.o, b.dout, b.lse, b.delta, b.dq, b.rows, b.params, b.step]), grid: (t) => [tiles(t), s.h, 1] },
    { label: 'attn-bwd-dkv', pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.q, b.k, b.v, b.dout, b.lse, b.delta, b.dkv, b.rows, b.params, b.step]), grid: (t) => [tiles(t), s.hkv, 1] },
  ];
}
