// What an architecture is to the engine: an ArchSpec (model/arch-<name>.ts) that reads its
// config.json fields and names its tensors, and the LayerSpec it yields per layer, which every
// walker of the layer stack reads (model/block.ts builds the whole description).
//   per layer:  h = norm(x)                                   attnNorm
//               q, k, v = h·Wᵀ (+ b)                          q, k, v (LoRA hooks)
//               [q, k = rmsnorm per head]                     qNorm, kNorm
//               [q, k = rope(q, k)]                           rope (null: no RoPE on this layer)
//               a = attention(q, k, v) within `window`        window (0: full causal), scale
//               o = a·Woᵀ                                     o (LoRA hook)
//               x += [norm(o)]                                postAttnNorm (Gemma 3)
//               h2 = norm(x)                                  mlpNorm
//               m = act(h2·Wgᵀ) · h2·Wuᵀ                      gate, up, act (silu: SwiGLU, gelu_tanh: GeGLU)
//               x += [norm](m·Wdᵀ)                            down, postMlpNorm (Gemma 3)
import type { Architecture, ModelConfig } from './types.ts';

/** Linear modules a LoRA may target (short names as in PEFT's target_modules). */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** A linear layer y = x·Wᵀ (+ b), W (out, in) as stored by Hugging Face. */
export interface LinearSpec {
  target: LoraTarget;
  /** module path inside the layer, e.g. "self_attn.q_proj" (LoRA and PEFT key on it) */
  module: string;
  /** the module's full path, e.g. "model.layers.0.self_attn.q_proj" */
  path: string;
  weight: string;
  /** bias tensor name where the architecture may have one (an absent optional tensor: no bias) */
  bias?: string;
  /** the config says the bias exists (attention_bias / mlp_bias; Qwen2's q/k/v always) */
  biasRequired: boolean;
  in: number;
  out: number;
}

/** RoPE of a layer: base and optional Llama 3 scaling; layers with equal keys share a table. */
export interface RopeSpec { key: string; theta: number; scaling?: ModelConfig['ropeScaling'] }

export interface LayerSpec {
  index: number;
  attnNorm: string;
  q: LinearSpec; k: LinearSpec; v: LinearSpec; o: LinearSpec;
  qNorm?: string; kNorm?: string;
  rope: RopeSpec | null;
  /** keys within `window` positions of the query (pos_q − pos_k < window); 0 = every earlier key */
  window: number;
  postAttnNorm?: string;
  mlpNorm: string;
  gate: LinearSpec; up: LinearSpec; down: LinearSpec;
  act: 'silu' | 'gelu_tanh';
  postMlpNorm?: string;
}

/** Reads config.json fields with errors that name the file and field (model/config.ts). */
export interface ConfigReader {
  readonly json: Record<string, unknown>;
  int(field: string, fallback?: number): number;
  num(field: string, fallback: number): number;
  bool(field: string, fallback: boolean): boolean;
  fail(field: string, detail: string): never;
}

export interface ArchSpec {
  /** config.json architectures[0], e.g. "Qwen3ForCausalLM" */
  hfClass: string;
  /** config.json model_type */
  modelType: string;
  architecture: Architecture;
  /** head_dim when config.json omits it (default hidden_size / num_attention_heads) */
  headDim?(r: ConfigReader): number | undefined;
  /** q/k/v (and o) biases */
  attentionBias(r: ConfigReader): boolean;
  mlpBias(r: ConfigReader): boolean;
  /** The family's own fields (rope_scaling, q/k norm, windows, ...); refuses what it does not support. */
  extras(r: ConfigReader, c: ModelConfig): Partial<ModelConfig>;
  /** Layer l of the stack. */
  layer(c: ModelConfig, l: number): LayerSpec;
  /** Embeddings are multiplied by this (Gemma 3: sqrt(hidden)); default 1. */
  embedScale?(c: ModelConfig): number;
  /** Norm weights are stored as w with the norm multiplying by (1 + w) (Gemma): the norms add 1 in f32. */
  normPlusOne?: boolean;
}

export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

/** Module path inside a layer for each LoRA target (the same in every supported family). */
export const LINEAR_MODULE: Record<LoraTarget, string> = {
  q_proj: 'self_attn.q_proj', k_proj: 'self_attn.k_proj', v_proj: 'self_attn.v_proj', o_proj: 'self_attn.o_proj',
  gate_proj: 'mlp.gate_proj', up_proj: 'mlp.up_proj', down_proj: 'mlp.down_proj',
};

