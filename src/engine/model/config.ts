// Hugging Face config.json -> ModelConfig for the decoder. Only the decoder-only families the engine
// implements (Qwen2 / Qwen2.5, Llama / SmolLM2); anything else is refused with a message that says
// which file and field are wrong and what is supported.
import type { Architecture, ModelConfig } from './types.ts';

/** config.json `architectures[0]` -> the engine's family. */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  Qwen2ForCausalLM: 'qwen2',
  LlamaForCausalLM: 'llama',
};

export class ModelConfigError extends Error {
  constructor(readonly fileName: string, readonly field: string, detail: string) {
    super(`${fileName}: ${field ? `field "${field}" ` : ''}${detail}`);
    this.name = 'ModelConfigError';
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a parsed config.json. `json` may also be the raw text (string), which gets a clear error on
 * bad JSON. Defaults follow transformers' Qwen2Config / LlamaConfig where a field is absent.
 */
export function parseModelConfig(json: unknown, fileName = 'config.json'): ModelConfig {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new ModelConfigError(fileName, '', `is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(json)) throw new ModelConfigError(fileName, '', 'must be a JSON object');
  const c = json;
  const supported = Object.keys(SUPPORTED_ARCHITECTURES).join(', ');

  let hfArchitecture: string;
  const archs = c.architectures;
  if (Array.isArray(archs) && archs.length > 0 && typeof archs[0] === 'string') {
    hfArchitecture = archs[0];
  } else if (archs === undefined && (c.model_type === 'qwen2' || c.model_type === 'llama')) {
    hfArchitecture = c.model_type === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM';
  } else {
    throw new ModelConfigError(fileName, 'architectures', `must be a list naming the model class; supported: ${supported}`);
  }
  const architecture = SUPPORTED_ARCHITECTURES[hfArchitecture];
  if (!architecture) {
    throw new ModelConfigError(fileName, 'architectures', `"${hfArchitecture}" is not supported; supported: ${supported}`);
  }

  const int = (field: string, fallback?: number): number => {
    const v = c[field] ?? fallback;
    if (v === undefined) throw new ModelConfigError(fileName, field, 'is missing');
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ModelConfigError(fileName, field, `must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const num = (field: string, fallback: number): number => {
    const v = c[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ModelConfigError(fileName, field, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = c[field] ?? fallback;
    if (typeof v !== 'boolean') throw new ModelConfigError(fileName, field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const tokenId = (field: string): number | null => {
    const v = c[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ModelConfigError(fileName, field, `must be a token id (integer >= 0), got ${JSON.stringify(v)}`);
    }
    return v;
  };

  const hiddenAct = c.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') {
    throw new ModelConfigError(fileName, 'hidden_act', `"${String(hiddenAct)}" is not supported; only "silu" (SwiGLU)`);
  }
  const scaling = c.rope_scaling;
  if (scaling !== undefined && scaling !== null) {
    const kind = isObject(scaling) ? (scaling.rope_type ?? scaling.type) : scaling;
    if (kind !== 'default') {
      throw new ModelConfigError(fileName, 'rope_scaling', `${JSON.stringify(kind)} is not supported; only plain RoPE (rope_scaling null)`);
    }
  }

  if (c.rope_interleaved === true) {
    throw new ModelConfigError(fileName, 'rope_interleaved', 'true is not supported; the engine applies rotate-half RoPE');
  }

  const vocabSize = int('vocab_size');
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(fileName, 'num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  }
  const defaultHeadDim = hiddenSize % numHeads === 0 ? hiddenSize / numHeads : undefined;
  if (c.head_dim === undefined && defaultHeadDim === undefined) {
    throw new ModelConfigError(fileName, 'head_dim', `is missing and hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads})`);
  }
  const headDim = int('head_dim', defaultHeadDim);
  if (headDim % 2 !== 0) throw new ModelConfigError(fileName, 'head_dim', `(${headDim}) must be even for rotate-half RoPE`);

  let eosTokenIds: number[];
  const eos = c.eos_token_id;
  if (eos === undefined || eos === null) eosTokenIds = [];
  else if (Array.isArray(eos)) {
    eosTokenIds = eos.map((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new ModelConfigError(fileName, `eos_token_id[${i}]`, `must be a token id, got ${JSON.stringify(v)}`);
      }
      return v;
    });
  } else eosTokenIds = [tokenId('eos_token_id') as number];

  const maxPositionEmbeddings = int('max_position_embeddings', 2048);
  return {
    architecture,
    hfArchitecture,
    vocabSize,
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    // transformers' default is 10000 for both classes; Qwen2.5 configs state 1e6 explicitly.
    ropeTheta: num('rope_theta', 10000),
    maxPositionEmbeddings,
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    // Qwen2 always has q/k/v biases (not configurable); Llama has them only with attention_bias
    // (then on o_proj too).
    attentionBias: architecture === 'qwen2' ? true : bool('attention_bias', false),
    mlpBias: architecture === 'qwen2' ? false : bool('mlp_bias', false),
    bosTokenId: tokenId('bos_token_id'),
    eosTokenIds,
  };
}

/** Parameter count implied by a config (embeddings, layers, final norm, untied head). */
export function countParams(cfg: ModelConfig): number {
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: KV, headDim: D, vocabSize: V } = cfg;
  const q = C * H * D;
  const kv = 2 * C * KV * D;
  const o = H * D * C;
  let attnBias = 0;
  if (cfg.attentionBias) attnBias = H * D + 2 * KV * D + (cfg.architecture === 'llama' ? C : 0);
  const mlp = 3 * C * F + (cfg.mlpBias ? 2 * F + C : 0);
  const norms = 2 * C;
  const layer = q + kv + o + attnBias + mlp + norms;
  return V * C + cfg.numLayers * layer + C + (cfg.tieWordEmbeddings ? 0 : V * C);
}
