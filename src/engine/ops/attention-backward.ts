// Backward of causal grouped-query attention (forward: attention.ts), for training from position 0.
//   inputs:  q (T,H,D) after RoPE, k, v (T,Hkv,D), o (T,H,D) the forward output, dO (T,H,D)
//   P_tj = softmax_j(scale·q_t·k_j), j <= t;  δ_t = Σ_e dO_t[e]·O_t[e]  (= Σ_j P_tj·(dO_t·v_j))
//   dS_tj = P_tj·(dO_t·v_j − δ_t)
//   dq_t = scale·Σ_j dS_tj·k_j ;  dk_j = scale·Σ_{h in group} Σ_{t>=j} dS_tj·q_t ;  dv_j = Σ_h Σ_{t>=j} P_tj·dO_t
// Three kernels, no atomics: stats (row max m, row sum l, δ) per (t,h), one thread each; dq one
// thread per (t,h,e); dk/dv one thread per (j,kvh,e) summing over its group's heads and queries.
// Each thread recomputes the scores it needs (O(T·D) per thread: fine for training chunks).
import { type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

const COMMON = /* wgsl */ `
struct P { t: u32, h: u32, hkv: u32, d: u32, scale: f32, p0: u32, p1: u32, p2: u32 }
fn score(t: u32, h: u32, j: u32) -> f32 {
  let kvh = h / (p.h / p.hkv);
  var s = 0.0;
  for (var e = 0u; e < p.d; e++) { s += Q[(t * p.h + h) * p.d + e] * K[(j * p.hkv + kvh) * p.d + e]; }
  return s * p.scale;
}
fn dov(t: u32, h: u32, j: u32) -> f32 {
  let kvh = h / (p.h / p.hkv);
  var s = 0.0;
  for (var e = 0u; e < p.d; e++) { s += DO[(t * p.h + h) * p.d + e] * V[(j * p.hkv + kvh) * p.d + e]; }
  return s;
}`;

/** Bindings: Q, K, V, O, DO, stats (rw, (T,H,4): m, l, δ, 0), params. Grid: ceil(T·H/64). */
export const ATTN_BWD_STATS_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> O: array<f32>;
@group(0) @binding(4) var<storage, read> DO: array<f32>;
@group(0) @binding(5) var<storage, read_write> S: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> p: P;
${COMMON}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x;
  if (i >= p.t * p.h) { return; }
  let t = i / p.h; let h = i % p.h;
  var m = -1e30;
  for (var j = 0u; j <= t; j++) { m = max(m, score(t, h, j)); }
  var l = 0.0;
  for (var j = 0u; j <= t; j++) { l += exp(score(t, h, j) - m); }
  var dl = 0.0;
  for (var e = 0u; e < p.d; e++) { let o = (t * p.h + h) * p.d + e; dl += DO[o] * O[o]; }
  S[i] = vec4<f32>(m, l, dl, 0.0);
}`;

/** Bindings: Q, K, V, stats, DO, dQ (rw, (T,H,D)), params. Grid: grid2(ceil(T·H·D/64)). */
export const ATTN_BWD_DQ_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> S: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> DO: array<f32>;
@group(0) @binding(5) var<storage, read_write> DQ: array<f32>;
@group(0) @binding(6) var<uniform> p: P;
${COMMON}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
  if (i >= p.t * p.h * p.d) { return; }
  let e = i % p.d; let th = i / p.d; let t = th / p.h; let h = th % p.h;
  let kvh = h / (p.h / p.hkv);
  let st = S[th];
  var acc = 0.0;
  for (var j = 0u; j <= t; j++) {
    let pj = exp(score(t, h, j) - st.x) / st.y;
    acc += pj * (dov(t, h, j) - st.z) * K[(j * p.hkv + kvh) * p.d + e];
  }
  DQ[i] = acc * p.scale;
}`;

