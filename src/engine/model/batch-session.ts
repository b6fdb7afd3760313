// Batched decoding over the decoder's weights: `slots` sequences, one KV-cache region each
// (caches (slots·maxLength, Hkv, D), slot s at rows s·maxLength..), positions per row. A step
// packs every fed token of every slot into rows of one forward pass (at most P rows per chunk),
// walking the model's description (block.ts; per layer the ops of model/arch.ts):
//   x = embed(ids)·scale                                         (T,C)   T = rows of the chunk
//   per layer: h = norm(x); q,k,v = h·Wᵀ + b; [q,k = rmsnorm per head]; rope(q) at each row's position
//              (layers without RoPE: none); kv-store: rope(k), v -> cache row base+pos of the row's slot;
//              a = attention(q, the row's own cache region, within the layer's window);
//              x += [norm](a·Woᵀ); h = norm(x); x += [norm]((act(h·Wgᵀ) · h·Wuᵀ)·Wdᵀ)
//   tail: rows whose next token is wanted (last fed token per slot) gathered -> (S,C) ->
//         rmsnorm -> logits (S,V) -> one sampling workgroup per row
//   logits(): every row's logits (T,V) instead of the tail (tests, scoring)
// KV cache storage: f16 (packed halves) by default, f32 on request (decoder.ts kvCache); attention
// accumulates in f32. Steps of few rows at long context (decode) take flash-decoding attention (the
// KV range split across workgroups, then a combine pass: layersSplit).
// The single-sequence session (decoder.ts) is one slot of this. Decode steps of B sequences are
// matrix-matrix products with M = B: each weight word read serves B rows. One submit per chunk,
// one readback (all rows' samples) per feed().
import type { GpuContext } from '../device/gpu-context.ts';
import type { DecodeVariant, PrefillVariant } from '../device/kernel-choice.ts';
import type { BatchDecodeSession, BatchFeed, SampledToken } from '../generation/types.ts';
import { type KvDtype, SPLIT_KEYS, attentionCombineParams, attentionParams, attentionRowsDispatch, attentionSplitDispatches, attentionSplitScratch } from '../ops/attention.ts';
import { attentionCacheRowsDispatch, attentionCacheSplitDispatches, attentionPackedParams } from '../ops/attention-packed.ts';
import { axpbyDispatch, axpbyParams } from '../ops/axpby.ts';
import { gatherRowsDispatch, gatherRowsParams } from '../ops/gather-rows.ts';
import { kvElementBytes, kvStoreDispatch, kvStoreParams } from '../ops/kv-store.ts';
import { FLAG_ACCUMULATE, type MatmulVariant, variantFits } from '../ops/matmul.ts';
import { rmsnormDispatch, rmsnormParams, rmsnormRowsDispatch } from '../ops/rmsnorm.ts';
import { ropeIdentityTable, ropeParams, ropeRowsDispatch, ropeTable } from '../ops/rope.ts';
import { MAX_SUPPRESS, MAX_TOP_K, decodeSample, sampleDispatch, sampleOutWords, sampleParams } from '../ops/sample.ts';
import { swigluDispatch, swigluParams } from '../ops/swiglu.ts';
import { type Dispatch, encodeDispatches, grid2 } from '../runtime/kernel.ts';
import type { GpuAllocator } from '../runtime/tracker.ts';
import type { LinearSpec } from './arch.ts';
import type { ModelBlock } from './block.ts';
import { embedDispatches, linearForward } from './linear.ts';
import type { ModelConfig } from './types.ts';
import type { GpuWeight } from './weights.ts';

/** What a batch session needs from the decoder that owns the weights. */
export interface DecoderParts {
  readonly ctx: GpuContext;
  readonly config: ModelConfig;
  readonly block: ModelBlock;
  readonly alloc: GpuAllocator;
  readonly dummy: GPUBuffer;
  readonly matmulVariant: PrefillVariant;
  readonly decodeVariant: DecodeVariant;
  readonly sampleWorkgroup: number;
  readonly prefillChunk: number;
  /** Thread-per-row attention and norms (no barriers): the fallback adapter's choice. */
  readonly barrierFree: boolean;
  /** KV-cache storage (f16: packed halves, half the bytes; attention accumulates in f32 either way). */
  readonly kvDtype: KvDtype;
  weight(name: string): GpuWeight | undefined;
}

