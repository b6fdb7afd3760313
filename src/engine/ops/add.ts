// Residual add: out = a + b, elementwise.
// forward:  a (N), b (N) -> out (N)
// backward: dout (N) -> da = dout, db = dout (identity; no kernel needed, the caller aliases dout)
import { BufferUsage } from '../runtime/buffers.ts';

export const ADD_WGSL = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // 2-D grid so N may exceed 65535 * 256 without a second dispatch.
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < params.n) { out[i] = a[i] + b[i]; }
}`;

/** CPU reference in float64. a (N), b (N) -> (N) */
export function addRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let p = pipelines.get(device);
  if (!p) {
    p = device.createComputePipeline({
      label: 'add',
      layout: 'auto',
      compute: { module: device.createShaderModule({ label: 'add', code: ADD_WGSL }), entryPoint: 'main' },
    });
    pipelines.set(device, p);
  }
  return p;
}

/** Records out (N) = a (N) + b (N) into `enc`. */
export function addForward(device: GPUDevice, enc: GPUCommandEncoder, a: GPUBuffer, b: GPUBuffer, out: GPUBuffer, n: number): void {
  const params = device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, new Uint32Array([n, 0, 0, 0]));
  const pipeline = pipelineFor(device);
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [a, b, out, params].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = Math.ceil(n / 256);
  const x = Math.min(groups, 65535);
  const pass = enc.beginComputePass({ label: 'add' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(x, Math.ceil(groups / x));
  pass.end();
}
