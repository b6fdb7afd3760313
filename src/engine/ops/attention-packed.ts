// Causal grouped-query attention over packed sequences (training): several sequences of different
// lengths share one row stream, and row t attends only to the rows of its own sequence.
//   rows (R) vec2<u32> = (base, pos): row t is position pos of the sequence that starts at row base
//   (the same per-row layout as batched decoding's rope/attention rows)
//   forward:  q (R,H,D) after RoPE, k, v (R,Hkv,D) -> o (R,H,D), lse (R,H) = log Σ_j exp(s_tj)
//             s_tj = scale·q_t·k_j for base_t <= j <= t (and t − j < window when window > 0: sliding
//             window); head h reads kv head h / (H/Hkv)
//   backward: δ_t = Σ_e dO_t[e]·O_t[e]; P_tj = exp(s_tj − lse_t); dS_tj = P_tj·(dO_t·v_j − δ_t)
//             dq_t = scale·Σ_j dS_tj·k_j;  dk_j = scale·Σ_{h in group} Σ_{t>=j, same seq} dS_tj·q_t
//             dv_j = Σ_h Σ_t P_tj·dO_t
// One thread per (tile of query rows, head) in the forward and for dq (which also writes δ), one per
// (tile of key rows, kv head) for dk/dv: each key (query) row loaded serves the tile's rows
// (attentionTile: 4 rows at D <= 16); no workgroup memory, no barriers (SwiftShader's are ~100x a
// GPU's), no atomics; every score is computed once per kernel (flash-attention-2 order).
// D is baked into the source, the loops over it unrolled (D/4 vec4 registers per vector); D % 4 == 0.
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';
import { attentionBackwardRef } from './attention-backward.ts';
import { type KvDtype, MAX_SPLITS, SPLITS_WGSL, attentionCombineDispatch, attentionRef, splitsOf } from './attention.ts';

/** n lines (or terms) of generated code, one per vec4 of a head (the loops over D unrolled). */
const U = (n: number, f: (e: number) => string, sep = '\n') => Array.from({ length: n }, (_, e) => f(e)).join(sep);

const head = (d: number) => /* wgsl */ `
${STEP_WGSL}
struct P { h: u32, hkv: u32, scale: f32, cap: u32, window: u32, p0: u32, p1: u32, p2: u32 }
fn inwin(t: u32, j: u32) -> bool { return p.window == 0u || t - j < p.window; }
const D4 = ${d / 4}u;`;

/** Q, K, V, O (rw), LSE (rw), rows, params, step. Grid: ceil(t/tile)·H threads. */
export const ATTN_PACKED_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'rw', 'read', 'uniform', 'uniform'];

/** Rows (queries or keys) per thread: each loaded key/query row serves `tile` of them (registers: tile·4·D floats). */
export function attentionTile(d: number): number { return d <= 16 ? 4 : d <= 32 ? 2 : 1; }

/** Per-thread rows r of a tile: t{r} (row), ok{r} (row < step.t), b{r} (its sequence start). */
const rowsOfTile = (tile: number, first: string) => U(tile, (r) => `  let t${r} = ${first} + ${r}u; let ok${r} = t${r} < step.t; let b${r} = rows[min(t${r}, step.t - 1u)].x;`);

function forwardWgsl(d: number): string {
  const n = d / 4; const T = attentionTile(d);
  return /* wgsl */ `${head(d)}
@group(0) @binding(0) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> V: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
@group(0) @binding(5) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(6) var<uniform> p: P;
@group(0) @binding(7) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
  let tiles = (step.t + ${T - 1}u) / ${T}u;
  if (i >= tiles * p.h) { return; }
  let h = i % p.h; let kvh = h / (p.h / p.hkv);
${rowsOfTile(T, `(i / p.h) * ${T}u`)}
${U(T, (r) => `  let qb${r} = (min(t${r}, step.t - 1u) * p.h + h) * D4; var m${r} = -1e30; var l${r} = 0.0;
${U(n, (e) => `  let q${r}_${e} = Q[qb${r} + ${e}u] * p.scale; var a${r}_${e} = vec4<f32>(0.0);`)}`)}
  let jhi = min(t${T - 1}, step.t - 1u);
  for (var j = b0; j <= jhi; j++) {
    let kb = (j * p.hkv + kvh) * D4;
${U(n, (e) => `    let k${e} = K[kb + ${e}u]; let v${e} = V[kb + ${e}u];`)}
${U(T, (r) => `    if (j >= b${r} && j <= t${r} && inwin(t${r}, j)) {
      let s = ${U(n, (e) => `dot(q${r}_${e}, k${e})`, ' + ')};
      if (s > m${r}) {
        let f = exp(m${r} - s); l${r} *= f; m${r} = s;
${U(n, (e) => `        a${r}_${e} *= f;`)}
      }
      let pj = exp(s - m${r});
      l${r} += pj;
${U(n, (e) => `      a${r}_${e} += pj * v${e};`)}
    }`)}
  }
${U(T, (r) => `  if (ok${r}) {
${U(n, (e) => `    O[qb${r} + ${e}u] = a${r}_${e} / l${r};`)}
    LSE[t${r} * p.h + h] = m${r} + log(l${r});
  }`)}
}`;
}