const UNIFORM = 0x40 | 0x08;
const RW = sampleOutWords(MAX_TOP_K);
/** Kernel lists by row count: one row (matrix-vector kernels) or many (tiled matmul). */
type Rows = 'one' | 'many';
/** Flash-decoding (the KV range of a row split across workgroups, then a combine pass) for steps of at
 *  most this many rows whose longest row has more than this many keys. */
const SPLIT_MAX_ROWS = 16;
export const SPLIT_MIN_KEYS = 2 * SPLIT_KEYS;

export class WebGpuBatchSession implements BatchDecodeSession {
  private readonly lengths: number[];
  private busy = false;
  private disposed = false;
  private readonly bufs: GPUBuffer[] = [];
  /** Rows per chunk. */
  readonly P: number;
  readonly step: GPUBuffer;
  private readonly tailStep: GPUBuffer;
  private readonly ids: GPUBuffer;
  private readonly rows: GPUBuffer;
  private readonly src: GPUBuffer;
  private readonly sampleOut: GPUBuffer;
  private readonly sampleParamsBuf: GPUBuffer;
  private readonly suppress: GPUBuffer;
  private readonly result: GPUBuffer;
  private readonly staging: GPUBuffer;
  /** The layer stack's dispatches (one list per row-count kind) and the sampling tail's. */
  readonly layers: Record<Rows, Dispatch[]>;
  /** The same with flash-decoding attention (steps of few rows at long context). */
  readonly layersSplit: Record<Rows, Dispatch[]>;
  /** Rows a flash-decoding step may have (its scratch is sized for them). */
  readonly splitRows: number;
  /** The longest row's key count in the step being encoded (the split grids read it). */
  private maxKeys = 1;
  readonly tail: Record<Rows, Dispatch[]>;
  private readonly x: GPUBuffer;
  private readonly h: GPUBuffer;
  private allLogits?: { buf: GPUBuffer; list: Dispatch[] };
  readonly kcache: GPUBuffer[] = [];
  readonly vcache: GPUBuffer[] = [];

