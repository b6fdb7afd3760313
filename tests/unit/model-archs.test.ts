// The students' real config.json files (the fields the engine reads, as published on the Hub) parse
// into the layout each architecture has; the Models view's suggestions carry their true sizes;
// unsupported classes and fields are refused by name with what is supported.
import { describe, expect, it } from 'vitest';
import { describeModel } from '../../src/engine/model/block.ts';
import { countParams, parseModelConfig } from '../../src/engine/model/config.ts';
import { SUGGESTED_MODELS, estimateGpuBytes } from '../../src/engine/model/memory.ts';

const every4 = (n: number) => Array.from({ length: n }, (_, l) => ((l + 1) % 4 === 0 ? 0 : 1));
const gemmaTypes = (n: number) => Array.from({ length: n }, (_, l) => ((l + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
const qwen3 = (hidden: number, inter: number, layers: number, heads: number) => ({
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936, hidden_size: hidden, intermediate_size: inter, num_hidden_layers: layers,
  num_attention_heads: heads, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 40960, rope_theta: 1000000, rope_scaling: null,
  rms_norm_eps: 1e-6, tie_word_embeddings: true, attention_bias: false, hidden_act: 'silu', use_sliding_window: false, sliding_window: null,
  bos_token_id: 151643, eos_token_id: 151645,
});
const gemma3 = (hidden: number, inter: number, layers: number) => ({
  architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', vocab_size: 262144, hidden_size: hidden, intermediate_size: inter, num_hidden_layers: layers,
  num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, max_position_embeddings: 32768, query_pre_attn_scalar: 256, sliding_window: 512,
  layer_types: gemmaTypes(layers), rope_theta: 1000000, rope_local_base_freq: 10000, rope_scaling: null, rms_norm_eps: 1e-6, hidden_activation: 'gelu_pytorch_tanh',
  attention_bias: false, attn_logit_softcapping: null, final_logit_softcapping: null, use_bidirectional_attention: false, bos_token_id: 2, eos_token_id: 1,
});

/** The published configs (fields the engine reads), by hub id. */
const STUDENT_CONFIGS: Record<string, Record<string, unknown>> = {
  'HuggingFaceTB/SmolLM2-135M-Instruct': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
    num_attention_heads: 9, num_key_value_heads: 3, max_position_embeddings: 8192, rope_theta: 100000, rms_norm_eps: 1e-5, tie_word_embeddings: true,
    rope_scaling: null, hidden_act: 'silu', bos_token_id: 1, eos_token_id: 2,
  },
  'Qwen/Qwen3-0.6B': qwen3(1024, 3072, 28, 16),
  'Qwen/Qwen3-1.7B': qwen3(2048, 6144, 28, 16),
  'google/gemma-3-270m-it': gemma3(640, 2048, 18),
  'google/gemma-3-1b-it': { ...gemma3(1152, 6912, 26), layer_types: undefined, sliding_window_pattern: 6 },
  'meta-llama/Llama-3.2-1B-Instruct': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, max_position_embeddings: 131072, rope_theta: 500000, rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    tie_word_embeddings: true, attention_bias: false, mlp_bias: false, hidden_act: 'silu', bos_token_id: 128000, eos_token_id: [128001, 128008, 128009],
  },
  'HuggingFaceTB/SmolLM3-3B': {
    architectures: ['SmolLM3ForCausalLM'], model_type: 'smollm3', vocab_size: 128256, hidden_size: 2048, intermediate_size: 11008, num_hidden_layers: 36,
    num_attention_heads: 16, num_key_value_heads: 4, max_position_embeddings: 65536, rope_theta: 5000000, rope_scaling: null, rms_norm_eps: 1e-6,
    no_rope_layers: every4(36), tie_word_embeddings: true, attention_bias: false, mlp_bias: false, hidden_act: 'silu', use_sliding_window: false,
    sliding_window: null, layer_types: Array.from({ length: 36 }, () => 'full_attention'), bos_token_id: 128000, eos_token_id: 128012,
  },
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B': {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 151936, hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28,
    num_attention_heads: 12, num_key_value_heads: 2, max_position_embeddings: 131072, rope_theta: 10000, rms_norm_eps: 1e-6, tie_word_embeddings: false,
    use_sliding_window: false, sliding_window: 4096, max_window_layers: 21, hidden_act: 'silu', bos_token_id: 151646, eos_token_id: 151643,
  },
};

