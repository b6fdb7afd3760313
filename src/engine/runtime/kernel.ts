// Pipelines with explicit bind-group layouts, cached per device and source, so kernels that share
// a binding interface (e.g. every matmul variant) can share one bind group, and bind groups made
// once at load are reused every step.

export type BindingKind = 'read' | 'rw' | 'uniform';

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const layoutCache = new WeakMap<GPUDevice, Map<string, GPUBindGroupLayout>>();
const kernelCache = new WeakMap<GPUDevice, Map<string, Kernel>>();

export function bindLayout(device: GPUDevice, kinds: readonly BindingKind[]): GPUBindGroupLayout {
  let m = layoutCache.get(device);
  if (!m) layoutCache.set(device, (m = new Map()));
  const key = kinds.join(',');
  let l = m.get(key);
  if (!l) {
    l = device.createBindGroupLayout({
      label: key,
      entries: kinds.map((k, binding) => ({
        binding,
        visibility: 4, // GPUShaderStage.COMPUTE
        buffer: { type: k === 'uniform' ? 'uniform' : k === 'rw' ? 'storage' : 'read-only-storage' },
      })),
    });
    m.set(key, l);
  }
  return l;
}

/** A compute pipeline for `code` (entry `main`) whose bindings are `kinds` in group 0. Cached. */
export function kernel(device: GPUDevice, label: string, code: string, kinds: readonly BindingKind[]): Kernel {
  let m = kernelCache.get(device);
  if (!m) kernelCache.set(device, (m = new Map()));
  const key = `${kinds.join(',')}\n${code}`;
  let k = m.get(key);
  if (!k) {
    const layout = bindLayout(device, kinds);
    const pipeline = device.createComputePipeline({
      label,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: device.createShaderModule({ label, code }), entryPoint: 'main' },
    });
    k = { pipeline, layout };
    m.set(key, k);
  }
  return k;
}

/** A bind group of whole buffers, or of ranges ({ buffer, offset, size }: offset a multiple of
 *  minStorageBufferOffsetAlignment) for kernels that work on a chunk of rows of a larger buffer. */
export function bindGroup(device: GPUDevice, k: Kernel, buffers: ReadonlyArray<GPUBuffer | GPUBufferBinding>, label?: string): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: k.layout,
    entries: buffers.map((b, binding) => ({ binding, resource: isRange(b) ? b : { buffer: b } })),
  });
}

function isRange(b: GPUBuffer | GPUBufferBinding): b is GPUBufferBinding {
  return typeof (b as GPUBufferBinding).buffer === 'object' && (b as GPUBufferBinding).buffer !== null;
}

/** One recorded dispatch: a pipeline, its bind group and a grid that may depend on the step's token count. */
export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  grid: (t: number) => [number, number, number];
}

/** Encodes dispatches into one compute pass. */
export function encodeDispatches(enc: GPUCommandEncoder, list: readonly Dispatch[], t: number, label = 'step'): void {
  const pass = enc.beginComputePass({ label });
  for (const d of list) {
    const [x, y, z] = d.grid(t);
    if (x === 0 || y === 0 || z === 0) continue;
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bind);
    pass.dispatchWorkgroups(x, y, z);
  }
  pass.end();
}

/** Splits `groups` workgroups over x and y so neither exceeds 65535. */
export function grid2(groups: number): [number, number, number] {
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** The per-step uniform shared by kernels: t = tokens in this step, pos = position of the first. */
export const STEP_WGSL = `struct Step { t: u32, pos: u32, s0: u32, s1: u32 }`;

/** Uniform with u32/f32 fields in a 16-byte multiple. */
export function paramWords(values: ReadonlyArray<number | { f: number }>): Uint32Array {
  const n = Math.max(4, Math.ceil(values.length / 4) * 4);
  const out = new Uint32Array(n);
  const f = new Float32Array(out.buffer);
  values.forEach((v, i) => { if (typeof v === 'number') out[i] = v >>> 0; else f[i] = v.f; });
  return out;
}
