import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/engine/model/config.ts';
import { checkFits, defaultBudgetBytes, deviceBudget, estimateGpuBytes, SOFTWARE_MEMORY_FACTOR } from '../../../src/engine/model/memory.ts';
import { formatBytes } from '../../../src/lib/bytes.ts';

const QWEN05 = parseModelConfig({ architectures: ['Qwen2ForCausalLM'], vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, tie_word_embeddings: true });
const LIMITS = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };

describe('GPU memory estimate', () => {
  it('sizes Qwen2.5-0.5B at 2k context under the 1.3 GB target', () => {
    const e = estimateGpuBytes(QWEN05, 2048);
    expect(e.weightBytes).toBe(494_032_768 * 2);
    expect(e.kvCacheBytes).toBe(2 * 24 * 2 * 64 * 2048 * 2); // f16 cache (head_dim 64)
    expect(e.totalBytes).toBeLessThan(1.3e9);
    expect(e.largestTensorBytes).toBe(151936 * 896 * 2);
    expect(() => checkFits('q', QWEN05, e, LIMITS, 4e9)).not.toThrow();
  });

  it('refuses with the need, the budget and a smaller model that fits', () => {
    const e = estimateGpuBytes(QWEN05, 2048);
    expect(() => checkFits('Qwen/Qwen2.5-0.5B-Instruct', QWEN05, e, LIMITS, 0.6e9)).toThrow(
      'Qwen/Qwen2.5-0.5B-Instruct needs 0.98 GiB of GPU memory (weights 942 MiB, KV cache 24 MiB at 2048 tokens); this device allows ~572 MiB (up to 1 GiB per buffer); try HuggingFaceTB/SmolLM2-135M-Instruct (257 MiB of weights)');
  });

  it('formats bytes in binary units, one formatter, and picks a budget from the adapter', () => {
    expect([formatBytes(1.94e9), formatBytes(312e6), formatBytes(40_000), formatBytes(12), formatBytes(0)]).toEqual(['1.81 GiB', '298 MiB', '39.1 KiB', '12 B', '0 B']);
    // 1024 MiB is "1 GiB" (never "1024 MiB" here and "1.1 GB" there); 1000..1023 of a unit moves up.
    expect([formatBytes(2 ** 30), formatBytes(1000 * 2 ** 20), formatBytes(1023), formatBytes(1024), formatBytes(1536), formatBytes(1.17e9)]).toEqual(['1 GiB', '0.98 GiB', '1023 B', '1 KiB', '1.5 KiB', '1.09 GiB']);
    expect(formatBytes(262e6) + ' of ' + formatBytes(269e6)).toBe('250 MiB of 257 MiB');
    // A software adapter: CPU memory, divided by what the browser really uses per GPU byte.
    const sw = deviceBudget({ isFallbackAdapter: true }, 8);
    expect(sw.bytes).toBe(Math.floor(4 * 2 ** 30 / SOFTWARE_MEMORY_FACTOR));
    expect(sw.basis).toMatch(/^software adapter: .*half of the 8 GiB of memory the browser reports, divided by/);
    const hw = deviceBudget({ isFallbackAdapter: false }, 8);
    expect(hw.bytes).toBe(4 * 2 ** 30);
    expect(hw.basis).toMatch(/does not report this GPU's memory: half of the 8 GiB/);
    expect(deviceBudget({ isFallbackAdapter: false }, undefined).basis).toMatch(/assumed 4 GiB/);
    // Where the browser reports memory heaps, the device-local one decides.
    const heaps = deviceBudget({ isFallbackAdapter: false, memoryHeaps: [{ size: 24 * 2 ** 30, properties: 1 }, { size: 64 * 2 ** 30, properties: 6 }] }, 8);
    expect(heaps).toEqual({ bytes: Math.floor(24 * 2 ** 30 * 0.8), basis: "80% of the adapter's 24 GiB device-local memory heap" });
    expect(defaultBudgetBytes(8)).toBe(4e9);
    expect(defaultBudgetBytes(undefined)).toBe(4e9);
    expect(defaultBudgetBytes(2)).toBe(1e9);
  });
});
