// GPU memory of each backend in one page: ONNX Runtime keeps its own GPUDevice and reports no bytes,
// so every GPUDevice.createBuffer / GPUBuffer.destroy is counted, charged to the backend whose
// phase is current when the buffer is made. Live bytes include pooled buffers: what a backend holds.

interface Phase { live: number; peak: number }

const phases = new Map<string, Phase>();
const owner = new WeakMap<GPUBuffer, { phase: Phase; size: number }>();
let current: Phase | undefined;

/** Patches the prototypes once; buffers made while no phase is set are not counted. */
export function installGpuBufferCounter(): void {
  const proto = GPUDevice.prototype as GPUDevice & { __rbCounted?: boolean };
  if (proto.__rbCounted) return;
  proto.__rbCounted = true;
  const create = proto.createBuffer;
  proto.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor): GPUBuffer {
    const buf = create.call(this, desc);
    if (current) {
      owner.set(buf, { phase: current, size: desc.size });
      current.live += desc.size;
      current.peak = Math.max(current.peak, current.live);
    }
    return buf;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer): undefined {
    const o = owner.get(this);
    if (o) {
      o.phase.live -= o.size;
      owner.delete(this);
    }
    return destroy.call(this);
  };
}

/** Charges buffers created from now on to `name`. */
export function gpuPhase(name: string): void {
  if (!phases.has(name)) phases.set(name, { live: 0, peak: 0 });
  current = phases.get(name);
}

/** Peak live bytes of `name`; undefined when it created no buffer (a CPU backend). */
export function gpuPeakBytes(name: string): number | undefined {
  const p = phases.get(name);
  return p && p.peak > 0 ? p.peak : undefined;
}
