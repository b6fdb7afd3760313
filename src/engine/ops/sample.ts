// On-GPU summary of the next-token distribution, so decode reads back a few words, never the vocabulary.
//   logits (R, V) f32 (modified in place: suppressed ids set to -3e38), suppress (R, MAX_SUPPRESS) u32,
//   params (R) rows of 8 words; one workgroup per row r (R = 1 outside batched decoding)
//   -> out (R, sampleOutWords(MAX_TOP_K)) u32 words: [id, logprob (f32 bits), entropy (f32 bits), then K pairs (id, logprob bits)]
// logprob, entropy and top-k are of the temperature-1 distribution before suppression. Sampling:
//   temperature 0   argmax of the unsuppressed logits (lowest id on ties)
//   temperature > 0 q_i ∝ exp((x_i - max)/temperature); nucleus = every token whose logit is >= the
//                   logit at which the mass sorted high-to-low first reaches topP·Z (ties included),
//                   found by binary search over the order-preserving u32 key of the logit; the token
//                   is the inverse CDF of u over the nucleus in vocabulary (id) order: u -> 0 picks
//                   the lowest nucleus id, u -> 1 the highest.
// One workgroup (256 threads on GPUs, 64 on SwiftShader). Greedy without suppression reads the
// vocabulary once (online softmax + per-thread top-k lists merged in k reduction rounds); top-p adds
// a pass for Z that also gathers the threshold's candidates, 32 binary-search steps over those
// (over the vocabulary only for flat distributions with too many), and the inverse-CDF pass.
import type { SampledToken } from '../generation/types.ts';
import { type BindingKind, bindGroup, kernel, paramWords, type Dispatch } from '../runtime/kernel.ts';

/** logits (rw), suppress, out (rw), params */
export const SAMPLE_BINDINGS: readonly BindingKind[] = ['rw', 'read', 'rw', 'read'];
export const MAX_TOP_K = 64;
export const MAX_SUPPRESS = 256;
/** Top-p candidates each thread keeps in registers before falling back to full-vocabulary passes. */
const CANDIDATES = 16;

