// LoRA training pass on the GPU for one sequence of T tokens (prefill from position 0), reusing the
// decoder's frozen f16 weights and its forward kernels, with every layer's activations kept:
//   forward  x0 = embed(ids); per layer l (x = xs[l], T rows):
//              h = rmsnorm(x); q,k,v = h·Wᵀ + b (+ s·g·(h·Aᵀ)·Bᵀ on adapted modules); rope(q), rope(k)
//              att = attention(q,k,v); xMid = x + att·Woᵀ; h2 = rmsnorm(xMid)
//              act = silu(h2·Wgᵀ)·(h2·Wuᵀ); xs[l+1] = xMid + act·Wdᵀ
//            hn = rmsnorm(xs[L]); logits (T,V) = hn·Headᵀ
//   backward weighted CE -> dlogits -> head dx -> final norm dx -> per layer (reverse): down, swiglu,
//            gate/up, post-norm dx (+ residual), o_proj, attention backward, inverse RoPE, q/k/v,
//            input-norm dx (+ residual); each adapted module adds dA, dB, dgate (see reference.ts).
// The base weights get no gradient. One compute pass; losses and gradients read back after it.
import type { GpuContext } from '../device/gpu-context.ts';
import type { Decoder } from '../model/decoder.ts';
import type { GpuWeight } from '../model/weights.ts';
import { attentionDispatch, attentionParams } from '../ops/attention.ts';
import { attentionBackwardDispatches, attentionBackwardParams } from '../ops/attention-backward.ts';
import { axpbyDispatch, axpbyParams } from '../ops/axpby.ts';
import { NO_TARGET, crossEntropyDispatch, crossEntropyParams } from '../ops/cross-entropy.ts';
import { embeddingDispatch, embeddingParams } from '../ops/embedding.ts';
import { GEMM_ACCUMULATE, GEMM_GATE, type GemmShape, gemmDispatch, gemmParams } from '../ops/gemm.ts';
import { FLAG_ACCUMULATE, FLAG_BIAS, matmulDispatch, matmulParams } from '../ops/matmul.ts';
import { linearDxDispatch, linearDxParams } from '../ops/matmul-dx.ts';
import { RMSNORM_DX_WGSL, rmsnormDispatch, rmsnormParams } from '../ops/rmsnorm.ts';
import { ropeDispatch, ropeParams, ropeTable } from '../ops/rope.ts';
import { SWIGLU_BACKWARD_BINDINGS, SWIGLU_BACKWARD_WGSL, swigluDispatch, swigluParams } from '../ops/swiglu.ts';
import { readF32 } from '../runtime/buffers.ts';
import { type Dispatch, bindGroup, encodeDispatches, grid2, kernel } from '../runtime/kernel.ts';
import { GpuAllocator } from '../runtime/tracker.ts';
import type { TrainBatch } from './batch.ts';
import { type LoraAdapter, type LoraModule, loraScaling } from './lora.ts';

export interface GpuLoraGrad { dA: Float32Array; dB: Float32Array; dGate: number }
export interface GpuTrainResult { loss: number; grads: Map<string, GpuLoraGrad> }

interface ModBufs { m: LoraModule; idx: number; A: GPUBuffer; B: GPUBuffer; u: GPUBuffer; dA: GPUBuffer; dB: GPUBuffer }

export class LoraTrainPass {
  private readonly alloc: GpuAllocator;
  private readonly forwardList: Dispatch[] = [];
  private readonly backwardList: Dispatch[] = [];
  private readonly mods: ModBufs[] = [];
  private readonly ids: GPUBuffer;
  private readonly targets: GPUBuffer;
  private readonly weights: GPUBuffer;
  private readonly losses: GPUBuffer;
  private readonly gates: GPUBuffer;
  private readonly dgates: GPUBuffer;
  /** (T,V) logits of the last run */
  readonly logitsBuf: GPUBuffer;
  private disposed = false;

