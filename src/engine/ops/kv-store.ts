// KV-cache store for batched decoding: each row of the step belongs to its own sequence, whose cache
// region starts at row `base`; the row's key is rotated (RoPE, Hugging Face "rotate half") at the
// row's position and written with its value at cache row base + pos.
//   k (T, Hkv, D), v (T, Hkv, D), rows (T) = (base, pos), table (maxPos, D/2) (cos, sin)
//   -> kcache[base+pos] = rope(k[t], pos), vcache[base+pos] = v[t]      caches (B·maxLen, Hkv, D)
// One thread per (row, head, pair i): elements i and i + D/2 of k and v.
// Backward: none (inference only; training uses the single-sequence path).
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';
import { ropeAngle, type RopeAngleFn } from './rope.ts';

/** k, v, kcache, vcache, table, rows, params, step */
export const KV_STORE_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'rw', 'read', 'read', 'uniform', 'uniform'];

export const KV_STORE_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { nh: u32, d: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> kc: array<f32>;
@group(0) @binding(3) var<storage, read_write> vc: array<f32>;
@group(0) @binding(4) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> rows: array<vec2<u32>>;
@group(0) @binding(6) var<uniform> p: P;
@group(0) @binding(7) var<uniform> step: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let half = p.d / 2u;
  let i = g.x % half; let h = g.x / half; let t = g.y;
  if (h >= p.nh || t >= step.t) { return; }
  let r = rows[t];
  let cv = cs[r.y * half + i];
  let src = (t * p.nh + h) * p.d + i;
  let dst = ((r.x + r.y) * p.nh + h) * p.d + i;
  let a = k[src]; let b = k[src + half];
  kc[dst] = a * cv.x - b * cv.y;
  kc[dst + half] = b * cv.x + a * cv.y;
  vc[dst] = v[src]; vc[dst + half] = v[src + half];
}`;

export function kvStoreParams(nh: number, d: number): Uint32Array {
  if (d % 2 !== 0) throw new Error(`kv-store: head_dim ${d} must be even`);
  return paramWords([nh, d, 0, 0]);
}

export function kvStoreDispatch(device: GPUDevice, b: { k: GPUBuffer; v: GPUBuffer; kcache: GPUBuffer; vcache: GPUBuffer; table: GPUBuffer; rows: GPUBuffer; params: GPUBuffer; step: GPUBuffer }, nh: number, d: number): Dispatch {
  const k = kernel(device, 'kv-store', KV_STORE_WGSL, KV_STORE_BINDINGS);
  return { label: 'kv-store', pipeline: k.pipeline, bind: bindGroup(device, k, [b.k, b.v, b.kcache, b.vcache, b.table, b.rows, b.params, b.step]), grid: (t) => [Math.ceil((nh * d) / 2 / 64), t, 1] };
}

/** CPU reference: writes into copies of the caches (float64). */
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
