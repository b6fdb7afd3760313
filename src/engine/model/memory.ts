// GPU memory a model needs, from its config alone (before any weight is downloaded), and the check
// that refuses a model the device cannot hold with a message saying how large it is and what fits.
import { countParams } from './config.ts';
import type { ModelConfig } from './types.ts';

export interface MemoryEstimate {
  params: number;
  /** Packed f16 weights (2 bytes per parameter, rounded up per tensor). */
  weightBytes: number;
  /** K and V caches in f32: 2 * layers * kvHeads * headDim * context * 4. */
  kvCacheBytes: number;
  /** Working buffers for a prefill chunk and the logits (an upper-side estimate). */
  scratchBytes: number;
  totalBytes: number;
  /** The largest single weight (the engine splits big ones by rows across buffers). */
  largestTensorBytes: number;
  contextLength: number;
}

export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

const PREFILL_CHUNK = 512;

export function estimateGpuBytes(cfg: ModelConfig, contextLength: number): MemoryEstimate {
  const params = countParams(cfg);
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: KV, headDim: D, vocabSize: V } = cfg;
  const weightBytes = params * 2;
  const kvCacheBytes = 2 * cfg.numLayers * KV * D * contextLength * 4;
  const t = Math.min(contextLength, PREFILL_CHUNK);
  const scratchBytes = t * (4 * C + 3 * F + (H + 2 * KV) * D + H * D) * 4 + 2 * V * 4;
  const largestTensorBytes = Math.max(V * C, C * F, H * D * C) * 2;
  return { params, weightBytes, kvCacheBytes, scratchBytes, totalBytes: weightBytes + kvCacheBytes + scratchBytes, largestTensorBytes, contextLength };
}

/** Human-readable bytes: "1.9 GB", "312 MB", "40 KB". */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} KB`;
  return `${n} B`;
}

/** Models worth suggesting, smallest first, with their f16 weight bytes. */
export const SUGGESTED_MODELS: readonly { id: string; weightBytes: number }[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', weightBytes: 269e6 },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', weightBytes: 724e6 },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', weightBytes: 988e6 },
  { id: 'Qwen/Qwen2.5-1.5B-Instruct', weightBytes: 3.09e9 },
];

export class ModelTooLargeError extends Error {
  constructor(message: string, readonly estimate: MemoryEstimate) {
    super(message);
    this.name = 'ModelTooLargeError';
  }
}

/** The default memory budget: half the device memory the browser reports (Chrome caps it at 8 GB), else 4 GB. */
export function defaultBudgetBytes(deviceMemoryGb?: number): number {
  return deviceMemoryGb && deviceMemoryGb > 0 ? (deviceMemoryGb * 1e9) / 2 : 4e9;
}

/**
 * Throws ModelTooLargeError when `est` exceeds the budget: the message states the need, the budget
 * and per-buffer limit, the longest context that would fit (if the weights fit), and a smaller model.
 */
export function checkFits(name: string, cfg: ModelConfig, est: MemoryEstimate, limits: DeviceLimits, budgetBytes: number): void {
  // One row of every weight must fit a binding: the engine splits weights by rows, never within one.
  const rowBytes = Math.max(cfg.hiddenSize, cfg.intermediateSize) * 2;
  if (rowBytes > limits.maxStorageBufferBindingSize) {
    throw new ModelTooLargeError(`${name}: one weight row is ${formatBytes(rowBytes)}, more than this device's ${formatBytes(limits.maxStorageBufferBindingSize)} per binding`, est);
  }
  if (est.totalBytes <= budgetBytes) return;
  const perBuffer = `up to ${formatBytes(Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize))} per buffer`;
  let msg = `${name} needs ${formatBytes(est.totalBytes)} of GPU memory (weights ${formatBytes(est.weightBytes)}, KV cache ${formatBytes(est.kvCacheBytes)} at ${est.contextLength} tokens); this device allows ~${formatBytes(budgetBytes)} (${perBuffer})`;
  const kvPerToken = est.kvCacheBytes / est.contextLength;
  const spare = budgetBytes - est.weightBytes - est.scratchBytes;
  const fitsCtx = Math.floor(spare / kvPerToken / 256) * 256;
  if (fitsCtx >= 256) msg += `; a context of ${fitsCtx} tokens would fit`;
  const smaller = [...SUGGESTED_MODELS].reverse().find((m) => m.weightBytes * 1.15 < budgetBytes && m.weightBytes < est.weightBytes);
  if (smaller) msg += `; try ${smaller.id} (${formatBytes(smaller.weightBytes)} of weights)`;
  throw new ModelTooLargeError(msg, est);
}
