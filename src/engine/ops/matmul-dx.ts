// Input gradient of a linear layer with a frozen packed-f16 weight (forward: matmul.ts), for a
// weight split in row chunks: each chunk adds its share, reading dout columns noff..noff+n.
//   dx (M,K) (= or +=) dout[:, noff:noff+n] · W (n,K)      dout row stride ldd, element offset doff
// Two kernels, one reference (linearDxRef / matmulDxRef):
//   generic  any K; one thread per dx element, m rows fixed in the params
//   tiled    K % 4 == 0; 4x4 dx elements per thread (vec2<u32> = 4 halves of W per load), rows from
//            the step uniform when m = 0 (a training pass sized for R rows running t <= R of them)
import { STEP_WGSL, type BindingKind, type Dispatch, bindGroup, kernel, paramWords } from '../runtime/kernel.ts';

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

/** dout, W, dx, params, step */
export const LINEAR_DX_TILED_BINDINGS: readonly BindingKind[] = ['read', 'read', 'rw', 'uniform', 'uniform'];

export const LINEAR_DX_TILED_WGSL = /* wgsl */ `
${STEP_WGSL}
struct P { m: u32, n: u32, k: u32, ldd: u32, noff: u32, doff: u32, acc: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> D: array<f32>;
@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> DX: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: P;
@group(0) @binding(4) var<uniform> step: Step;
@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let M = select(step.t, p.m, p.m != 0u);
  let k4 = g.x; let m0 = g.y * 4u;
  let kw = p.k / 4u;
  if (k4 >= kw || m0 >= M) { return; }
  var dr: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { dr[i] = p.doff + min(m0 + i, M - 1u) * p.ldd + p.noff; }
  var acc: array<vec4<f32>, 4>;
  for (var n = 0u; n < p.n; n++) {
    let wv = W[n * kw + k4];
    let w = vec4<f32>(unpack2x16float(wv.x), unpack2x16float(wv.y));
    acc[0] += D[dr[0] + n] * w; acc[1] += D[dr[1] + n] * w;
    acc[2] += D[dr[2] + n] * w; acc[3] += D[dr[3] + n] * w;
  }
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= M) { break; }
    let o = (m0 + i) * kw + k4;
    var r = acc[i];
    if (p.acc != 0u) { r += DX[o]; }
    DX[o] = r;
  }
}`;

/** Tiled dx over rows rowsOf(t) (t = the step's rows); K % 4 == 0. dout and dx may be buffer ranges (bindGroup). */
export function linearDxTiledDispatch(device: GPUDevice, b: { dout: GPUBuffer | GPUBufferBinding; w: GPUBuffer; dx: GPUBuffer | GPUBufferBinding; params: GPUBuffer; step: GPUBuffer }, k: number, rowsOf: (t: number) => number, label = 'linear-dx'): Dispatch {
  if (k % 4 !== 0) throw new Error(`tiled linear dx: K = ${k} is not a multiple of 4`);
  const kk = kernel(device, 'linear-dx-tiled', LINEAR_DX_TILED_WGSL, LINEAR_DX_TILED_BINDINGS);
  return { label, pipeline: kk.pipeline, bind: bindGroup(device, kk, [b.dout, b.w, b.dx, b.params, b.step], label), grid: (t) => [Math.ceil(k / 64), Math.ceil(rowsOf(t) / 16), 1] };
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
