// LoRA training pass on the GPU over a packed row stream: up to R rows (the capacity) holding one or
// several sequences back to back, each with its own positions (rows (base, pos), ops/attention-packed.ts),
// so a mini-batch of different lengths costs its real tokens, no padding. Reuses the decoder's
// frozen weights (f16 or block-quantized: QLoRA, model/linear.ts). Per step t <= R rows: every kernel's grid and row count come from the step
// uniform, so the pass is built once and serves any micro-batch that fits.
//   forward  x0 = embed(ids)·scale; per layer l (x = xs[l], t rows), walking the model's description
//            (model/block.ts, model/arch.ts):
//              h = rmsnorm(x); q,k,v = h·Wᵀ + b (+ s·g·(h·Aᵀ)·Bᵀ on adapted modules); [q,k = rmsnorm per head];
//              [rope(q), rope(k) at row positions]; att, lse = attention(q,k,v) within each sequence (and
//              the layer's window); xMid = x + [norm](att·Woᵀ); h2 = rmsnorm(xMid)
//              act = act(h2·Wgᵀ)·(h2·Wuᵀ); xs[l+1] = xMid + [norm](act·Wdᵀ)
//            hn = rmsnorm(xs[L])
//   head     per chunk of Rc rows: logits (Rc,V) = hn·Headᵀ -> weighted CE -> dlogits (Rc,V) -> dhn rows
//            (the LM head fused with the loss chunk by chunk: the (t,V) logits never exist at once)
//   backward final norm dx -> per layer (reverse): [recompute the layer's activations from xs[l]],
//            [post-MLP norm dx], down, swiglu, gate/up, MLP-norm dx (+ residual), [post-attention norm dx],
//            o_proj, attention backward, inverse RoPE, [q/k norm dx], q/k/v, input-norm dx (+ residual);
//            each adapted module adds dA, dB, dgate.
// Memory: `recompute` keeps only xs[0..L] across the step and one layer's working activations
// (re-run per layer in the backward, ~1 extra layer forward); without it every layer keeps its own.
// Attention: the barrier-free packed kernels (ops/attention-packed.ts) or the GPU-tiled flash kernels
// (ops/flash-attention.ts), per adapter (device/kernel-choice.ts); neither holds a (T,T) buffer, the
// backward recomputes P from the saved lse. The attention gradients reuse the MLP gradients' buffers.
// One command encoder, one compute pass, one small readback (per-row losses) per step.
// The base weights get no gradient. Gradients accumulate over micro-batches until the next
// run({ accumulate: false }) clears them.
import { type AttentionVariant, defaultAttentionVariant, defaultMatmulVariant } from '../device/kernel-choice.ts';
import type { GpuContext } from '../device/gpu-context.ts';
import type { LayerSpec, LinearSpec } from '../model/arch.ts';
import type { Decoder } from '../model/decoder.ts';
import { embedDispatches, linearDx, linearForward } from '../model/linear.ts';
import type { GpuWeight } from '../model/weights.ts';
import { attentionPackedBackwardDispatches, attentionPackedDispatch, attentionPackedParams, packedRows } from '../ops/attention-packed.ts';
import { flashAttentionBackwardDispatches, flashAttentionDispatch } from '../ops/flash-attention.ts';
import { axpbyDispatch, axpbyParams } from '../ops/axpby.ts';
import { NO_TARGET, xentChunkDispatch, xentChunkParams } from '../ops/cross-entropy.ts';
import { checkTopKTargets, klTopKDispatch, klTopKParams } from '../ops/kl-topk.ts';
import { GEMM_ACCUMULATE, GEMM_GATE, GEMM_K_ROWS, GEMM_M_ROWS, type GemmShape, gemmDispatch, gemmParams } from '../ops/gemm.ts';
import { FLAG_ACCUMULATE, type MatmulVariant, variantFits } from '../ops/matmul.ts';
import { RMSNORM_BINDINGS, RMSNORM_ROWS_WGSL, rmsnormDispatch, rmsnormDxDispatch, rmsnormParams } from '../ops/rmsnorm.ts';
import { ropeParams, ropeRowsDispatch, ropeTable } from '../ops/rope.ts';
import { swigluBackwardDispatch, swigluDispatch, swigluParams } from '../ops/swiglu.ts';
import { BufferUsage, readF32 } from '../runtime/buffers.ts';
import { type Dispatch, bindGroup, encodeDispatches, grid2, kernel } from '../runtime/kernel.ts';
import { GpuAllocator } from '../runtime/tracker.ts';
import type { TrainBatch } from './batch.ts';
import { type LoraAdapter, type LoraModule, loraScaling } from './lora.ts';

export interface GpuLoraGrad { dA: Float32Array; dB: Float32Array; dGate: number }
export interface GpuTrainResult {
  /** Σ_rows w·CE over this micro-batch */
  loss: number;
  /** per-row weighted loss (t entries) */
  rowLosses: Float32Array;
  grads: Map<string, GpuLoraGrad>;
  /** the teacher top-k KL part of loss (0 without teacher targets) */
  klLoss: number;
}

/** A micro-batch: sequences packed back to back (lengths sum to ids.length; default one sequence). */
export interface PackedBatch extends TrainBatch { lengths?: number[] }

