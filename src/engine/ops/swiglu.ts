// Gated MLP activation: out = act(gate) · up. act = silu (SwiGLU: Qwen, Llama) or tanh-approximated
// GELU (GeGLU: Gemma 3's gelu_pytorch_tanh), chosen by params.act (0 silu, 1 gelu_tanh).
//   forward:  gate (T,F), up (T,F) -> out (T,F)
//   backward: dout (T,F) -> dgate = dout·up·act'(g), dup = dout·act(g)
//   silu(g) = g·σ(g), silu' = σ(g)(1 + g(1-σ(g)))
//   gelu(g) = g/2·(1 + tanh(u)), u = √(2/π)(g + 0.044715 g³); gelu' = (1 + th)/2 + g/2·(1 − th²)·√(2/π)(1 + 3·0.044715 g²)
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

/** tanh GELU and its derivative (the tanh argument clamped: tanh(±10) is ±1 in f32). */
const ACT_WGSL = /* wgsl */ `
const GELU_C = 0.7978845608028654;
fn gelu_th(v: f32) -> f32 { return tanh(clamp(GELU_C * (v + 0.044715 * v * v * v), -10.0, 10.0)); }
fn gelu(v: f32) -> f32 { return 0.5 * v * (1.0 + gelu_th(v)); }
fn gelu_dx(v: f32) -> f32 { let th = gelu_th(v); return 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * GELU_C * (1.0 + 3.0 * 0.044715 * v * v); }`;

export type GatedAct = 'silu' | 'gelu_tanh';

/** gate, up, out, params, step */
export const SWIGLU_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export const SWIGLU_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { f: u32, m: u32, act: u32, p1: u32 }
${ACT_WGSL}
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
  out[i] = select(v / (1.0 + exp(-v)), gelu(v), p.act == 1u) * up[i];
}`;

/** Bindings: gate, up, dout, dgate (rw), dup (rw), params{f, m} */
export const SWIGLU_BACKWARD_WGSL = /* wgsl */ `
struct P { f: u32, m: u32, act: u32, p1: u32 }
${ACT_WGSL}
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
  if (p.act == 1u) {
    dgate[i] = dout[i] * up[i] * gelu_dx(v);
    dup[i] = dout[i] * gelu(v);
    return;
  }
  let sg = 1.0 / (1.0 + exp(-v));
  dgate[i] = dout[i] * up[i] * sg * (1.0 + v * (1.0 - sg));
  dup[i] = dout[i] * v * sg;
}`;
export const SWIGLU_BACKWARD_BINDINGS: readonly BindingKind[] = ['read', 'read', 'read', 'rw', 'rw', 'uniform'];

export function swigluParams(f: number, m = 0, act: GatedAct = 'silu'): Uint32Array { return paramWords([f, m, act === 'gelu_tanh' ? 1 : 0, 0]); }

export function swigluDispatch(device: GPUDevice, b: { gate: GPUBuffer; up: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, f: number): Dispatch {
  const k = kernel(device, 'swiglu', SWIGLU_WGSL, SWIGLU_BINDINGS);
  return { label: 'swiglu', pipeline: k.pipeline, bind: bindGroup(device, k, [b.gate, b.up, b.out, b.params, b.step]), grid: (t) => grid2(Math.ceil((f * t) / 256)) };
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const GELU_C = Math.sqrt(2 / Math.PI);
export const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v ** 3)));
const geluTanhDx = (v: number) => {
  const th = Math.tanh(GELU_C * (v + 0.044715 * v ** 3));
  return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * GELU_C * (1 + 3 * 0.044715 * v * v);
};

/** dgate, dup (t,F) from gate, up, dout over the step's t rows (p.m = capacity); 256 elements a workgroup, grid split over y past 65535. */
export function swigluBackwardDispatch(device: GPUDevice, b: { gate: GPUBuffer; up: GPUBuffer; dout: GPUBuffer; dgate: GPUBuffer; dup: GPUBuffer; params: GPUBuffer }, f: number, label = 'swiglu-bwd'): Dispatch {
  const k = kernel(device, 'swiglu-bwd', SWIGLU_BACKWARD_WGSL, SWIGLU_BACKWARD_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.gate, b.up, b.dout, b.dgate, b.dup, b.params]), grid: (t) => grid2(Math.ceil((t * f) / 256)) };
}

/** gate (N), up (N) -> act(gate)·up (N) */
export function swigluRef(gate: ArrayLike<number>, up: ArrayLike<number>, act: GatedAct = 'silu'): Float64Array {
  const f = act === 'gelu_tanh' ? geluTanh : silu;
  return Float64Array.from({ length: gate.length }, (_, i) => f(gate[i]) * up[i]);
}

export function swigluBackwardRef(gate: ArrayLike<number>, up: ArrayLike<number>, dout: ArrayLike<number>, act: GatedAct = 'silu'): { dgate: Float64Array; dup: Float64Array } {
  const n = gate.length;
  const dgate = new Float64Array(n); const dup = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (act === 'gelu_tanh') {
      dgate[i] = dout[i] * up[i] * geluTanhDx(gate[i]);
      dup[i] = dout[i] * geluTanh(gate[i]);
      continue;
    }
    const sg = 1 / (1 + Math.exp(-gate[i]));
    dgate[i] = dout[i] * up[i] * sg * (1 + gate[i] * (1 - sg));
    dup[i] = dout[i] * silu(gate[i]);
  }
  return { dgate, dup };
}
