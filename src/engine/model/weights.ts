// Expected weight tensors of a decoder (from its description, model/block.ts) and their GPU upload:
// packed f16, split by rows so no buffer exceeds the device's binding and buffer limits.
import type { GpuAllocator } from '../runtime/tracker.ts';
import { describeModel, type TensorSpec } from './block.ts';
import type { HostTensor, ModelConfig } from './types.ts';

export type { TensorSpec };

/** Every tensor the decoder reads, with its expected shape (model/block.ts). */
export function expectedTensors(c: ModelConfig): TensorSpec[] {
  return describeModel(c).tensors;
}

export class WeightError extends Error {
  constructor(readonly tensor: string, detail: string) {
    super(`Tensor "${tensor}": ${detail}`);
    this.name = 'WeightError';
  }
}

/** One row range of a weight in its own GPU buffer. */
export interface WeightChunk { buffer: GPUBuffer; r0: number; rows: number }
export interface GpuWeight { name: string; shape: number[]; chunks: WeightChunk[]; bytes: number }

/** Uploads a packed-f16 tensor, split by rows so each chunk fits `maxBytes`. */
export function uploadWeight(alloc: GpuAllocator, t: HostTensor, maxBytes: number): GpuWeight {
  const rows = t.shape.length === 1 ? 1 : t.shape[0];
  const cols = t.shape.length === 1 ? t.shape[0] : t.shape.slice(1).reduce((a, b) => a * b, 1);
  const total = Math.ceil((rows * cols) / 2) * 4;
  let per = rows;
  if (total > maxBytes) {
    per = Math.floor(maxBytes / (cols * 2));
    if (cols % 2 === 1) per -= per % 2; // chunks start on a word boundary
    if (per < 1) throw new WeightError(t.name, `one row (${cols * 2} bytes) exceeds the device's storage binding limit of ${maxBytes} bytes`);
  }
  const chunks: WeightChunk[] = [];
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const w0 = (r0 * cols) / 2;
    const w1 = Math.ceil(((r0 + n) * cols) / 2);
    const label = chunks.length || r0 + n < rows ? `weights.${t.name}[${r0}:${r0 + n}]` : `weights.${t.name}`;
    chunks.push({ buffer: alloc.upload(label, t.packed.subarray(w0, w1)), r0, rows: n });
  }
  return { name: t.name, shape: t.shape, chunks, bytes: total };
}