export const layerPrefix = (l: number): string => `model.layers.${l}`;

/** [in, out] features of a target module. */
export function linearDims(c: ModelConfig, t: LoraTarget): [number, number] {
  const C = c.hiddenSize; const Q = c.numHeads * c.headDim; const KV = c.numKvHeads * c.headDim; const F = c.intermediateSize;
  const dims: Record<LoraTarget, [number, number]> = { q_proj: [C, Q], k_proj: [C, KV], v_proj: [C, KV], o_proj: [Q, C], gate_proj: [C, F], up_proj: [C, F], down_proj: [F, C] };
  return dims[t];
}

/** The plain layer of Qwen2 / Llama (and, with options, of Qwen3 and SmolLM3): pre-norms, biases by config. */
export function standardLayer(c: ModelConfig, l: number, o: { qkNorm?: boolean; rope?: RopeSpec | null } = {}): LayerSpec {
  const p = layerPrefix(l);
  const lin = (t: LoraTarget): LinearSpec => {
    const module = LINEAR_MODULE[t];
    const [inF, outF] = linearDims(c, t);
    const hasBias = module.startsWith('self_attn') ? c.attentionBias : c.mlpBias;
    return {
      target: t, module, path: `${p}.${module}`, weight: `${p}.${module}.weight`,
      bias: hasBias || t === 'o_proj' ? `${p}.${module}.bias` : undefined,
      biasRequired: hasBias && t !== 'o_proj', in: inF, out: outF,
    };
  };
  return {
    index: l,
    attnNorm: `${p}.input_layernorm.weight`,
    q: lin('q_proj'), k: lin('k_proj'), v: lin('v_proj'), o: lin('o_proj'),
    qNorm: o.qkNorm ? `${p}.self_attn.q_norm.weight` : undefined,
    kNorm: o.qkNorm ? `${p}.self_attn.k_norm.weight` : undefined,
    rope: o.rope === undefined ? defaultRope(c) : o.rope,
    window: 0,
    mlpNorm: `${p}.post_attention_layernorm.weight`,
    gate: lin('gate_proj'), up: lin('up_proj'), down: lin('down_proj'),
    act: 'silu',
  };
}

/** RoPE at the config's rope_theta (with its scaling, if any). */
export function defaultRope(c: ModelConfig): RopeSpec {
  const s = c.ropeScaling;
  return { key: s ? `${c.ropeTheta}:llama3:${s.factor}:${s.lowFreqFactor}:${s.highFreqFactor}:${s.originalMaxPositionEmbeddings}` : `${c.ropeTheta}`, theta: c.ropeTheta, scaling: s };
}

/** rope_scaling: null / absent / "default" -> undefined; anything else is refused unless `allowLlama3`. */
export function readRopeScaling(r: ConfigReader, allowLlama3: boolean): ModelConfig['ropeScaling'] {
  const s = r.json.rope_scaling;
  if (s === undefined || s === null) return undefined;
  const isObj = typeof s === 'object' && !Array.isArray(s);
  const kind = isObj ? ((s as Record<string, unknown>).rope_type ?? (s as Record<string, unknown>).type) : s;
  if (kind === 'default') return undefined;
  if (kind !== 'llama3' || !allowLlama3 || !isObj) {
    r.fail('rope_scaling', `${JSON.stringify(kind)} is not supported for this architecture; supported: plain RoPE (null)${allowLlama3 ? ' or "llama3"' : ''}`);
  }
  const o = s as Record<string, unknown>;
  const pos = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) r.fail(`rope_scaling.${k}`, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const out = { type: 'llama3' as const, factor: pos('factor'), lowFreqFactor: pos('low_freq_factor'), highFreqFactor: pos('high_freq_factor'), originalMaxPositionEmbeddings: pos('original_max_position_embeddings') };
  if (out.highFreqFactor <= out.lowFreqFactor) r.fail('rope_scaling.high_freq_factor', `(${out.highFreqFactor}) must exceed low_freq_factor (${out.lowFreqFactor})`);
  return out;
}

/** Refuses config fields a family has but the engine does not implement, by name. */
export function refuseTrue(r: ConfigReader, field: string, what: string): void {
  if (r.json[field] === true) r.fail(field, `true is not supported (${what})`);
}