/** Batched decoding (and prefill) against a KV cache: row t's keys are its sequence's cache rows
 *  base..base+pos (rows[t] = (base, pos)), K/V stored as `kv` (f32, or f16 halves packed two per u32).
 *  One thread per (tile of rows, head): rows of a tile that share a sequence (a prefill chunk) read
 *  each key once for all of them; rows of different sequences (a decode step of several slots) take
 *  one pass each. D is baked in, the loops over it unrolled (D/4 vec4 registers per vector).
 *  `split` (flash-decoding, one row per thread): thread (row, head, s) takes the s-th of the row's
 *  splits (attention.ts SPLITS_WGSL) and writes its partial (max, sum) to LSE's place and its
 *  unnormalised output to O's place; attention.ts's combine pass merges them. */
function forwardCacheWgsl(d: number, kv: KvDtype, split: boolean): string {
  const n = d / 4; const T = split ? 1 : attentionTile(d);
  const load = (buf: string, at: string) => (kv === 'f32' ? `${buf}[${at}]` : `kv4(${buf}[${at}])`);
  return /* wgsl */ `${head(d)}
${SPLITS_WGSL}
@group(0) @binding(0) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> K: array<${kv === 'f32' ? 'vec4<f32>' : 'vec2<u32>'}>;
@group(0) @binding(2) var<storage, read> V: array<${kv === 'f32' ? 'vec4<f32>' : 'vec2<u32>'}>;
@group(0) @binding(3) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> LSE: array<${split ? 'vec2<f32>' : 'f32'}>;
@group(0) @binding(5) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(6) var<uniform> p: P;
@group(0) @binding(7) var<uniform> step: Step;
fn kv4(w: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
${split ? `  if (i >= step.t * p.h) { return; }
  let sp = g.z; // split (grid z: the longest row's split count)
  let tb = i / p.h; let h = i % p.h;` : `  let tiles = (step.t + ${T - 1}u) / ${T}u;
  if (i >= tiles * p.h) { return; }
  let h = i % p.h; let tb = (i / p.h) * ${T}u;`}
  let kvh = h / (p.h / p.hkv);
${U(T, (r) => `  let t${r} = tb + ${r}u; let ok${r} = t${r} < step.t; let rw${r} = rows[min(t${r}, step.t - 1u)];
  let jend${r} = rw${r}.x + rw${r}.y;
  let jlo${r} = select(rw${r}.x, max(rw${r}.x, jend${r} + 1u - p.window), p.window > 0u && jend${r} + 1u >= p.window);
  let qb${r} = (min(t${r}, step.t - 1u) * p.h + h) * D4; var m${r} = -1e30; var l${r} = 0.0;
${U(n, (e) => `  let q${r}_${e} = Q[qb${r} + ${e}u] * p.scale; var a${r}_${e} = vec4<f32>(0.0);`)}`)}
${split ? `  let nk = jend0 + 1u - jlo0; let nsr = splits_of(nk); let per = (nk + nsr - 1u) / nsr;
  let jl = jlo0 + min(sp * per, nk); let jh = select(jlo0 + min((sp + 1u) * per, nk), jl, sp >= nsr); // keys [jl, jh)
  for (var j = jl; j < jh; j++) {
    let kb = (j * p.hkv + kvh) * D4;
${U(n, (e) => `    let k${e} = ${load('K', `kb + ${e}u`)}; let v${e} = ${load('V', `kb + ${e}u`)};`)}
    let s = ${U(n, (e) => `dot(q0_${e}, k${e})`, ' + ')};
    if (s > m0) {
      let f = exp(m0 - s); l0 *= f; m0 = s;
${U(n, (e) => `      a0_${e} *= f;`)}
    }
    let pj = exp(s - m0);
    l0 += pj;
${U(n, (e) => `    a0_${e} += pj * v${e};`)}
  }
  if (sp < nsr) {
    let pi = (t0 * p.h + h) * ${MAX_SPLITS}u + sp;
${U(n, (e) => `    O[pi * D4 + ${e}u] = a0_${e};`)}
    LSE[pi] = vec2<f32>(m0, l0);
  }` : `  // rows of one sequence share the key loop; otherwise one pass per row
  let same = ${U(T, (r) => `(!ok${r} || rw${r}.x == rw0.x)`, ' && ')};
  let passes = select(${T}u, 1u, same);
  for (var ps = 0u; ps < passes; ps++) {
${U(T, (r) => `    let act${r} = ok${r} && (same || ps == ${r}u);`)}
    var jl = 0xffffffffu; var jh = 0u;
${U(T, (r) => `    if (act${r}) { jl = min(jl, jlo${r}); jh = max(jh, jend${r} + 1u); }`)}
    for (var j = jl; j < jh; j++) {
      let kb = (j * p.hkv + kvh) * D4;
${U(n, (e) => `      let k${e} = ${load('K', `kb + ${e}u`)}; let v${e} = ${load('V', `kb + ${e}u`)};`)}
${U(T, (r) => `      if (act${r} && j >= jlo${r} && j <= jend${r}) {
        let s = ${U(n, (e) => `dot(q${r}_${e}, k${e})`, ' + ')};
        if (s > m${r}) {
          let f = exp(m${r} - s); l${r} *= f; m${r} = s;
${U(n, (e) => `          a${r}_${e} *= f;`)}
        }
        let pj = exp(s - m${r});
        l${r} += pj;
${U(n, (e) => `        a${r}_${e} += pj * v${e};`)}
      }`)}
    }
  }
${U(T, (r) => `  if (ok${r}) {
${U(n, (e) => `    O[qb${r} + ${e}u] = a${r}_${e} / l${r};`)}
    LSE[t${r} * p.h + h] = m${r} + log(l${r});
  }`)}`}
}`;
}

