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
import { ropeRef } from '../ops/rope.ts';
import { swigluBackwardRef } from '../ops/swiglu.ts';
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

/** Loss and gradients of every LoRA A, B and gate (float64). */
export function loraLossAndGrads(model: ReferenceModel, a: LoraAdapter, batch: TrainBatch): LoraStepResult {
  const c = model.config;
  const T = batch.ids.length; const C = c.hiddenSize; const D = c.headDim; const F = c.intermediateSize;
  const H = c.numHeads; const KV = c.numKvHeads; const V = c.vocabSize;
  checkBatch(batch, V);
  const mods = byKey(a);
  const tr = model.forward(batch.ids, loraDelta(a));
  const { loss, dlogits } = weightedCrossEntropyRef(tr.logits, batch, V);
  const grads = new Map<string, LoraGrad>();
  const eps = c.rmsNormEps;
  const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';

  // dy (T,out) into a linear of layer l with input x (T,in): returns dx (T,in) incl. the LoRA path.
  const linearBack = (l: number, module: string, x: Float64Array, dy: Float64Array, inF: number, outF: number): Float64Array => {
    const dx = matmulDxRef(dy, model.weight(`model.layers.${l}.${module}.weight`), T, outF, inF);
    const m = mods.get(`${l}:${module}`);
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

  // head and final norm
  const dhn = matmulDxRef(dlogits, model.weight(head), T, V, C);
  const dx = rmsnormBackwardRef(tr.xFinal, model.weight('model.norm.weight'), dhn, T, C, eps).dx;
  for (let l = c.numLayers - 1; l >= 0; l--) {
    const L = tr.layers[l]; const p = `model.layers.${l}`;
    // MLP: x = xMid + down(swiglu(gate(h2), up(h2)))
    const dact = linearBack(l, 'mlp.down_proj', L.act, dx, F, C);
    const { dgate, dup } = swigluBackwardRef(L.gate, L.up, dact);
    const dh2 = linearBack(l, 'mlp.gate_proj', L.h2, dgate, C, F);
    const dh2u = linearBack(l, 'mlp.up_proj', L.h2, dup, C, F);
    for (let i = 0; i < dh2.length; i++) dh2[i] += dh2u[i];
    const n2 = rmsnormBackwardRef(L.xMid, model.weight(`${p}.post_attention_layernorm.weight`), dh2, T, C, eps).dx;
    for (let i = 0; i < dx.length; i++) dx[i] += n2[i];
    // attention: xMid = x + o_proj(attn(rope(q(h)), rope(k(h)), v(h)))
    const datt = linearBack(l, 'self_attn.o_proj', L.att, dx, H * D, C);
    const g = attentionBackwardRef(L.q, L.k, L.v, datt, T, H, KV, D);
    const dqPre = ropeRef(g.dq, T, H, D, 0, c.ropeTheta, -1, model.ropeAngle);
    const dkPre = ropeRef(g.dk, T, KV, D, 0, c.ropeTheta, -1, model.ropeAngle);
    const dh = linearBack(l, 'self_attn.q_proj', L.h, dqPre, C, H * D);
    const dhk = linearBack(l, 'self_attn.k_proj', L.h, dkPre, C, KV * D);
    const dhv = linearBack(l, 'self_attn.v_proj', L.h, g.dv, C, KV * D);
    for (let i = 0; i < dh.length; i++) dh[i] += dhk[i] + dhv[i];
    const n1 = rmsnormBackwardRef(L.x, model.weight(`${p}.input_layernorm.weight`), dh, T, C, eps).dx;
    for (let i = 0; i < dx.length; i++) dx[i] += n1[i];
  }
  return { loss, logits: tr.logits, grads };
}
