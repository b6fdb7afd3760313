// Contract between model loading (config, safetensors, sources) and the decoder on the GPU.

export type Architecture = 'qwen2' | 'llama';

/** The subset of a Hugging Face config.json the decoder needs (Qwen2ForCausalLM, LlamaForCausalLM). */
export interface ModelConfig {
  architecture: Architecture;
  /** e.g. "Qwen2ForCausalLM" as written in config.json */
  hfArchitecture: string;
  vocabSize: number;
  hiddenSize: number;        // C
  intermediateSize: number;  // FFN width
  numLayers: number;
  numHeads: number;          // query heads
  numKvHeads: number;        // key/value heads (GQA)
  headDim: number;           // usually hiddenSize / numHeads
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Qwen2 has biases on q/k/v projections; Llama has none (attention_bias). */
  attentionBias: boolean;
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/**
 * A weight on the CPU, converted to f16 and packed two halves per u32 word (element 2i in the low
 * 16 bits of word i), row-major in the safetensors/PyTorch layout (Linear weight = (out, in)).
 * An odd element count is padded with one zero half.
 */
export interface HostTensor {
  name: string;      // Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight"
  shape: number[];
  packed: Uint32Array;
}

export interface LoadProgress {
  /** probe: checking every weight file exists; warmup: one token through the uploaded weights. */
  phase: 'tokenizer' | 'probe' | 'download' | 'convert' | 'upload' | 'warmup' | 'done';
  file?: string;
  /** Bytes of `file` so far and its size (0 when unknown). */
  loadedBytes: number;
  totalBytes: number;
  /** The whole load, 0..1, never decreasing: bytes downloaded plus bytes converted over their total. */
  fraction: number;
}