/** The kernel for a workgroup of `wg` threads (a power of two, 32..256). */
export function sampleWgsl(wg = 256): string {
  return /* wgsl */ `
struct P { v: u32, k: u32, nsup: u32, p0: u32, temp: f32, topp: f32, u: f32, p1: f32 }
@group(0) @binding(0) var<storage, read_write> L: array<f32>;
@group(0) @binding(1) var<storage, read> sup: array<u32>;
@group(0) @binding(2) var<storage, read_write> R: array<u32>;
@group(0) @binding(3) var<storage, read> ps: array<P>;
const RW = ${sampleOutWords(MAX_TOP_K)}u;
const MAXSUP = ${MAX_SUPPRESS}u;
const WG = ${wg}u;
const NEG = -3.0e38;
var<workgroup> rf: array<f32, ${wg}>;
var<workgroup> rf2: array<f32, ${wg}>;
var<workgroup> ri: array<u32, ${wg}>;
var<workgroup> chosen: u32;

fn rmax(lid: u32, v: f32) -> f32 {
  rf[lid] = v; workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) { if (lid < s) { rf[lid] = max(rf[lid], rf[lid + s]); } workgroupBarrier(); }
  let r = rf[0]; workgroupBarrier(); return r;
}
fn rsum2(lid: u32, a: f32, b: f32) -> vec2<f32> {
  rf[lid] = a; rf2[lid] = b; workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) { if (lid < s) { rf[lid] += rf[lid + s]; rf2[lid] += rf2[lid + s]; } workgroupBarrier(); }
  let r = vec2<f32>(rf[0], rf2[0]); workgroupBarrier(); return r;
}
// (value, id) with the larger value, the smaller id on ties
fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool { return v > bv || (v == bv && i < bi); }
fn rargmax(lid: u32, v: f32, i: u32) -> vec2<u32> {
  rf[lid] = v; ri[lid] = i; workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s && better(rf[lid + s], ri[lid + s], rf[lid], ri[lid])) { rf[lid] = rf[lid + s]; ri[lid] = ri[lid + s]; }
    workgroupBarrier();
  }
  let r = vec2<u32>(bitcast<u32>(rf[0]), ri[0]); workgroupBarrier(); return r;
}
fn key(x: f32) -> u32 { let b = bitcast<u32>(x); return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u); }

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = ps[wg.x]; // row wg.x of a batch: logits row, suppress list and result words at row strides
  let lrow = wg.x * p.v; let ro = wg.x * RW; let so = wg.x * MAXSUP;
  let V = p.v;
  // 1. One pass: online softmax statistics (running max, rescaled sums), the thread's argmax and
  //    its best-first list of up to k tokens.
  var lm = NEG; var s = 0.0; var sx = 0.0; // s = sum e^(x-lm), sx = sum e^(x-lm)(x-lm)
  var bv = NEG; var bi = 0xffffffffu;
  var tv: array<f32, ${MAX_TOP_K}>; var ti: array<u32, ${MAX_TOP_K}>; var tn = 0u;
  for (var i = lid; i < V; i += WG) {
    let x = L[lrow + i];
    if (x > lm) { let f = exp(lm - x); sx = f * (sx + s * (lm - x)); s = f * s; lm = x; }
    let d = x - lm; let e = exp(d); s += e; sx += e * d;
    if (better(x, i, bv, bi)) { bv = x; bi = i; }
    if (p.k > 0u && (tn < p.k || better(x, i, tv[tn - 1u], ti[tn - 1u]))) {
      var j = min(tn, p.k - 1u);
      if (tn < p.k) { tn += 1u; }
      while (j > 0u && better(x, i, tv[j - 1u], ti[j - 1u])) { tv[j] = tv[j - 1u]; ti[j] = ti[j - 1u]; j -= 1u; }
      tv[j] = x; ti[j] = i;
    }
  }
  let m = rmax(lid, lm);
  let f = exp(lm - m);
  let st = rsum2(lid, f * s, f * (sx + s * (lm - m)));
  let logZ = m + log(st.x);
  if (lid == 0u) { R[ro + 2] = bitcast<u32>(log(st.x) - st.y / st.x); }
  let top1 = rargmax(lid, bv, bi); // argmax before suppression
  // 2. top-k: k rounds, each takes the best head among the threads' lists
  var ptr = 0u;
  for (var kk = 0u; kk < p.k; kk++) {
    var hv = NEG; var hi = 0xffffffffu;
    if (ptr < tn) { hv = tv[ptr]; hi = ti[ptr]; }
    let r = rargmax(lid, hv, hi);
    if (ptr < tn && hi == r.y) { ptr += 1u; }
    if (lid == 0u) { R[ro + 3u + 2u * kk] = r.y; R[ro + 4u + 2u * kk] = bitcast<u32>(bitcast<f32>(r.x) - logZ); }
  }
  // 3. suppression
  for (var j = lid; j < p.nsup; j += WG) { let id = sup[so + j]; if (id < V) { L[lrow + id] = NEG; } }
  storageBarrier(); workgroupBarrier();
  // 4. choose
  if (p.temp <= 0.0) {
    if (p.nsup == 0u) {
      if (lid == 0u) { chosen = top1.y; }
    } else {
      var gv = NEG; var gi = 0xffffffffu;
      for (var i = lid; i < V; i += WG) { let x = L[lrow + i]; if (better(x, i, gv, gi)) { gv = x; gi = i; } }
      let r = rargmax(lid, gv, gi);
      if (lid == 0u) { chosen = r.y; }
    }
  } else {
    var m2 = m;
    if (p.nsup != 0u) {
      var lm2 = NEG;
      for (var i = lid; i < V; i += WG) { lm2 = max(lm2, L[lrow + i]); }
      m2 = rmax(lid, lm2);
    }
    let inv = 1.0 / p.temp;
    var tau = 0u;
    if (p.topp < 1.0) {
      // Tokens below xlow have q < (1-p)/V <= (1-p)Z/V each, so together less than (1-p)Z: the
      // nucleus threshold is >= xlow. Each thread keeps its candidates (x >= xlow, in its strided
      // order) in registers; if none overflows, the 32 search steps read those instead of the
      // vocabulary (same elements, same order, same sums), else they read the vocabulary.
      let xlow = m2 + p.temp * log((1.0 - p.topp) / f32(V));
      var z = 0.0; var cn = 0u;
      var cx: array<f32, ${CANDIDATES}>;
      for (var i = lid; i < V; i += WG) {
        let x = L[lrow + i];
        z += exp((x - m2) * inv);
        if (x >= xlow) { if (cn < ${CANDIDATES}u) { cx[cn] = x; } cn += 1u; }
      }
      let useList = rmax(lid, select(0.0, 1.0, cn > ${CANDIDATES}u)) == 0.0;
      let goal = p.topp * rsum2(lid, z, 0.0).x;
      var lo = 0u; var hi = 0xffffffffu;
      for (var it = 0u; it < 32u; it++) {
        let w = hi - lo;
        let mid = lo + (w >> 1u) + (w & 1u);
        var ms = 0.0;
        if (useList) {
          for (var j = 0u; j < cn; j++) { let x = cx[j]; if (key(x) >= mid) { ms += exp((x - m2) * inv); } }
        } else {
          for (var i = lid; i < V; i += WG) { let x = L[lrow + i]; if (key(x) >= mid) { ms += exp((x - m2) * inv); } }
        }
        let mass = rsum2(lid, ms, 0.0).x;
        if (w != 0u) { if (mass >= goal) { lo = mid; } else { hi = mid - 1u; } }
      }
      tau = lo;
    }
    // inverse CDF over the nucleus in id order: contiguous blocks per thread, scanned by thread 0
    let B = (V + WG - 1u) / WG;
    let b0 = min(V, lid * B); let b1 = min(V, b0 + B);
    var bs = 0.0; var last = 0u;
    for (var i = b0; i < b1; i++) { let x = L[lrow + i]; let q = exp((x - m2) * inv); if (key(x) >= tau && q > 0.0) { bs += q; last = i + 1u; } }
    rf[lid] = bs; ri[lid] = last;
    workgroupBarrier();
    if (lid == 0u) {
      var acc = 0.0; var lastAll = 1u;
      for (var j = 0u; j < WG; j++) { let b = rf[j]; rf2[j] = acc; acc += b; lastAll = max(lastAll, ri[j]); }
      rf2[0] = 0.0;
      chosen = lastAll - 1u; // if rounding leaves u·total past every block: the last nucleus member
      rf[0] = acc; // total (thread 0's own block sum is kept in bs)
    }
    workgroupBarrier();
    let tgt = p.u * rf[0];
    let start = rf2[lid];
    if (bs > 0.0 && tgt >= start && tgt < start + bs) {
      var acc = start; var pick = last - 1u;
      for (var i = b0; i < b1; i++) {
        let x = L[lrow + i]; let q = exp((x - m2) * inv);
        if (key(x) >= tau && q > 0.0) { acc += q; if (tgt < acc) { pick = i; break; } }
      }
      chosen = pick;
    }
  }
  workgroupBarrier();
  if (lid == 0u) { let c = chosen; R[ro + 0] = c; R[ro + 1] = bitcast<u32>(L[lrow + c] - logZ); }
}`;
}
export const SAMPLE_WGSL = sampleWgsl(256);

