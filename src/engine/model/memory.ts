// GPU memory a model needs, from its config alone (before any weight is downloaded), and the check
// that refuses a model the device cannot hold with a message saying how large it is and what fits.
import { formatBytes } from '../../lib/bytes.ts';
import { defaultKvDtype } from '../ops/kv-store.ts';
import { describeModel } from './block.ts';
import { countParams } from './config.ts';
import { kvCacheBytes as kvBytesAt } from './memory-quant.ts';
import type { ModelConfig } from './types.ts';

export interface MemoryEstimate {
  params: number;
  /** Packed f16 weights (2 bytes per parameter, rounded up per tensor). */
  weightBytes: number;
  /** K and V caches at the engine's default storage (decoder.ts: f16 where head_dim % 4 == 0, else f32):
   *  2 * layers * kvHeads * headDim * context * (2 or 4). */
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
  const block = describeModel(cfg);
  const weightBytes = params * 2;
  // every layer keeps a full-length cache, sliding-window layers too (the engine does not ring-buffer them)
  const kvCacheBytes = kvBytesAt(cfg, contextLength, defaultKvDtype(D));
  const t = Math.min(contextLength, PREFILL_CHUNK);
  // q/k projections before their per-head norms, branch outputs before post norms (block.ts)
  const extra = (block.layers[0]?.qNorm ? (H + KV) * D : 0) + (block.layers[0]?.postAttnNorm ? 2 * C : 0);
  const scratchBytes = t * (4 * C + 3 * F + (H + 2 * KV) * D + H * D + extra) * 4 + 2 * V * 4;
  const largestTensorBytes = Math.max(V * C, C * F, H * D * C) * 2;
  return { params, weightBytes, kvCacheBytes, scratchBytes, totalBytes: weightBytes + kvCacheBytes + scratchBytes, largestTensorBytes, contextLength };
}


/** Students worth suggesting (2026), smallest first, with their f16 weight bytes (2 x the parameter
 *  count of their published config.json: tests/unit/model-archs.test.ts) and what sets them apart. */
export const SUGGESTED_MODELS: readonly { id: string; weightBytes: number; note: string }[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', weightBytes: 269.0e6, note: 'Llama, 135M; for small devices' },
  { id: 'google/gemma-3-270m-it', weightBytes: 536.2e6, note: 'Gemma 3, 268M; 5 of 6 layers attend a 512-token window' },
  { id: 'Qwen/Qwen3-0.6B', weightBytes: 1.192e9, note: 'Qwen3, 596M; thinking mode' },
  { id: 'google/gemma-3-1b-it', weightBytes: 2.000e9, note: 'Gemma 3, 1.0B; 5 of 6 layers attend a 512-token window' },
  { id: 'meta-llama/Llama-3.2-1B-Instruct', weightBytes: 2.472e9, note: 'Llama 3.2, 1.24B; gated on the Hub (needs a token)' },
  { id: 'Qwen/Qwen3-1.7B', weightBytes: 3.441e9, note: 'Qwen3, 1.72B; thinking mode' },
  { id: 'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', weightBytes: 3.554e9, note: 'Qwen2, 1.78B; replies open with <think>' },
  { id: 'HuggingFaceTB/SmolLM3-3B', weightBytes: 6.150e9, note: 'SmolLM3, 3.08B; no RoPE on every 4th layer' },
];

export class ModelTooLargeError extends Error {
  constructor(message: string, readonly estimate: MemoryEstimate) {
    super(message);
    this.name = 'ModelTooLargeError';
  }
}

/** The default memory budget without an adapter: half the device memory the browser reports (Chrome caps it at 8 GB), else 4 GB. */
export function defaultBudgetBytes(deviceMemoryGb?: number): number {
  return deviceMemoryGb && deviceMemoryGb > 0 ? (deviceMemoryGb * 1e9) / 2 : 4e9;
}

/** What the adapter tells about memory (DeviceReport fields). */
export interface AdapterMemoryInfo {
  isFallbackAdapter: boolean;
  /** GPUAdapterInfo.memoryHeaps where the browser exposes them (Chrome with WebGPU developer features). */
  memoryHeaps?: { size: number; properties: number }[];
}

export interface MemoryBudget {
  bytes: number;
  /** One line for the device panel: where the figure comes from. */
  basis: string;
}

/**
 * Process memory per byte of model weights on a software (CPU) adapter (SwiftShader): GPU buffers are
 * CPU memory there, and staging copies and the host tensors come on top. Measured with
 * scripts/measure-load-memory.ts (Qwen2.5-0.5B shapes, 942 MiB f16 in two shards, headless Chromium
 * 156): all Chromium processes' RSS rose by 3.25x the weight bytes at the peak, 3.12x settled.
 */
export const SOFTWARE_MEMORY_FACTOR = 3.25;

const GIB = 2 ** 30;
/** GPUHeapProperty DEVICE_LOCAL. */
const DEVICE_LOCAL = 0x1;

/** The GPU memory budget for an adapter, and why. `deviceMemoryGb`: navigator.deviceMemory. */
export function deviceBudget(adapter: AdapterMemoryInfo, deviceMemoryGb?: number): MemoryBudget {
  const reported = deviceMemoryGb && deviceMemoryGb > 0 ? deviceMemoryGb * GIB : undefined;
  const host = reported ?? 4 * GIB;
  const hostText = reported ? `the ${formatBytes(host)} of memory the browser reports` : `an assumed ${formatBytes(host)} of memory (the browser reports none)`;
  if (adapter.isFallbackAdapter) {
    return {
      bytes: Math.floor(host / 2 / SOFTWARE_MEMORY_FACTOR),
      basis: `software adapter: GPU buffers are CPU memory and the browser's processes use about ${SOFTWARE_MEMORY_FACTOR}x a model's GPU bytes, so half of ${hostText}, divided by ${SOFTWARE_MEMORY_FACTOR}`,
    };
  }
  const local = (adapter.memoryHeaps ?? []).filter((h) => h.properties & DEVICE_LOCAL).reduce((a, h) => Math.max(a, h.size), 0);
  if (local > 0) return { bytes: Math.floor(local * 0.8), basis: `80% of the adapter's ${formatBytes(local)} device-local memory heap` };
  return {
    bytes: Math.floor(host / 2),
    basis: `WebGPU does not report this GPU's memory: half of ${hostText} (browsers cap that figure at 8 GiB; a discrete GPU may hold more)`,
  };
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
