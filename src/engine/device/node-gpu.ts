// Node entry to WebGPU through npm `webgpu` (Dawn). Only scripts and tests import this file;
// the browser build never does. Needs Vulkan: see scripts/gpu-env.mjs.
import { create, globals } from 'webgpu';
import { requestGpuContext, type GpuContext } from './gpu-context.ts';

// The GPU object must outlive every device made from it: if it is garbage-collected, Dawn's
// AsyncRunner keeps calling InstanceBase::ProcessEvents on the freed instance and the process dies
// (SIGSEGV in RefCounted::AddRef, or glibc's "futex facility returned an unexpected error code").
// Seen here whenever a test blocked the JS thread for >10 ms after creating a device.
let gpu: GPU | undefined;

/** Creates a GpuContext in Node on whatever adapter Dawn finds (SwiftShader on CI). */
export async function nodeGpuContext(): Promise<GpuContext> {
  if (!gpu) {
    Object.assign(globalThis, globals); // GPUBufferUsage, GPUShaderStage, ... as in a browser
    gpu = create([]) as unknown as GPU;
  }
  return requestGpuContext(gpu);
}
