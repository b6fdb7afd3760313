// Embedding gather from a packed-f16 table.
//   forward: ids (T) u32, table (V,C) f16 [rows r0..r0+rows of it, when split] -> out (T,C) f32
//            times params.scale (Gemma 3: sqrt(hidden); 1 elsewhere)
//   backward: none here (the embedding table stays frozen under adapter training).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** ids, table chunk, out, params, step */
export const EMBEDDING_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export const EMBEDDING_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { c: u32, r0: u32, rows: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x; let t = g.y;
  if (c >= p.c || t >= step.t) { return; }
  let id = ids[t];
  if (id < p.r0 || id >= p.r0 + p.rows) { return; } // another chunk holds this row
  let e = (id - p.r0) * p.c + c;
  let v = unpack2x16float(table[e >> 1u]);
  out[t * p.c + c] = select(v.x, v.y, (e & 1u) == 1u) * p.scale;
}`;

export function embeddingParams(c: number, r0: number, rows: number, scale = 1): Uint32Array { return paramWords([c, r0, rows, { f: scale }]); }

export function embeddingDispatch(device: GPUDevice, b: { ids: GPUBuffer; table: GPUBuffer; out: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, c: number): Dispatch {
  const k = kernel(device, 'embedding', EMBEDDING_WGSL, EMBEDDING_BINDINGS);
  return { label: 'embedding', pipeline: k.pipeline, bind: bindGroup(device, k, [b.ids, b.table, b.out, b.params, b.step]), grid: (t) => [Math.ceil(c / 64), t, 1] };
}

/** ids (T), table (V,C) -> (T,C) (·scale) */
export function embeddingRef(ids: readonly number[], table: ArrayLike<number>, c: number, scale = 1): Float64Array {
  const out = new Float64Array(ids.length * c);
  ids.forEach((id, t) => { for (let j = 0; j < c; j++) out[t * c + j] = table[id * c + j] * scale; });
  return out;
}
