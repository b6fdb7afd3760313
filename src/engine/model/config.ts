// Hugging Face config.json -> ModelConfig for the decoder. The common fields are read here; each
// family's own (biases, RoPE scaling, q/k norms, windows) by its arch spec (model/arch-*.ts).
// Anything else is refused with a message naming the file and field and what is supported.
import type { ArchSpec, ConfigReader } from './arch.ts';
import { ARCH_SPECS } from './archs.ts';
import { blockParams } from './block.ts';
import type { Architecture, ModelConfig } from './types.ts';

/** config.json `architectures[0]` -> the engine's family. */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<string, Architecture>> = Object.fromEntries(ARCH_SPECS.map((a) => [a.hfClass, a.architecture]));

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
  } else if (archs === undefined && ARCH_SPECS.some((a) => a.modelType === c.model_type)) {
    hfArchitecture = ARCH_SPECS.find((a) => a.modelType === c.model_type)!.hfClass;
  } else {
    throw new ModelConfigError(fileName, 'architectures', `must be a list naming the model class; supported: ${supported}`);
  }
  const spec: ArchSpec | undefined = ARCH_SPECS.find((a) => a.hfClass === hfArchitecture);
  if (!spec) {
    throw new ModelConfigError(fileName, 'architectures', `"${hfArchitecture}" is not supported; supported: ${supported}`);
  }
  const architecture = spec.architecture;

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

  const reader: ConfigReader = { json: c, int, num, bool, fail: (field, detail) => { throw new ModelConfigError(fileName, field, detail); } };
  if (architecture !== 'gemma3') {
    const hiddenAct = c.hidden_act ?? 'silu';
    if (hiddenAct !== 'silu') {
      throw new ModelConfigError(fileName, 'hidden_act', `"${String(hiddenAct)}" is not supported for ${hfArchitecture}; only "silu" (SwiGLU)`);
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
  if (c.head_dim === undefined && defaultHeadDim === undefined && !spec.headDim) {
    throw new ModelConfigError(fileName, 'head_dim', `is missing and hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads})`);
  }
  const headDim = int('head_dim', spec.headDim?.(reader) ?? defaultHeadDim);
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
  const base: ModelConfig = {
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
    attentionBias: spec.attentionBias(reader),
    mlpBias: spec.mlpBias(reader),
    bosTokenId: tokenId('bos_token_id'),
    eosTokenIds,
  };
  return { ...base, ...spec.extras(reader, base) };
}

/** Parameter count implied by a config (embeddings, layers, final norm, untied head). */
export function countParams(cfg: ModelConfig): number {
  return blockParams(cfg);
}