  constructor(private readonly dec: DecoderParts, readonly slots: number, readonly maxLength: number, private readonly onDispose: () => void) {
    const c = dec.config; const blk = dec.block;
    const { device } = dec.ctx;
    const a = dec.alloc;
    this.lengths = new Array(slots).fill(0);
    const P = (this.P = Math.max(slots, Math.min(dec.prefillChunk, slots * maxLength)));
    const C = c.hiddenSize; const F = c.intermediateSize; const D = c.headDim; const V = c.vocabSize;
    const H = c.numHeads; const KV = c.numKvHeads;
    const QD = H * D; const KD = KV * D;
    const buf = (label: string, bytes: number) => { const b = a.storage(label, bytes); this.bufs.push(b); return b; };
    const uni = (label: string, words: Uint32Array) => { const b = a.uniform(label, words); this.bufs.push(b); return b; };
    const ub = (label: string) => { const b = a.create(label, 16, UNIFORM); this.bufs.push(b); return b; };
    const step = (this.step = ub('batch.step'));
    const tailStep = (this.tailStep = ub('batch.tailstep'));
    this.ids = buf('batch.ids', P * 4);
    this.rows = buf('batch.rows', P * 8);
    this.src = buf('batch.src', slots * 4);
    const x = (this.x = buf('batch.x', P * C * 4));
    const h = (this.h = buf('batch.h', P * C * 4));
    const q = buf('batch.q', P * QD * 4);
    const kb = buf('batch.k', P * KD * 4);
    const vb = buf('batch.v', P * KD * 4);
    const qkNorm = blk.layers.some((L) => L.qNorm);
    const sandwich = blk.layers.some((L) => L.postAttnNorm || L.postMlpNorm);
    // q/k projections before their per-head norms; branch outputs before their post norms
    const qp = qkNorm ? buf('batch.qproj', P * QD * 4) : q;
    const kp = qkNorm ? buf('batch.kproj', P * KD * 4) : kb;
    const br = sandwich ? buf('batch.branch', P * C * 4) : x;
    const brn = sandwich ? buf('batch.branchnorm', P * C * 4) : x;
    const att = buf('batch.att', P * QD * 4);
    const lse = buf('batch.lse', P * H * 4);
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
    // one cos/sin table per RoPE setting; the identity for layers without RoPE (kv-store rotates by it)
    const tables = new Map<string, GPUBuffer>();
    for (const r of blk.ropes) {
      const t = buf(`batch.rope.table.${r.key}`, maxLength * D * 4);
      device.queue.writeBuffer(t, 0, ropeTable(maxLength, D, r.theta, r.scaling));
      tables.set(r.key, t);
    }
    let identity: GPUBuffer | undefined;
    const tableOf = (key: string | undefined) => {
      if (key !== undefined) return tables.get(key)!;
      if (!identity) { identity = buf('batch.rope.identity', maxLength * D * 4); device.queue.writeBuffer(identity, 0, ropeIdentityTable(maxLength, D)); }
      return identity;
    };
    const kvd = dec.kvDtype;
    const perLayer = slots * maxLength * KD * kvElementBytes(kvd);
    for (let l = 0; l < c.numLayers; l++) {
      this.kcache.push(buf(`batch.kv.k${l}`, perLayer));
      this.vcache.push(buf(`batch.kv.v${l}`, perLayer));
    }

    const W = (name: string) => { const w = dec.weight(name); if (!w) throw new Error(`internal: weight ${name} not loaded`); return w; };
    const chunk0 = (name: string) => W(name).chunks[0].buffer;
    const pick = (K: number, m: number): MatmulVariant => (m === 1 && variantFits(dec.decodeVariant, K, 1) ? dec.decodeVariant : variantFits(dec.matmulVariant, K, m) ? dec.matmulVariant : 'generic');
    /** y (=|+=) x·Wᵀ + b: one dispatch per weight chunk, per row-count kind (model/linear.ts, any weight format). */
    const linear = (xIn: GPUBuffer, wName: string, bName: string | undefined, out: GPUBuffer, flags: number, st: GPUBuffer): Record<Rows, Dispatch[]> => {
      const w = W(wName);
      const K = w.shape[1];
      const bufs = { x: xIn, out, bias: bName ? dec.weight(bName)?.chunks[0].buffer : undefined, dummy: dec.dummy, step: st };
      return { one: linearForward(device, w, pick(K, 1), bufs, flags, uni), many: linearForward(device, w, pick(K, 2), bufs, flags, uni) };
    };
    const lin = (spec: LinearSpec, xIn: GPUBuffer, out: GPUBuffer, flags: number) => linear(xIn, spec.weight, spec.bias, out, flags, step);
    const lists: Record<Rows, Dispatch[]> = { one: [], many: [] };
    const splitLists: Record<Rows, Dispatch[]> = { one: [], many: [] };
    const add = (d: Dispatch | Record<Rows, Dispatch[]>) => {
      for (const ls of [lists, splitLists]) { if ('one' in d) { ls.one.push(...d.one); ls.many.push(...d.many); } else { ls.one.push(d); ls.many.push(d); } }
    };
    for (const d of embedDispatches(device, W(blk.embed), { ids: this.ids, out: x, step }, blk.embedScale, uni)) add(d);
    const one = blk.normOffset;
    const normP = uni('params.norm', rmsnormParams(C, c.rmsNormEps, 0, false, 1, one));
    const barrierFree = dec.barrierFree && D % 4 === 0;
    const normK = barrierFree ? rmsnormRowsDispatch : rmsnormDispatch;
    const norm = (xIn: GPUBuffer, w: string, out: GPUBuffer) => add(normK(device, { x: xIn, w: chunk0(w), out, params: normP, step }, (t) => t));
    const headNormP = { [H]: uni('params.qnorm', rmsnormParams(D, c.rmsNormEps, 0, false, H, one)), [KV]: uni('params.knorm', rmsnormParams(D, c.rmsNormEps, 0, false, KV, one)) };
    const headNorm = (xIn: GPUBuffer, w: string, out: GPUBuffer, nh: number) => add(normK(device, { x: xIn, w: chunk0(w), out, params: headNormP[nh], step }, (t) => t * nh));
    const attP = new Map<number, GPUBuffer>();
    const attParams = (window: number) => {
      if (!attP.has(window)) attP.set(window, uni(`params.attn.w${window}`, barrierFree ? attentionPackedParams(H, KV, D, P, window, blk.attnScale) : attentionParams(H, KV, D, window, blk.attnScale)));
      return attP.get(window)!;
    };
    const ropeQ = uni('params.ropeq', ropeParams(H, D));
    const kvP = uni('params.kvstore', kvStoreParams(KV, D, kvd));
    const combP = new Map<number, GPUBuffer>();
    const combineParams = (window: number) => {
      if (!combP.has(window)) combP.set(window, uni(`params.attn.combine.w${window}`, attentionCombineParams(H, D, window)));
      return combP.get(window)!;
    };
    const splitRows = (this.splitRows = Math.min(P, SPLIT_MAX_ROWS, Math.max(slots, 4)));
    const scratch = attentionSplitScratch(splitRows, H, D);
    const part = buf('batch.attn.split.part', scratch.part);
    const ml = buf('batch.attn.split.ml', scratch.ml);
    const maxKeys = () => this.maxKeys;
    const swP = { silu: uni('params.swiglu', swigluParams(F)), gelu_tanh: uni('params.geglu', swigluParams(F, 0, 'gelu_tanh')) };
    const addP = uni('params.residual', axpbyParams(P * C, 1, 1));
    /** x += norm(branch) (Gemma's post norms) */
    const residual = (w: string) => {
      norm(br, w, brn);
      add({ ...axpbyDispatch(device, { x: brn, y: x, params: addP }, P * C, 'residual'), grid: (t) => grid2(Math.ceil((t * C) / 256)) });
    };
    const rows = this.rows;
    for (const L of blk.layers) {
      const l = L.index;
      norm(x, L.attnNorm, h);
      add(lin(L.q, h, qp, 0));
      add(lin(L.k, h, kp, 0));
      add(lin(L.v, h, vb, 0));
      if (L.qNorm) headNorm(qp, L.qNorm, q, H);
      if (L.kNorm) headNorm(kp, L.kNorm, kb, KV);
      if (L.rope) add(ropeRowsDispatch(device, { x: q, table: tableOf(L.rope.key), params: ropeQ, step, rows }, H, D));
      add(kvStoreDispatch(device, { k: kb, v: vb, kcache: this.kcache[l], vcache: this.vcache[l], table: tableOf(L.rope?.key), rows, params: kvP, step }, KV, D, kvd));
      const ab = { q, k: this.kcache[l], v: this.vcache[l], out: att, rows, params: attParams(L.window), step };
      const sb = { ...ab, part, ml, combineParams: combineParams(L.window) };
      const plain = barrierFree ? attentionCacheRowsDispatch(device, { ...ab, lse }, { h: H, d: D, kv: kvd }) : attentionRowsDispatch(device, ab, H, kvd);
      const split = barrierFree ? attentionCacheSplitDispatches(device, sb, { h: H, d: D, kv: kvd }, maxKeys) : attentionSplitDispatches(device, sb, { h: H, d: D, kv: kvd }, maxKeys);
      for (const ls of [lists.one, lists.many]) ls.push(plain);
      for (const ls of [splitLists.one, splitLists.many]) ls.push(...split);
      if (L.postAttnNorm) { add(lin(L.o, att, br, 0)); residual(L.postAttnNorm); } else add(lin(L.o, att, x, FLAG_ACCUMULATE));
      norm(x, L.mlpNorm, h);
      add(lin(L.gate, h, g, 0));
      add(lin(L.up, h, u, 0));
      add(swigluDispatch(device, { gate: g, up: u, out: s, params: swP[L.act], step }, F));
      if (L.postMlpNorm) { add(lin(L.down, s, br, 0)); residual(L.postMlpNorm); } else add(lin(L.down, s, x, FLAG_ACCUMULATE));
    }
    this.layers = lists;
    this.layersSplit = splitLists;
    const head = linear(hs, blk.head, undefined, logits, 0, tailStep);
    const pre = [
      gatherRowsDispatch(device, { x, src: this.src, out: xs, params: uni('params.gather', gatherRowsParams(C)), step: tailStep }, C),
      normK(device, { x: xs, w: chunk0(blk.finalNorm), out: hs, params: uni('params.finalnorm', rmsnormParams(C, c.rmsNormEps, 0, false, 1, one)), step: tailStep }, (t) => t),
    ];
    const sample = sampleDispatch(device, { logits, suppress: this.suppress, out: this.sampleOut, params: this.sampleParamsBuf }, barrierFree ? 32 : dec.sampleWorkgroup, (t) => t);
    this.tail = { one: [...pre, ...head.one, sample], many: [...pre, ...head.many, sample] };
  }

