// y = a·x + b·y, elementwise, in place on y (copy: a=1, b=0; residual-gradient accumulate: a=b=1).
//   x (N) f32, y (N) f32 -> y (N)
//   backward: dx = a·dy, dy_old = b·dy (not needed: used on gradients only)
import { type BindingKind, type Dispatch, bindGroup, grid2, kernel, paramWords } from '../runtime/kernel.ts';

/** x, y, params */
export const AXPBY_BINDINGS: readonly BindingKind[] = ['read', 'rw', 'uniform'];

export const AXPBY_WGSL = /* wgsl */ `
struct P { n: u32, a: f32, b: f32, p0: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = g.x + g.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  if (p.b == 0.0) { Y[i] = p.a * X[i]; } else { Y[i] = p.a * X[i] + p.b * Y[i]; }
}`;

export function axpbyParams(n: number, a: number, b: number): Uint32Array { return paramWords([n, { f: a }, { f: b }, 0]); }

export function axpbyDispatch(device: GPUDevice, bufs: { x: GPUBuffer; y: GPUBuffer; params: GPUBuffer }, n: number, label = 'axpby'): Dispatch {
  const k = kernel(device, 'axpby', AXPBY_WGSL, AXPBY_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [bufs.x, bufs.y, bufs.params], label), grid: () => grid2(Math.ceil(n / 256)) };
}

export function axpbyRef(x: ArrayLike<number>, y: ArrayLike<number>, a: number, b: number): Float64Array {
  return Float64Array.from(y, (v, i) => a * x[i] + (b === 0 ? 0 : b * v));
}
