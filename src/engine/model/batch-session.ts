// Batched decoding over the decoder's weights: `slots` sequences, one KV-cache region each
// (caches (slots·maxLength, Hkv, D), slot s at rows s·maxLength..), positions per row. A step
// packs every fed token of every slot into rows of one forward pass (at most P rows per chunk):
//   x = embed(ids)                                               (T,C)   T = rows of the chunk
//   per layer: h = rmsnorm(x); q,k,v = h·Wᵀ + b; rope(q) at each row's position;
//              kv-store: rope(k), v -> cache row base+pos of the row's slot;
//              a = attention(q, the row's own cache region); x += a·Woᵀ
//              h = rmsnorm(x); x += (silu(h·Wgᵀ) · h·Wuᵀ)·Wdᵀ
//   tail: rows whose next token is wanted (last fed token per slot) gathered -> (S,C) ->
//         rmsnorm -> logits (S,V) -> one sampling workgroup per row
// Decode steps of B sequences are matrix-matrix products with M = B: each weight word read serves B
// rows. One submit per chunk, one readback (all rows' samples) per feed().
import type { GpuContext } from '../device/gpu-context.ts';
import type { DecodeVariant, PrefillVariant } from '../device/kernel-choice.ts';
import type { BatchDecodeSession, BatchFeed, SampledToken } from '../generation/types.ts';
import { attentionParams, attentionRowsDispatch } from '../ops/attention.ts';
import { attentionCacheRowsDispatch, attentionPackedParams } from '../ops/attention-packed.ts';
import { embeddingDispatch, embeddingParams } from '../ops/embedding.ts';
import { gatherRowsDispatch, gatherRowsParams } from '../ops/gather-rows.ts';
import { kvStoreDispatch, kvStoreParams } from '../ops/kv-store.ts';
import { FLAG_ACCUMULATE, FLAG_BIAS, type MatmulVariant, matmulDispatch, matmulParams, variantFits } from '../ops/matmul.ts';
import { rmsnormDispatch, rmsnormParams, rmsnormRowsDispatch } from '../ops/rmsnorm.ts';
import { ropeParams, ropeRowsDispatch, ropeTable } from '../ops/rope.ts';
import { MAX_SUPPRESS, MAX_TOP_K, decodeSample, sampleDispatch, sampleOutWords, sampleParams } from '../ops/sample.ts';
import { swigluDispatch, swigluParams } from '../ops/swiglu.ts';
import { type Dispatch, encodeDispatches } from '../runtime/kernel.ts';
import type { GpuAllocator } from '../runtime/tracker.ts';
import type { ModelConfig } from './types.ts';
import type { GpuWeight } from './weights.ts';

/** What a batch session needs from the decoder that owns the weights. */
export interface DecoderParts {
  readonly ctx: GpuContext;
  readonly config: ModelConfig;
  readonly alloc: GpuAllocator;
  readonly dummy: GPUBuffer;
  readonly matmulVariant: PrefillVariant;
  readonly decodeVariant: DecodeVariant;
  readonly sampleWorkgroup: number;
  readonly prefillChunk: number;
  /** Thread-per-row attention and norms (no barriers): the fallback adapter's choice. */
  readonly barrierFree: boolean;
  weight(name: string): GpuWeight | undefined;
}

const UNIFORM = 0x40 | 0x08;
const RW = sampleOutWords(MAX_TOP_K);
/** Kernel lists by row count: one row (matrix-vector kernels) or many (tiled matmul). */
type Rows = 'one' | 'many';

export class WebGpuBatchSession implements BatchDecodeSession {
  private readonly lengths: number[];
  private busy = false;
  private disposed = false;
  private readonly bufs: GPUBuffer[] = [];
  /** Rows per chunk. */
  readonly P: number;
  private readonly step: GPUBuffer;
  private readonly tailStep: GPUBuffer;
  private readonly ids: GPUBuffer;
  private readonly rows: GPUBuffer;
  private readonly src: GPUBuffer;
  private readonly sampleOut: GPUBuffer;
  private readonly sampleParamsBuf: GPUBuffer;
  private readonly suppress: GPUBuffer;
  private readonly result: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly layers: Record<Rows, Dispatch[]>;
  private readonly tail: Record<Rows, Dispatch[]>;
  readonly kcache: GPUBuffer[] = [];
  readonly vcache: GPUBuffer[] = [];

