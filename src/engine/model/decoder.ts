// Qwen2 / Llama decoder on our WGSL kernels. Weights upload as they stream in; a session owns a KV
// cache allocated once for its maximum length and replays pre-built dispatch lists:
//   x = embed(ids)                                         (T,C)
//   per layer: h = rmsnorm(x); q,k,v = h·Wᵀ + b (k, v written straight into the cache rows pos..)
//              rope(q), rope(k in cache); a = attention(q, K, V); x += a·Woᵀ
//              h = rmsnorm(x); x += (silu(h·Wgᵀ) · h·Wuᵀ)·Wdᵀ
//   decode tail: rmsnorm(x[T-1]) -> logits (V) = lm_head · h -> on-GPU sample summary
// One command encoder and one compute pass per step (per prefill chunk), one small readback at the end.
import { type DecodeVariant, defaultDecodeVariant, defaultMatmulVariant, defaultSampleWorkgroup, type PrefillVariant } from '../device/kernel-choice.ts';
import type { GpuContext } from '../device/gpu-context.ts';
import type { DecodeSession, SampledToken, SamplingOptions } from '../generation/types.ts';
import { attentionDispatch, attentionParams } from '../ops/attention.ts';
import { attentionCacheRowsDispatch, attentionPackedParams } from '../ops/attention-packed.ts';
import { embeddingDispatch, embeddingParams } from '../ops/embedding.ts';
import { FLAG_ACCUMULATE, FLAG_BIAS, FLAG_ROWS_AT_POS, type MatmulVariant, matmulDispatch, matmulParams, variantFits } from '../ops/matmul.ts';
import { rmsnormDispatch, rmsnormParams, rmsnormRowsDispatch } from '../ops/rmsnorm.ts';
import { ropeDispatch, ropeParams, ropeTable } from '../ops/rope.ts';
import { MAX_SUPPRESS, MAX_TOP_K, decodeSample, sampleDispatch, sampleOutWords, sampleParams } from '../ops/sample.ts';
import { swigluDispatch, swigluParams } from '../ops/swiglu.ts';
import { type Dispatch, encodeDispatches } from '../runtime/kernel.ts';
import { GpuAllocator } from '../runtime/tracker.ts';
import { WebGpuBatchSession } from './batch-session.ts';
import type { HostTensor, ModelConfig } from './types.ts';
import { type GpuWeight, WeightError, expectedTensors, uploadWeight } from './weights.ts';

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
}

