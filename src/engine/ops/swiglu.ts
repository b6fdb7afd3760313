// SwiGLU gate of the MLP: out = silu(gate) · up, silu(g) = g·σ(g).
//   forward:  gate (T,F), up (T,F) -> out (T,F)
//   backward: dout (T,F) -> dgate = dout·up·σ(g)(1 + g(1-σ(g))), dup = dout·silu(g)
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

/** gate, up, out, params, step */
export const SWIGLU_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export const SWIGLU_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { f: u32, m: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 256u;
  if (i >= p.f * select(step.t, p.m, p.m != 0u)) { return; }
  let v = gate[i];
  out[i] = v / (1.0 + exp(-v)) * up[i];
}`;

/** Bindings: gate, up, dout, dgate (rw), dup (rw), params{f, m} */
export const SWIGLU_BACKWARD_WGSL = /* wgsl */ `
struct P { f: u32, m: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgate: array<f32>;
@group(0) @binding(4) var<storage, read_write> dup: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 256u;
  if (i >= p.f * p.m) { return; }
  let v = gate[i];
  let sg = 1.0 / (1.0 + exp(-v));
  dgate[i] = dout[i] * up[i] * sg * (1.0 + v * (1.0 - sg));
  dup[i] = dout[i] * v * sg;
}`;
export const SWIGLU_BACKWARD_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'rw', 'uniform'];

export function swigluParams(f: number, m = 0): Uint32Array { return paramWords([f, m, 0, 0]); }

export function swigluDispatch(device: GPUDevice, b: { gate: GPUBuffer; up: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, f: number): Dispatch {
  const k = kernel(device, 'swiglu', SWIGLU_WGSL, SWIGLU_BINDINGS);
  return { label: 'swiglu', pipeline: k.pipeline, bind: bindGroup(device, k, [b.gate, b.up, b.out, b.params, b.step]), grid: (t) => grid2(Math.ceil((f * t) / 256)) };
}

const silu = (v: number) => v / (1 + Math.exp(-v));

/** gate (N), up (N) -> (N) */
/** dgate, dup (t,F) from gate, up, dout over the step's t rows (p.m = capacity); 256 elements a workgroup, grid split over y past 65535. */
export function swigluBackwardDispatch(device: GPUDevice, b: { gate: GPUBuffer; up: GPUBuffer; dout: GPUBuffer; dgate: GPUBuffer; dup: GPUBuffer; params: GPUBuffer }, f: number, label = 'swiglu-bwd'): Dispatch {
  const k = kernel(device, 'swiglu-bwd', SWIGLU_BACKWARD_WGSL, SWIGLU_BACKWARD_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.gate, b.up, b.dout, b.dgate, b.dup, b.params]), grid: (t) => grid2(Math.ceil((t * f) / 256)) };
}

export function swigluRef(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: gate.length }, (_, i) => silu(gate[i]) * up[i]);
}

export function swigluBackwardRef(gate: ArrayLike<number>, up: ArrayLike<number>, dout: ArrayLike<number>): { dgate: Float64Array; dup: Float64Array } {
  const n = gate.length;
  const dgate = new Float64Array(n); const dup = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const sg = 1 / (1 + Math.exp(-gate[i]));
    dgate[i] = dout[i] * up[i] * sg * (1 + gate[i] * (1 - sg));
    dup[i] = dout[i] * silu(gate[i]);
  }
  return { dgate, dup };
}
