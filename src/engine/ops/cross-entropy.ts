// Weighted cross-entropy over chosen positions, forward and backward fused (training head):
//   logits (T,V) f32, targets (T) u32 (0xFFFFFFFF = no loss), weights (T) f32
//   -> losses (T) = w_t·(logsumexp(logits_t) − logits_t[y_t])   (0 where skipped; the caller sums)
//   -> dlogits (T,V) = w_t·(softmax(logits_t) − onehot(y_t))   (0 rows where skipped)
// One workgroup of 64 threads per row: max and sum by tree reduction.
// Chunked (xentChunkDispatch): the same math on rows r0..r0+n of a batch, where logits/dlogits hold
// only those n rows (the LM head fused with the loss chunk by chunk, so (T,V) never exists at once);
// n = step.t of the chunk's own step uniform; one thread per row where barriers are costly.
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** logits, targets, weights, dlogits, losses, params */
export const XENT_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'rw', 'uniform'];
export const NO_TARGET = 0xffffffff;

export const XENT_WGSL = /* wgsl */ `
struct P { t: u32, v: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read> Y: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> DL: array<f32>;
@group(0) @binding(4) var<storage, read_write> LOSS: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
var<workgroup> red: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x; let o = t * p.v; let y = Y[t]; let w = W[t];
  if (y == 0xffffffffu || w == 0.0) {
    for (var j = lid; j < p.v; j += 64u) { DL[o + j] = 0.0; }
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
  var z = 0.0;
  for (var j = lid; j < p.v; j += 64u) { z += exp(L[o + j] - mx); }
  red[lid] = z;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] += red[lid + s]; } workgroupBarrier(); }
  let zs = red[0];
  for (var j = lid; j < p.v; j += 64u) {
    DL[o + j] = w * (exp(L[o + j] - mx) / zs - select(0.0, 1.0, j == y));
  }
  if (lid == 0u) { LOSS[t] = w * (mx + log(zs) - L[o + y]); }
}`;

export function crossEntropyParams(t: number, v: number): Uint32Array { return paramWords([t, v, 0, 0]); }

export function crossEntropyDispatch(device: GPUDevice, b: { logits: GPUBuffer; targets: GPUBuffer; weights: GPUBuffer; dlogits: GPUBuffer; losses: GPUBuffer; params: GPUBuffer }, t: number): Dispatch {
  const k = kernel(device, 'cross-entropy', XENT_WGSL, XENT_BINDINGS);
  return { label: 'cross-entropy', pipeline: k.pipeline, bind: bindGroup(device, k, [b.logits, b.targets, b.weights, b.dlogits, b.losses, b.params]), grid: () => [t, 1, 1] };
}

/** logits chunk, targets, weights, dlogits chunk (rw), losses (rw), params{v, r0}, step (rows of the chunk) */
export const XENT_CHUNK_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'rw', 'uniform', 'uniform'];

function xentChunkWgsl(rowwise: boolean): string {
  const io = /* wgsl */ `
${STEP_WGSL}
struct P { v: u32, r0: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read> Y: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> DL: array<f32>;
@group(0) @binding(4) var<storage, read_write> LOSS: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
@group(0) @binding(6) var<uniform> step: Step;`;
  if (rowwise) {
    return /* wgsl */ `${io}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = g.x;
  if (t >= step.t) { return; }
  let o = t * p.v; let y = Y[p.r0 + t]; let w = W[p.r0 + t];
  if (y == 0xffffffffu || w == 0.0) {
    for (var j = 0u; j < p.v; j++) { DL[o + j] = 0.0; }
    LOSS[p.r0 + t] = 0.0;
    return;
  }
  var mx = -1e30;
  for (var j = 0u; j < p.v; j++) { mx = max(mx, L[o + j]); }
  var z = 0.0;
  for (var j = 0u; j < p.v; j++) { z += exp(L[o + j] - mx); }
  for (var j = 0u; j < p.v; j++) { DL[o + j] = w * (exp(L[o + j] - mx) / z - select(0.0, 1.0, j == y)); }
  LOSS[p.r0 + t] = w * (mx + log(z) - L[o + y]);
}`;
  }
  return /* wgsl */ `${io}
var<workgroup> red: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x; let o = t * p.v; let y = Y[p.r0 + t]; let w = W[p.r0 + t];
  if (y == 0xffffffffu || w == 0.0) {
    for (var j = lid; j < p.v; j += 64u) { DL[o + j] = 0.0; }
    if (lid == 0u) { LOSS[p.r0 + t] = 0.0; }
    return;
  }
  var m = -1e30;
  for (var j = lid; j < p.v; j += 64u) { m = max(m, L[o + j]); }
  red[lid] = m;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] = max(red[lid], red[lid + s]); } workgroupBarrier(); }
  let mx = red[0];
  workgroupBarrier();
  var z = 0.0;
  for (var j = lid; j < p.v; j += 64u) { z += exp(L[o + j] - mx); }
  red[lid] = z;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] += red[lid + s]; } workgroupBarrier(); }
  let zs = red[0];
  for (var j = lid; j < p.v; j += 64u) { DL[o + j] = w * (exp(L[o + j] - mx) / zs - select(0.0, 1.0, j == y)); }
  if (lid == 0u) { LOSS[p.r0 + t] = w * (mx + log(zs) - L[o + y]); }
}`;
}

export function xentChunkParams(v: number, r0: number): Uint32Array { return paramWords([v, r0, 0, 0]); }

/** Rows r0.. of the batch (params), as many as the chunk's step.t; `rowsOf(t)` = rows this chunk gets when the batch has t. */
export function xentChunkDispatch(device: GPUDevice, b: { logits: GPUBuffer; targets: GPUBuffer; weights: GPUBuffer; dlogits: GPUBuffer; losses: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, rowsOf: (t: number) => number, rowwise: boolean): Dispatch {
  const k = kernel(device, rowwise ? 'xent-chunk-rows' : 'xent-chunk', xentChunkWgsl(rowwise), XENT_CHUNK_BINDINGS);
  return { label: 'cross-entropy', pipeline: k.pipeline, bind: bindGroup(device, k, [b.logits, b.targets, b.weights, b.dlogits, b.losses, b.params, b.step]), grid: (t) => (rowwise ? [Math.ceil(rowsOf(t) / 64), 1, 1] : [rowsOf(t), 1, 1]) };
}

/** CPU reference (float64): Σ_t losses and dlogits; targets -1 (or NO_TARGET) = skipped. */
export function crossEntropyRef(logits: ArrayLike<number>, targets: ArrayLike<number>, weights: ArrayLike<number>, t: number, v: number): { loss: number; losses: Float64Array; dlogits: Float64Array } {
  const d = new Float64Array(t * v); const losses = new Float64Array(t);
  for (let i = 0; i < t; i++) {
    const y = targets[i]; const w = weights[i];
    if (y < 0 || y === NO_TARGET || w === 0) continue;
    let mx = -Infinity;
    for (let j = 0; j < v; j++) mx = Math.max(mx, logits[i * v + j]);
    let z = 0;
    for (let j = 0; j < v; j++) z += Math.exp(logits[i * v + j] - mx);
    losses[i] = w * (mx + Math.log(z) - logits[i * v + y]);
    for (let j = 0; j < v; j++) d[i * v + j] = (w * Math.exp(logits[i * v + j] - mx)) / z;
    d[i * v + y] -= w;
  }
  return { loss: losses.reduce((a, b) => a + b, 0), losses, dlogits: d };
}