export interface Decoder {
  readonly config: ModelConfig;
  /** Parameter count of the uploaded weights. */
  readonly params: number;
  /** Bytes of weights on the GPU. */
  readonly weightBytes: number;
  /** Live GPU bytes of this decoder and its open sessions (allocation tracker). */
  readonly gpuBytes: number;
  readonly matmulVariant: PrefillVariant;
  readonly decodeVariant: DecodeVariant;
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

const UNIFORM = 0x40 | 0x08;

export async function createDecoder(
  ctx: GpuContext, config: ModelConfig, tensors: AsyncIterable<HostTensor> | Iterable<HostTensor>,
  onUploaded?: (bytes: number) => void, options: DecoderOptions = {},
): Promise<Decoder> {
  const { device } = ctx;
  const alloc = new GpuAllocator(device);
  const limit = Math.min(options.maxBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const specs = new Map(expectedTensors(config).map((s) => [s.name, s]));
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
      if (t.packed.length < Math.ceil(n / 2)) throw new WeightError(t.name, `has ${t.packed.length} packed words, needs ${Math.ceil(n / 2)}`);
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
  return new WebGpuDecoder(ctx, config, alloc, weights, params, uploaded, ignored, options);
}

class WebGpuDecoder implements Decoder {
  readonly matmulVariant: PrefillVariant;
  readonly decodeVariant: DecodeVariant;
  readonly sampleWorkgroup: number;
  readonly prefillChunk: number;
  readonly dummy: GPUBuffer;
  /** Batched decoding's attention and norms one thread per row (barriers cost ~100x on SwiftShader). */
  readonly barrierFree: boolean;
  private sessions = new Set<{ dispose(): void }>();
  private disposed = false;

  constructor(
    readonly ctx: GpuContext, readonly config: ModelConfig, readonly alloc: GpuAllocator,
    readonly weights: Map<string, GpuWeight>, readonly params: number, readonly weightBytes: number,
    readonly ignoredTensors: string[], options: DecoderOptions,
  ) {
    this.matmulVariant = options.matmul ?? defaultMatmulVariant(ctx);
    this.decodeVariant = options.decode ?? defaultDecodeVariant(ctx);
    this.sampleWorkgroup = options.sampleWorkgroup ?? defaultSampleWorkgroup(ctx);
    this.prefillChunk = options.prefillChunk ?? 128;
    this.dummy = alloc.storage('dummy', 16);
    this.barrierFree = options.barrierFree ?? ctx.report.isFallbackAdapter;
  }

  get gpuBytes(): number { return this.alloc.liveBytes; }

  kvBytes(maxLength: number): number {
    const c = this.config;
    return 2 * c.numLayers * maxLength * c.numKvHeads * c.headDim * 4;
  }

  weight(name: string): GpuWeight | undefined { return this.weights.get(name); }

  newSession(maxLength: number): WebGpuSession {
    if (this.disposed) throw new Error('The decoder was disposed');
    const c = this.config;
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
    const perLayer = maxLength * c.numKvHeads * c.headDim * 4;
    const limit = this.ctx.device.limits.maxStorageBufferBindingSize;
    if (perLayer > limit) {
      throw new Error(`A KV cache of ${maxLength} tokens needs ${perLayer} bytes per layer, over this device's storage binding limit of ${limit} bytes; at most ${Math.floor(limit / (c.numKvHeads * c.headDim * 4))} tokens fit`);
    }
    const s = new WebGpuSession(this, maxLength, () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  newBatchSession(slots: number, maxLength: number): WebGpuBatchSession {
    if (this.disposed) throw new Error('The decoder was disposed');
    const c = this.config;
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`slots must be a positive integer, got ${slots}`);
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
    const perLayer = slots * maxLength * c.numKvHeads * c.headDim * 4;
    const limit = this.ctx.device.limits.maxStorageBufferBindingSize;
    if (perLayer > limit) {
      throw new Error(`A KV cache of ${slots} x ${maxLength} tokens needs ${perLayer} bytes per layer, over this device's storage binding limit of ${limit} bytes; at most ${Math.floor(limit / (maxLength * c.numKvHeads * c.headDim * 4))} slots of ${maxLength} tokens fit`);
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

type StepKind = 'decode' | 'prefill';

/** A KV-cache session. Implements DecodeSession; `logits()` (all positions) is for tests and training. */
export class WebGpuSession implements DecodeSession {
  private _length = 0;
  private busy = false;
  private disposed = false;
  private readonly bufs: GPUBuffer[] = [];
  private readonly P: number;
  private readonly step: GPUBuffer;
  private readonly ids: GPUBuffer;
  private readonly logitsBuf: GPUBuffer;
  private readonly sampleOut: GPUBuffer;
  private readonly sampleParamsBuf: GPUBuffer;
  private readonly suppress: GPUBuffer;
  private readonly staging: GPUBuffer;
  /** barrier-free attention (SwiftShader): per query row (base 0, absolute position); null otherwise */
  private readonly rows: GPUBuffer | null;
  /** Dispatches of the layer stack, per kind of step (matvec for decode, tiled matmul for prefill). */
  private readonly layers: Record<StepKind, Dispatch[]>;
  private readonly tail: Dispatch[];
  private allLogits?: { buf: GPUBuffer; list: Dispatch[] };
  /** Activations kept addressable for later backward passes (training), by name. */
  readonly activations: Record<string, GPUBuffer> = {};
  readonly kcache: GPUBuffer[] = [];
  readonly vcache: GPUBuffer[] = [];

  constructor(private readonly dec: WebGpuDecoder, readonly maxLength: number, private readonly onDispose: () => void) {
    const c = dec.config;
    const { device } = dec.ctx;
    const a = dec.alloc;
    const P = (this.P = Math.min(dec.prefillChunk, maxLength));
    const C = c.hiddenSize; const F = c.intermediateSize; const D = c.headDim;
    const QD = c.numHeads * D; const KD = c.numKvHeads * D;
    const buf = (label: string, bytes: number) => { const b = a.storage(label, bytes); this.bufs.push(b); return b; };
    const uni = (label: string, words: Uint32Array) => { const b = a.uniform(label, words); this.bufs.push(b); return b; };
    this.step = (() => { const b = a.create('step', 16, UNIFORM); this.bufs.push(b); return b; })();
    this.ids = buf('act.ids', P * 4);
    const x = buf('act.x', P * C * 4);
    const h = buf('act.h', P * C * 4);
    const q = buf('act.q', P * QD * 4);
    const att = buf('act.att', P * QD * 4);
    const g = buf('act.gate', P * F * 4);
    const u = buf('act.up', P * F * 4);
    const s = buf('act.swiglu', P * F * 4);
    const hl = buf('act.hlast', C * 4);
    Object.assign(this.activations, { x, h, q, att, gate: g, up: u, swiglu: s, hlast: hl });
    this.logitsBuf = buf('act.logits', c.vocabSize * 4);
    this.sampleOut = buf('sample.out', sampleOutWords(MAX_TOP_K) * 4);
    this.sampleParamsBuf = buf('sample.params', 32);
    this.suppress = buf('sample.suppress', MAX_SUPPRESS * 4);
    this.staging = a.create('staging', sampleOutWords(MAX_TOP_K) * 4, 0x01 | 0x08); // MAP_READ | COPY_DST
    this.bufs.push(this.staging);
    const table = buf('rope.table', maxLength * D * 4);
    device.queue.writeBuffer(table, 0, ropeTable(maxLength, D, c.ropeTheta));
    for (let l = 0; l < c.numLayers; l++) {
      this.kcache.push(buf(`kv.k${l}`, maxLength * KD * 4));
      this.vcache.push(buf(`kv.v${l}`, maxLength * KD * 4));
    }

    const step = this.step;
    const W = (name: string) => { const w = dec.weight(name); if (!w) throw new Error(`internal: weight ${name} not loaded`); return w; };
    const chunk0 = (name: string) => W(name).chunks[0].buffer;
    const bias = (name: string) => dec.weight(name)?.chunks[0].buffer;

    // A linear layer for both kinds of step: one dispatch per weight chunk.
    const linear = (xIn: GPUBuffer, wName: string, bName: string | undefined, out: GPUBuffer, flags: number, fixedM = 0): Record<StepKind, Dispatch[]> => {
      const w = W(wName);
      const [N, K] = w.shape;
      const b = bName ? bias(bName) : undefined;
      const fl = flags | (b ? FLAG_BIAS : 0);
      const res: Record<StepKind, Dispatch[]> = { decode: [], prefill: [] };
      for (const ch of w.chunks) {
        const params = uni(`params.${wName}`, matmulParams({ n: ch.rows, k: K, ldo: N, noff: ch.r0, flags: fl, m: fixedM }));
        const bufs = { x: xIn, w: ch.buffer, bias: b ?? dec.dummy, out, params, step };
        const pick = (m: number): MatmulVariant => (variantFits(dec.decodeVariant, K, m) ? dec.decodeVariant : variantFits(dec.matmulVariant, K, m) ? dec.matmulVariant : 'generic');
        res.decode.push(matmulDispatch(device, pick(1), bufs, ch.rows, (t) => fixedM || t, wName));
        res.prefill.push(matmulDispatch(device, pick(2), bufs, ch.rows, (t) => fixedM || t, wName));
      }
      return res;
    };

    const both: Record<StepKind, Dispatch[]> = { decode: [], prefill: [] };
    const add = (d: Dispatch | Dispatch[] | Record<StepKind, Dispatch[]>) => {
      if (Array.isArray(d)) { both.decode.push(...d); both.prefill.push(...d); }
      else if ('decode' in d) { both.decode.push(...d.decode); both.prefill.push(...d.prefill); }
      else { both.decode.push(d); both.prefill.push(d); }
    };
    const emb = W('model.embed_tokens.weight');
    for (const ch of emb.chunks) {
      add(embeddingDispatch(device, { ids: this.ids, table: ch.buffer, out: x, params: uni('params.embed', embeddingParams(C, ch.r0, ch.rows)), step }, C));
    }
    const normP = uni('params.norm', rmsnormParams(C, c.rmsNormEps));
    // Where barriers are expensive (SwiftShader, ~100x a GPU's) attention and RMSNorm run one thread
    // per (row, head) / row, as batched decoding does (tiny world, 48-token prefill: 823 -> 195 ms per session).
    const barrierFree = dec.barrierFree && D % 4 === 0;
    const norm = barrierFree ? rmsnormRowsDispatch : rmsnormDispatch;
    this.rows = barrierFree ? buf('act.rows', P * 8) : null;
    const lse = barrierFree ? buf('act.lse', P * c.numHeads * 4) : null;
    const attP = uni('params.attn', barrierFree ? attentionPackedParams(c.numHeads, c.numKvHeads, D, P) : attentionParams(c.numHeads, c.numKvHeads, D));
    const ropeQ = uni('params.ropeq', ropeParams(c.numHeads, D));
    const ropeK = uni('params.ropek', ropeParams(c.numKvHeads, D, 1, true));
    const swP = uni('params.swiglu', swigluParams(F));
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      add(norm(device, { x, w: chunk0(`${p}.input_layernorm.weight`), out: h, params: normP, step }, (t) => t));
      add(linear(h, `${p}.self_attn.q_proj.weight`, `${p}.self_attn.q_proj.bias`, q, 0));
      add(linear(h, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.k_proj.bias`, this.kcache[l], FLAG_ROWS_AT_POS));
      add(linear(h, `${p}.self_attn.v_proj.weight`, `${p}.self_attn.v_proj.bias`, this.vcache[l], FLAG_ROWS_AT_POS));
      add(ropeDispatch(device, { x: q, table, params: ropeQ, step }, c.numHeads, D));
      add(ropeDispatch(device, { x: this.kcache[l], table, params: ropeK, step }, c.numKvHeads, D));
      add(this.rows && lse
        ? attentionCacheRowsDispatch(device, { q, k: this.kcache[l], v: this.vcache[l], out: att, lse, rows: this.rows, params: attP, step }, { h: c.numHeads, d: D })
        : attentionDispatch(device, { q, k: this.kcache[l], v: this.vcache[l], out: att, params: attP, step }, c.numHeads));
      add(linear(att, `${p}.self_attn.o_proj.weight`, `${p}.self_attn.o_proj.bias`, x, FLAG_ACCUMULATE));
      add(norm(device, { x, w: chunk0(`${p}.post_attention_layernorm.weight`), out: h, params: normP, step }, (t) => t));
      add(linear(h, `${p}.mlp.gate_proj.weight`, `${p}.mlp.gate_proj.bias`, g, 0));
      add(linear(h, `${p}.mlp.up_proj.weight`, `${p}.mlp.up_proj.bias`, u, 0));
      add(swigluDispatch(device, { gate: g, up: u, out: s, params: swP, step }, F));
      add(linear(s, `${p}.mlp.down_proj.weight`, `${p}.mlp.down_proj.bias`, x, FLAG_ACCUMULATE));
    }
    this.layers = both;
    const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    this.tail = [
      rmsnormDispatch(device, { x, w: chunk0('model.norm.weight'), out: hl, params: uni('params.finalnorm', rmsnormParams(C, c.rmsNormEps, 1, true)), step }, () => 1),
      ...linear(hl, head, undefined, this.logitsBuf, 0, 1).decode,
      sampleDispatch(device, { logits: this.logitsBuf, suppress: this.suppress, out: this.sampleOut, params: this.sampleParamsBuf }, dec.sampleWorkgroup),
    ];
  }

  get length(): number { return this._length; }

  private check(ids: readonly number[]): void {
    if (this.disposed) throw new Error('The session was disposed');
    if (this.busy) throw new Error('feed() called while a previous step is still running');
    if (ids.length === 0) throw new Error('feed() needs at least one token');
    if (this._length + ids.length > this.maxLength) {
      throw new Error(`Context full: ${this._length} + ${ids.length} tokens exceed the session's maxLength ${this.maxLength}`);
    }
    const V = this.dec.config.vocabSize;
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`Token id ${id} is outside the vocabulary (0..${V - 1})`);
  }

  /** Records the layer stack for ids[start..start+t) at position this._length + start. */
  private encodeChunk(enc: GPUCommandEncoder, ids: readonly number[], start: number, t: number, extra: Dispatch[]): void {
    this.writeStep(ids, start, t);
    encodeDispatches(enc, [...this.layers[t === 1 ? 'decode' : 'prefill'], ...extra], t);
  }

  /** ids[start..start+t) at position this._length + start: ids, step and (barrier-free) query rows. */
  private writeStep(ids: readonly number[], start: number, t: number): void {
    const q = this.dec.ctx.device.queue;
    const pos = this._length + start;
    q.writeBuffer(this.ids, 0, Uint32Array.from(ids.slice(start, start + t)));
    q.writeBuffer(this.step, 0, new Uint32Array([t, pos, 0, 0]));
    if (this.rows) q.writeBuffer(this.rows, 0, Uint32Array.from({ length: 2 * t }, (_, i) => (i & 1 ? pos + (i >> 1) : 0)));
  }

  async feed(ids: readonly number[], opts: SamplingOptions): Promise<SampledToken> {
    this.check(ids);
    const { device } = this.dec.ctx;
    const topK = Math.max(0, Math.min(MAX_TOP_K, Math.floor(opts.topK)));
    const sup = (opts.suppress ?? []).slice(0, MAX_SUPPRESS);
    const u = Math.min(Math.max(opts.u, 0), 1 - 2 ** -24);
    this.busy = true;
    try {
      device.queue.writeBuffer(this.sampleParamsBuf, 0, sampleParams(this.dec.config.vocabSize, {
        topK, suppressCount: sup.length, temperature: opts.temperature, topP: opts.topP > 0 ? Math.min(opts.topP, 1) : 1, u,
      }));
      if (sup.length) device.queue.writeBuffer(this.suppress, 0, Uint32Array.from(sup));
      for (let start = 0; start < ids.length; start += this.P) {
        const t = Math.min(this.P, ids.length - start);
        const last = start + t >= ids.length;
        const enc = device.createCommandEncoder({ label: 'step' });
        this.encodeChunk(enc, ids, start, t, last ? this.tail : []);
        if (last) enc.copyBufferToBuffer(this.sampleOut, 0, this.staging, 0, sampleOutWords(topK) * 4);
        device.queue.submit([enc.finish()]);
      }
      await this.staging.mapAsync(0x01, 0, sampleOutWords(topK) * 4);
      const words = new Uint32Array(this.staging.getMappedRange(0, sampleOutWords(topK) * 4).slice(0));
      this.staging.unmap();
      this._length += ids.length;
      return decodeSample(words, topK);
    } finally {
      this.busy = false;
    }
  }

  /** Appends ids and returns the logits at every one of their positions, (T, V) row-major. */
  async logits(ids: readonly number[]): Promise<Float32Array> {
    this.check(ids);
    const c = this.dec.config;
    const { device } = this.dec.ctx;
    if (!this.allLogits) {
      const a = this.dec.alloc;
      const lbuf = a.storage('act.logitsAll', this.P * c.vocabSize * 4);
      this.bufs.push(lbuf);
      const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
      const w = this.dec.weight(head)!;
      const normP = a.uniform('params.finalnorm.all', rmsnormParams(c.hiddenSize, c.rmsNormEps));
      this.bufs.push(normP);
      const list: Dispatch[] = [rmsnormDispatch(device, { x: this.activations.x, w: this.dec.weight('model.norm.weight')!.chunks[0].buffer, out: this.activations.h, params: normP, step: this.step }, (t) => t)];
      for (const ch of w.chunks) {
        const params = a.uniform('params.head.all', matmulParams({ n: ch.rows, k: c.hiddenSize, ldo: c.vocabSize, noff: ch.r0, flags: 0, m: 0 }));
        this.bufs.push(params);
        const v: MatmulVariant = variantFits(this.dec.matmulVariant, c.hiddenSize, 2) ? this.dec.matmulVariant : 'generic';
        list.push(matmulDispatch(device, v, { x: this.activations.h, w: ch.buffer, bias: this.dec.dummy, out: lbuf, params, step: this.step }, ch.rows, (t) => t, 'lm_head'));
      }
      this.allLogits = { buf: lbuf, list };
    }
    this.busy = true;
    try {
      const out = new Float32Array(ids.length * c.vocabSize);
      for (let start = 0; start < ids.length; start += this.P) {
        const t = Math.min(this.P, ids.length - start);
        const enc = device.createCommandEncoder({ label: 'logits' });
        // prefill kernels also for t = 1 so the all-positions path never depends on matvec
        this.writeStep(ids, start, t);
        encodeDispatches(enc, [...this.layers.prefill, ...this.allLogits.list], t);
        device.queue.submit([enc.finish()]);
        const bytes = t * c.vocabSize * 4;
        const staging = device.createBuffer({ size: bytes, usage: 0x01 | 0x08 });
        const e2 = device.createCommandEncoder();
        e2.copyBufferToBuffer(this.allLogits.buf, 0, staging, 0, bytes);
        device.queue.submit([e2.finish()]);
        await staging.mapAsync(0x01);
        out.set(new Float32Array(staging.getMappedRange().slice(0)), start * c.vocabSize);
        staging.destroy();
      }
      this._length += ids.length;
      return out;
    } finally {
      this.busy = false;
    }
  }

  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this._length) throw new Error(`truncate(${length}): the session holds ${this._length} tokens`);
    this._length = length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.bufs) this.dec.alloc.destroy(b);
    this.onDispose();
  }
}