/** Bindings: Q, K, V, stats, DO, dKV (rw, (2,T,Hkv,D): dK then dV), params. Grid: grid2(ceil(T·Hkv·D/64)). */
export const ATTN_BWD_DKV_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> S: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> DO: array<f32>;
@group(0) @binding(5) var<storage, read_write> DKV: array<f32>;
@group(0) @binding(6) var<uniform> p: P;
${COMMON}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
  let n = p.t * p.hkv * p.d;
  if (i >= n) { return; }
  let e = i % p.d; let jk = i / p.d; let j = jk / p.hkv; let kvh = jk % p.hkv;
  let grp = p.h / p.hkv;
  var dk = 0.0; var dv = 0.0;
  for (var hh = 0u; hh < grp; hh++) {
    let h = kvh * grp + hh;
    for (var t = j; t < p.t; t++) {
      let st = S[t * p.h + h];
      let pj = exp(score(t, h, j) - st.x) / st.y;
      let o = (t * p.h + h) * p.d + e;
      dv += pj * DO[o];
      dk += pj * (dov(t, h, j) - st.z) * Q[o];
    }
  }
  DKV[i] = dk * p.scale;
  DKV[n + i] = dv;
}`;

export const ATTN_BWD_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'read', 'read', 'rw', 'uniform'];

export function attentionBackwardParams(t: number, h: number, hkv: number, d: number): Uint32Array {
  if (h % hkv !== 0) throw new Error(`attention backward: ${h} query heads are not a multiple of ${hkv} kv heads`);
  return paramWords([t, h, hkv, d, { f: 1 / Math.sqrt(d) }, 0, 0, 0]);
}

/** The three dispatches in order. dkv holds dK (T,Hkv,D) followed by dV (T,Hkv,D). */
export function attentionBackwardDispatches(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer; dout: GPUBuffer; stats: GPUBuffer; dq: GPUBuffer; dkv: GPUBuffer; params: GPUBuffer }, s: { t: number; h: number; hkv: number; d: number }): Dispatch[] {
  const ks = kernel(device, 'attn-bwd-stats', ATTN_BWD_STATS_WGSL, ATTN_BWD_BINDINGS);
  const kq = kernel(device, 'attn-bwd-dq', ATTN_BWD_DQ_WGSL, ATTN_BWD_BINDINGS);
  const kk = kernel(device, 'attn-bwd-dkv', ATTN_BWD_DKV_WGSL, ATTN_BWD_BINDINGS);
  return [
    { label: 'attn-bwd-stats', pipeline: ks.pipeline, bind: bindGroup(device, ks, [b.q, b.k, b.v, b.o, b.dout, b.stats, b.params]), grid: () => [Math.ceil((s.t * s.h) / 64), 1, 1] },
    { label: 'attn-bwd-dq', pipeline: kq.pipeline, bind: bindGroup(device, kq, [b.q, b.k, b.v, b.stats, b.dout, b.dq, b.params]), grid: () => grid2(Math.ceil((s.t * s.h * s.d) / 64)) },
    { label: 'attn-bwd-dkv', pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.q, b.k, b.v, b.stats, b.dout, b.dkv, b.params]), grid: () => grid2(Math.ceil((s.t * s.hkv * s.d) / 64)) },
  ];
}

// ---------------------------------------------------------------- CPU reference (float64)

/** q (T,H,D), k/v (T,Hkv,D), dout (T,H,D) -> dq (T,H,D), dk, dv (T,Hkv,D); causal from position 0. */
/** `window` > 0: query t sees keys t − window < j <= t (sliding window); `scale` default d^-1/2. */
export function attentionBackwardRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dout: ArrayLike<number>, t: number, h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const dq = new Float64Array(t * h * d); const dk = new Float64Array(t * hkv * d); const dv = new Float64Array(t * hkv * d);
  const g = h / hkv;
  for (let ti = 0; ti < t; ti++) for (let hi = 0; hi < h; hi++) {
    const kvh = Math.floor(hi / g); const L = ti + 1; const qo = (ti * h + hi) * d;
    const P = new Float64Array(L); let mx = -Infinity;
    for (let j = 0; j < L; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += q[qo + e] * k[(j * hkv + kvh) * d + e];
      P[j] = window > 0 && ti - j >= window ? -Infinity : s * scale; mx = Math.max(mx, P[j]);
    }
    let z = 0;
    for (let j = 0; j < L; j++) { P[j] = Math.exp(P[j] - mx); z += P[j]; }
    const dP = new Float64Array(L); let delta = 0;
    for (let j = 0; j < L; j++) {
      P[j] /= z;
      let s = 0;
      for (let e = 0; e < d; e++) s += dout[qo + e] * v[(j * hkv + kvh) * d + e];
      dP[j] = s; delta += P[j] * s;
    }
    for (let j = 0; j < L; j++) {
      const ds = P[j] * (dP[j] - delta);
      const ko = (j * hkv + kvh) * d;
      for (let e = 0; e < d; e++) {
        dq[qo + e] += ds * k[ko + e] * scale;
        dk[ko + e] += ds * q[qo + e] * scale;
        dv[ko + e] += P[j] * dout[qo + e];
      }
    }
  }
  return { dq, dk, dv };
}
