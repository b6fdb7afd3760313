// CPU reference of the whole decoder in float64, built from the ops' references, walking the model's
// description (block.ts): full logits (T, V) for a token sequence, and greedy generation.
import { attentionRef } from '../ops/attention.ts';
import { embeddingRef } from '../ops/embedding.ts';
import { matmulRef } from '../ops/matmul.ts';
import { rmsnormRef } from '../ops/rmsnorm.ts';
import { type RopeAngleFn, ropeAngle, ropeAngleOf, ropeRef } from '../ops/rope.ts';
import { swigluRef } from '../ops/swiglu.ts';
import type { LayerSpec, LinearSpec } from './arch.ts';
import { type ModelBlock, describeModel } from './block.ts';
import { hostTensorValues } from './quant.ts';
import type { HostTensor, ModelConfig } from './types.ts';

/** Extra term added to a linear layer's output: (layer, module, input (T, in), T) -> (T, out) or undefined. */
export type LinearDelta = (layer: number, module: string, input: Float64Array, t: number) => Float64Array | undefined;

/** Activations of one decoder layer (row-major, T rows). */
export interface LayerTrace {
  x: Float64Array;    // (T,C) residual stream entering the layer
  h: Float64Array;    // (T,C) attention norm(x)
  qp: Float64Array;   // (T,H,D) q projection (before q norm and RoPE)
  kp: Float64Array;   // (T,KV,D) k projection
  q: Float64Array;    // (T,H,D) after q norm and RoPE
  k: Float64Array;    // (T,KV,D) after k norm and RoPE
  v: Float64Array;    // (T,KV,D)
  att: Float64Array;  // (T,H,D) attention output
  o: Float64Array;    // (T,C) o_proj(att)
  xMid: Float64Array; // (T,C) x + [postAttnNorm](o)
  h2: Float64Array;   // (T,C) mlp norm(xMid)
  gate: Float64Array; // (T,F)
  up: Float64Array;   // (T,F)
  act: Float64Array;  // (T,F) act(gate)·up
  down: Float64Array; // (T,C) down_proj(act)
}

export interface ForwardTrace { layers: LayerTrace[]; xFinal: Float64Array; hn: Float64Array; logits: Float64Array }

export class ReferenceModel {
  private w = new Map<string, Float32Array>();
  readonly block: ModelBlock;

  /** RoPE angle: Hugging Face's f32 rounding (default, as the GPU table) or e.g. ropeAngleExact. */
  readonly ropeAngle: RopeAngleFn;

  constructor(readonly config: ModelConfig, tensors: Iterable<HostTensor>, opts: { ropeAngle?: RopeAngleFn } = {}) {
    this.ropeAngle = opts.ropeAngle ?? ropeAngle;
    const block = (this.block = describeModel(config));
    const specs = new Map(block.tensors.map((s) => [s.name, s]));
    for (const t of tensors) {
      if (!specs.has(t.name)) continue;
      const w = hostTensorValues(t); // f16, or a quantized tensor's dequantized values (QLoRA reference)
      // (1 + w) norms: the 1 added here (f32 holds 1 + an f16 w to 2^-24)
      if (block.normOffset && block.norms.has(t.name)) for (let i = 0; i < w.length; i++) w[i] += block.normOffset;
      this.w.set(t.name, w);
    }
    for (const s of specs.values()) if (!s.optional && !this.w.has(s.name)) throw new Error(`reference: tensor ${s.name} missing`);
  }

  /** A weight as f32 (f16-rounded as loaded; the norms of (1 + w) families with their 1 added). Throws if absent. */
  weight(name: string): Float32Array {
    const v = this.w.get(name);
    if (!v) throw new Error(`reference: tensor ${name} missing`);
    return v;
  }

  /** An optional tensor (biases), undefined if absent. */
  maybe(name: string): Float32Array | undefined { return this.w.get(name); }

  /** Logits (T, V) for `ids` starting at position 0. */
  logits(ids: readonly number[]): Float64Array {
    return this.forward(ids).logits;
  }