  length(slot: number): number { this.slotCheck(slot); return this.lengths[slot]; }

  private slotCheck(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new Error(`slot ${slot} is outside this batch session's ${this.slots} slots`);
  }

  private check(items: readonly { slot: number; ids: readonly number[] }[]): void {
    if (this.disposed) throw new Error('The batch session was disposed');
    if (this.busy) throw new Error('feed() called while a previous step is still running');
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
  }

  /** Appends ids to `slot` and returns the logits at every one of their positions, (T, V) row-major
   *  (the prefill kernels also for one token, so this path never depends on the matvec ones). */
  async logits(slot: number, ids: readonly number[]): Promise<Float32Array> {
    this.check([{ slot, ids }]);
    const c = this.dec.config; const blk = this.dec.block;
    const { device } = this.dec.ctx;
    if (!this.allLogits) {
      const a = this.dec.alloc;
      const lbuf = a.storage('batch.logitsAll', this.P * c.vocabSize * 4);
      const normP = a.uniform('params.finalnorm.all', rmsnormParams(c.hiddenSize, c.rmsNormEps, 0, false, 1, blk.normOffset));
      this.bufs.push(lbuf, normP);
      const list: Dispatch[] = [rmsnormDispatch(device, { x: this.x, w: this.dec.weight(blk.finalNorm)!.chunks[0].buffer, out: this.h, params: normP, step: this.step }, (t) => t)];
      const v: MatmulVariant = variantFits(this.dec.matmulVariant, c.hiddenSize, 2) ? this.dec.matmulVariant : 'generic';
      const uni = (label: string, words: Uint32Array) => { const b = a.uniform(label, words); this.bufs.push(b); return b; };
      list.push(...linearForward(device, this.dec.weight(blk.head)!, v, { x: this.h, out: lbuf, dummy: this.dec.dummy, step: this.step }, 0, uni, (t) => t, 'lm_head'));
      this.allLogits = { buf: lbuf, list };
    }
    this.busy = true;
    try {
      const q = device.queue;
      const base = slot * this.maxLength; const pos0 = this.lengths[slot];
      const out = new Float32Array(ids.length * c.vocabSize);
      for (let start = 0; start < ids.length; start += this.P) {
        const t = Math.min(this.P, ids.length - start);
        q.writeBuffer(this.ids, 0, Uint32Array.from(ids.slice(start, start + t)));
        q.writeBuffer(this.rows, 0, Uint32Array.from({ length: 2 * t }, (_, i) => (i & 1 ? pos0 + start + (i >> 1) : base)));
        q.writeBuffer(this.step, 0, new Uint32Array([t, 0, 0, 0]));
        const bytes = t * c.vocabSize * 4;
        const staging = device.createBuffer({ size: bytes, usage: 0x01 | 0x08 });
        const enc = device.createCommandEncoder({ label: 'batch-logits' });
        encodeDispatches(enc, [...this.layers.many, ...this.allLogits.list], t, 'batch-logits');
        enc.copyBufferToBuffer(this.allLogits.buf, 0, staging, 0, bytes);
        q.submit([enc.finish()]);
        await staging.mapAsync(0x01);
        out.set(new Float32Array(staging.getMappedRange().slice(0)), start * c.vocabSize);
        staging.destroy();
      }
      this.lengths[slot] += ids.length;
      return out;
    } finally {
      this.busy = false;
    }
  }

