// Buffer helpers shared by every op: upload, allocate, read back.

/** GPUBufferUsage flags by name (inlined so this file loads where the WebGPU globals do not exist yet, e.g. Node before npm `webgpu`). */
export const BufferUsage = { MAP_READ: 0x01, COPY_SRC: 0x04, COPY_DST: 0x08, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const { STORAGE, COPY_SRC, COPY_DST, MAP_READ } = BufferUsage;

/** A storage buffer holding `data` (f32 / u32 / i32 words). */
export function uploadStorage(device: GPUDevice, data: Float32Array | Uint32Array | Int32Array, label?: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const buf = device.createBuffer({ label, size, usage: STORAGE | COPY_SRC | COPY_DST, mappedAtCreation: true });
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buf.unmap();
  return buf;
}

/** An uninitialised (zeroed) storage buffer of `bytes` bytes. */
export function allocStorage(device: GPUDevice, bytes: number, label?: string): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: STORAGE | COPY_SRC | COPY_DST });
}

/** Copies `bytes` bytes of `src` back to the CPU. One mapAsync: never call this inside a layer loop. */
export async function readBack(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, src: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await readBack(device, src, n * 4));
}