/** Q, K, V, O, dO, LSE, DELTA (rw), dQ (rw), rows, params, step. Grid: ceil(t/tile)·H threads. */
export const ATTN_PACKED_DQ_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'read', 'uniform', 'uniform'];

function dqWgsl(d: number): string {
  const n = d / 4; const T = attentionTile(d);
  return /* wgsl */ `${head(d)}
@group(0) @binding(0) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> V: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> O: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> DO: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read_write> DELTA: array<f32>;
@group(0) @binding(7) var<storage, read_write> DQ: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(9) var<uniform> p: P;
@group(0) @binding(10) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
  let tiles = (step.t + ${T - 1}u) / ${T}u;
  if (i >= tiles * p.h) { return; }
  let h = i % p.h; let kvh = h / (p.h / p.hkv);
${rowsOfTile(T, `(i / p.h) * ${T}u`)}
${U(T, (r) => `  let qi${r} = min(t${r}, step.t - 1u) * p.h + h; let qb${r} = qi${r} * D4;
${U(n, (e) => `  let q${r}_${e} = Q[qb${r} + ${e}u] * p.scale; let o${r}_${e} = DO[qb${r} + ${e}u]; var a${r}_${e} = vec4<f32>(0.0);`)}
  let delta${r} = ${U(n, (e) => `dot(o${r}_${e}, O[qb${r} + ${e}u])`, ' + ')};
  let lse${r} = LSE[qi${r}];
  if (ok${r}) { DELTA[qi${r}] = delta${r}; }`)}
  let jhi = min(t${T - 1}, step.t - 1u);
  for (var j = b0; j <= jhi; j++) {
    let kb = (j * p.hkv + kvh) * D4;
${U(n, (e) => `    let k${e} = K[kb + ${e}u]; let v${e} = V[kb + ${e}u];`)}
${U(T, (r) => `    if (j >= b${r} && j <= t${r} && inwin(t${r}, j)) {
      let s = ${U(n, (e) => `dot(q${r}_${e}, k${e})`, ' + ')};
      let dp = ${U(n, (e) => `dot(o${r}_${e}, v${e})`, ' + ')};
      let ds = exp(s - lse${r}) * (dp - delta${r});
${U(n, (e) => `      a${r}_${e} += ds * k${e};`)}
    }`)}
  }
${U(T, (r) => `  if (ok${r}) {
${U(n, (e) => `    DQ[qb${r} + ${e}u] = a${r}_${e} * p.scale;`)}
  }`)}
}`;
}