  constructor(private readonly dec: DecoderParts, readonly slots: number, readonly maxLength: number, private readonly onDispose: () => void) {
    const c = dec.config;
    const { device } = dec.ctx;
    const a = dec.alloc;
    this.lengths = new Array(slots).fill(0);
    const P = (this.P = Math.max(slots, Math.min(dec.prefillChunk, slots * maxLength)));
    const C = c.hiddenSize; const F = c.intermediateSize; const D = c.headDim; const V = c.vocabSize;
    const QD = c.numHeads * D; const KD = c.numKvHeads * D;
    const buf = (label: string, bytes: number) => { const b = a.storage(label, bytes); this.bufs.push(b); return b; };
    const uni = (label: string, words: Uint32Array) => { const b = a.uniform(label, words); this.bufs.push(b); return b; };
    const ub = (label: string) => { const b = a.create(label, 16, UNIFORM); this.bufs.push(b); return b; };
    const step = (this.step = ub('batch.step'));
    const tailStep = (this.tailStep = ub('batch.tailstep'));
    this.ids = buf('batch.ids', P * 4);
    this.rows = buf('batch.rows', P * 8);
    this.src = buf('batch.src', slots * 4);
    const x = buf('batch.x', P * C * 4);
    const h = buf('batch.h', P * C * 4);
    const q = buf('batch.q', P * QD * 4);
    const kb = buf('batch.k', P * KD * 4);
    const vb = buf('batch.v', P * KD * 4);
    const att = buf('batch.att', P * QD * 4);
    const lse = buf('batch.lse', P * c.numHeads * 4);
    const g = buf('batch.gate', P * F * 4);
    const u = buf('batch.up', P * F * 4);
    const s = buf('batch.swiglu', P * F * 4);
    const xs = buf('batch.xsel', slots * C * 4);
    const hs = buf('batch.hsel', slots * C * 4);
    const logits = buf('batch.logits', slots * V * 4);
    this.sampleOut = buf('batch.sample.out', slots * RW * 4);
    this.result = buf('batch.result', slots * RW * 4);
    this.sampleParamsBuf = buf('batch.sample.params', slots * 32);
    this.suppress = buf('batch.sample.suppress', slots * MAX_SUPPRESS * 4);
    this.staging = a.create('batch.staging', slots * RW * 4, 0x01 | 0x08);
    this.bufs.push(this.staging);
    const table = buf('batch.rope.table', maxLength * D * 4);
    device.queue.writeBuffer(table, 0, ropeTable(maxLength, D, c.ropeTheta));
    const perLayer = slots * maxLength * KD * 4;
    for (let l = 0; l < c.numLayers; l++) {
      this.kcache.push(buf(`batch.kv.k${l}`, perLayer));
      this.vcache.push(buf(`batch.kv.v${l}`, perLayer));
    }

    const W = (name: string) => { const w = dec.weight(name); if (!w) throw new Error(`internal: weight ${name} not loaded`); return w; };
    const chunk0 = (name: string) => W(name).chunks[0].buffer;
    const pick = (K: number, m: number): MatmulVariant => (m === 1 && variantFits(dec.decodeVariant, K, 1) ? dec.decodeVariant : variantFits(dec.matmulVariant, K, m) ? dec.matmulVariant : 'generic');
    const linear = (xIn: GPUBuffer, wName: string, bName: string | undefined, out: GPUBuffer, flags: number, st: GPUBuffer): Record<Rows, Dispatch[]> => {
      const w = W(wName);
      const [N, K] = w.shape;
      const bias = bName ? dec.weight(bName)?.chunks[0].buffer : undefined;
      const res: Record<Rows, Dispatch[]> = { one: [], many: [] };
      for (const ch of w.chunks) {
        const params = uni(`params.${wName}`, matmulParams({ n: ch.rows, k: K, ldo: N, noff: ch.r0, flags: flags | (bias ? FLAG_BIAS : 0), m: 0 }));
        const bufs = { x: xIn, w: ch.buffer, bias: bias ?? dec.dummy, out, params, step: st };
        res.one.push(matmulDispatch(device, pick(K, 1), bufs, ch.rows, (t) => t, wName));
        res.many.push(matmulDispatch(device, pick(K, 2), bufs, ch.rows, (t) => t, wName));
      }
      return res;
    };
    const lists: Record<Rows, Dispatch[]> = { one: [], many: [] };
    const add = (d: Dispatch | Record<Rows, Dispatch[]>) => {
      if ('one' in d) { lists.one.push(...d.one); lists.many.push(...d.many); } else { lists.one.push(d); lists.many.push(d); }
    };
    for (const ch of W('model.embed_tokens.weight').chunks) {
      add(embeddingDispatch(device, { ids: this.ids, table: ch.buffer, out: x, params: uni('params.embed', embeddingParams(C, ch.r0, ch.rows)), step }, C));
    }
    const normP = uni('params.norm', rmsnormParams(C, c.rmsNormEps));
    const barrierFree = dec.barrierFree && D % 4 === 0;
    const norm = barrierFree ? rmsnormRowsDispatch : rmsnormDispatch;
    const attP = uni('params.attn', barrierFree ? attentionPackedParams(c.numHeads, c.numKvHeads, D, P) : attentionParams(c.numHeads, c.numKvHeads, D));
    const ropeQ = uni('params.ropeq', ropeParams(c.numHeads, D));
    const kvP = uni('params.kvstore', kvStoreParams(c.numKvHeads, D));
    const swP = uni('params.swiglu', swigluParams(F));
    const rows = this.rows;
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      add(norm(device, { x, w: chunk0(`${p}.input_layernorm.weight`), out: h, params: normP, step }, (t) => t));
      add(linear(h, `${p}.self_attn.q_proj.weight`, `${p}.self_attn.q_proj.bias`, q, 0, step));
      add(linear(h, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.k_proj.bias`, kb, 0, step));
      add(linear(h, `${p}.self_attn.v_proj.weight`, `${p}.self_attn.v_proj.bias`, vb, 0, step));
      add(ropeRowsDispatch(device, { x: q, table, params: ropeQ, step, rows }, c.numHeads, D));
      add(kvStoreDispatch(device, { k: kb, v: vb, kcache: this.kcache[l], vcache: this.vcache[l], table, rows, params: kvP, step }, c.numKvHeads, D));
      add(barrierFree
        ? attentionCacheRowsDispatch(device, { q, k: this.kcache[l], v: this.vcache[l], out: att, lse, rows, params: attP, step }, { h: c.numHeads, d: D })
        : attentionRowsDispatch(device, { q, k: this.kcache[l], v: this.vcache[l], out: att, params: attP, step, rows }, c.numHeads));
      add(linear(att, `${p}.self_attn.o_proj.weight`, `${p}.self_attn.o_proj.bias`, x, FLAG_ACCUMULATE, step));
      add(norm(device, { x, w: chunk0(`${p}.post_attention_layernorm.weight`), out: h, params: normP, step }, (t) => t));
      add(linear(h, `${p}.mlp.gate_proj.weight`, `${p}.mlp.gate_proj.bias`, g, 0, step));
      add(linear(h, `${p}.mlp.up_proj.weight`, `${p}.mlp.up_proj.bias`, u, 0, step));
      add(swigluDispatch(device, { gate: g, up: u, out: s, params: swP, step }, F));
      add(linear(s, `${p}.mlp.down_proj.weight`, `${p}.mlp.down_proj.bias`, x, FLAG_ACCUMULATE, step));
    }
    this.layers = lists;
    const headName = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    const head = linear(hs, headName, undefined, logits, 0, tailStep);
    const pre = [
      gatherRowsDispatch(device, { x, src: this.src, out: xs, params: uni('params.gather', gatherRowsParams(C)), step: tailStep }, C),
      norm(device, { x: xs, w: chunk0('model.norm.weight'), out: hs, params: uni('params.finalnorm', rmsnormParams(C, c.rmsNormEps)), step: tailStep }, (t) => t),
    ];
    const sample = sampleDispatch(device, { logits, suppress: this.suppress, out: this.sampleOut, params: this.sampleParamsBuf }, barrierFree ? 32 : dec.sampleWorkgroup, (t) => t);
    this.tail = { one: [...pre, ...head.one, sample], many: [...pre, ...head.many, sample] };
  }

  length(slot: number): number { this.slotCheck(slot); return this.lengths[slot]; }

  private slotCheck(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new Error(`slot ${slot} is outside this batch session's ${this.slots} slots`);
  }

  async feed(items: readonly BatchFeed[]): Promise<SampledToken[]> {
    if (this.disposed) throw new Error('The batch session was disposed');
    if (this.busy) throw new Error('feed() called while a previous step is still running');
    if (items.length === 0) return [];
    const V = this.dec.config.vocabSize;
    const seen = new Set<number>();
    for (const it of items) {
      this.slotCheck(it.slot);
      if (seen.has(it.slot)) throw new Error(`slot ${it.slot} appears twice in one feed()`);
      seen.add(it.slot);
      if (it.ids.length === 0) throw new Error(`feed(): slot ${it.slot} needs at least one token`);
      if (this.lengths[it.slot] + it.ids.length > this.maxLength) throw new Error(`Context full: slot ${it.slot} holds ${this.lengths[it.slot]} + ${it.ids.length} tokens, over the session's maxLength ${this.maxLength}`);
      for (const id of it.ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`Token id ${id} is outside the vocabulary (0..${V - 1})`);
    }
    const { device } = this.dec.ctx;
    const q = device.queue;
    // every fed token as a row: (item, position)
    const rowItem: number[] = []; const rowPos: number[] = []; const rowId: number[] = [];
    items.forEach((it, i) => it.ids.forEach((id, j) => { rowItem.push(i); rowPos.push(this.lengths[it.slot] + j); rowId.push(id); }));
    const topKs = items.map((it) => Math.max(0, Math.min(MAX_TOP_K, Math.floor(it.opts.topK))));
    this.busy = true;
    try {
      for (let r0 = 0; r0 < rowId.length; r0 += this.P) {
        const t = Math.min(this.P, rowId.length - r0);
        const rowsW = new Uint32Array(2 * t);
        for (let r = 0; r < t; r++) { rowsW[2 * r] = items[rowItem[r0 + r]].slot * this.maxLength; rowsW[2 * r + 1] = rowPos[r0 + r]; }
        // items whose last token falls in this chunk: a contiguous range [a, b) of items
        const src: number[] = []; let a = -1;
        for (let r = 0; r < t; r++) {
          const i = rowItem[r0 + r];
          const last = r0 + r + 1 === rowId.length || rowItem[r0 + r + 1] !== i;
          if (last) { if (a < 0) a = i; src.push(r); }
        }
        q.writeBuffer(this.ids, 0, Uint32Array.from(rowId.slice(r0, r0 + t)));
        q.writeBuffer(this.rows, 0, rowsW);
        q.writeBuffer(this.step, 0, new Uint32Array([t, 0, 0, 0]));
        const S = src.length;
        if (S) {
          q.writeBuffer(this.src, 0, Uint32Array.from(src));
          q.writeBuffer(this.tailStep, 0, new Uint32Array([S, 0, 0, 0]));
          const pw = new Uint32Array(8 * S);
          for (let j = 0; j < S; j++) {
            const it = items[a + j];
            const sup = (it.opts.suppress ?? []).slice(0, MAX_SUPPRESS);
            pw.set(sampleParams(V, {
              topK: topKs[a + j], suppressCount: sup.length, temperature: it.opts.temperature,
              topP: it.opts.topP > 0 ? Math.min(it.opts.topP, 1) : 1, u: Math.min(Math.max(it.opts.u, 0), 1 - 2 ** -24),
            }), 8 * j);
            if (sup.length) q.writeBuffer(this.suppress, j * MAX_SUPPRESS * 4, Uint32Array.from(sup));
          }
          q.writeBuffer(this.sampleParamsBuf, 0, pw);
        }
        const enc = device.createCommandEncoder({ label: 'batch-step' });
        encodeDispatches(enc, this.layers[t === 1 ? 'one' : 'many'], t, 'batch-layers');
        if (S) {
          encodeDispatches(enc, this.tail[S === 1 ? 'one' : 'many'], S, 'batch-tail');
          enc.copyBufferToBuffer(this.sampleOut, 0, this.result, a * RW * 4, S * RW * 4);
        }
        if (r0 + t >= rowId.length) enc.copyBufferToBuffer(this.result, 0, this.staging, 0, items.length * RW * 4);
        q.submit([enc.finish()]);
      }
      await this.staging.mapAsync(0x01, 0, items.length * RW * 4);
      const words = new Uint32Array(this.staging.getMappedRange(0, items.length * RW * 4).slice(0));
      this.staging.unmap();
      for (const it of items) this.lengths[it.slot] += it.ids.length;
      return items.map((_, i) => decodeSample(words.subarray(i * RW, (i + 1) * RW), topKs[i]));
    } finally {
      this.busy = false;
    }
  }

  truncate(slot: number, length: number): void {
    this.slotCheck(slot);
    if (!Number.isInteger(length) || length < 0 || length > this.lengths[slot]) throw new Error(`truncate(${slot}, ${length}): the slot holds ${this.lengths[slot]} tokens`);
    this.lengths[slot] = length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.bufs) this.dec.alloc.destroy(b);
    this.onDispose();
  }
}
