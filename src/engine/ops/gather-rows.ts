// Row gather: the rows of the step whose next token is sampled (the last prompt token of each
// sequence in a batched prefill, every row in a batched decode step).
//   x (T, C) f32, src (S) u32 row indices -> out (S, C) f32;   S = step.t of the bound step uniform
// Backward: none (inference only).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** x, src, out, params, step */
export const GATHER_ROWS_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export const GATHER_ROWS_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { c: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x; let i = g.y;
  if (c >= p.c || i >= step.t) { return; }
  out[i * p.c + c] = x[src[i] * p.c + c];
}`;

export function gatherRowsParams(c: number): Uint32Array { return paramWords([c, 0, 0, 0]); }

export function gatherRowsDispatch(device: GPUDevice, b: { x: GPUBuffer; src: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, c: number): Dispatch {
  const k = kernel(device, 'gather-rows', GATHER_ROWS_WGSL, GATHER_ROWS_BINDINGS);
  return { label: 'gather-rows', pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.src, b.out, b.params, b.step]), grid: (s) => [Math.ceil(c / 64), s, 1] };
}

/** x (T, C), src (S) -> (S, C) */
export function gatherRowsRef(x: ArrayLike<number>, src: readonly number[], c: number): Float64Array {
  const out = new Float64Array(src.length * c);
  src.forEach((r, i) => { for (let j = 0; j < c; j++) out[i * c + j] = x[r * c + j]; });
  return out;
}