export interface TrainPassOptions {
  /** Keep only layer inputs and recompute per layer in the backward. Default: on when keeping every
   *  layer's activations (trainActivationBytes) would exceed `activationBudgetBytes`. */
  recompute?: boolean;
  /** GPU bytes the kept activations of all layers may take before recompute turns on (default 64 MiB;
   *  the worker passes what its memory estimate leaves after weights and the rest of the pass). */
  activationBudgetBytes?: number;
  /** Attention kernels: barrier-free 'rows' or workgroup-tiled 'flash' (default: kernel-choice.ts, per adapter). */
  attention?: AttentionVariant;
  /** Rows per LM-head/loss chunk (a multiple of 64). Default: logits + dlogits chunks within 64 MiB. */
  headChunkRows?: number;
  /** Forward matmul kernel (default: the decoder's prefill choice where it fits, else generic). */
  matmul?: MatmulVariant;
  /** One thread per row for norms and the loss (default: on a fallback adapter, whose barriers are slow). */
  rowwise?: boolean;
  /** k of the teacher top-k KL term (ops/kl-topk.ts) for batches that carry `teacher`; none without it */
  klTopK?: number;
}

interface ModBufs { m: LoraModule; idx: number; r: number; scale: number; A: GPUBuffer; B: GPUBuffer; u: GPUBuffer; dA: GPUBuffer; dB: GPUBuffer }

/** Float counts per row of the activations one layer keeps (h, q, k, v, att, lse, xMid, h2, gate, up,
 *  act; q/k projections before their norms; branch outputs before their post norms). */
export function layerFloatsPerRow(d: Pick<Decoder, 'config' | 'block'>): number {
  const c = d.config;
  const C = c.hiddenSize; const QD = c.numHeads * c.headDim; const KD = c.numKvHeads * c.headDim; const F = c.intermediateSize;
  const L0 = d.block.layers[0];
  return 3 * C + 2 * QD + 2 * KD + c.numHeads + 3 * F + (L0?.qNorm ? QD + KD : 0) + (L0?.postAttnNorm ? 2 * C : 0);
}

/** Bytes every layer's kept activations take at `rows` rows without recompute (the recompute default's test). */
export function trainActivationBytes(d: Pick<Decoder, 'config' | 'block'>, rows: number): number {
  return d.config.numLayers * rows * layerFloatsPerRow(d) * 4;
}

export class LoraTrainPass {
  private readonly alloc: GpuAllocator;
  private readonly forwardList: Dispatch[] = [];
  /** per head chunk: logits + loss dispatches, then the head's dx into dhn */
  private readonly headLoss: Dispatch[][] = [];
  private readonly headBack: Dispatch[][] = [];
  private readonly backwardList: Dispatch[] = [];
  private readonly mods: ModBufs[] = [];
  private readonly step: GPUBuffer;
  private readonly chunkSteps: GPUBuffer[] = [];
  private readonly ids: GPUBuffer;
  private readonly rows: GPUBuffer;
  private readonly targets: GPUBuffer;
  private readonly weights: GPUBuffer;
  private readonly losses: GPUBuffer;
  private readonly gates: GPUBuffer;
  private readonly dgates: GPUBuffer;
  private readonly logitsChunk: GPUBuffer;
  readonly headChunkRows: number;
  readonly recompute: boolean;
  readonly matmulVariant: MatmulVariant;
  readonly attentionVariant: AttentionVariant;
  private disposed = false;
  /** teacher top-k KL buffers (opts.klTopK = k) */
  private readonly kl?: { k: number; ids: GPUBuffer; lp: GPUBuffer; w: GPUBuffer; losses: GPUBuffer };

