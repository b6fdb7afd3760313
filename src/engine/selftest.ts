// A tiny end-to-end proof that kernels run on this device: add two vectors on the GPU and compare
// with the CPU reference. Used by the worker (device panel) and by the Node kernel tests.
import { addForward, addRef } from './ops/add.ts';
import { allocStorage, readF32, uploadStorage } from './runtime/buffers.ts';

export interface SelfTestResult { n: number; maxAbsError: number; ok: boolean; ms: number }

export async function vectorAddSelfTest(device: GPUDevice, n = 4099): Promise<SelfTestResult> {
  const t0 = performance.now();
  const a = new Float32Array(n).map((_, i) => Math.sin(i));
  const b = new Float32Array(n).map((_, i) => Math.cos(i * 0.5));
  const ga = uploadStorage(device, a);
  const gb = uploadStorage(device, b);
  const gout = allocStorage(device, n * 4);
  const enc = device.createCommandEncoder();
  addForward(device, enc, ga, gb, gout, n);
  device.queue.submit([enc.finish()]);
  const got = await readF32(device, gout, n);
  const ref = addRef(a, b);
  let maxAbsError = 0;
  for (let i = 0; i < n; i++) maxAbsError = Math.max(maxAbsError, Math.abs(got[i] - ref[i]));
  for (const buf of [ga, gb, gout]) buf.destroy();
  return { n, maxAbsError, ok: maxAbsError < 1e-6, ms: performance.now() - t0 };
}
