// Contract between model loading (config, safetensors, sources) and the decoder on the GPU.
import type { QuantFormat } from '../ops/matmul-q.ts';

export type Architecture = 'qwen2' | 'llama' | 'qwen3' | 'smollm3' | 'gemma3';

/** Llama 3's RoPE frequency scaling (config.json rope_scaling with rope_type "llama3"). */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** The subset of a Hugging Face config.json the decoder needs; each family's fields are read by its
 *  arch spec (model/arch-*.ts), and the layer stack they imply is model/block.ts's describeModel.
 *  Fields after eosTokenIds are absent (undefined) where the family does not have them. */
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
  /** Qwen3, Gemma 3: RMSNorm over each query and key head (weight (headDim)) before RoPE. */
  qkNorm?: boolean;
  /** Llama 3.x: scaled RoPE frequencies. */
  ropeScaling?: Llama3RopeScaling;
  /** SmolLM3: layers that apply no RoPE (config no_rope_layers[l] == 0). */
  noRopeLayers?: number[];
  /** Gemma 3: local attention window in tokens, the layers that use it, and their RoPE base. */
  slidingWindow?: number;
  slidingLayers?: number[];
  ropeLocalTheta?: number;
  /** Gemma 3: attention scale = queryPreAttnScalar^-1/2 (default headDim^-1/2). */
  queryPreAttnScalar?: number;
  /** Gemma 3: the MLP's gate activation is tanh-approximated GELU (default SiLU). */
  hiddenAct?: 'gelu_tanh';
}

/**
 * A weight on the CPU, converted to f16 and packed two halves per u32 word (element 2i in the low
 * 16 bits of word i), row-major in the safetensors/PyTorch layout (Linear weight = (out, in)).
 * An odd element count is padded with one zero half.
 */
export interface HostTensor {
  name: string;      // Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight"
  shape: number[];
  /** packed f16 (empty when `quant` holds the tensor) */
  packed: Uint32Array;
  /** A block-quantized 2-D tensor instead (model/quant.ts): llama.cpp's blocks, row-major, each row
   *  zero-padded to whole 32-value blocks (a GGUF Q8_0 / Q4_0 tensor as read, or an f16 one quantized
   *  at load); `packed` is then empty. */
  quant?: { format: QuantFormat; blocks: Uint8Array };
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
