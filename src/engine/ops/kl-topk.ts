// KL distillation to a teacher's top-k log-probs, forward and backward fused, over a chunk of rows:
//   logits (R,V) f32 for rows r0..r0+R of the sequence; per sequence row t (T rows in all):
//   ids (T,K) u32 student token ids of the teacher's top-k (0xFFFFFFFF = none), lp (T,K) f32 teacher
//   log-probs, w (T) f32 = lambda_KL·(row weight) (0 = no KL at t).
//   Teacher p over S = {ids} plus one tail bucket: p_k = exp(lp_k) (renormalised if Σ > 1),
//   p_tail = 1 − Σ p_k. Student q = softmax(logits_t): q_k at ids, q_tail = Σ_{j∉S} q_j (summed directly).
//   -> losses (T) [r0..r0+R) = w_t·KL(p‖q) = w_t·(Σ_k p_k·(log p_k − log q_k) + p_tail·(log p_tail − log q_tail))
//   -> dlogits (R,V) += w_t·(q_j − target_j),  target_j = p_k (j = ids_k) or p_tail·q_j/q_tail (j ∉ S)
// Ids within a row must be distinct. One workgroup of 64 threads per row.
import { type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';
import { NO_TARGET } from './cross-entropy.ts';

/** logits, ids, lp, w, dlogits, losses, params */
export const KL_TOPK_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'read', 'rw', 'rw', 'uniform'];

export const KL_TOPK_WGSL = /* wgsl */ `
struct P { rows: u32, v: u32, k: u32, r0: u32 }
@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read> IDS: array<u32>;
@group(0) @binding(2) var<storage, read> LP: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<f32>;
@group(0) @binding(4) var<storage, read_write> DL: array<f32>;
@group(0) @binding(5) var<storage, read_write> LOSS: array<f32>;
@group(0) @binding(6) var<uniform> p: P;
var<workgroup> red: array<f32, 64>;
var<workgroup> red2: array<f32, 64>;
fn inTop(t: u32, j: u32) -> i32 {
  for (var k = 0u; k < p.k; k++) { if (IDS[t * p.k + k] == j) { return i32(k); } }
  return -1;
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x; let t = p.r0 + row; let o = row * p.v; let w = W[t];
  if (w == 0.0) {
    if (lid == 0u) { LOSS[t] = 0.0; }
    return;
  }
  var m = -1e30;
  for (var j = lid; j < p.v; j += 64u) { m = max(m, L[o + j]); }
  red[lid] = m;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] = max(red[lid], red[lid + s]); } workgroupBarrier(); }
  let mx = red[0];
  workgroupBarrier();
  var z = 0.0; var zt = 0.0;
  for (var j = lid; j < p.v; j += 64u) {
    let e = exp(L[o + j] - mx);
    z += e;
    if (inTop(t, j) < 0) { zt += e; }
  }
  red[lid] = z; red2[lid] = zt;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] += red[lid + s]; red2[lid] += red2[lid + s]; } workgroupBarrier(); }
  let zs = red[0]; let zts = max(red2[0], 1e-30 * zs);
  let lz = mx + log(zs);
  var ps = 0.0;
  for (var k = 0u; k < p.k; k++) { if (IDS[t * p.k + k] != 0xffffffffu) { ps += exp(LP[t * p.k + k]); } }
  let norm = max(ps, 1.0);
  let ptail = max(0.0, 1.0 - ps / norm);
  if (lid == 0u) {
    var kl = 0.0;
    for (var k = 0u; k < p.k; k++) {
      let id = IDS[t * p.k + k];
      if (id == 0xffffffffu) { continue; }
      let lpk = LP[t * p.k + k] - log(norm);
      kl += exp(lpk) * (lpk - (L[o + id] - lz));
    }
    if (ptail > 0.0) { kl += ptail * (log(ptail) - (log(zts) - log(zs))); }
    LOSS[t] = w * kl;
  }
  for (var j = lid; j < p.v; j += 64u) {
    let q = exp(L[o + j] - mx) / zs;
    let k = inTop(t, j);
    var tgt = 0.0;
    if (k >= 0) { tgt = exp(LP[t * p.k + u32(k)]) / norm; } else { tgt = ptail * exp(L[o + j] - mx) / zts; }
    DL[o + j] += w * (q - tgt);
  }
}`;

/** rows of this chunk, vocabulary, k, first sequence row r0 */
export function klTopKParams(rows: number, v: number, k: number, r0 = 0): Uint32Array { return paramWords([rows, v, k, r0]); }

