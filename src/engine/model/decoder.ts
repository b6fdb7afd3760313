// The decoder on our WGSL kernels: weights upload as they stream in (checked against the model's
// description, block.ts); sessions own a KV cache allocated once for their maximum length and replay
// pre-built dispatch lists. The layer stack lives in batch-session.ts; a single-sequence session is
// one slot of a batch session.
import { type DecodeVariant, defaultDecodeVariant, defaultMatmulVariant, defaultSampleWorkgroup, type PrefillVariant } from '../device/kernel-choice.ts';
import type { GpuContext } from '../device/gpu-context.ts';
import type { DecodeSession, SampledToken, SamplingOptions } from '../generation/types.ts';
import type { KvDtype } from '../ops/attention.ts';
import { defaultKvDtype, kvElementBytes } from '../ops/kv-store.ts';
import { GpuAllocator } from '../runtime/tracker.ts';
import { WebGpuBatchSession } from './batch-session.ts';
import { type ModelBlock, describeModel } from './block.ts';
import type { HostTensor, ModelConfig } from './types.ts';
import { type GpuWeight, WeightError, uploadWeight } from './weights.ts';

export interface DecoderOptions {
  /** Matmul kernel for prefill (T > 1). Default: by adapter kind (see device/kernel-choice.ts). */
  matmul?: PrefillVariant;
  /** Matrix-vector kernel for decode (T = 1). Default: by adapter kind. */
  decode?: DecodeVariant;
  /** Threads of the sampling workgroup (power of two, 32..256). Default: by adapter kind. */
  sampleWorkgroup?: number;
  /** Tokens per prefill chunk (activation buffers are sized for this). Default 128. */
  prefillChunk?: number;
  /** Largest weight buffer; default the device's storage binding / buffer limit (tests lower it to
   *  exercise row-split weights). */
  maxBindingBytes?: number;
  /** Batched decoding with thread-per-row attention and norms. Default: on fallback adapters. */
  barrierFree?: boolean;
  /** KV-cache storage: 'f16' (packed halves, half the bytes; f32 accumulation in attention) or 'f32'.
   *  Default f16 where head_dim % 4 == 0 (ops/kv-store.ts defaultKvDtype). */
  kvCache?: KvDtype;
}

export interface Decoder {
  readonly config: ModelConfig;
  /** The model's description (block.ts): what every walker of the layer stack reads. */
  readonly block: ModelBlock;
  /** Parameter count of the uploaded weights. */
  readonly params: number;
  /** Bytes of weights on the GPU. */
  readonly weightBytes: number;
  /** Live GPU bytes of this decoder and its open sessions (allocation tracker). */
  readonly gpuBytes: number;
  readonly matmulVariant: PrefillVariant;
  readonly decodeVariant: DecodeVariant;
  /** KV-cache storage of its sessions. */
  readonly kvDtype: KvDtype;
  /** Tensor names in the stream that the decoder does not use (e.g. rotary inv_freq). */
  readonly ignoredTensors: string[];
  newSession(maxLength: number): WebGpuSession;
  /** A KV cache for `slots` sequences of up to `maxLength` tokens each, decoded together (batch-session.ts). */
  newBatchSession(slots: number, maxLength: number): WebGpuBatchSession;
  /** An uploaded weight by Hugging Face name (for training passes that reuse the frozen weights). */
  weight(name: string): GpuWeight | undefined;
  /** KV-cache bytes a session of `maxLength` tokens allocates (a batch session: slots times this). */
  kvBytes(maxLength: number): number;
  dispose(): void;
}

