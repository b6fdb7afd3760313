// CPU reference of the whole decoder in float64, built from the ops' references, for checking the
// GPU model: full logits (T, V) for a token sequence, and greedy generation.
import { attentionRef } from '../ops/attention.ts';
import { embeddingRef } from '../ops/embedding.ts';
import { matmulRef } from '../ops/matmul.ts';
import { rmsnormRef } from '../ops/rmsnorm.ts';
import { ropeRef } from '../ops/rope.ts';
import { swigluRef } from '../ops/swiglu.ts';
import { unpackF16 } from './f16.ts';
import type { HostTensor, ModelConfig } from './types.ts';
import { expectedTensors } from './weights.ts';

export class ReferenceModel {
  private w = new Map<string, Float32Array>();

  constructor(readonly config: ModelConfig, tensors: Iterable<HostTensor>) {
    const specs = new Map(expectedTensors(config).map((s) => [s.name, s]));
    for (const t of tensors) {
      if (!specs.has(t.name)) continue;
      this.w.set(t.name, unpackF16(t.packed, t.shape.reduce((a, b) => a * b, 1)));
    }
    for (const s of specs.values()) if (!s.optional && !this.w.has(s.name)) throw new Error(`reference: tensor ${s.name} missing`);
  }

  private get(name: string): Float32Array {
    const v = this.w.get(name);
    if (!v) throw new Error(`reference: tensor ${name} missing`);
    return v;
  }

  /** Logits (T, V) for `ids` starting at position 0. */
  logits(ids: readonly number[]): Float64Array {
    const c = this.config;
    const T = ids.length; const C = c.hiddenSize; const D = c.headDim; const F = c.intermediateSize;
    const H = c.numHeads; const KV = c.numKvHeads;
    const x = embeddingRef(ids, this.get('model.embed_tokens.weight'), C);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const h = rmsnormRef(x, this.get(`${p}.input_layernorm.weight`), T, C, c.rmsNormEps);
      const proj = (name: string, n: number, inp: Float64Array, k: number) => matmulRef(inp, this.get(`${p}.${name}.weight`), this.w.get(`${p}.${name}.bias`), T, n, k);
      const q = ropeRef(proj('self_attn.q_proj', H * D, h, C), T, H, D, 0, c.ropeTheta);
      const k = ropeRef(proj('self_attn.k_proj', KV * D, h, C), T, KV, D, 0, c.ropeTheta);
      const v = proj('self_attn.v_proj', KV * D, h, C);
      const a = attentionRef(q, k, v, T, 0, H, KV, D);
      const o = proj('self_attn.o_proj', C, a, H * D);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const h2 = rmsnormRef(x, this.get(`${p}.post_attention_layernorm.weight`), T, C, c.rmsNormEps);
      const g = proj('mlp.gate_proj', F, h2, C);
      const u = proj('mlp.up_proj', F, h2, C);
      const d = proj('mlp.down_proj', C, swigluRef(g, u), F);
      for (let i = 0; i < x.length; i++) x[i] += d[i];
    }
    const hn = rmsnormRef(x, this.get('model.norm.weight'), T, C, c.rmsNormEps);
    const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    return matmulRef(hn, this.get(head), undefined, T, c.vocabSize, C);
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
