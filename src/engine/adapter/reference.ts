// Float64 CPU reference of LoRA training on top of the decoder reference (model/reference.ts):
// forward with the gated LoRA branch, weighted cross-entropy, and the backward pass down to every
// LoRA A, B and gate. Base weights frozen. Shapes per layer as in LayerTrace.
//   LoRA on y = x·Wᵀ: u = x·Aᵀ (T,r); y += s·g·u·Bᵀ,  s = alpha/r of the module, g = gate
//   backward with dy (T,out): M = s·dyᵀ·u (out,r); dB = g·M; dgate = Σ M⊙B
//                             du = s·g·dy·B (T,r);  dA = duᵀ·x (r,in);  dx += du·A
import { attentionBackwardRef } from '../ops/attention-backward.ts';
import { crossEntropyRef } from '../ops/cross-entropy.ts';
import { checkTopKTargets, klTopKRef } from '../ops/kl-topk.ts';
import { matmulDxRef } from '../ops/matmul.ts';
import { rmsnormBackwardRef } from '../ops/rmsnorm.ts';
import { swigluBackwardRef } from '../ops/swiglu.ts';
import type { LinearSpec } from '../model/arch.ts';
import type { ReferenceModel } from '../model/reference.ts';
import type { TrainBatch } from './batch.ts';
import { type LoraAdapter, type LoraModule, loraScaling } from './lora.ts';

export interface LoraGrad { dA: Float64Array; dB: Float64Array; dGate: number }

export interface LoraStepResult {
  loss: number;
  logits: Float64Array;
  /** by module path */
  grads: Map<string, LoraGrad>;
}

function byKey(a: LoraAdapter): Map<string, LoraModule> {
  return new Map(a.modules.map((m) => [`${m.layer}:${m.module}`, m]));
}

/** u = x·Aᵀ (T,r) */
function down(m: LoraModule, x: ArrayLike<number>, T: number): Float64Array {
  const r = m.r;
  const u = new Float64Array(T * r);
  for (let t = 0; t < T; t++) for (let k = 0; k < r; k++) {
    let s = 0;
    for (let i = 0; i < m.inFeatures; i++) s += x[t * m.inFeatures + i] * m.A[k * m.inFeatures + i];
    u[t * r + k] = s;
  }
  return u;
}

/** Logits (T,V) with the adapter applied. */
export function loraLogits(model: ReferenceModel, a: LoraAdapter, ids: readonly number[]): Float64Array {
  return model.forward(ids, loraDelta(a)).logits;
}

function loraDelta(a: LoraAdapter) {
  const mods = byKey(a);
  return (layer: number, module: string, x: Float64Array, T: number): Float64Array | undefined => {
    const m = mods.get(`${layer}:${module}`);
    if (!m) return undefined;
    const u = down(m, x, T); const r = m.r;
    const y = new Float64Array(T * m.outFeatures);
    const s = loraScaling(m) * m.gate;
    for (let t = 0; t < T; t++) for (let o = 0; o < m.outFeatures; o++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += u[t * r + k] * m.B[o * r + k];
      y[t * m.outFeatures + o] = s * acc;
    }
    return y;
  };
}

/** Σ_t w_t·CE(logits_t, target_t) (+ the teacher top-k KL where the batch has it) and d loss / d logits (T,V). */
export function weightedCrossEntropyRef(logits: ArrayLike<number>, batch: TrainBatch, V: number): { loss: number; dlogits: Float64Array; klLoss: number } {
  const T = batch.ids.length;
  const ce = crossEntropyRef(logits, batch.targets, batch.weights, T, V);
  if (!batch.teacher) return { loss: ce.loss, dlogits: ce.dlogits, klLoss: 0 };
  checkTopKTargets(batch.teacher, T, V);
  const kl = klTopKRef(logits, batch.teacher, T, V, 0, ce.dlogits);
  return { loss: ce.loss + kl.loss, dlogits: kl.dlogits, klLoss: kl.loss };
}

function checkBatch(b: TrainBatch, V: number): void {
  const T = b.ids.length;
  if (b.targets.length !== T || b.weights.length !== T) throw new Error(`batch: ids (${T}), targets (${b.targets.length}) and weights (${b.weights.length}) must have one entry per position`);
  for (const y of b.targets) if (!(Number.isInteger(y) && y >= -1 && y < V)) throw new Error(`batch: target ${y} outside -1..${V - 1}`);
}