export function sampleParams(v: number, o: { topK: number; suppressCount: number; temperature: number; topP: number; u: number }): Uint32Array {
  return paramWords([v, o.topK, o.suppressCount, 0, { f: o.temperature }, { f: o.topP }, { f: o.u }, 0]);
}

/** Words the result occupies for top-k = k. */
export function sampleOutWords(k: number): number { return 3 + 2 * k; }

/** One workgroup per row: rows = rowsOf(t) (default 1). Row r reads logits[r·V..], suppress[r·MAX_SUPPRESS..]
 *  and params[r] (sampleParams words), and writes out[r·sampleOutWords(MAX_TOP_K)..]. */
export function sampleDispatch(device: GPUDevice, b: { logits: GPUBuffer; suppress: GPUBuffer; out: GPUBuffer; params: GPUBuffer }, wg = 256, rowsOf: (t: number) => number = () => 1): Dispatch {
  const k = kernel(device, 'sample', sampleWgsl(wg), SAMPLE_BINDINGS);
  return { label: 'sample', pipeline: k.pipeline, bind: bindGroup(device, k, [b.logits, b.suppress, b.out, b.params]), grid: (t) => [rowsOf(t), 1, 1] };
}

/** Decodes the kernel's output words. */
export function decodeSample(words: Uint32Array, k: number): SampledToken {
  const f = new Float32Array(words.buffer, words.byteOffset, words.length);
  const alternatives = [];
  for (let i = 0; i < k; i++) alternatives.push({ id: words[3 + 2 * i], logprob: f[4 + 2 * i] });
  return { id: words[0], logprob: f[1], entropy: f[2], alternatives };
}

