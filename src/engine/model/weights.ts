// Expected weight tensors of a decoder (from its description, model/block.ts) and their GPU upload:
// packed f16, or block-quantized (Q8_0 / Q4_0 in quant.ts's GPU layout, the blocks uploaded as they
// are), split by rows so no buffer exceeds the device's binding and buffer limits. Every kernel that
// reads a weight goes through model/linear.ts, which picks the kernels of the weight's format.
import type { GpuAllocator } from '../runtime/tracker.ts';
import { describeModel, type TensorSpec } from './block.ts';
import type { WeightPrecision } from './memory-quant.ts';
import { quantBytes, quantChunkWords, quantRowChunks } from './quant.ts';
import type { HostTensor, ModelConfig } from './types.ts';

export type { TensorSpec, WeightPrecision };

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
export interface GpuWeight {
  name: string;
  shape: number[];
  /** f16: packed halves; q8_0 / q4_0: each chunk in quant.ts's GPU layout (blocks never cross chunks). */
  format: WeightPrecision;
  chunks: WeightChunk[];
  bytes: number;
}

/** Uploads a host tensor (packed f16 or quantized), split by rows so each chunk fits `maxBytes`. */
export function uploadWeight(alloc: GpuAllocator, t: HostTensor, maxBytes: number): GpuWeight {
  if (t.quant) return uploadQuant(alloc, t, maxBytes);
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
  return { name: t.name, shape: t.shape, format: 'f16', chunks, bytes: total };
}

function uploadQuant(alloc: GpuAllocator, t: HostTensor, maxBytes: number): GpuWeight {
  const { format } = t.quant!;
  if (t.shape.length !== 2) throw new WeightError(t.name, `a ${format} tensor must be 2-D, got [${t.shape.join(', ')}]`);
  const [rows, k] = t.shape;
  let ranges: Array<{ r0: number; rows: number }>;
  try {
    ranges = quantRowChunks(format, rows, k, maxBytes, t.name);
  } catch (e) {
    throw new WeightError(t.name, (e as Error).message);
  }
  const chunks: WeightChunk[] = [];
  let bytes = 0;
  for (const r of ranges) {
    const label = ranges.length > 1 ? `weights.${t.name}[${r.r0}:${r.r0 + r.rows}]` : `weights.${t.name}`;
    let words: Uint32Array;
    try {
      words = quantChunkWords(t, r.r0, r.rows);
    } catch (e) {
      throw new WeightError(t.name, (e as Error).message);
    }
    chunks.push({ buffer: alloc.upload(label, words), r0: r.r0, rows: r.rows });
    bytes += quantBytes(format, r.rows, k);
  }
  return { name: t.name, shape: t.shape, format, chunks, bytes };
}