/** Loss and gradients of every LoRA A, B and gate (float64), walking the model's description backwards. */
export function loraLossAndGrads(model: ReferenceModel, a: LoraAdapter, batch: TrainBatch): LoraStepResult {
  const c = model.config; const blk = model.block;
  const T = batch.ids.length; const C = c.hiddenSize; const D = c.headDim;
  const H = c.numHeads; const KV = c.numKvHeads; const V = c.vocabSize;
  checkBatch(batch, V);
  const mods = byKey(a);
  const tr = model.forward(batch.ids, loraDelta(a));
  const { loss, dlogits } = weightedCrossEntropyRef(tr.logits, batch, V);
  const grads = new Map<string, LoraGrad>();
  const eps = c.rmsNormEps;
  const normBack = (x: Float64Array, name: string, dy: Float64Array, rows: number, n: number) => rmsnormBackwardRef(x, model.weight(name), dy, rows, n, eps).dx;

  // dy (T,out) into a linear of layer l with input x (T,in): returns dx (T,in) incl. the LoRA path.
  const linearBack = (l: number, s: LinearSpec, x: Float64Array, dy: Float64Array): Float64Array => {
    const inF = s.in; const outF = s.out;
    const dx = matmulDxRef(dy, model.weight(s.weight), T, outF, inF);
    const m = mods.get(`${l}:${s.module}`);
    if (!m) return dx;
    const r = m.r; const sc = loraScaling(m);
    const u = down(m, x, T);
    const M = new Float64Array(outF * r);
    for (let t = 0; t < T; t++) for (let o = 0; o < outF; o++) {
      const g = dy[t * outF + o] * sc;
      for (let k = 0; k < r; k++) M[o * r + k] += g * u[t * r + k];
    }
    const dB = Float64Array.from(M, (v) => v * m.gate);
    let dGate = 0;
    for (let i = 0; i < M.length; i++) dGate += M[i] * m.B[i];
    const du = new Float64Array(T * r);
    for (let t = 0; t < T; t++) for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let o = 0; o < outF; o++) acc += dy[t * outF + o] * m.B[o * r + k];
      du[t * r + k] = acc * sc * m.gate;
    }
    const dA = new Float64Array(r * inF);
    for (let t = 0; t < T; t++) for (let k = 0; k < r; k++) {
      const g = du[t * r + k];
      for (let i = 0; i < inF; i++) { dA[k * inF + i] += g * x[t * inF + i]; dx[t * inF + i] += g * m.A[k * inF + i]; }
    }
    grads.set(m.path, { dA, dB, dGate });
    return dx;
  };
  const addInto = (acc: Float64Array, v: Float64Array) => { for (let i = 0; i < acc.length; i++) acc[i] += v[i]; };

  // head and final norm
  const dhn = matmulDxRef(dlogits, model.weight(blk.head), T, V, C);
  const dx = normBack(tr.xFinal, blk.finalNorm, dhn, T, C);
  for (let l = c.numLayers - 1; l >= 0; l--) {
    const L = blk.layers[l]; const A = tr.layers[l];
    // MLP: x = xMid + [postMlpNorm](down(act(gate(h2), up(h2))))
    const dDown = L.postMlpNorm ? normBack(A.down, L.postMlpNorm, dx, T, C) : dx;
    const dact = linearBack(l, L.down, A.act, dDown);
    const { dgate, dup } = swigluBackwardRef(A.gate, A.up, dact, L.act);
    const dh2 = linearBack(l, L.gate, A.h2, dgate);
    addInto(dh2, linearBack(l, L.up, A.h2, dup));
    addInto(dx, normBack(A.xMid, L.mlpNorm, dh2, T, C));
    // attention: xMid = x + [postAttnNorm](o(attn(rope(qnorm(q(h))), rope(knorm(k(h))), v(h))))
    const dO = L.postAttnNorm ? normBack(A.o, L.postAttnNorm, dx, T, C) : dx;
    const datt = linearBack(l, L.o, A.att, dO);
    const g = attentionBackwardRef(A.q, A.k, A.v, datt, T, H, KV, D, L.window, blk.attnScale);
    let dq = model.rope(L, g.dq, T, H, -1);
    let dk = model.rope(L, g.dk, T, KV, -1);
    if (L.qNorm) dq = normBack(A.qp, L.qNorm, dq, T * H, D);
    if (L.kNorm) dk = normBack(A.kp, L.kNorm, dk, T * KV, D);
    const dh = linearBack(l, L.q, A.h, dq);
    addInto(dh, linearBack(l, L.k, A.h, dk));
    addInto(dh, linearBack(l, L.v, A.h, g.dv));
    addInto(dx, normBack(A.x, L.attnNorm, dh, T, C));
  }
  return { loss, logits: tr.logits, grads };
}