  /** A pass for micro-batches of up to `T` rows (one sequence or several packed). */
  constructor(private readonly ctx: GpuContext, readonly decoder: Decoder, readonly adapter: LoraAdapter, readonly T: number, opts: TrainPassOptions = {}) {
    const c = decoder.config;
    const { device } = ctx;
    if (!Number.isInteger(T) || T < 1) throw new Error(`train pass: row capacity must be a positive integer, got ${T}`);
    const R = T;
    const C = c.hiddenSize; const F = c.intermediateSize; const D = c.headDim; const H = c.numHeads; const KV = c.numKvHeads;
    const QD = H * D; const KD = KV * D; const V = c.vocabSize; const L = c.numLayers;
    for (const [what, n] of [['hidden size', C], ['intermediate size', F], ['head_dim', D]] as const) {
      if (n % 4 !== 0) throw new Error(`train pass: ${what} ${n} is not a multiple of 4`);
    }
    const a = (this.alloc = new GpuAllocator(device));
    const rowwise = opts.rowwise ?? ctx.report.isFallbackAdapter;
    this.recompute = opts.recompute ?? trainActivationBytes(decoder, R) > (opts.activationBudgetBytes ?? 64 * 2 ** 20);
    const flash = (this.attentionVariant = opts.attention ?? defaultAttentionVariant(ctx)) === 'flash';
    const blk = decoder.block;
    const qkNorm = blk.layers.some((x) => x.qNorm);
    const sandwich = blk.layers.some((x) => x.postAttnNorm || x.postMlpNorm);
    const pref = opts.matmul ?? decoder.matmulVariant ?? defaultMatmulVariant(ctx);
    this.matmulVariant = pref;
    const mm = (k: number): MatmulVariant => (variantFits(pref, k, 2) ? pref : 'generic');
    const buf = (label: string, floats: number) => a.storage(label, floats * 4);
    const uni = (label: string, words: Uint32Array) => a.uniform(label, words);
    const W = (name: string): GpuWeight => { const w = decoder.weight(name); if (!w) throw new Error(`train pass: weight ${name} not loaded`); return w; };
    const one = (name: string) => W(name).chunks[0].buffer;
    const dummy = buf('dummy', 4);

    const step = (this.step = a.create('train.step', 16, BufferUsage.UNIFORM | BufferUsage.COPY_DST));
    this.ids = buf('train.ids', R);
    this.rows = buf('train.rows', 2 * R);
    this.targets = buf('train.targets', R);
    this.weights = buf('train.weights', R);
    this.losses = buf('train.losses', R);
    // one cos/sin table per RoPE setting of the layers
    const tables = new Map<string, GPUBuffer>();
    for (const r of blk.ropes) {
      const t = buf(`train.rope.${r.key}`, R * D);
      device.queue.writeBuffer(t, 0, ropeTable(R, D, r.theta, r.scaling));
      tables.set(r.key, t);
    }
    this.gates = buf('lora.gates', adapter.modules.length);
    this.dgates = buf('lora.dgates', adapter.modules.length);
    const modOf = new Map<string, ModBufs>();
    adapter.modules.forEach((m, idx) => {
      const r = m.r; // per-module rank (sparse placement: PEFT rank_pattern / alpha_pattern)
      const mb: ModBufs = { m, idx, r, scale: loraScaling(m), A: buf(`lora.A.${m.path}`, r * m.inFeatures), B: buf(`lora.B.${m.path}`, m.outFeatures * r), u: buf(`lora.u.${m.path}`, R * r), dA: buf(`lora.dA.${m.path}`, r * m.inFeatures), dB: buf(`lora.dB.${m.path}`, m.outFeatures * r) };
      this.mods.push(mb);
      modOf.set(`${m.layer}:${m.module}`, mb);
    });
    this.uploadAdapter(adapter);

    // activations: layer inputs always; the rest per layer, or one shared set (recompute)
    const xs = Array.from({ length: L + 1 }, (_, l) => buf(`act.x${l}`, R * C));
    const per = (name: string, n: number) => {
      if (this.recompute) { const b = buf(`act.${name}`, R * n); return Array.from({ length: L }, () => b); }
      return Array.from({ length: L }, (_, l) => buf(`act.${name}${l}`, R * n));
    };
    const h = per('h', C); const q = per('q', QD); const k = per('k', KD); const v = per('v', KD); const att = per('att', QD); const lse = per('lse', H);
    const xMid = per('xmid', C); const h2 = per('h2', C); const g = per('gate', F); const u = per('up', F); const act = per('act', F);
    // q/k projections before their per-head norms; the attention and MLP branch outputs before their post norms
    const qp = qkNorm ? per('qproj', QD) : q; const kp = qkNorm ? per('kproj', KD) : k;
    const ob = sandwich ? per('obranch', C) : xMid; const mbr = sandwich ? per('mbranch', C) : xMid;
    const brn = sandwich ? buf('act.branchnorm', R * C) : dummy;
    const hn = buf('act.hn', R * C);

    const gemm = (list: Dispatch[], x: GPUBuffer, y: GPUBuffer, out: GPUBuffer, s: GemmShape, label: string, mRows = false) =>
      list.push(gemmDispatch(device, { x, y, gates: this.gates, out, params: uni(`params.${label}`, gemmParams(s)), step }, s.m, s.n, label, mRows ? (t) => t : undefined));
    const rowsBy = (n: number) => (t: number) => grid2(Math.ceil((t * n) / 256));
    const copy = (list: Dispatch[], x: GPUBuffer, y: GPUBuffer, n: number, b: number) =>
      list.push({ ...axpbyDispatch(device, { x, y, params: uni('params.axpby', axpbyParams(R * n, 1, b)) }, R * n), grid: rowsBy(n) });

    // y (=|+=) x·Wᵀ + b (+ LoRA); the frozen weight in any format (model/linear.ts)
    const linear = (list: Dispatch[], l: number, spec: LinearSpec, x: GPUBuffer, out: GPUBuffer, accumulate: boolean) => {
      const module = spec.module;
      const w = W(spec.weight); const [N, K] = w.shape;
      const bias = spec.bias ? decoder.weight(spec.bias)?.chunks[0].buffer : undefined;
      list.push(...linearForward(device, w, mm(K), { x, out, bias, dummy, step }, accumulate ? FLAG_ACCUMULATE : 0, uni));
      const mb = modOf.get(`${l}:${module}`);
      if (mb) {
        const r = mb.r;
        gemm(list, x, mb.A, mb.u, { m: R, n: r, k: K, x: { s0: K, s1: 1 }, y: { s0: 1, s1: K }, out: { s0: r, s1: 1 }, flags: GEMM_M_ROWS }, `lora.down.${mb.m.path}`, true);
        gemm(list, mb.u, mb.B, out, { m: R, n: N, k: r, x: { s0: r, s1: 1 }, y: { s0: 1, s1: r }, out: { s0: N, s1: 1 }, alpha: mb.scale, flags: GEMM_ACCUMULATE | GEMM_GATE | GEMM_M_ROWS, gidx: mb.idx }, `lora.up.${mb.m.path}`, true);
      }
    };

    const normOne = decoder.block.normOffset; // (1 + w) norms (Gemma)
    const normP = uni('params.norm', rmsnormParams(C, c.rmsNormEps, 0, false, 1, normOne));
    const normRows = kernel(device, 'rmsnorm-rows', RMSNORM_ROWS_WGSL, RMSNORM_BINDINGS);
    const norm = (list: Dispatch[], x: GPUBuffer, w: GPUBuffer, out: GPUBuffer) => list.push(rowwise
      ? { label: 'rmsnorm', pipeline: normRows.pipeline, bind: bindGroup(device, normRows, [x, w, out, normP, step]), grid: (t) => [Math.ceil(t / 64), 1, 1] }
      : rmsnormDispatch(device, { x, w, out, params: normP, step }, (t) => t));
    const attPs = new Map<number, GPUBuffer>();
    const attP = (window: number) => {
      if (!attPs.has(window)) attPs.set(window, uni(`params.attn.w${window}`, attentionPackedParams(H, KV, D, R, window, blk.attnScale)));
      return attPs.get(window)!;
    };
    const ropeQ = uni('params.ropeq', ropeParams(H, D)); const ropeK = uni('params.ropek', ropeParams(KV, D));
    const swP = { silu: uni('params.swiglu', swigluParams(F)), gelu_tanh: uni('params.geglu', swigluParams(F, 0, 'gelu_tanh')) };
    const headNormP = new Map<number, GPUBuffer>();
    const headNorm = (list: Dispatch[], x: GPUBuffer, w: GPUBuffer, out: GPUBuffer, nh: number) => {
      if (!headNormP.has(nh)) headNormP.set(nh, uni(`params.headnorm${nh}`, rmsnormParams(D, c.rmsNormEps, 0, false, nh, normOne)));
      const params = headNormP.get(nh)!;
      list.push(rowwise
        ? { label: 'rmsnorm-head', pipeline: normRows.pipeline, bind: bindGroup(device, normRows, [x, w, out, params, step]), grid: (t) => [Math.ceil((t * nh) / 64), 1, 1] }
        : rmsnormDispatch(device, { x, w, out, params, step }, (t) => t * nh, 'rmsnorm-head'));
    };
    const specOf = (l: number): LayerSpec => blk.layers[l];

    /** Layer l's forward from xs[l]; `full` also writes xs[l+1] (the recompute in the backward does not need it). */
    const layerForward = (list: Dispatch[], l: number, full: boolean) => {
      const S = specOf(l);
      norm(list, xs[l], one(S.attnNorm), h[l]);
      linear(list, l, S.q, h[l], qp[l], false);
      linear(list, l, S.k, h[l], kp[l], false);
      linear(list, l, S.v, h[l], v[l], false);
      if (S.qNorm) headNorm(list, qp[l], one(S.qNorm), q[l], H);
      if (S.kNorm) headNorm(list, kp[l], one(S.kNorm), k[l], KV);
      if (S.rope) {
        const table = tables.get(S.rope.key)!;
        list.push(ropeRowsDispatch(device, { x: q[l], table, params: ropeQ, step, rows: this.rows }, H, D));
        list.push(ropeRowsDispatch(device, { x: k[l], table, params: ropeK, step, rows: this.rows }, KV, D));
      }
      list.push((flash ? flashAttentionDispatch : attentionPackedDispatch)(device, { q: q[l], k: k[l], v: v[l], out: att[l], lse: lse[l], rows: this.rows, params: attP(S.window), step }, { h: H, d: D }));
      copy(list, xs[l], xMid[l], C, 0);
      if (S.postAttnNorm) {
        linear(list, l, S.o, att[l], ob[l], false);
        norm(list, ob[l], one(S.postAttnNorm), brn);
        copy(list, brn, xMid[l], C, 1);
      } else linear(list, l, S.o, att[l], xMid[l], true);
      norm(list, xMid[l], one(S.mlpNorm), h2[l]);
      linear(list, l, S.gate, h2[l], g[l], false);
      linear(list, l, S.up, h2[l], u[l], false);
      list.push(swigluDispatch(device, { gate: g[l], up: u[l], out: act[l], params: swP[S.act], step }, F));
      if (S.postMlpNorm) {
        linear(list, l, S.down, act[l], mbr[l], false); // the backward of its norm needs it
        if (!full) return;
        norm(list, mbr[l], one(S.postMlpNorm), brn);
        copy(list, xMid[l], xs[l + 1], C, 0);
        copy(list, brn, xs[l + 1], C, 1);
        return;
      }
      if (!full) return;
      copy(list, xMid[l], xs[l + 1], C, 0);
      linear(list, l, S.down, act[l], xs[l + 1], true);
    };

    const fwd = this.forwardList;
    fwd.push(...embedDispatches(device, W(blk.embed), { ids: this.ids, out: xs[0], step }, blk.embedScale, uni));
    for (let l = 0; l < L; l++) layerForward(fwd, l, true);
    norm(fwd, xs[L], one(blk.finalNorm), hn);

    // ------------------------------------------------------------ LM head fused with the loss, by row chunks
    const budgetRows = Math.floor((64 * 2 ** 20) / (2 * V * 4) / 64) * 64;
    const Rc = Math.min(opts.headChunkRows ?? Math.max(64, budgetRows), R);
    if (Rc < R && Rc % 64 !== 0) throw new Error(`train pass: headChunkRows ${Rc} must be a multiple of 64`);
    this.headChunkRows = Rc;
    this.logitsChunk = buf('head.logits', Rc * V);
    const dlogits = buf('head.dlogits', Rc * V);
    const dh = buf('grad.h', R * C);
    const head = W(blk.head);
    if (opts.klTopK !== undefined) {
      const K = opts.klTopK;
      if (!(Number.isInteger(K) && K >= 1 && K <= 64)) throw new Error(`train pass: klTopK must be an integer in 1..64, got ${K}`);
      this.kl = { k: K, ids: buf('kl.ids', R * K), lp: buf('kl.lp', R * K), w: buf('kl.w', R), losses: buf('kl.losses', R) };
    }
    const nChunks = Math.ceil(R / Rc);
    for (let ci = 0; ci < nChunks; ci++) {
      const r0 = ci * Rc; const cap = Math.min(Rc, R - r0);
      const cstep = a.create(`head.step${ci}`, 16, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
      this.chunkSteps.push(cstep);
      const rowsOf = (t: number) => Math.max(0, Math.min(cap, t - r0));
      const range = (b: GPUBuffer): GPUBufferBinding => ({ buffer: b, offset: r0 * C * 4, size: cap * C * 4 });
      const hl: Dispatch[] = [];
      // hn bound from row r0 (the offset r0·C·4 is a multiple of 256 bytes: Rc % 64 == 0)
      hl.push(...linearForward(device, head, mm(C), { x: range(hn), out: this.logitsChunk, dummy, step: cstep }, 0, uni, rowsOf, 'lm_head'));
      hl.push(xentChunkDispatch(device, { logits: this.logitsChunk, targets: this.targets, weights: this.weights, dlogits, losses: this.losses, params: uni('params.xent', xentChunkParams(V, r0)), step: cstep }, rowsOf, rowwise));
      // teacher top-k KL (ops/kl-topk.ts) adds into this chunk's dlogits (weights 0 when a batch has no teacher)
      if (this.kl) hl.push(klTopKDispatch(device, { logits: this.logitsChunk, ids: this.kl.ids, lp: this.kl.lp, weights: this.kl.w, dlogits, losses: this.kl.losses, params: uni('params.kl', klTopKParams(cap, V, this.kl.k, r0)) }, rowsOf));
      this.headLoss.push(hl);
      this.headBack.push(linearDx(device, head, { dout: dlogits, dx: range(dh), step: cstep }, false, uni, { rowsOf, label: 'dx.head' }));
    }

    // ------------------------------------------------------------ backward
    const bwd = this.backwardList;
    const dx = buf('grad.x', R * C); const dtmp = buf('grad.tmp', R * C);
    const dact = buf('grad.act', R * F); const dg = buf('grad.gate', R * F); const du = buf('grad.up', R * F);
    // The attention branch's gradients reuse the MLP branch's (never live at once: a layer's MLP part is
    // done before its attention part starts, and the next layer's MLP part starts after it), and the q/k
    // norm gradients reuse the layer's gate/up activations (dead once its SwiGLU backward has run).
    const datt = F >= QD ? dact : buf('grad.att', R * QD); const dq = F >= QD ? dg : buf('grad.q', R * QD); const dkv = F >= 2 * KD ? du : buf('grad.kv', 2 * R * KD);
    const dqnBuf = qkNorm && F < QD ? buf('grad.qproj', R * QD) : undefined; const dknBuf = qkNorm && F < KD ? buf('grad.kproj', R * KD) : undefined;
    const dqnOf = (l: number) => (qkNorm ? dqnBuf ?? g[l] : dq); const dknOf = (l: number) => (qkNorm ? dknBuf ?? u[l] : dkv);
    const dbr = sandwich ? buf('grad.branch', R * C) : dx;
    const delta = buf('grad.attdelta', R * H);
    const maxR = Math.max(1, ...this.mods.map((mb) => mb.r));
    const maxOut = Math.max(1, ...adapter.modules.map((m) => m.outFeatures));
    const Mtmp = buf('grad.lora.M', maxOut * maxR); const dU = buf('grad.lora.du', R * maxR);
    const normDxP = uni('params.normdx', rmsnormParams(C, c.rmsNormEps, R, false, 1, normOne));
    const normDx = (x: GPUBuffer, w: GPUBuffer, dout: GPUBuffer, out: GPUBuffer) =>
      bwd.push(rmsnormDxDispatch(device, { x, w, dout, dx: out, params: normDxP }, rowwise));
    const swBP = uni('params.swiglubwd', swigluParams(F, R)); const swBPg = uni('params.geglubwd', swigluParams(F, R, 'gelu_tanh'));

    const headNormDxP = new Map<number, GPUBuffer>();
    const headNormDx = (x: GPUBuffer, w: GPUBuffer, dout: GPUBuffer, out: GPUBuffer, nh: number) => {
      if (!headNormDxP.has(nh)) headNormDxP.set(nh, uni(`params.headnormdx${nh}`, rmsnormParams(D, c.rmsNormEps, R * nh, false, 1, normOne)));
      bwd.push(rmsnormDxDispatch(device, { x, w, dout, dx: out, params: headNormDxP.get(nh)! }, rowwise, 'rmsnorm-head-dx', (t) => t * nh));
    };

    /** dIn (=|+=) dy·W (+ LoRA path); LoRA grads of the module (accumulated). dy (t,out) at element offset doff. */
    const linearBack = (l: number, spec: LinearSpec, xIn: GPUBuffer, dy: GPUBuffer, doff: number, dIn: GPUBuffer, accumulate: boolean) => {
      const module = spec.module;
      const w = W(spec.weight); const [N, K] = w.shape;
      bwd.push(...linearDx(device, w, { dout: dy, dx: dIn, step }, accumulate, uni, { doff }));
      const mb = modOf.get(`${l}:${module}`);
      if (!mb) return;
      const path = mb.m.path; const r = mb.r; const s = mb.scale;
      gemm(bwd, dy, mb.u, Mtmp, { m: N, n: r, k: R, x: { off: doff, s0: 1, s1: N }, y: { s0: r, s1: 1 }, out: { s0: r, s1: 1 }, alpha: s, flags: GEMM_K_ROWS }, `lora.M.${path}`);
      gemm(bwd, dy, mb.u, mb.dB, { m: N, n: r, k: R, x: { off: doff, s0: 1, s1: N }, y: { s0: r, s1: 1 }, out: { s0: r, s1: 1 }, alpha: s, flags: GEMM_GATE | GEMM_ACCUMULATE | GEMM_K_ROWS, gidx: mb.idx }, `lora.dB.${path}`);
      gemm(bwd, Mtmp, mb.B, this.dgates, { m: 1, n: 1, k: N * r, x: { s0: 0, s1: 1 }, y: { s0: 1, s1: 0 }, out: { off: mb.idx, s0: 0, s1: 0 }, flags: GEMM_ACCUMULATE }, `lora.dgate.${path}`);
      gemm(bwd, dy, mb.B, dU, { m: R, n: r, k: N, x: { off: doff, s0: N, s1: 1 }, y: { s0: r, s1: 1 }, out: { s0: r, s1: 1 }, alpha: s, flags: GEMM_GATE | GEMM_M_ROWS, gidx: mb.idx }, `lora.du.${path}`, true);
      gemm(bwd, dU, xIn, mb.dA, { m: r, n: K, k: R, x: { s0: 1, s1: r }, y: { s0: K, s1: 1 }, out: { s0: K, s1: 1 }, flags: GEMM_ACCUMULATE | GEMM_K_ROWS }, `lora.dA.${path}`);
      gemm(bwd, dU, mb.A, dIn, { m: R, n: K, k: r, x: { s0: r, s1: 1 }, y: { s0: K, s1: 1 }, out: { s0: K, s1: 1 }, flags: GEMM_ACCUMULATE | GEMM_M_ROWS }, `lora.dx.${path}`, true);
    };

    normDx(xs[L], one(blk.finalNorm), dh, dx);
    const ropeQi = uni('params.ropeq.inv', ropeParams(H, D, -1)); const ropeKi = uni('params.ropek.inv', ropeParams(KV, D, -1));
    for (let l = L - 1; l >= 0; l--) {
      const S = specOf(l);
      if (this.recompute) layerForward(bwd, l, false);
      // MLP branch: [post-MLP norm], down, act, gate/up, MLP norm (+ residual)
      if (S.postMlpNorm) normDx(mbr[l], one(S.postMlpNorm), dx, dbr);
      linearBack(l, S.down, act[l], S.postMlpNorm ? dbr : dx, 0, dact, false);
      bwd.push(swigluBackwardDispatch(device, { gate: g[l], up: u[l], dout: dact, dgate: dg, dup: du, params: S.act === 'gelu_tanh' ? swBPg : swBP }, F));
      linearBack(l, S.gate, h2[l], dg, 0, dh, false);
      linearBack(l, S.up, h2[l], du, 0, dh, true);
      normDx(xMid[l], one(S.mlpNorm), dh, dtmp);
      copy(bwd, dtmp, dx, C, 1);
      // attention branch: [post-attention norm], o, attention, inverse RoPE, [q/k norms], q/k/v, input norm (+ residual)
      if (S.postAttnNorm) normDx(ob[l], one(S.postAttnNorm), dx, dbr);
      linearBack(l, S.o, att[l], S.postAttnNorm ? dbr : dx, 0, datt, false);
      bwd.push(...(flash ? flashAttentionBackwardDispatches : attentionPackedBackwardDispatches)(device, { q: q[l], k: k[l], v: v[l], o: att[l], dout: datt, lse: lse[l], delta, dq, dkv, rows: this.rows, params: attP(S.window), step }, { h: H, hkv: KV, d: D }));
      if (S.rope) {
        const table = tables.get(S.rope.key)!;
        bwd.push(ropeRowsDispatch(device, { x: dq, table, params: ropeQi, step, rows: this.rows }, H, D, 'rope-inv'));
        bwd.push(ropeRowsDispatch(device, { x: dkv, table, params: ropeKi, step, rows: this.rows }, KV, D, 'rope-inv'));
      }
      const dqn = dqnOf(l); const dkn = dknOf(l);
      if (S.qNorm) headNormDx(qp[l], one(S.qNorm), dq, dqn, H);
      if (S.kNorm) headNormDx(kp[l], one(S.kNorm), dkv, dkn, KV);
      linearBack(l, S.q, h[l], S.qNorm ? dqn : dq, 0, dh, false);
      linearBack(l, S.k, h[l], S.kNorm ? dkn : dkv, 0, dh, true);
      linearBack(l, S.v, h[l], dkv, R * KD, dh, true);
      normDx(xs[l], one(S.attnNorm), dh, dtmp);
      copy(bwd, dtmp, dx, C, 1);
    }
  }

  /** Live GPU bytes of this pass (the allocation tracker). */
  get gpuBytes(): number { return this.alloc.liveBytes; }
  get peakBytes(): number { return this.alloc.peakBytes; }
  /** Dispatches in one training step of t rows (for the benchmark). */
  dispatchCount(t = this.T): { forward: number; head: number; backward: number } {
    const n = (l: readonly Dispatch[]) => l.filter((d) => d.grid(t).every((v) => v > 0)).length;
    return { forward: n(this.forwardList), head: this.headLoss.reduce((s, l, i) => s + n(l) + n(this.headBack[i]), 0), backward: n(this.backwardList) };
  }

  /** Copies A, B and gates of `a` (same structure as at construction) to the GPU. */
  uploadAdapter(a: LoraAdapter): void {
    const q = this.ctx.device.queue;
    if (a.modules.length !== this.mods.length || a.modules.some((m, i) => m.path !== this.mods[i].m.path || m.r !== this.mods[i].m.r)) throw new Error('uploadAdapter: adapter structure (modules, ranks) differs from the pass');
    this.mods.forEach((mb, i) => {
      q.writeBuffer(mb.A, 0, Float32Array.from(a.modules[i].A));
      q.writeBuffer(mb.B, 0, Float32Array.from(a.modules[i].B));
    });
    q.writeBuffer(this.gates, 0, Float32Array.from(a.modules, (m) => m.gate));
  }

  /** Writes ids, rows, targets, weights and the step uniforms; returns t. */
  private writeBatch(b: { ids: readonly number[]; targets?: readonly number[]; weights?: readonly number[]; lengths?: readonly number[] }): number {
    if (this.disposed) throw new Error('train pass disposed');
    const t = b.ids.length;
    if (t < 1 || t > this.T) throw new Error(`train pass built for up to ${this.T} rows, got ${t}`);
    const V = this.decoder.config.vocabSize;
    for (const id of b.ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`Token id ${id} is outside the vocabulary (0..${V - 1})`);
    const lengths = b.lengths ?? [t];
    if (lengths.reduce((s, n) => s + n, 0) !== t || lengths.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`batch: sequence lengths [${lengths.join(', ')}] must be positive and sum to the ${t} ids`);
    const { queue } = this.ctx.device;
    queue.writeBuffer(this.ids, 0, Uint32Array.from(b.ids));
    queue.writeBuffer(this.rows, 0, Uint32Array.from(packedRows(lengths).flat()));
    if (b.targets && b.weights) {
      if (b.targets.length !== t || b.weights.length !== t) throw new Error(`batch: targets and weights need ${t} entries`);
      queue.writeBuffer(this.targets, 0, Uint32Array.from(b.targets, (y) => (y < 0 ? NO_TARGET : y)));
      queue.writeBuffer(this.weights, 0, Float32Array.from(b.weights));
    }
    queue.writeBuffer(this.step, 0, new Uint32Array([t, 0, 0, 0]));
    this.chunkSteps.forEach((s, i) => queue.writeBuffer(s, 0, new Uint32Array([Math.max(0, Math.min(this.headChunkRows, t - i * this.headChunkRows)), 0, 0, 0])));
    return t;
  }

  /** Teacher top-k targets of the batch (or zero KL weights) into the KL buffers. */
  private writeTeacher(b: TrainBatch, t: number): void {
    if (b.teacher && !this.kl) throw new Error('batch has teacher top-k targets but the train pass was built without klTopK');
    if (!this.kl) return;
    const { queue } = this.ctx.device;
    const tk = b.teacher;
    if (tk) {
      checkTopKTargets(tk, t, this.decoder.config.vocabSize);
      if (tk.k !== this.kl.k) throw new Error(`teacher top-k: the pass was built for k = ${this.kl.k}, the batch has k = ${tk.k}`);
      queue.writeBuffer(this.kl.ids, 0, Uint32Array.from(tk.ids, (id) => (id < 0 ? NO_TARGET : id)));
      queue.writeBuffer(this.kl.lp, 0, Float32Array.from(tk.logprobs));
    }
    queue.writeBuffer(this.kl.w, 0, tk ? Float32Array.from(tk.weights) : new Float32Array(t));
  }

  private async klLoss(b: TrainBatch, t: number): Promise<number> {
    if (!this.kl || !b.teacher) return 0;
    return (await readF32(this.ctx.device, this.kl.losses, t)).reduce((s, v) => s + v, 0);
  }

  /** Forward only: logits (t,V), assembled chunk by chunk (tests; training never holds them at once). */
  async logits(ids: readonly number[]): Promise<Float32Array> {
    const t = this.writeBatch({ ids });
    const V = this.decoder.config.vocabSize;
    const { device } = this.ctx;
    const full = device.createBuffer({ size: Math.max(16, t * V * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'lora-forward' });
    encodeDispatches(enc, this.forwardList, t, 'lora-forward');
    this.headLoss.forEach((hl, i) => {
      const rows = Math.min(this.headChunkRows, t - i * this.headChunkRows);
      if (rows <= 0) return;
      encodeDispatches(enc, hl.filter((d) => d.label === 'lm_head'), t, 'lm-head');
      enc.copyBufferToBuffer(this.logitsChunk, 0, full, i * this.headChunkRows * V * 4, rows * V * 4);
    });
    device.queue.submit([enc.finish()]);
    const out = await readF32(device, full, t * V);
    full.destroy();
    return out;
  }

  /** Loss of a batch without a backward pass (validation; the forward the benchmark compares with). */
  async forwardLoss(batch: PackedBatch): Promise<{ loss: number; rowLosses: Float32Array }> {
    const t = this.writeBatch(batch);
    this.writeTeacher(batch, t);
    const { device } = this.ctx;
    const enc = device.createCommandEncoder({ label: 'lora-loss' });
    encodeDispatches(enc, [...this.forwardList, ...this.headLoss.flat()], t, 'lora-loss');
    device.queue.submit([enc.finish()]);
    const rowLosses = await readF32(device, this.losses, t);
    const kl = await this.klLoss(batch, t);
    return { loss: rowLosses.reduce((s, v) => s + v, 0) + kl, rowLosses };
  }

  /** Trainable tensors on the GPU: A and B of every module, then the gates (no weight decay on gates). */
  trainables(): Array<{ name: string; param: GPUBuffer; grad: GPUBuffer; n: number; decay: boolean }> {
    const out = this.mods.flatMap((mb) => [
      { name: `${mb.m.path}.lora_A`, param: mb.A, grad: mb.dA, n: mb.m.A.length, decay: true },
      { name: `${mb.m.path}.lora_B`, param: mb.B, grad: mb.dB, n: mb.m.B.length, decay: true },
    ]);
    out.push({ name: 'gates', param: this.gates, grad: this.dgates, n: this.mods.length, decay: false });
    return out;
  }

  /** Copies the GPU's current A, B and gates into `this.adapter` (e.g. after optimiser steps) and returns it. */
  async readAdapter(): Promise<LoraAdapter> {
    const { device } = this.ctx;
    for (const mb of this.mods) {
      mb.m.A.set(await readF32(device, mb.A, mb.m.A.length));
      mb.m.B.set(await readF32(device, mb.B, mb.m.B.length));
    }
    const g = await readF32(device, this.gates, this.mods.length);
    this.mods.forEach((mb, i) => { mb.m.gate = g[i]; });
    return this.adapter;
  }

  /** Forward + backward of one micro-batch: loss = Σ_rows w·CE and the gradient of every LoRA A, B,
   *  gate, added to the gradients on the GPU (cleared first unless `accumulate`); read back unless
   *  readGrads is false. */
  async run(batch: PackedBatch, opts: { readGrads?: boolean; accumulate?: boolean } = {}): Promise<GpuTrainResult> {
    if (!batch.targets || !batch.weights) throw new Error('batch: targets and weights are required for training');
    const t = this.writeBatch(batch);
    this.writeTeacher(batch, t);
    const { device } = this.ctx;
    const enc = device.createCommandEncoder({ label: 'lora-train' });
    if (!opts.accumulate) {
      for (const mb of this.mods) { enc.clearBuffer(mb.dA); enc.clearBuffer(mb.dB); }
      enc.clearBuffer(this.dgates);
    }
    const list = [...this.forwardList];
    this.headLoss.forEach((hl, i) => list.push(...hl, ...this.headBack[i]));
    list.push(...this.backwardList);
    encodeDispatches(enc, list, t, 'lora-train');
    device.queue.submit([enc.finish()]);
    const rowLosses = await readF32(device, this.losses, t);
    const klLoss = await this.klLoss(batch, t);
    const loss = rowLosses.reduce((a, b) => a + b, 0) + klLoss;
    if (opts.readGrads === false) return { loss, rowLosses, grads: new Map(), klLoss };
    const dg = await readF32(device, this.dgates, this.mods.length);
    const grads = new Map<string, GpuLoraGrad>();
    for (const mb of this.mods) {
      grads.set(mb.m.path, { dA: await readF32(device, mb.dA, mb.m.A.length), dB: await readF32(device, mb.dB, mb.m.B.length), dGate: dg[mb.idx] });
    }
    return { loss, rowLosses, grads, klLoss };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.alloc.destroyAll();
  }
}