describe('the 2026 students', () => {
  it('parse into their layouts', () => {
    const c = (id: string) => parseModelConfig(STUDENT_CONFIGS[id], `${id}/config.json`);
    const q = c('Qwen/Qwen3-0.6B');
    expect([q.architecture, q.qkNorm, q.headDim, q.numHeads * q.headDim, q.hiddenSize, q.tieWordEmbeddings, q.ropeTheta]).toEqual(['qwen3', true, 128, 2048, 1024, true, 1e6]);
    expect(describeModel(q).layers[0].qNorm).toBe('model.layers.0.self_attn.q_norm.weight');
    const l = c('meta-llama/Llama-3.2-1B-Instruct');
    expect(l.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    const s = c('HuggingFaceTB/SmolLM3-3B');
    expect(s.noRopeLayers).toEqual([3, 7, 11, 15, 19, 23, 27, 31, 35]);
    expect(describeModel(s).layers.filter((x) => x.rope === null).length).toBe(9);
    for (const id of ['google/gemma-3-270m-it', 'google/gemma-3-1b-it']) {
      const g = c(id); const b = describeModel(g);
      expect(b.layers.filter((x) => x.window === 512).length, id).toBe(g.numLayers - Math.floor(g.numLayers / 6));
      expect(b.layers[5].window).toBe(0);
      expect([b.layers[0].rope?.theta, b.layers[5].rope?.theta, b.embedScale, b.attnScale, b.layers[0].act]).toEqual([10000, 1e6, Math.sqrt(g.hiddenSize), 1 / 16, 'gelu_tanh']);
      expect([b.norms.size, b.normOffset]).toEqual([g.numLayers * 6 + 1, 1]); // four norms + q/k norms per layer, the final norm; (1 + w)
    }
    const r = c('deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B');
    expect([r.architecture, r.tieWordEmbeddings, describeModel(r).head]).toEqual(['qwen2', false, 'lm_head.weight']);
  });

  it('the suggested models are these, with their f16 weight bytes (2 x the parameter count)', () => {
    for (const m of SUGGESTED_MODELS) {
      const cfg = STUDENT_CONFIGS[m.id];
      expect(cfg, `${m.id} has a config here`).toBeDefined();
      const params = countParams(parseModelConfig(cfg));
      expect(Math.abs(m.weightBytes - 2 * params) / (2 * params), m.id).toBeLessThan(0.005);
    }
    expect(SUGGESTED_MODELS.map((m) => m.id).sort()).toEqual(Object.keys(STUDENT_CONFIGS).sort());
  });

  it('the memory estimate follows each layout (head dims, extra buffers)', () => {
    const est = (id: string, ctx: number) => estimateGpuBytes(parseModelConfig(STUDENT_CONFIGS[id]), ctx);
    const q = parseModelConfig(STUDENT_CONFIGS['Qwen/Qwen3-0.6B']);
    expect(est('Qwen/Qwen3-0.6B', 4096).kvCacheBytes).toBe(2 * 28 * 8 * 128 * 4096 * 2); // f16 cache (head_dim % 4 == 0)
    expect(est('google/gemma-3-270m-it', 4096).kvCacheBytes).toBe(2 * 18 * 1 * 256 * 4096 * 2); // f16 cache (head_dim % 4 == 0)
    expect(est('Qwen/Qwen3-0.6B', 4096).weightBytes).toBe(countParams(q) * 2);
  });

  it('refuses what is not implemented, by name, with what is supported', () => {
    const bad = (id: string, patch: object) => () => parseModelConfig({ ...STUDENT_CONFIGS[id], ...patch }, 'x/config.json');
    expect(bad('Qwen/Qwen3-0.6B', { architectures: ['Qwen3MoeForCausalLM'] })).toThrow(/"Qwen3MoeForCausalLM" is not supported; supported: Qwen2ForCausalLM, LlamaForCausalLM, Qwen3ForCausalLM, SmolLM3ForCausalLM, Gemma3ForCausalLM/);
    expect(bad('Qwen/Qwen3-0.6B', { use_sliding_window: true })).toThrow(/field "use_sliding_window" true is not supported/);
    expect(bad('Qwen/Qwen3-0.6B', { rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/field "rope_scaling" "yarn" is not supported/);
    expect(bad('meta-llama/Llama-3.2-1B-Instruct', { rope_scaling: { rope_type: 'llama3', factor: 32 } })).toThrow(/field "rope_scaling.low_freq_factor" must be a positive number, got undefined/);
    expect(bad('HuggingFaceTB/SmolLM3-3B', { no_rope_layers: [1, 0] })).toThrow(/field "no_rope_layers" must be a list of 36 entries/);
    expect(bad('google/gemma-3-270m-it', { final_logit_softcapping: 30 })).toThrow(/field "final_logit_softcapping" 30 is not supported/);
    expect(bad('google/gemma-3-270m-it', { layer_types: ['chunked_attention'] })).toThrow(/field "layer_types" must have 18 entries/);
    expect(bad('google/gemma-3-270m-it', { hidden_activation: 'gelu' })).toThrow(/field "hidden_activation" "gelu" is not supported; supported: gelu_pytorch_tanh/);
    expect(bad('google/gemma-3-270m-it', { use_bidirectional_attention: true })).toThrow(/field "use_bidirectional_attention" true is not supported/);
    expect(bad('deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', { hidden_act: 'gelu' })).toThrow(/field "hidden_act" "gelu" is not supported/);
  });
});
