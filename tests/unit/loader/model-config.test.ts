import { describe, expect, it } from 'vitest';
import { countParams, parseModelConfig } from '../../../src/engine/model/config.ts';

// Real config.json files (as published on the hub), trimmed of fields the engine ignores.
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645,
  hidden_act: 'silu', hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864, max_position_embeddings: 32768,
  max_window_layers: 21, model_type: 'qwen2', num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2,
  rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16',
  use_cache: true, use_sliding_window: false, vocab_size: 151936,
};
const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 1, eos_token_id: 2,
  hidden_act: 'silu', hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536,
  is_llama_config: true, max_position_embeddings: 8192, model_type: 'llama', num_attention_heads: 9, num_hidden_layers: 30,
  num_key_value_heads: 3, pad_token_id: 2, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_interleaved: false, rope_scaling: null,
  rope_theta: 100000, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 49152,
};

describe('parseModelConfig', () => {
  it('reads Qwen2.5-0.5B-Instruct', () => {
    const c = parseModelConfig(QWEN25_05B);
    expect(c).toEqual({
      architecture: 'qwen2', hfArchitecture: 'Qwen2ForCausalLM', vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864,
      numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositionEmbeddings: 32768,
      tieWordEmbeddings: true, attentionBias: true, mlpBias: false, bosTokenId: 151643, eosTokenIds: [151645],
    });
    expect(countParams(c)).toBe(494_032_768); // the published 0.49B
  });

  it('reads SmolLM2-135M-Instruct (Llama)', () => {
    const c = parseModelConfig(JSON.stringify(SMOLLM2_135M));
    expect(c.architecture).toBe('llama');
    expect([c.headDim, c.numKvHeads, c.ropeTheta, c.rmsNormEps, c.attentionBias, c.tieWordEmbeddings]).toEqual([64, 3, 100000, 1e-5, false, true]);
    expect(c.eosTokenIds).toEqual([2]);
    expect(countParams(c)).toBe(134_515_008);
  });

  it('applies the defaults of each class and accepts eos lists and explicit head_dim', () => {
    const minimal = { architectures: ['LlamaForCausalLM'], vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 };
    const c = parseModelConfig(minimal);
    expect([c.numKvHeads, c.headDim, c.ropeTheta, c.rmsNormEps, c.tieWordEmbeddings, c.attentionBias, c.bosTokenId, c.eosTokenIds, c.maxPositionEmbeddings])
      .toEqual([4, 16, 10000, 1e-6, false, false, null, [], 2048]);
    const l = parseModelConfig({ ...minimal, head_dim: 32, eos_token_id: [128001, 128008, 128009], attention_bias: true });
    expect([l.headDim, l.eosTokenIds, l.attentionBias]).toEqual([32, [128001, 128008, 128009], true]);
    const q = parseModelConfig({ ...minimal, architectures: ['Qwen2ForCausalLM'] });
    expect([q.attentionBias, q.ropeTheta]).toEqual([true, 10000]);
  });

  it('gives errors naming the file and field', () => {
    const bad = (patch: object) => () => parseModelConfig({ ...QWEN25_05B, ...patch }, 'models/x/config.json');
    expect(bad({ architectures: ['MistralForCausalLM'] })).toThrow(
      'models/x/config.json: field "architectures" "MistralForCausalLM" is not supported; supported: Qwen2ForCausalLM, LlamaForCausalLM');
    expect(bad({ architectures: undefined, model_type: 'gpt2' })).toThrow(/field "architectures" must be a list/);
    expect(bad({ hidden_size: undefined })).toThrow('models/x/config.json: field "hidden_size" is missing');
    expect(bad({ num_hidden_layers: 2.5 })).toThrow(/field "num_hidden_layers" must be a positive integer, got 2.5/);
    expect(bad({ num_key_value_heads: 3 })).toThrow(/field "num_key_value_heads" \(3\) must divide num_attention_heads \(14\)/);
    expect(bad({ hidden_act: 'gelu' })).toThrow(/field "hidden_act" "gelu" is not supported/);
    expect(bad({ rope_scaling: { rope_type: 'llama3', factor: 8 } })).toThrow(/field "rope_scaling" "llama3" is not supported/);
    expect(bad({ eos_token_id: [1, 'x'] })).toThrow(/field "eos_token_id\[1\]" must be a token id/);
    expect(bad({ tie_word_embeddings: 'yes' })).toThrow(/field "tie_word_embeddings" must be true or false/);
    expect(() => parseModelConfig('{"a":', 'config.json')).toThrow(/^config\.json: is not valid JSON/);
    expect(() => parseModelConfig([1])).toThrow('config.json: must be a JSON object');
  });
});
