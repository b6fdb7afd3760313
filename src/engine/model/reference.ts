// CPU reference of the whole decoder in float64, built from the ops' references, for checking the
// GPU model: full logits (T, V) for a token sequence, and greedy generation.
import { attentionRef } from '../ops/attention.ts';
import { embeddingRef } from '../ops/embedding.ts';
import { matmulRef } from '../ops/matmul.ts';
import { rmsnormRef } from '../ops/rmsnorm.ts';
import { type RopeAngleFn, ropeAngle, ropeRef } from '../ops/rope.ts';
import { swigluRef } from '../ops/swiglu.ts';
import { unpackF16 } from './f16.ts';
import type { HostTensor, ModelConfig } from './types.ts';
import { expectedTensors } from './weights.ts';

/** Extra term added to a linear layer's output: (layer, module, input (T, in), T) -> (T, out) or undefined. */
export type LinearDelta = (layer: number, module: string, input: Float64Array, t: number) => Float64Array | undefined;

/** Activations of one decoder layer (row-major, T rows). */
export interface LayerTrace {
  x: Float64Array;    // (T,C) residual stream entering the layer
  h: Float64Array;    // (T,C) input_layernorm(x)
  q: Float64Array;    // (T,H,D) after RoPE
  k: Float64Array;    // (T,KV,D) after RoPE
  v: Float64Array;    // (T,KV,D)
  att: Float64Array;  // (T,H,D) attention output
  xMid: Float64Array; // (T,C) x + o_proj(att)
  h2: Float64Array;   // (T,C) post_attention_layernorm(xMid)
  gate: Float64Array; // (T,F)
  up: Float64Array;   // (T,F)
  act: Float64Array;  // (T,F) silu(gate)·up
}

export interface ForwardTrace { layers: LayerTrace[]; xFinal: Float64Array; hn: Float64Array; logits: Float64Array }

export class ReferenceModel {
  private w = new Map<string, Float32Array>();

  /** RoPE angle: Hugging Face's f32 rounding (default, as the GPU table) or e.g. ropeAngleExact. */
  readonly ropeAngle: RopeAngleFn;

  constructor(readonly config: ModelConfig, tensors: Iterable<HostTensor>, opts: { ropeAngle?: RopeAngleFn } = {}) {
    this.ropeAngle = opts.ropeAngle ?? ropeAngle;
    const specs = new Map(expectedTensors(config).map((s) => [s.name, s]));
    for (const t of tensors) {
      if (!specs.has(t.name)) continue;
      this.w.set(t.name, unpackF16(t.packed, t.shape.reduce((a, b) => a * b, 1)));
    }
    for (const s of specs.values()) if (!s.optional && !this.w.has(s.name)) throw new Error(`reference: tensor ${s.name} missing`);
  }

  /** A weight as f32 (f16-rounded as loaded). Throws if absent. */
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

  /**
   * Forward pass keeping every layer's activations (for backward passes). `delta`, if given, adds
   * an extra term to a linear layer's output (e.g. a LoRA branch): called with the layer index, the
   * module name ('self_attn.q_proj', 'mlp.down_proj', ...) and the layer input (T, in).
   */
  forward(ids: readonly number[], delta?: LinearDelta): ForwardTrace {
    const c = this.config;
    const T = ids.length; const C = c.hiddenSize; const D = c.headDim; const F = c.intermediateSize;
    const H = c.numHeads; const KV = c.numKvHeads;
    const x = embeddingRef(ids, this.weight('model.embed_tokens.weight'), C);
    const layers: LayerTrace[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const xIn = Float64Array.from(x);
      const h = rmsnormRef(x, this.weight(`${p}.input_layernorm.weight`), T, C, c.rmsNormEps);
      const proj = (name: string, n: number, inp: Float64Array, k: number) => {
        const y = matmulRef(inp, this.weight(`${p}.${name}.weight`), this.w.get(`${p}.${name}.bias`), T, n, k);
        const d = delta?.(l, name, inp, T);
        if (d) for (let i = 0; i < y.length; i++) y[i] += d[i];
        return y;
      };
      const q = ropeRef(proj('self_attn.q_proj', H * D, h, C), T, H, D, 0, c.ropeTheta, 1, this.ropeAngle);
      const k = ropeRef(proj('self_attn.k_proj', KV * D, h, C), T, KV, D, 0, c.ropeTheta, 1, this.ropeAngle);
      const v = proj('self_attn.v_proj', KV * D, h, C);
      const a = attentionRef(q, k, v, T, 0, H, KV, D);
      const o = proj('self_attn.o_proj', C, a, H * D);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const xMid = Float64Array.from(x);
      const h2 = rmsnormRef(x, this.weight(`${p}.post_attention_layernorm.weight`), T, C, c.rmsNormEps);
      const g = proj('mlp.gate_proj', F, h2, C);
      const u = proj('mlp.up_proj', F, h2, C);
      const act = swigluRef(g, u);
      const d = proj('mlp.down_proj', C, act, F);
      for (let i = 0; i < x.length; i++) x[i] += d[i];
      layers.push({ x: xIn, h, q, k, v, att: a, xMid, h2, gate: g, up: u, act });
    }
    const hn = rmsnormRef(x, this.weight('model.norm.weight'), T, C, c.rmsNormEps);
    const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    return { layers, xFinal: x, hn, logits: matmulRef(hn, this.weight(head), undefined, T, c.vocabSize, C) };
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