  /** RoPE of a layer over x (T, nh, D); sign -1 = inverse (backward). Identity on layers without RoPE. */
  rope(L: LayerSpec, x: Float64Array, t: number, nh: number, sign = 1): Float64Array {
    if (!L.rope) return x;
    return ropeRef(x, t, nh, this.config.headDim, 0, L.rope.theta, sign, ropeAngleOf(L.rope.theta, L.rope.scaling, this.ropeAngle));
  }

  /** y = x·Wᵀ + b (+ delta) of a linear of layer l. */
  linear(s: LinearSpec, l: number, x: Float64Array, t: number, delta?: LinearDelta): Float64Array {
    const y = matmulRef(x, this.weight(s.weight), s.bias ? this.w.get(s.bias) : undefined, t, s.out, s.in);
    const d = delta?.(l, s.module, x, t);
    if (d) for (let i = 0; i < y.length; i++) y[i] += d[i];
    return y;
  }

  /**
   * Forward pass keeping every layer's activations (for backward passes). `delta`, if given, adds
   * an extra term to a linear layer's output (e.g. a LoRA branch): called with the layer index, the
   * module name ('self_attn.q_proj', 'mlp.down_proj', ...) and the layer input (T, in).
   */
  forward(ids: readonly number[], delta?: LinearDelta): ForwardTrace {
    const c = this.config; const b = this.block;
    const T = ids.length; const C = c.hiddenSize; const D = c.headDim;
    const H = c.numHeads; const KV = c.numKvHeads; const eps = c.rmsNormEps;
    const x = embeddingRef(ids, this.weight(b.embed), C, b.embedScale);
    const layers: LayerTrace[] = [];
    const norm = (v: Float64Array, name: string, rows: number, n: number) => rmsnormRef(v, this.weight(name), rows, n, eps);
    for (const L of b.layers) {
      const l = L.index;
      const xIn = Float64Array.from(x);
      const h = norm(x, L.attnNorm, T, C);
      const qp = this.linear(L.q, l, h, T, delta);
      const kp = this.linear(L.k, l, h, T, delta);
      const v = this.linear(L.v, l, h, T, delta);
      const q = this.rope(L, L.qNorm ? norm(qp, L.qNorm, T * H, D) : qp, T, H);
      const k = this.rope(L, L.kNorm ? norm(kp, L.kNorm, T * KV, D) : kp, T, KV);
      const att = attentionRef(q, k, v, T, 0, H, KV, D, L.window, b.attnScale);
      const o = this.linear(L.o, l, att, T, delta);
      const oRes = L.postAttnNorm ? norm(o, L.postAttnNorm, T, C) : o;
      for (let i = 0; i < x.length; i++) x[i] += oRes[i];
      const xMid = Float64Array.from(x);
      const h2 = norm(x, L.mlpNorm, T, C);
      const gate = this.linear(L.gate, l, h2, T, delta);
      const up = this.linear(L.up, l, h2, T, delta);
      const act = swigluRef(gate, up, L.act);
      const down = this.linear(L.down, l, act, T, delta);
      const dRes = L.postMlpNorm ? norm(down, L.postMlpNorm, T, C) : down;
      for (let i = 0; i < x.length; i++) x[i] += dRes[i];
      layers.push({ x: xIn, h, qp, kp, q, k, v, att, o, xMid, h2, gate, up, act, down });
    }
    const hn = norm(x, b.finalNorm, T, C);
    return { layers, xFinal: x, hn, logits: matmulRef(hn, this.weight(b.head), undefined, T, c.vocabSize, C) };
  }

  /** Greedy continuation of `prompt` by full recomputation at every step (lowest id on ties). */
  greedy(prompt: readonly number[], n: number): number[] {
    const ids = [...prompt];
    const out: number[] = [];
    const V = this.config.vocabSize;
    for (let i = 0; i < n; i++) {
      const lg = this.logits(ids);
      let best = 0;
      const off = (ids.length - 1) * V;
      for (let j = 1; j < V; j++) if (lg[off + j] > lg[off + best]) best = j;
      out.push(best);
      ids.push(best);
    }
    return out;
  }
}