export interface SampleRefOptions { temperature: number; topP: number; topK: number; u: number; suppress?: readonly number[] }

/** CPU reference (float64) of the same summary and sampling rule. Also returns the nucleus (ids in
 *  id order) and each member's [start, end) interval of the u axis, for boundary-aware tests. */
export function sampleRef(logits: ArrayLike<number>, o: SampleRefOptions): SampledToken & { nucleus: number[]; intervals: Array<[number, number]> } {
  const v = logits.length;
  let m = -Infinity;
  for (let i = 0; i < v; i++) m = Math.max(m, logits[i]);
  let s = 0; let sx = 0;
  for (let i = 0; i < v; i++) { const d = logits[i] - m; const e = Math.exp(d); s += e; sx += e * d; }
  const logZ = m + Math.log(s);
  const entropy = Math.log(s) - sx / s;
  const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const alternatives = order.slice(0, o.topK).map((id) => ({ id, logprob: logits[id] - logZ }));
  const x = Float64Array.from(logits as ArrayLike<number>);
  for (const id of o.suppress ?? []) if (id < v) x[id] = -Infinity;
  let id: number;
  let nucleus: number[] = [];
  let intervals: Array<[number, number]> = [];
  if (o.temperature <= 0) {
    id = 0;
    for (let i = 1; i < v; i++) if (x[i] > x[id]) id = i;
  } else {
    let m2 = -Infinity;
    for (let i = 0; i < v; i++) m2 = Math.max(m2, x[i]);
    const q = Array.from(x, (xi) => Math.exp((xi - m2) / o.temperature));
    let tau = -Infinity;
    if (o.topP < 1) {
      const z = q.reduce((a, b) => a + b, 0);
      const sorted = Array.from({ length: v }, (_, i) => i).sort((a, b) => x[b] - x[a] || a - b);
      let cum = 0;
      for (const i of sorted) { cum += q[i]; if (cum >= o.topP * z) { tau = x[i]; break; } }
    }
    nucleus = [];
    for (let i = 0; i < v; i++) if (x[i] >= tau && q[i] > 0) nucleus.push(i);
    const total = nucleus.reduce((a, i) => a + q[i], 0);
    let acc = 0;
    intervals = nucleus.map((i) => { const a = acc / total; acc += q[i]; return [a, acc / total] as [number, number]; });
    const target = o.u * total;
    id = nucleus[nucleus.length - 1];
    let c = 0;
    for (const i of nucleus) { c += q[i]; if (target < c) { id = i; break; } }
  }
  return { id, logprob: logits[id] - logZ, entropy, alternatives, nucleus, intervals };
}
