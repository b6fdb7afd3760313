// Rotary position embedding, Hugging Face "rotate half" convention (Qwen2, Llama): dimension i of
// the first half pairs with i + D/2 (not interleaved), angle = (pos + t) · theta^(-2i/D).
// cos/sin come from a table (maxPos, D/2) built on the CPU with Hugging Face's f32 rounding of the
// angle: WGSL's cos/sin may be off by 2^-11 absolute (SwiftShader is), a table is exact.
//   forward:  x (T, nh, D) in place, row t at its own position rows[t].y (rows[t] = (base, pos), the
//             packed-rows layout of batched decoding and training);
//             out[i] = x[i]cos - x[i+D/2]sin, out[i+D/2] = x[i+D/2]cos + x[i]sin
//   backward: the same kernel with sign = -1 (rotation by -angle is the transpose)
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** x (rw), table (read), params, step, rows */
const ROPE_BINDINGS: readonly BindingKind[] = ['rw', 'read', 'uniform', 'uniform'];

/** Angle of pair i at position pos, rounded as Hugging Face computes it in f32:
 *  inv_freq = 1 / theta^(2i/D) in f32, angle = f32(pos · inv_freq). */
export function ropeAngle(pos: number, i: number, d: number, theta: number): number {
  const invFreq = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / d)));
  return Math.fround(pos * invFreq);
}

export type RopeAngleFn = (pos: number, i: number, d: number, theta: number) => number;

/** The angle in exact float64 (no f32 rounding): for comparing with pure-float64 goldens. */
export function ropeAngleExact(pos: number, i: number, d: number, theta: number): number {
  return pos / theta ** ((2 * i) / d);
}

/** Llama 3's frequency scaling (transformers' _compute_llama3_parameters): wavelengths beyond
 *  original/low_freq_factor are divided by `factor`, those below original/high_freq_factor kept,
 *  the band between interpolated. */
export interface RopeScaling { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }

/** inv_freq of pair i as Hugging Face computes it in f32 (default or Llama 3 scaled). */
export function ropeInvFreq(i: number, d: number, theta: number, scaling?: RopeScaling): number {
  const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / d)));
  if (!scaling) return inv;
  const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositionEmbeddings: old } = scaling;
  const wavelen = (2 * Math.PI) / inv;
  if (wavelen < old / hi) return inv;
  if (wavelen > old / lo) return Math.fround(inv / factor);
  const smooth = (old / wavelen - lo) / (hi - lo);
  return Math.fround((1 - smooth) * (inv / factor) + smooth * inv);
}

/** Angle function of a RoPE setting: HF's f32 rounding, or `angle` where given (default RoPE only). */
export function ropeAngleOf(theta: number, scaling?: RopeScaling, angle: RopeAngleFn = ropeAngle): RopeAngleFn {
  if (!scaling) return angle;
  return (pos, i, d) => Math.fround(pos * ropeInvFreq(i, d, theta, scaling));
}

/** (maxPos, D/2) pairs of (cos, sin) as f32: 8·maxPos·D/2 bytes. */
export function ropeTable(maxPos: number, d: number, theta: number, scaling?: RopeScaling): Float32Array {
  const half = d / 2;
  const out = new Float32Array(maxPos * half * 2);
  const angle = ropeAngleOf(theta, scaling);
  for (let p = 0; p < maxPos; p++) for (let i = 0; i < half; i++) {
    const a = angle(p, i, d, theta);
    out[(p * half + i) * 2] = Math.cos(a);
    out[(p * half + i) * 2 + 1] = Math.sin(a);
  }
  return out;
}

/** The identity rotation (cos 1, sin 0): layers without RoPE store keys through the same kv-store. */
export function ropeIdentityTable(maxPos: number, d: number): Float32Array {
  const out = new Float32Array(maxPos * d);
  for (let j = 0; j < out.length; j += 2) out[j] = 1;
  return out;
}


/** Batched decoding: row t of x (T, nh, D) is at its own position rows[t].y (rows[t] = (base, pos)). */
export const ROPE_ROWS_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { nh: u32, d: u32, p0: u32, sign: f32 }
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> p: P;
@group(0) @binding(3) var<uniform> step: Step;
@group(0) @binding(4) var<storage, read> rows: array<vec2<u32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let half = p.d / 2u;
  let i = g.x % half; let h = g.x / half; let t = g.y;
  if (h >= p.nh || t >= step.t) { return; }
  let v = cs[rows[t].y * half + i];
  let c = v.x; let s = v.y * p.sign;
  let o = (t * p.nh + h) * p.d + i;
  let a = x[o]; let b = x[o + half];
  x[o] = a * c - b * s;
  x[o + half] = b * c + a * s;
}`;

/** x, table, params, step, rows */
export const ROPE_ROWS_BINDINGS: readonly BindingKind[] = [...ROPE_BINDINGS, 'read'];

export function ropeRowsDispatch(device: GPUDevice, b: { x: GPUBuffer; table: GPUBuffer; params: GPUBuffer; step: GPUBuffer; rows: GPUBuffer }, nh: number, d: number, label = 'rope'): Dispatch {
  const k = kernel(device, 'rope-rows', ROPE_ROWS_WGSL, ROPE_ROWS_BINDINGS);
  return { label, pipeline: k.pipeline, bind: bindGroup(device, k, [b.x, b.table, b.params, b.step, b.rows]), grid: (t) => [Math.ceil((nh * d) / 2 / 64), t, 1] };
}

export function ropeParams(nh: number, d: number, sign = 1): Uint32Array {
  if (d % 2 !== 0) throw new Error(`rope: head_dim ${d} must be even`);
  return paramWords([nh, d, 0, { f: sign }]);
}


/** x (T, nh, D) at positions pos..pos+T-1 -> rotated copy. sign -1 = inverse (backward). */
export function ropeRef(x: ArrayLike<number>, t: number, nh: number, d: number, pos: number, theta: number, sign = 1, angle: RopeAngleFn = ropeAngle): Float64Array {
  const out = Float64Array.from(x);
  const half = d / 2;
  for (let ti = 0; ti < t; ti++) for (let h = 0; h < nh; h++) for (let i = 0; i < half; i++) {
    const ang = angle(pos + ti, i, d, theta);
    const c = Math.cos(ang); const s = Math.sin(ang) * sign;
    const o = (ti * nh + h) * d + i;
    const a = x[o]; const b = x[o + half];
    out[o] = a * c - b * s;
    out[o + half] = b * c + a * s;
  }
  return out;
}
