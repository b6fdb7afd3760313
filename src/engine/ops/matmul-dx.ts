// Input gradient of a linear layer with a frozen packed-f16 weight (forward: matmul.ts), for a
// weight split in row chunks: each chunk adds its share, reading dout columns noff..noff+n.
//   dx (M,K) (= or +=) dout[:, noff:noff+n] · W (n,K)      dout row stride ldd, element offset doff
// One thread per dx element; the only dx kernel (its float64 reference: linearDxRef / matmulDxRef).
import { type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

/** dout, W, dx, params */
export const LINEAR_DX_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform'];

export const LINEAR_DX_WGSL = /* wgsl */ `
struct P { m: u32, n: u32, k: u32, ldd: u32, noff: u32, doff: u32, acc: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> D: array<f32>;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read_write> DX: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
fn w_at(e: u32) -> f32 { let v = unpack2x16float(W[e >> 1u]); return select(v.x, v.y, (e & 1u) == 1u); }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let k = g.x; let m = g.y;
  if (k >= p.k || m >= p.m) { return; }
  var acc = 0.0;
  let d0 = p.doff + m * p.ldd + p.noff;
  for (var n = 0u; n < p.n; n++) { acc += D[d0 + n] * w_at(n * p.k + k); }
  let o = m * p.k + k;
  if (p.acc != 0u) { acc += DX[o]; }
  DX[o] = acc;
}`;

export interface LinearDxShape { m: number; n: number; k: number; ldd: number; noff?: number; doff?: number; accumulate?: boolean }

export function linearDxParams(s: LinearDxShape): Uint32Array {
  return paramWords([s.m, s.n, s.k, s.ldd, s.noff ?? 0, s.doff ?? 0, s.accumulate ? 1 : 0, 0]);
}

export function linearDxDispatch(device: GPUDevice, b: { dout: GPUBuffer; w: GPUBuffer; dx: GPUBuffer; params: GPUBuffer }, m: number, k: number, label = 'linear-dx'): Dispatch {
  const kk = kernel(device, 'linear-dx', LINEAR_DX_WGSL, LINEAR_DX_BINDINGS);
  return { label, pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.dout, b.w, b.dx, b.params], label), grid: () => [Math.ceil(k / 64), m, 1] };
}

/** CPU reference (float64): returns the new dx. w is the chunk (n,K). */
export function linearDxRef(dout: ArrayLike<number>, w: ArrayLike<number>, dx: ArrayLike<number>, s: LinearDxShape): Float64Array {
  const out = s.accumulate ? Float64Array.from(dx) : new Float64Array(s.m * s.k);
  for (let m = 0; m < s.m; m++) for (let n = 0; n < s.n; n++) {
    const d = dout[(s.doff ?? 0) + m * s.ldd + (s.noff ?? 0) + n];
    for (let k = 0; k < s.k; k++) out[m * s.k + k] += d * w[n * s.k + k];
  }
  return out;
}
