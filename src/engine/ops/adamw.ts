// AdamW with global gradient-norm clipping, in place on f32 parameter tensors (LoRA A, B, gates).
//   sumsq:  g (n) -> norms[idx] = Σ g²               one workgroup per tensor (so no atomics)
//   adamw:  total = sqrt(Σ_i norms[i]); c = min(1, maxNorm / (total + 1e-6)) (c = 1 if maxNorm <= 0)
//           ĝ = c·g; m = β1·m + (1−β1)·ĝ; v = β2·v + (1−β2)·ĝ²
//           p = p − lr·wd·p − lr·(m/bc1) / (sqrt(v/bc2) + eps),  bc1 = 1−β1^step, bc2 = 1−β2^step
//   (torch.optim.AdamW with torch.nn.utils.clip_grad_norm_ before the step.)
import { type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

/** g, norms, params{n, idx} */
export const SUMSQ_BINDINGS: readonly BindingKind[] = ['read', 'rw', 'uniform'];
export const SUMSQ_WGSL = /* wgsl */ `
struct P { n: u32, idx: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> G: array<f32>;
@group(0) @binding(1) var<storage, read_write> N: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += 256u) { let v = G[i]; s += v * v; }
  red[lid] = s;
  workgroupBarrier();
  for (var r = 128u; r > 0u; r >>= 1u) { if (lid < r) { red[lid] += red[lid + r]; } workgroupBarrier(); }
  if (lid == 0u) { N[p.idx] = red[0]; }
}`;

/** p (rw), g, m (rw), v (rw), norms, hyper (uniform, per step), shape{n} (uniform) */
export const ADAMW_BINDINGS: readonly BindingKind[] = ['rw', 'read', 'rw', 'rw', 'read', 'uniform', 'uniform'];
export const ADAMW_WGSL = /* wgsl */ `
struct H { lr: f32, b1: f32, b2: f32, eps: f32, wd: f32, max_norm: f32, bc1: f32, bc2: f32, nnorms: u32, p0: u32, p1: u32, p2: u32 }
struct S { n: u32, decay: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read_write> PW: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> M: array<f32>;
@group(0) @binding(3) var<storage, read_write> V: array<f32>;
@group(0) @binding(4) var<storage, read> N: array<f32>;
@group(0) @binding(5) var<uniform> h: H;
@group(0) @binding(6) var<uniform> s: S;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= s.n) { return; }
  var tot = 0.0;
  for (var k = 0u; k < h.nnorms; k++) { tot += N[k]; }
  var c = 1.0;
  if (h.max_norm > 0.0) { c = min(1.0, h.max_norm / (sqrt(tot) + 1e-6)); }
  let g = G[i] * c;
  let m = h.b1 * M[i] + (1.0 - h.b1) * g;
  let v = h.b2 * V[i] + (1.0 - h.b2) * g * g;
  M[i] = m; V[i] = v;
  var p = PW[i];
  if (s.decay != 0u) { p -= h.lr * h.wd * p; }
  PW[i] = p - h.lr * (m / h.bc1) / (sqrt(v / h.bc2) + h.eps);
}`;

export interface AdamWConfig { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; /** global grad-norm clip; 0 = off */ maxGradNorm?: number }

/** Per-step hyper-parameter uniform (step counts from 1). */
export function adamwHyper(c: AdamWConfig, step: number, nnorms: number): Uint32Array {
  const b1 = c.beta1 ?? 0.9; const b2 = c.beta2 ?? 0.999;
  return paramWords([{ f: c.lr }, { f: b1 }, { f: b2 }, { f: c.eps ?? 1e-8 }, { f: c.weightDecay ?? 0.01 }, { f: c.maxGradNorm ?? 1 }, { f: 1 - b1 ** step }, { f: 1 - b2 ** step }, nnorms, 0, 0, 0]);
}

export function sumsqParams(n: number, idx: number): Uint32Array { return paramWords([n, idx, 0, 0]); }
export function adamwShape(n: number, decay: boolean): Uint32Array { return paramWords([n, decay ? 1 : 0, 0, 0]); }

export function sumsqDispatch(device: GPUDevice, b: { g: GPUBuffer; norms: GPUBuffer; params: GPUBuffer }): Dispatch {
  const k = kernel(device, 'sumsq', SUMSQ_WGSL, SUMSQ_BINDINGS);
  return { label: 'sumsq', pipeline: k.pipeline, bind: bindGroup(device, k, [b.g, b.norms, b.params]), grid: () => [1, 1, 1] };
}

export function adamwDispatch(device: GPUDevice, b: { p: GPUBuffer; g: GPUBuffer; m: GPUBuffer; v: GPUBuffer; norms: GPUBuffer; hyper: GPUBuffer; shape: GPUBuffer }, n: number): Dispatch {
  const k = kernel(device, 'adamw', ADAMW_WGSL, ADAMW_BINDINGS);
  return { label: 'adamw', pipeline: k.pipeline, bind: bindGroup(device, k, [b.p, b.g, b.m, b.v, b.norms, b.hyper, b.shape]), grid: () => grid2(Math.ceil(n / 256)) };
}

export interface AdamWTensorRef { p: Float64Array; g: ArrayLike<number>; m: Float64Array; v: Float64Array; decay: boolean }

/** CPU reference (float64), in place on p, m, v of every tensor; returns the global grad norm before clipping. */
export function adamwStepRef(tensors: AdamWTensorRef[], c: AdamWConfig, step: number): number {
  const b1 = c.beta1 ?? 0.9; const b2 = c.beta2 ?? 0.999; const eps = c.eps ?? 1e-8; const wd = c.weightDecay ?? 0.01; const maxN = c.maxGradNorm ?? 1;
  let ss = 0;
  for (const t of tensors) for (let i = 0; i < t.g.length; i++) ss += t.g[i] ** 2;
  const norm = Math.sqrt(ss);
  const clip = maxN > 0 ? Math.min(1, maxN / (norm + 1e-6)) : 1;
  const bc1 = 1 - b1 ** step; const bc2 = 1 - b2 ** step;
  for (const t of tensors) for (let i = 0; i < t.p.length; i++) {
    const g = t.g[i] * clip;
    t.m[i] = b1 * t.m[i] + (1 - b1) * g;
    t.v[i] = b2 * t.v[i] + (1 - b2) * g * g;
    if (t.decay) t.p[i] -= c.lr * wd * t.p[i];
    t.p[i] -= (c.lr * (t.m[i] / bc1)) / (Math.sqrt(t.v[i] / bc2) + eps);
  }
  return norm;
}
