// KV-cache store: each row of the step belongs to its own sequence, whose cache region starts at row
// `base`; the row's key is rotated (RoPE, Hugging Face "rotate half") at the row's position and
// written with its value at cache row base + pos.
//   k (T, Hkv, D), v (T, Hkv, D) f32, rows (T) = (base, pos), table (maxPos, D/2) (cos, sin)
//   -> kcache[base+pos] = rope(k[t], pos), vcache[base+pos] = v[t]      caches (B·maxLen, Hkv, D)
// Cache storage (`kv`, attention.ts KvDtype): 'f32', or 'f16' = packed halves two per u32 (element 2i
// in the low half, as model/f16.ts packs; pack2x16float rounds to nearest or either neighbour).
// One thread per (row, head, i): f32 writes elements i and i + D/2 of k and v; f16 writes the words of
// elements 2i, 2i+1 and their rotation partners 2i+D/2, 2i+1+D/2 (D % 4 == 0).
// Backward: none (inference only; training keeps its k and v in activation buffers).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';
import type { KvDtype } from './attention.ts';
import { ropeAngle, type RopeAngleFn } from './rope.ts';

/** k, v, kcache, vcache, table, rows, params, step */
export const KV_STORE_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'rw', 'read', 'read', 'uniform', 'uniform'];

export function kvStoreWgsl(kv: KvDtype = 'f32'): string {
  const body = kv === 'f32' ? /* wgsl */ `
  let i = g.x % half; let h = g.x / half; let t = g.y;
  if (h >= p.nh || t >= step.t) { return; }
  let r = rows[t];
  let cv = cs[r.y * half + i];
  let src = (t * p.nh + h) * p.d + i;
  let dst = ((r.x + r.y) * p.nh + h) * p.d + i;
  let a = k[src]; let b = k[src + half];
  kc[dst] = a * cv.x - b * cv.y;
  kc[dst + half] = b * cv.x + a * cv.y;
  vc[dst] = v[src]; vc[dst + half] = v[src + half];` : /* wgsl */ `
  let q = half / 2u;
  let i = g.x % q; let h = g.x / q; let t = g.y;
  if (h >= p.nh || t >= step.t) { return; }
  let r = rows[t];
  let e = 2u * i;
  let c0 = cs[r.y * half + e]; let c1 = cs[r.y * half + e + 1u];
  let src = (t * p.nh + h) * p.d + e;
  let dst = (((r.x + r.y) * p.nh + h) * p.d + e) / 2u;
  let a0 = k[src]; let a1 = k[src + 1u]; let b0 = k[src + half]; let b1 = k[src + half + 1u];
  kc[dst] = pack2x16float(vec2<f32>(a0 * c0.x - b0 * c0.y, a1 * c1.x - b1 * c1.y));
  kc[dst + q] = pack2x16float(vec2<f32>(b0 * c0.x + a0 * c0.y, b1 * c1.x + a1 * c1.y));
  vc[dst] = pack2x16float(vec2<f32>(v[src], v[src + 1u]));
  vc[dst + q] = pack2x16float(vec2<f32>(v[src + half], v[src + half + 1u]));`;
  const el = kv === 'f32' ? 'f32' : 'u32';
  return /* wgsl */ `
${STEP_WGSL}
struct P { nh: u32, d: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> kc: array<${el}>;
@group(0) @binding(3) var<storage, read_write> vc: array<${el}>;
@group(0) @binding(4) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(6) var<uniform> p: P;
@group(0) @binding(7) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let half = p.d / 2u;${body}
}`;
}

/** Bytes per cached element. */
export function kvElementBytes(kv: KvDtype): number { return kv === 'f16' ? 2 : 4; }

/** The cache storage a model gets by default: f16 wherever the kernels take it (head_dim % 4 == 0:
 *  the store writes whole words of an element pair and its rotation partners). */
export function defaultKvDtype(headDim: number): KvDtype { return headDim % 4 === 0 ? 'f16' : 'f32'; }

export function kvStoreParams(nh: number, d: number, kv: KvDtype = 'f32'): Uint32Array {
  if (kv === 'f16' && d % 4 !== 0) throw new Error(`f16 kv-store: head_dim ${d} must be a multiple of 4`);
  if (d % 2 !== 0) throw new Error(`kv-store: head_dim ${d} must be even`);
  return paramWords([nh, d, 0, 0]);
}

export function kvStoreDispatch(device: GPUDevice, b: { k: GPUBuffer; v: GPUBuffer; kcache: GPUBuffer; vcache: GPUBuffer; table: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, nh: number, d: number, kv: KvDtype = 'f32'): Dispatch {
  const k = kernel(device, `kv-store-${kv}`, kvStoreWgsl(kv), KV_STORE_BINDINGS);
  const perThread = kv === 'f32' ? 2 : 4; // elements of k (and of v) one thread writes
  return { label: 'kv-store', pipeline: k.pipeline, bind: bindGroup(device, k, [b.k, b.v, b.kcache, b.vcache, b.table, b.rows, b.params, b.step]), grid: (t) => [Math.ceil((nh * d) / perThread / 64), t, 1] };
}

/** CPU reference: writes into copies of the caches (float64; the f16 cache holds these rounded to f16). */
export function kvStoreRef(
  k: ArrayLike<number>, v: ArrayLike<number>, kcache: ArrayLike<number>, vcache: ArrayLike<number>,
  rows: ReadonlyArray<[number, number]>, nh: number, d: number, theta: number, angle: RopeAngleFn = ropeAngle,
): { k: Float64Array; v: Float64Array } {
  const kc = Float64Array.from(kcache); const vc = Float64Array.from(vcache);
  const half = d / 2;
  rows.forEach(([base, pos], t) => {
    for (let h = 0; h < nh; h++) for (let i = 0; i < half; i++) {
      const ang = angle(pos, i, d, theta);
      const c = Math.fround(Math.cos(ang)); const s = Math.fround(Math.sin(ang));
      const src = (t * nh + h) * d + i; const dst = ((base + pos) * nh + h) * d + i;
      kc[dst] = k[src] * c - k[src + half] * s;
      kc[dst + half] = k[src + half] * c + k[src] * s;
      vc[dst] = v[src]; vc[dst + half] = v[src + half];
    }
  });
  return { k: kc, v: vc };
}
