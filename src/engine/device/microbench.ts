// Device microbenchmarks for the engine benchmark: arithmetic peak (independent FMA chains, no
// memory traffic) and copy bandwidth (copyBufferToBuffer and a vec4 copy kernel), so kernel
// figures can be read against what this device can do at all.
import type { GpuContext } from './gpu-context.ts';

const FMA_WGSL = /* wgsl */ `
struct P { iters: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var a = vec4<f32>(f32(g.x) * 1e-9, 1.0, 2.0, 3.0);
  var b = a + 0.5; var c = a + 0.25; var d = a + 0.125;
  let m = vec4<f32>(0.9999); let k = vec4<f32>(1e-5);
  for (var i = 0u; i < p.iters; i++) { a = fma(a, m, k); b = fma(b, m, k); c = fma(c, m, k); d = fma(d, m, k); }
  out[g.x] = a + b + c + d;
}`;

const COPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = g.x + g.y * n.x * 256u;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}`;

async function timeSubmit(device: GPUDevice, record: (enc: GPUCommandEncoder) => void, reps: number): Promise<number> {
  const run = async (n: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) record(enc);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run(1);
  const t0 = performance.now();
  await run(reps);
  return (performance.now() - t0) / reps;
}

/** Peak f32 GFLOP/s (2 flops per FMA lane). */
export async function measurePeakGflops(ctx: GpuContext, threads = 64 * 256, iters = 2048): Promise<number> {
  const { device } = ctx;
  const out = device.createBuffer({ size: threads * 16, usage: GPUBufferUsage.STORAGE });
  const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, new Uint32Array([iters, 0, 0, 0]));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: FMA_WGSL }), entryPoint: 'main' } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: params } }] });
  const ms = await timeSubmit(device, (enc) => {
    const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, bind); pass.dispatchWorkgroups(threads / 64); pass.end();
  }, 3);
  out.destroy(); params.destroy();
  return (threads * iters * 4 * 4 * 2) / (ms * 1e6);
}

/** Copy bandwidth in GB/s (bytes read + written), best of copyBufferToBuffer and a vec4 kernel. */
export async function measureCopyBandwidth(ctx: GpuContext, bytes = 64 << 20): Promise<{ copyBufferGBs: number; kernelGBs: number; best: number }> {
  const { device } = ctx;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const a = device.createBuffer({ size: bytes, usage });
  const b = device.createBuffer({ size: bytes, usage });
  const ms1 = await timeSubmit(device, (enc) => enc.copyBufferToBuffer(a, 0, b, 0, bytes), 5);
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: COPY_WGSL }), entryPoint: 'main' } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a } }, { binding: 1, resource: { buffer: b } }] });
  const groups = bytes / 16 / 256;
  const x = Math.min(groups, 65535);
  const ms2 = await timeSubmit(device, (enc) => {
    const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, bind); pass.dispatchWorkgroups(x, Math.ceil(groups / x)); pass.end();
  }, 5);
  a.destroy(); b.destroy();
  const copyBufferGBs = (2 * bytes) / (ms1 * 1e6);
  const kernelGBs = (2 * bytes) / (ms2 * 1e6);
  return { copyBufferGBs, kernelGBs, best: Math.max(copyBufferGBs, kernelGBs) };
}