  async feed(items: readonly BatchFeed[]): Promise<SampledToken[]> {
    this.check(items);
    if (items.length === 0) return [];
    const V = this.dec.config.vocabSize;
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
        let maxKeys = 0;
        for (let r = 0; r < t; r++) maxKeys = Math.max(maxKeys, rowPos[r0 + r] + 1);
        encodeDispatches(enc, this.layerList(t, maxKeys), t, 'batch-layers');
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

  /** The layer stack's dispatches for a step of t rows whose longest row has maxKeys keys (flash-decoding
   *  for few rows at long context); sets the split grids' key count, so encode the list right away. */
  layerList(t: number, maxKeys: number): Dispatch[] {
    this.maxKeys = maxKeys;
    const split = t <= this.splitRows && maxKeys > SPLIT_MIN_KEYS;
    return (split ? this.layersSplit : this.layers)[t === 1 ? 'one' : 'many'];
  }

  /** Benchmarks of long contexts: counts `length` tokens in `slot` without computing them (cache rows
   *  past the slot's length keep whatever they hold, zeros in a new session). Not for generation. */
  assumeFilled(slot: number, length: number): void {
    this.slotCheck(slot);
    if (!Number.isInteger(length) || length < this.lengths[slot] || length > this.maxLength) throw new Error(`assumeFilled(${slot}, ${length}): the slot holds ${this.lengths[slot]} of at most ${this.maxLength} tokens`);
    this.lengths[slot] = length;
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
