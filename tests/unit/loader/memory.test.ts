import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/engine/model/config.ts';
import { checkFits, defaultBudgetBytes, estimateGpuBytes, formatBytes } from '../../../src/engine/model/memory.ts';

const QWEN05 = parseModelConfig({ architectures: ['Qwen2ForCausalLM'], vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, tie_word_embeddings: true });
const LIMITS = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };

describe('GPU memory estimate', () => {
  it('sizes Qwen2.5-0.5B at 2k context under the 1.3 GB target', () => {
    const e = estimateGpuBytes(QWEN05, 2048);
    expect(e.weightBytes).toBe(494_032_768 * 2);
    expect(e.kvCacheBytes).toBe(2 * 24 * 2 * 64 * 2048 * 4);
    expect(e.totalBytes).toBeLessThan(1.3e9);
    expect(e.largestTensorBytes).toBe(151936 * 896 * 2);
    expect(() => checkFits('q', QWEN05, e, LIMITS, 4e9)).not.toThrow();
  });

  it('refuses with the need, the budget and a smaller model that fits', () => {
    const e = estimateGpuBytes(QWEN05, 2048);
    expect(() => checkFits('Qwen/Qwen2.5-0.5B-Instruct', QWEN05, e, LIMITS, 0.6e9)).toThrow(
      'Qwen/Qwen2.5-0.5B-Instruct needs 1.1 GB of GPU memory (weights 988 MB, KV cache 50 MB at 2048 tokens); this device allows ~600 MB (up to 1.1 GB per buffer); try HuggingFaceTB/SmolLM2-135M-Instruct (269 MB of weights)');
  });

  it('formats bytes and picks a budget from device memory', () => {
    expect([formatBytes(1.94e9), formatBytes(312e6), formatBytes(40_000), formatBytes(12)]).toEqual(['1.9 GB', '312 MB', '40 KB', '12 B']);
    expect(defaultBudgetBytes(8)).toBe(4e9);
    expect(defaultBudgetBytes(undefined)).toBe(4e9);
    expect(defaultBudgetBytes(2)).toBe(1e9);
  });
});