/** `rows`: the chunk's row count, or rowsOf(t) when it depends on the batch's t (the train pass's head chunks). */
export function klTopKDispatch(device: GPUDevice, b: { logits: GPUBuffer; ids: GPUBuffer; lp: GPUBuffer; weights: GPUBuffer; dlogits: GPUBuffer; losses: GPUBuffer; params: GPUBuffer }, rows: number | ((t: number) => number)): Dispatch {
  const k = kernel(device, 'kl-topk', KL_TOPK_WGSL, KL_TOPK_BINDINGS);
  return { label: 'kl-topk', pipeline: k.pipeline, bind: bindGroup(device, k, [b.logits, b.ids, b.lp, b.weights, b.dlogits, b.losses, b.params]), grid: (t) => [typeof rows === 'number' ? rows : rows(t), 1, 1] };
}

/** Teacher top-k targets for T rows: K ids (-1 or NO_TARGET = none) and log-probs per row, weight per row. */
export interface TopKTargets { k: number; ids: ArrayLike<number>; logprobs: ArrayLike<number>; weights: ArrayLike<number> }

/** Checks shapes, ids in range and distinct per row, log-probs <= 0; the error names the row. */
export function checkTopKTargets(tk: TopKTargets, T: number, V: number): void {
  if (!(Number.isInteger(tk.k) && tk.k >= 1)) throw new Error(`teacher top-k: k must be a positive integer, got ${tk.k}`);
  if (tk.ids.length !== T * tk.k || tk.logprobs.length !== T * tk.k || tk.weights.length !== T) throw new Error(`teacher top-k: need ids and logprobs of ${T}·${tk.k} entries and ${T} weights, got ${tk.ids.length}, ${tk.logprobs.length}, ${tk.weights.length}`);
  for (let t = 0; t < T; t++) {
    const seen = new Set<number>();
    for (let k = 0; k < tk.k; k++) {
      const id = tk.ids[t * tk.k + k];
      if (id < 0 || id === NO_TARGET) continue;
      if (!Number.isInteger(id) || id >= V) throw new Error(`teacher top-k row ${t}: token id ${id} outside 0..${V - 1}`);
      if (seen.has(id)) throw new Error(`teacher top-k row ${t}: token id ${id} appears twice (merge the teacher tokens that map to it)`);
      seen.add(id);
      const lp = tk.logprobs[t * tk.k + k];
      if (!(lp <= 1e-6)) throw new Error(`teacher top-k row ${t}: log-prob ${lp} must be <= 0`);
    }
    if (!(tk.weights[t] >= 0)) throw new Error(`teacher top-k row ${t}: weight ${tk.weights[t]} must be >= 0`);
  }
}

/** CPU reference (float64) over rows r0..r0+R of logits (R,V): losses (R) and dlogits (R,V) = dlogits0 + gradient. */
export function klTopKRef(logits: ArrayLike<number>, tk: TopKTargets, rows: number, V: number, r0 = 0, dlogits0?: ArrayLike<number>): { loss: number; losses: Float64Array; dlogits: Float64Array } {
  const K = tk.k;
  const d = dlogits0 ? Float64Array.from(dlogits0) : new Float64Array(rows * V);
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const t = r0 + r; const w = tk.weights[t]; const o = r * V;
    if (w === 0) continue;
    const top = new Map<number, number>();
    let ps = 0;
    for (let k = 0; k < K; k++) {
      const id = tk.ids[t * K + k];
      if (id < 0 || id === NO_TARGET) continue;
      top.set(id, tk.logprobs[t * K + k]); ps += Math.exp(tk.logprobs[t * K + k]);
    }
    const norm = Math.max(ps, 1);
    const ptail = Math.max(0, 1 - ps / norm);
    let mx = -Infinity;
    for (let j = 0; j < V; j++) mx = Math.max(mx, logits[o + j]);
    let z = 0; let zt = 0;
    for (let j = 0; j < V; j++) { const e = Math.exp(logits[o + j] - mx); z += e; if (!top.has(j)) zt += e; }
    zt = Math.max(zt, 1e-30 * z);
    const lz = mx + Math.log(z);
    let kl = 0;
    for (const [id, lp] of top) { const l = lp - Math.log(norm); kl += Math.exp(l) * (l - (logits[o + id] - lz)); }
    if (ptail > 0) kl += ptail * (Math.log(ptail) - (Math.log(zt) - Math.log(z)));
    losses[r] = w * kl;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(logits[o + j] - mx);
      const lp = top.get(j);
      const tgt = lp !== undefined ? Math.exp(lp) / norm : (ptail * e) / zt;
      d[o + j] += w * (e / z - tgt);
    }
  }
  return { loss: losses.reduce((a, b) => a + b, 0), losses, dlogits: d };
}