  /** A pass for sequences of exactly `T` tokens. Base weights must each fit one buffer chunk for the norms. */
  constructor(private readonly ctx: GpuContext, readonly decoder: Decoder, readonly adapter: LoraAdapter, readonly T: number) {
    const c = decoder.config;
    const { device } = ctx;
    if (!Number.isInteger(T) || T < 1 || T > c.maxPositionEmbeddings) throw new Error(`train pass: T must be 1..${c.maxPositionEmbeddings}, got ${T}`);
    const a = (this.alloc = new GpuAllocator(device));
    const C = c.hiddenSize; const F = c.intermediateSize; const D = c.headDim; const H = c.numHeads; const KV = c.numKvHeads;
    const QD = H * D; const KD = KV * D; const V = c.vocabSize; const L = c.numLayers;
    const buf = (label: string, floats: number) => a.storage(label, floats * 4);
    const uni = (label: string, words: Uint32Array) => a.uniform(label, words);
    const W = (name: string): GpuWeight => { const w = decoder.weight(name); if (!w) throw new Error(`train pass: weight ${name} not loaded`); return w; };
    const one = (name: string) => W(name).chunks[0].buffer;
    const dummy = buf('dummy', 4);

    const step = a.create('train.step', 16, 0x40 | 0x08);
    device.queue.writeBuffer(step, 0, new Uint32Array([T, 0, 0, 0]));
    this.ids = buf('train.ids', T);
    this.targets = buf('train.targets', T);
    this.weights = buf('train.weights', T);
    this.losses = buf('train.losses', T);
    this.logitsBuf = buf('train.logits', T * V);
    const table = buf('train.rope', T * D);
    device.queue.writeBuffer(table, 0, ropeTable(T, D, c.ropeTheta));
    this.gates = buf('lora.gates', adapter.modules.length);
    this.dgates = buf('lora.dgates', adapter.modules.length);
    const modOf = new Map<string, ModBufs>();
    adapter.modules.forEach((m, idx) => {
      const r = m.r; // per-module rank
      const mb: ModBufs = { m, idx, A: buf(`lora.A.${m.path}`, r * m.inFeatures), B: buf(`lora.B.${m.path}`, m.outFeatures * r), u: buf(`lora.u.${m.path}`, T * r), dA: buf(`lora.dA.${m.path}`, r * m.inFeatures), dB: buf(`lora.dB.${m.path}`, m.outFeatures * r) };
      this.mods.push(mb);
      modOf.set(`${m.layer}:${m.module}`, mb);
    });
    this.uploadAdapter(adapter);

    // activations kept per layer
    const xs = Array.from({ length: L + 1 }, (_, l) => buf(`act.x${l}`, T * C));
    const per = (name: string, n: number) => Array.from({ length: L }, (_, l) => buf(`act.${name}${l}`, T * n));
    const h = per('h', C); const q = per('q', QD); const k = per('k', KD); const v = per('v', KD); const att = per('att', QD);
    const xMid = per('xmid', C); const h2 = per('h2', C); const g = per('gate', F); const u = per('up', F); const act = per('act', F);
    const hn = buf('act.hn', T * C);

    const fwd = this.forwardList;
    const gemm = (list: Dispatch[], x: GPUBuffer, y: GPUBuffer, out: GPUBuffer, s: GemmShape, label: string) =>
      list.push(gemmDispatch(device, { x, y, gates: this.gates, out, params: uni(`params.${label}`, gemmParams(s)) }, s.m, s.n, label));

    // y (=|+=) x·Wᵀ + b (+ LoRA)
    const linear = (l: number, module: string, x: GPUBuffer, out: GPUBuffer, accumulate: boolean) => {
      const wName = `model.layers.${l}.${module}.weight`;
      const w = W(wName); const [N, K] = w.shape;
      const b = decoder.weight(`model.layers.${l}.${module}.bias`);
      const flags = (accumulate ? FLAG_ACCUMULATE : 0) | (b ? FLAG_BIAS : 0);
      for (const ch of w.chunks) {
        const params = uni(`params.${wName}`, matmulParams({ n: ch.rows, k: K, ldo: N, noff: ch.r0, flags, m: 0 }));
        fwd.push(matmulDispatch(device, 'generic', { x, w: ch.buffer, bias: b?.chunks[0].buffer ?? dummy, out, params, step }, ch.rows, (t) => t, wName));
      }
      const mb = modOf.get(`${l}:${module}`);
      if (mb) {
        const r = mb.m.r; const s = loraScaling(mb.m);
        gemm(fwd, x, mb.A, mb.u, { m: T, n: r, k: K, x: { s0: K, s1: 1 }, y: { s0: 1, s1: K }, out: { s0: r, s1: 1 } }, `lora.down.${mb.m.path}`);
        gemm(fwd, mb.u, mb.B, out, { m: T, n: N, k: r, x: { s0: r, s1: 1 }, y: { s0: 1, s1: r }, out: { s0: N, s1: 1 }, alpha: s, flags: GEMM_ACCUMULATE | GEMM_GATE, gidx: mb.idx }, `lora.up.${mb.m.path}`);
      }
    };
    const copy = (list: Dispatch[], x: GPUBuffer, y: GPUBuffer, n: number, b: number) => list.push(axpbyDispatch(device, { x, y, params: uni('params.axpby', axpbyParams(n, 1, b)) }, n));

    for (const ch of W('model.embed_tokens.weight').chunks) {
      fwd.push(embeddingDispatch(device, { ids: this.ids, table: ch.buffer, out: xs[0], params: uni('params.embed', embeddingParams(C, ch.r0, ch.rows)), step }, C));
    }
    const normP = uni('params.norm', rmsnormParams(C, c.rmsNormEps));
    const attP = uni('params.attn', attentionParams(H, KV, D));
    const ropeQ = uni('params.ropeq', ropeParams(H, D)); const ropeK = uni('params.ropek', ropeParams(KV, D));
    const swP = uni('params.swiglu', swigluParams(F));
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}`;
      fwd.push(rmsnormDispatch(device, { x: xs[l], w: one(`${p}.input_layernorm.weight`), out: h[l], params: normP, step }, (t) => t));
      linear(l, 'self_attn.q_proj', h[l], q[l], false);
      linear(l, 'self_attn.k_proj', h[l], k[l], false);
      linear(l, 'self_attn.v_proj', h[l], v[l], false);
      fwd.push(ropeDispatch(device, { x: q[l], table, params: ropeQ, step }, H, D));
      fwd.push(ropeDispatch(device, { x: k[l], table, params: ropeK, step }, KV, D));
      fwd.push(attentionDispatch(device, { q: q[l], k: k[l], v: v[l], out: att[l], params: attP, step }, H));
      copy(fwd, xs[l], xMid[l], T * C, 0);
      linear(l, 'self_attn.o_proj', att[l], xMid[l], true);
      fwd.push(rmsnormDispatch(device, { x: xMid[l], w: one(`${p}.post_attention_layernorm.weight`), out: h2[l], params: normP, step }, (t) => t));
      linear(l, 'mlp.gate_proj', h2[l], g[l], false);
      linear(l, 'mlp.up_proj', h2[l], u[l], false);
      fwd.push(swigluDispatch(device, { gate: g[l], up: u[l], out: act[l], params: swP, step }, F));
      copy(fwd, xMid[l], xs[l + 1], T * C, 0);
      linear(l, 'mlp.down_proj', act[l], xs[l + 1], true);
    }
    fwd.push(rmsnormDispatch(device, { x: xs[L], w: one('model.norm.weight'), out: hn, params: normP, step }, (t) => t));
    const head = W(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
    for (const ch of head.chunks) {
      const params = uni('params.head', matmulParams({ n: ch.rows, k: C, ldo: V, noff: ch.r0, flags: 0, m: 0 }));
      fwd.push(matmulDispatch(device, 'generic', { x: hn, w: ch.buffer, bias: dummy, out: this.logitsBuf, params, step }, ch.rows, (t) => t, 'lm_head'));
    }

    // ------------------------------------------------------------ backward
    const bwd = this.backwardList;
    const dlogits = buf('grad.logits', T * V);
    const dx = buf('grad.x', T * C); const dtmp = buf('grad.tmp', T * C); const dh = buf('grad.h', T * C);
    const dact = buf('grad.act', T * F); const dg = buf('grad.gate', T * F); const du = buf('grad.up', T * F);
    const datt = buf('grad.att', T * QD); const dq = buf('grad.q', T * QD); const dkv = buf('grad.kv', 2 * T * KD);
    const stats = buf('grad.attstats', T * H * 4);
    const maxOutR = Math.max(1, ...adapter.modules.map((m) => m.outFeatures * m.r)); const maxR = Math.max(1, ...adapter.modules.map((m) => m.r));
    const Mtmp = buf('grad.lora.M', maxOutR); const dU = buf('grad.lora.du', T * maxR);
    const rmsDx = kernel(device, 'rmsnorm-dx', RMSNORM_DX_WGSL, ['read', 'read', 'read', 'rw', 'uniform']);
    const normDxP = uni('params.normdx', rmsnormParams(C, c.rmsNormEps, T));
    const normDx = (x: GPUBuffer, w: GPUBuffer, dout: GPUBuffer, out: GPUBuffer) =>
      bwd.push({ label: 'rmsnorm-dx', pipeline: rmsDx.pipeline, bind: bindGroup(device, rmsDx, [x, w, dout, out, normDxP]), grid: () => [T, 1, 1] });
    const swB = kernel(device, 'swiglu-bwd', SWIGLU_BACKWARD_WGSL, SWIGLU_BACKWARD_BINDINGS);
    const swBP = uni('params.swiglubwd', swigluParams(F, T));

    /** dIn (=|+=) dy·W (+ LoRA path); LoRA grads of the module. dy (T,out) at element offset doff. */
    const linearBack = (l: number, module: string, xIn: GPUBuffer, dy: GPUBuffer, doff: number, dIn: GPUBuffer, accumulate: boolean) => {
      const wName = `model.layers.${l}.${module}.weight`;
      const w = W(wName); const [N, K] = w.shape;
      w.chunks.forEach((ch, i) => {
        const params = uni(`params.dx.${wName}`, linearDxParams({ m: T, n: ch.rows, k: K, ldd: N, noff: ch.r0, doff, accumulate: accumulate || i > 0 }));
        bwd.push(linearDxDispatch(device, { dout: dy, w: ch.buffer, dx: dIn, params }, T, K, `dx.${wName}`));
      });
      const mb = modOf.get(`${l}:${module}`);
      if (!mb) return;
      const path = mb.m.path; const r = mb.m.r; const s = loraScaling(mb.m);
      gemm(bwd, dy, mb.u, Mtmp, { m: N, n: r, k: T, x: { off: doff, s0: 1, s1: N }, y: { s0: r, s1: 1 }, out: { s0: r, s1: 1 }, alpha: s }, `lora.M.${path}`);
      gemm(bwd, dy, mb.u, mb.dB, { m: N, n: r, k: T, x: { off: doff, s0: 1, s1: N }, y: { s0: r, s1: 1 }, out: { s0: r, s1: 1 }, alpha: s, flags: GEMM_GATE, gidx: mb.idx }, `lora.dB.${path}`);
      gemm(bwd, Mtmp, mb.B, this.dgates, { m: 1, n: 1, k: N * r, x: { s0: 0, s1: 1 }, y: { s0: 1, s1: 0 }, out: { off: mb.idx, s0: 0, s1: 0 } }, `lora.dgate.${path}`);
      gemm(bwd, dy, mb.B, dU, { m: T, n: r, k: N, x: { off: doff, s0: N, s1: 1 }, y: { s0: r, s1: 1 }, out: { s0: r, s1: 1 }, alpha: s, flags: GEMM_GATE, gidx: mb.idx }, `lora.du.${path}`);
      gemm(bwd, dU, xIn, mb.dA, { m: r, n: K, k: T, x: { s0: 1, s1: r }, y: { s0: K, s1: 1 }, out: { s0: K, s1: 1 } }, `lora.dA.${path}`);
      gemm(bwd, dU, mb.A, dIn, { m: T, n: K, k: r, x: { s0: r, s1: 1 }, y: { s0: K, s1: 1 }, out: { s0: K, s1: 1 }, flags: GEMM_ACCUMULATE }, `lora.dx.${path}`);
    };

    bwd.push(crossEntropyDispatch(device, { logits: this.logitsBuf, targets: this.targets, weights: this.weights, dlogits, losses: this.losses, params: uni('params.xent', crossEntropyParams(T, V)) }, T));
    head.chunks.forEach((ch, i) => {
      const params = uni('params.dx.head', linearDxParams({ m: T, n: ch.rows, k: C, ldd: V, noff: ch.r0, accumulate: i > 0 }));
      bwd.push(linearDxDispatch(device, { dout: dlogits, w: ch.buffer, dx: dh, params }, T, C, 'dx.head'));
    });
    normDx(xs[L], one('model.norm.weight'), dh, dx);
    const attBP = uni('params.attnbwd', attentionBackwardParams(T, H, KV, D));
    const ropeQi = uni('params.ropeq.inv', ropeParams(H, D, -1)); const ropeKi = uni('params.ropek.inv', ropeParams(KV, D, -1));
    for (let l = L - 1; l >= 0; l--) {
      const p = `model.layers.${l}`;
      linearBack(l, 'mlp.down_proj', act[l], dx, 0, dact, false);
      bwd.push({ label: 'swiglu-bwd', pipeline: swB.pipeline, bind: bindGroup(device, swB, [g[l], u[l], dact, dg, du, swBP]), grid: () => grid2(Math.ceil((F * T) / 256)) });
      linearBack(l, 'mlp.gate_proj', h2[l], dg, 0, dh, false);
      linearBack(l, 'mlp.up_proj', h2[l], du, 0, dh, true);
      normDx(xMid[l], one(`${p}.post_attention_layernorm.weight`), dh, dtmp);
      copy(bwd, dtmp, dx, T * C, 1);
      linearBack(l, 'self_attn.o_proj', att[l], dx, 0, datt, false);
      bwd.push(...attentionBackwardDispatches(device, { q: q[l], k: k[l], v: v[l], o: att[l], dout: datt, stats, dq, dkv, params: attBP }, { t: T, h: H, hkv: KV, d: D }));
      bwd.push(ropeDispatch(device, { x: dq, table, params: ropeQi, step }, H, D, 'rope-inv'));
      bwd.push(ropeDispatch(device, { x: dkv, table, params: ropeKi, step }, KV, D, 'rope-inv'));
      linearBack(l, 'self_attn.q_proj', h[l], dq, 0, dh, false);
      linearBack(l, 'self_attn.k_proj', h[l], dkv, 0, dh, true);
      linearBack(l, 'self_attn.v_proj', h[l], dkv, T * KD, dh, true);
      normDx(xs[l], one(`${p}.input_layernorm.weight`), dh, dtmp);
      copy(bwd, dtmp, dx, T * C, 1);
    }
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

  private writeIds(ids: readonly number[]): void {
    if (this.disposed) throw new Error('train pass disposed');
    if (ids.length !== this.T) throw new Error(`train pass built for ${this.T} tokens, got ${ids.length}`);
    const V = this.decoder.config.vocabSize;
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`Token id ${id} is outside the vocabulary (0..${V - 1})`);
    this.ctx.device.queue.writeBuffer(this.ids, 0, Uint32Array.from(ids));
  }

  /** Forward only: logits (T,V). */
  async logits(ids: readonly number[]): Promise<Float32Array> {
    this.writeIds(ids);
    const enc = this.ctx.device.createCommandEncoder({ label: 'lora-forward' });
    encodeDispatches(enc, this.forwardList, this.T, 'lora-forward');
    this.ctx.device.queue.submit([enc.finish()]);
    return readF32(this.ctx.device, this.logitsBuf, this.T * this.decoder.config.vocabSize);
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

  /** Forward + backward: loss = Σ_t w_t·CE_t and the gradient of every LoRA A, B, gate
   *  (gradients stay on the GPU, and are also read back unless readGrads is false). */
  async run(batch: TrainBatch, opts: { readGrads?: boolean } = {}): Promise<GpuTrainResult> {
    this.writeIds(batch.ids);
    const T = this.T;
    if (batch.targets.length !== T || batch.weights.length !== T) throw new Error(`batch: targets and weights need ${T} entries`);
    const { device } = this.ctx;
    device.queue.writeBuffer(this.targets, 0, Uint32Array.from(batch.targets, (y) => (y < 0 ? NO_TARGET : y)));
    device.queue.writeBuffer(this.weights, 0, Float32Array.from(batch.weights));
    const enc = device.createCommandEncoder({ label: 'lora-train' });
    encodeDispatches(enc, [...this.forwardList, ...this.backwardList], T, 'lora-train');
    device.queue.submit([enc.finish()]);
    const losses = await readF32(device, this.losses, T);
    const loss = losses.reduce((a, b) => a + b, 0);
    if (opts.readGrads === false) return { loss, grads: new Map() };
    const dg = await readF32(device, this.dgates, this.mods.length);
    const grads = new Map<string, GpuLoraGrad>();
    for (const mb of this.mods) {
      grads.set(mb.m.path, { dA: await readF32(device, mb.dA, mb.m.A.length), dB: await readF32(device, mb.dB, mb.m.B.length), dGate: dg[mb.idx] });
    }
    return { loss, grads };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.alloc.destroyAll();
  }
}
