// GGUF v3 constants and each architecture's Hugging Face <-> GGUF tensor names (llama.cpp's
// gguf-py constants.py / tensor_mapping.py and convert_hf_to_gguf.py, as shipped in node-llama-cpp
// 3.21.1). Shared by gguf-write.ts and gguf-read.ts.

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** Metadata value types (gguf_type). */
export const GgufValueType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8,
  ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;

/** ggml tensor types the project writes or reads, with their block size and bytes per block. */
export const GGML_TYPES = {
  F32: { id: 0, block: 1, bytes: 4 },
  F16: { id: 1, block: 1, bytes: 2 },
  Q4_0: { id: 2, block: 32, bytes: 18 }, // f16 scale + 16 bytes of 4-bit quants
  Q8_0: { id: 8, block: 32, bytes: 34 }, // f16 scale + 32 int8 quants
  BF16: { id: 30, block: 1, bytes: 2 },
} as const;
export type GgmlTypeName = keyof typeof GGML_TYPES;

/** llama.cpp's names for other ggml type ids, so a refusal can name what it met. */
export const GGML_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K',
  11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS',
  19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32',
  27: 'I64', 28: 'F64', 29: 'IQ1_M', 30: 'BF16', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

/** Token types (llama.cpp's llama_token_type). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** config.json `architectures[0]` -> general.architecture. */
export const GGUF_ARCH: Readonly<Record<string, string>> = {
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  LlamaForCausalLM: 'llama',
  Gemma3ForCausalLM: 'gemma3',
  SmolLM3ForCausalLM: 'smollm3',
};
/** general.architecture -> the config.json class it came from. */
export const HF_ARCH: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(GGUF_ARCH).map(([k, v]) => [v, k]));

/** Architectures whose q/k rows llama.cpp wants permuted (its rope type NORM: pairs adjacent, not halves). */
export const PERMUTED_QK = new Set(['llama', 'smollm3']);
/** Architectures whose RMSNorm is x * (1 + w): the converter stores 1 + w. */
export const NORM_PLUS_ONE = new Set(['gemma3']);

// Per-layer HF suffix -> GGUF suffix. post_attention_layernorm is the FFN's pre-norm everywhere
// but Gemma 3, where it normalises the attention output (Gemma's pre_feedforward_layernorm is ffn_norm).
const LAYER_COMMON: Array<[string, string]> = [
  ['input_layernorm.weight', 'attn_norm.weight'],
  ['self_attn.q_proj.weight', 'attn_q.weight'],
  ['self_attn.k_proj.weight', 'attn_k.weight'],
  ['self_attn.v_proj.weight', 'attn_v.weight'],
  ['self_attn.o_proj.weight', 'attn_output.weight'],
  ['self_attn.q_proj.bias', 'attn_q.bias'],
  ['self_attn.k_proj.bias', 'attn_k.bias'],
  ['self_attn.v_proj.bias', 'attn_v.bias'],
  ['self_attn.o_proj.bias', 'attn_output.bias'],
  ['self_attn.q_norm.weight', 'attn_q_norm.weight'],
  ['self_attn.k_norm.weight', 'attn_k_norm.weight'],
  ['mlp.gate_proj.weight', 'ffn_gate.weight'],
  ['mlp.up_proj.weight', 'ffn_up.weight'],
  ['mlp.down_proj.weight', 'ffn_down.weight'],
  ['mlp.gate_proj.bias', 'ffn_gate.bias'],
  ['mlp.up_proj.bias', 'ffn_up.bias'],
  ['mlp.down_proj.bias', 'ffn_down.bias'],
];
function layerMap(arch: string): Array<[string, string]> {
  if (arch === 'gemma3') {
    return [...LAYER_COMMON,
      ['post_attention_layernorm.weight', 'post_attention_norm.weight'],
      ['pre_feedforward_layernorm.weight', 'ffn_norm.weight'],
      ['post_feedforward_layernorm.weight', 'post_ffw_norm.weight']];
  }
  return [...LAYER_COMMON, ['post_attention_layernorm.weight', 'ffn_norm.weight']];
}

const GLOBAL: Array<[string, string]> = [
  ['model.embed_tokens.weight', 'token_embd.weight'],
  ['model.norm.weight', 'output_norm.weight'],
  ['lm_head.weight', 'output.weight'],
];

/** HF tensor name -> GGUF name for `arch`, or undefined when the architecture has no such tensor. */
export function ggufTensorName(arch: string, hf: string): string | undefined {
  for (const [h, g] of GLOBAL) if (hf === h) return g;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
  if (!m) return undefined;
  for (const [h, g] of layerMap(arch)) if (m[2] === h) return `blk.${m[1]}.${g}`;
  return undefined;
}

/** GGUF tensor name -> HF name for `arch` (undefined for GGUF-only tensors such as rope_freqs). */
export function hfTensorName(arch: string, gguf: string): string | undefined {
  for (const [h, g] of GLOBAL) if (gguf === g) return h;
  const m = /^blk\.(\d+)\.(.+)$/.exec(gguf);
  if (!m) return undefined;
  for (const [h, g] of layerMap(arch)) if (m[2] === g) return `model.layers.${m[1]}.${h}`;
  return undefined;
}

/**
 * llama.cpp's Q/K permutation (convert_hf_to_gguf LlamaModel.permute) on a row-major (rows, cols)
 * matrix or a bias (cols = 1): rows of each head go from [half 0 | half 1] to interleaved pairs.
 *   w.reshape(heads, 2, rows/heads/2, cols).swapaxes(1, 2).reshape(rows, cols)
 * `inverse` undoes it (the reader's way back to HF order). Works on any element type.
 */
export function permuteQK<T extends { length: number; slice(a: number, b: number): T; set(a: T, o: number): void }>(
  w: T, heads: number, rows: number, cols: number, inverse = false,
): T {
  const out = w.slice(0, w.length);
  const half = rows / heads / 2;
  for (let h = 0; h < heads; h++) {
    for (let two = 0; two < 2; two++) {
      for (let i = 0; i < half; i++) {
        const hfRow = h * 2 * half + two * half + i;   // HF: head, which half, index
        const ggRow = h * 2 * half + i * 2 + two;      // GGUF: head, index, which half
        const [src, dst] = inverse ? [ggRow, hfRow] : [hfRow, ggRow];
        out.set(w.slice(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}