export async function createDecoder(
  ctx: GpuContext, config: ModelConfig, tensors: AsyncIterable<HostTensor> | Iterable<HostTensor>,
  onUploaded?: (bytes: number) => void, options: DecoderOptions = {},
): Promise<Decoder> {
  const { device } = ctx;
  const alloc = new GpuAllocator(device);
  const limit = Math.min(options.maxBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const block = describeModel(config);
  const specs = new Map(block.tensors.map((s) => [s.name, s]));
  const weights = new Map<string, GpuWeight>();
  const ignored: string[] = [];
  let uploaded = 0;
  let params = 0;
  try {
    for await (const t of tensors) {
      const spec = specs.get(t.name);
      if (!spec) { ignored.push(t.name); continue; }
      if (t.shape.length !== spec.shape.length || t.shape.some((v, i) => v !== spec.shape[i])) {
        throw new WeightError(t.name, `expected shape [${spec.shape.join(', ')}], got [${t.shape.join(', ')}] (config: hidden ${config.hiddenSize}, heads ${config.numHeads}/${config.numKvHeads}, head_dim ${config.headDim}, ffn ${config.intermediateSize}, vocab ${config.vocabSize})`);
      }
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (!t.quant && t.packed.length < Math.ceil(n / 2)) throw new WeightError(t.name, `has ${t.packed.length} packed words, needs ${Math.ceil(n / 2)}`);
      if (weights.has(t.name)) throw new WeightError(t.name, 'appears twice');
      const w = uploadWeight(alloc, t, limit);
      weights.set(t.name, w);
      params += n;
      uploaded += w.bytes;
      onUploaded?.(uploaded);
    }
    const missing = [...specs.values()].filter((s) => !s.optional && !weights.has(s.name)).map((s) => s.name);
    if (missing.length) {
      throw new WeightError(missing[0], `is missing from the weights${missing.length > 1 ? ` (and ${missing.length - 1} more: ${missing.slice(1, 4).join(', ')}${missing.length > 4 ? ', ...' : ''})` : ''}`);
    }
  } catch (e) {
    alloc.destroyAll();
    throw e;
  }
  return new WebGpuDecoder(ctx, config, block, alloc, weights, params, uploaded, ignored, options);
}

class WebGpuDecoder implements Decoder {
  readonly matmulVariant: PrefillVariant;
  readonly decodeVariant: DecodeVariant;
  readonly sampleWorkgroup: number;
  readonly prefillChunk: number;
  readonly dummy: GPUBuffer;
  /** Batched decoding's attention and norms one thread per row (barriers cost ~100x on SwiftShader). */
  readonly barrierFree: boolean;
  readonly kvDtype: KvDtype;
  private sessions = new Set<{ dispose(): void }>();
  private disposed = false;

  constructor(
    readonly ctx: GpuContext, readonly config: ModelConfig, readonly block: ModelBlock, readonly alloc: GpuAllocator,
    readonly weights: Map<string, GpuWeight>, readonly params: number, readonly weightBytes: number,
    readonly ignoredTensors: string[], options: DecoderOptions,
  ) {
    this.matmulVariant = options.matmul ?? defaultMatmulVariant(ctx);
    this.decodeVariant = options.decode ?? defaultDecodeVariant(ctx);
    this.sampleWorkgroup = options.sampleWorkgroup ?? defaultSampleWorkgroup(ctx);
    this.prefillChunk = options.prefillChunk ?? 128;
    this.dummy = alloc.storage('dummy', 16);
    this.barrierFree = options.barrierFree ?? ctx.report.isFallbackAdapter;
    this.kvDtype = options.kvCache ?? defaultKvDtype(config.headDim);
    if (this.kvDtype === 'f16' && config.headDim % 4 !== 0) throw new Error(`An f16 KV cache needs head_dim % 4 == 0 (this model: ${config.headDim}); use kvCache: 'f32'`);
  }

  get gpuBytes(): number { return this.alloc.liveBytes; }

  kvBytes(maxLength: number): number {
    const c = this.config;
    return 2 * c.numLayers * maxLength * c.numKvHeads * c.headDim * kvElementBytes(this.kvDtype);
  }

  weight(name: string): GpuWeight | undefined { return this.weights.get(name); }

  newSession(maxLength: number): WebGpuSession {
    if (this.disposed) throw new Error('The decoder was disposed');
    const c = this.config;
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
    const el = kvElementBytes(this.kvDtype);
    const perLayer = maxLength * c.numKvHeads * c.headDim * el;
    const limit = this.ctx.device.limits.maxStorageBufferBindingSize;
    if (perLayer > limit) {
      throw new Error(`A KV cache of ${maxLength} tokens needs ${perLayer} bytes per layer, over this device's storage binding limit of ${limit} bytes; at most ${Math.floor(limit / (c.numKvHeads * c.headDim * el))} tokens fit`);
    }
    return new WebGpuSession(this.newBatchSession(1, maxLength));
  }

  newBatchSession(slots: number, maxLength: number): WebGpuBatchSession {
    if (this.disposed) throw new Error('The decoder was disposed');
    const c = this.config;
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`slots must be a positive integer, got ${slots}`);
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
    const el = kvElementBytes(this.kvDtype);
    const perLayer = slots * maxLength * c.numKvHeads * c.headDim * el;
    const limit = this.ctx.device.limits.maxStorageBufferBindingSize;
    if (perLayer > limit) {
      throw new Error(`A KV cache of ${slots} x ${maxLength} tokens needs ${perLayer} bytes per layer, over this device's storage binding limit of ${limit} bytes; at most ${Math.floor(limit / (maxLength * c.numKvHeads * c.headDim * el))} slots of ${maxLength} tokens fit`);
    }
    const s = new WebGpuBatchSession(this, slots, maxLength, () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  dispose(): void {
    for (const s of [...this.sessions]) s.dispose();
    this.alloc.destroyAll();
    this.disposed = true;
  }
}

/** A single-sequence KV-cache session: one slot of a batch session (batch-session.ts), so one layer
 *  stack serves both. Implements DecodeSession; `logits()` (all positions) is for tests and scoring. */
export class WebGpuSession implements DecodeSession {
  constructor(readonly batch: WebGpuBatchSession) {}

  get maxLength(): number { return this.batch.maxLength; }
  get length(): number { return this.batch.length(0); }

  async feed(ids: readonly number[], opts: SamplingOptions): Promise<SampledToken> {
    if (ids.length === 0) throw new Error('feed() needs at least one token');
    return (await this.batch.feed([{ slot: 0, ids, opts }]))[0];
  }

  /** Appends ids and returns the logits at every one of their positions, (T, V) row-major. */
  logits(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0) throw new Error('feed() needs at least one token');
    return this.batch.logits(0, ids);
  }

  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) throw new Error(`truncate(${length}): the session holds ${this.length} tokens`);
    this.batch.truncate(0, length);
  }

  dispose(): void { this.batch.dispose(); }
}
