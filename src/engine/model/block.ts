// The decoder described once: from a config, the embedding, every layer's ops in order (LayerSpec,
// model/arch.ts), the final norm and head, the tensors they read and their shapes. The GPU sessions
// (batch-session.ts; decoder.ts's single session is one slot of it), the training pass
// (adapter/train-pass.ts) and the float64 references (reference.ts, adapter/reference.ts) all walk
// this description; none of them names a Hugging Face tensor itself.
//   x = embed(ids) · embedScale                          (T,C)
//   per layer: see model/arch.ts (norms, q/k/v, q/k norm, RoPE, windowed attention, o, MLP)
//   logits = norm(x)·Headᵀ                               (T,V)   Head = the embedding when tied
import { EMBED, FINAL_NORM, LM_HEAD, type LayerSpec, type LinearSpec, type RopeSpec } from './arch.ts';
import { archSpec } from './archs.ts';
import type { ModelConfig } from './types.ts';

export interface TensorSpec { name: string; shape: number[]; optional?: boolean }

export interface ModelBlock {
  config: ModelConfig;
  embed: string;
  /** x = embed(ids)·embedScale (Gemma 3: sqrt(hidden)) */
  embedScale: number;
  layers: LayerSpec[];
  finalNorm: string;
  /** LM head weight (V, C): the embedding table when tied */
  head: string;
  /** attention score scale (headDim^-1/2, Gemma 3: query_pre_attn_scalar^-1/2) */
  attnScale: number;
  /** distinct RoPE settings of the layers (one cos/sin table each) */
  ropes: RopeSpec[];
  /** every tensor read, with its shape */
  tensors: TensorSpec[];
  /** every RMSNorm weight */
  norms: ReadonlySet<string>;
  /** added to every norm weight as the norms read it: 1 where they multiply by (1 + w) (Gemma), else 0 */
  normOffset: number;
}

const cache = new WeakMap<ModelConfig, ModelBlock>();

/** The description of `c`'s decoder (memoised per config object). */
export function describeModel(c: ModelConfig): ModelBlock {
  const hit = cache.get(c);
  if (hit) return hit;
  const spec = archSpec(c.architecture);
  const layers = Array.from({ length: c.numLayers }, (_, l) => spec.layer(c, l));
  const { hiddenSize: C, headDim: D, vocabSize: V } = c;
  const tensors: TensorSpec[] = [{ name: EMBED, shape: [V, C] }];
  const norms: string[] = [];
  // weights then biases (the order random-model.ts draws in: the same tensors as before this file)
  const lin = (...ss: LinearSpec[]) => {
    for (const s of ss) tensors.push({ name: s.weight, shape: [s.out, s.in] });
    for (const s of ss) if (s.bias) tensors.push({ name: s.bias, shape: [s.out], optional: !s.biasRequired });
  };
  const norm = (name: string | undefined, n: number) => { if (name) { tensors.push({ name, shape: [n] }); norms.push(name); } };
  for (const L of layers) {
    norm(L.attnNorm, C);
    lin(L.q, L.k, L.v, L.o);
    norm(L.qNorm, D); norm(L.kNorm, D);
    norm(L.postAttnNorm, C);
    norm(L.mlpNorm, C);
    lin(L.gate, L.up, L.down);
    norm(L.postMlpNorm, C);
  }
  norm(FINAL_NORM, C);
  if (!c.tieWordEmbeddings) tensors.push({ name: LM_HEAD, shape: [V, C] });
  const ropes = new Map<string, RopeSpec>();
  for (const L of layers) if (L.rope) ropes.set(L.rope.key, L.rope);
  const block: ModelBlock = {
    config: c, embed: EMBED, embedScale: spec.embedScale?.(c) ?? 1, layers, finalNorm: FINAL_NORM,
    head: c.tieWordEmbeddings ? EMBED : LM_HEAD,
    attnScale: 1 / Math.sqrt(c.queryPreAttnScalar ?? D),
    ropes: [...ropes.values()], tensors,
    norms: new Set(norms), normOffset: spec.normPlusOne ? 1 : 0,
  };
  cache.set(c, block);
  return block;
}

/** Parameter count implied by a config (every required tensor). */
export function blockParams(c: ModelConfig): number {
  return describeModel(c).tensors.filter((t) => !t.optional).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
}