/** Q, K, V, dO, LSE, DELTA, dKV (rw: dK (cap,Hkv,D) then dV), rows, params, step. Grid: ceil(t/tile)·Hkv threads. */
export const ATTN_PACKED_DKV_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'read', 'read', 'read', 'rw', 'read', 'uniform', 'uniform'];

function dkvWgsl(d: number): string {
  const n = d / 4; const T = attentionTile(d);
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
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 64u;
  let tiles = (step.t + ${T - 1}u) / ${T}u;
  if (i >= tiles * p.hkv) { return; }
  let kvh = i % p.hkv;
  let grp = p.h / p.hkv;
${rowsOfTile(T, `(i / p.hkv) * ${T}u`)}
${U(T, (r) => `  let kb${r} = (min(t${r}, step.t - 1u) * p.hkv + kvh) * D4;
${U(n, (e) => `  let k${r}_${e} = K[kb${r} + ${e}u] * p.scale; let v${r}_${e} = V[kb${r} + ${e}u]; var dk${r}_${e} = vec4<f32>(0.0); var dv${r}_${e} = vec4<f32>(0.0);`)}`)}
  let blast = b${T - 1};
  for (var t = t0; t < step.t; t++) {
    let bt = rows[t].x;
    if (bt > blast) { break; }
    for (var hh = 0u; hh < grp; hh++) {
      let qi = t * p.h + kvh * grp + hh;
      let qb = qi * D4;
${U(n, (e) => `      let q${e} = Q[qb + ${e}u]; let o${e} = DO[qb + ${e}u];`)}
      let lse = LSE[qi]; let delta = DELTA[qi];
${U(T, (r) => `      if (ok${r} && t >= t${r} && bt == b${r} && inwin(t, t${r})) {
        let s = ${U(n, (e) => `dot(q${e}, k${r}_${e})`, ' + ')};
        let dp = ${U(n, (e) => `dot(o${e}, v${r}_${e})`, ' + ')};
        let pj = exp(s - lse);
        let ds = pj * (dp - delta);
${U(n, (e) => `        dv${r}_${e} += pj * o${e}; dk${r}_${e} += ds * q${e};`)}
      }`)}
    }
  }
  let nn = p.cap * p.hkv * D4;
${U(T, (r) => `  if (ok${r}) {
${U(n, (e) => `    DKV[kb${r} + ${e}u] = dk${r}_${e} * p.scale; DKV[nn + kb${r} + ${e}u] = dv${r}_${e};`)}
  }`)}
}`;
}

/** cap: row capacity of the buffers (dV starts at cap·Hkv·D in dKV); window: sliding window in
 *  positions (0 = full causal); scale: score scale (default d^-1/2). */
export function attentionPackedParams(h: number, hkv: number, d: number, cap: number, window = 0, scale = 1 / Math.sqrt(d)): Uint32Array {
  if (d % 4 !== 0 || d > 256) throw new Error(`packed attention: head_dim ${d} must be a multiple of 4 and <= 256`);
  if (h % hkv !== 0) throw new Error(`packed attention: ${h} query heads are not a multiple of ${hkv} kv heads`);
  return paramWords([h, hkv, { f: scale }, cap, window, 0, 0, 0]);
}

const threads = (n: number): [number, number, number] => grid2(Math.ceil(n / 64));

export function attentionPackedDispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; lse: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, s: { h: number; d: number }): Dispatch {
  const k = kernel(device, 'attention-packed', forwardWgsl(s.d), ATTN_PACKED_BINDINGS);
  return { label: 'attention-packed', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.lse, b.rows, b.params, b.step]), grid: (t) => threads(Math.ceil(t / attentionTile(s.d)) * s.h) };
}

/** Batched decoding and prefill on adapters where barriers are expensive (SwiftShader): keys from the
 *  KV cache at rows base..base+pos (rows[t] = (base, pos)), stored as `s.kv` (default f32); lse is
 *  scratch (row t, head h: log-sum-exp). */
export function attentionCacheRowsDispatch(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; lse: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, s: { h: number; d: number; kv?: KvDtype }): Dispatch {
  const kv = s.kv ?? 'f32';
  const k = kernel(device, `attention-cache-rows-${kv}-d${s.d}`, forwardCacheWgsl(s.d, kv, false), ATTN_PACKED_BINDINGS);
  return { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.out, b.lse, b.rows, b.params, b.step]), grid: (t) => threads(Math.ceil(t / attentionTile(s.d)) * s.h) };
}

/** Flash-decoding without barriers: thread (row, head, split) over its keys, then attention.ts's
 *  combine pass. `maxKeys`: the longest row's key count in the step being encoded (grid z =
 *  splitsOf(maxKeys()); a row with fewer splits leaves the rest idle). */
export function attentionCacheSplitDispatches(
  device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; part: GPUBuffer; ml: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; combineParams: GPUBuffer; step: GPUBuffer },
  s: { h: number; d: number; kv?: KvDtype }, maxKeys: () => number,
): Dispatch[] {
  const kv = s.kv ?? 'f32';
  const k = kernel(device, `attention-cache-split-${kv}-d${s.d}`, forwardCacheWgsl(s.d, kv, true), ATTN_PACKED_BINDINGS);
  return [
    { label: 'attention', pipeline: k.pipeline, bind: bindGroup(device, k, [b.q, b.k, b.v, b.part, b.ml, b.rows, b.params, b.step]), grid: (t) => { const [x, y] = threads(t * s.h); return [x, y, splitsOf(maxKeys())]; } },
    attentionCombineDispatch(device, { part: b.part, ml: b.ml, out: b.out, rows: b.rows, params: b.combineParams, step: b.step }, s),
  ];
}

/** dq (writes δ) then dk/dv; dkv holds dK (cap,Hkv,D) followed by dV (cap,Hkv,D). */
export function attentionPackedBackwardDispatches(device: GPUDevice, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer; dout: GPUBuffer; lse: GPUBuffer; delta: GPUBuffer; dq: GPUBuffer; dkv: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, s: { h: number; hkv: number; d: number }): Dispatch[] {
  const kq = kernel(device, 'attn-packed-dq', dqWgsl(s.d), ATTN_PACKED_DQ_BINDINGS);
  const kk = kernel(device, 'attn-packed-dkv', dkvWgsl(s.d), ATTN_PACKED_DKV_BINDINGS);
  return [
    { label: 'attn-bwd-dq', pipeline: kq.pipeline, bind: bindGroup(device, kq, [b.q, b.k, b.v, b.o, b.dout, b.lse, b.delta, b.dq, b.rows, b.params, b.step]), grid: (t) => threads(Math.ceil(t / attentionTile(s.d)) * s.h) },
    { label: 'attn-bwd-dkv', pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.q, b.k, b.v, b.dout, b.lse, b.delta, b.dkv, b.rows, b.params, b.step]), grid: (t) => threads(Math.ceil(t / attentionTile(s.d)) * s.hkv) },
  ];
}

/** Per-row (base, pos) of sequences packed back to back, lengths `lens`. */
export function packedRows(lens: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let base = 0;
  for (const n of lens) { for (let i = 0; i < n; i++) out.push([base, i]); base += n; }
  return out;
}

/** Sequences of a packed row stream: [start, length] of each. */
export function packedSegments(rows: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  rows.forEach(([base], t) => { if (t === 0 || rows[t - 1][0] !== base) out.push([base, 0]); out[out.length - 1][1]++; });
  return out;
}

// ---------------------------------------------------------------- CPU reference (float64)

const slice = (a: ArrayLike<number>, from: number, n: number) => Float64Array.from({ length: n }, (_, i) => a[from + i]);

/** Each packed sequence through attentionRef: q (R,H,D), k/v (R,Hkv,D) -> (R,H,D). */
export function attentionPackedRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, rows: ReadonlyArray<readonly [number, number]>, h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): Float64Array {
  const out = new Float64Array(rows.length * h * d);
  for (const [s, n] of packedSegments(rows)) {
    out.set(attentionRef(slice(q, s * h * d, n * h * d), slice(k, s * hkv * d, n * hkv * d), slice(v, s * hkv * d, n * hkv * d), n, 0, h, hkv, d, window, scale), s * h * d);
  }
  return out;
}

/** Each packed sequence through attentionBackwardRef. */
export function attentionPackedBackwardRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dout: ArrayLike<number>, rows: ReadonlyArray<readonly [number, number]>, h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const R = rows.length;
  const dq = new Float64Array(R * h * d); const dk = new Float64Array(R * hkv * d); const dv = new Float64Array(R * hkv * d);
  for (const [s, n] of packedSegments(rows)) {
    const g = attentionBackwardRef(slice(q, s * h * d, n * h * d), slice(k, s * hkv * d, n * hkv * d), slice(v, s * hkv * d, n * hkv * d), slice(dout, s * h * d, n * h * d), n, h, hkv, d, window, scale);
    dq.set(g.dq, s * h * d); dk.set(g.dk, s * hkv * d); dv.set(g.dv, s * hkv * d);
  }
  return { dq, dk, dv };
}
