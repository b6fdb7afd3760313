// Weight and KV-cache bytes per precision on the Qwen3-1.7B shape, checked against sums done by hand.
import { describe, expect, it } from 'vitest';
import { kvCacheBytes, tensorBytes, weightBytes } from '../../../src/engine/model/memory-quant.ts';
import type { ModelConfig } from '../../../src/engine/model/types.ts';

// Qwen/Qwen3-1.7B config.json: vocab 151936, hidden 2048, intermediate 6144, 28 layers, 16 heads,
// 8 KV heads, head_dim 128, tied embeddings, q/k norms, no biases.
const QWEN3_1_7B: ModelConfig & { qkNorm: boolean } = {
  architecture: 'qwen2', hfArchitecture: 'Qwen3ForCausalLM', vocabSize: 151936, hiddenSize: 2048, intermediateSize: 6144,
  numLayers: 28, numHeads: 16, numKvHeads: 8, headDim: 128, rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositionEmbeddings: 40960,
  tieWordEmbeddings: true, attentionBias: false, mlpBias: false, bosTokenId: null, eosTokenIds: [151645], qkNorm: true,
};

// By hand. Linear params per layer: q 2048·2048 + k, v 2·1024·2048 + o 2048·2048 + gate, up, down 3·6144·2048
//   = 4,194,304 + 4,194,304 + 4,194,304 + 37,748,736 = 50,331,648; x 28 layers = 1,409,286,144.
// Embedding (tied, one copy): 151,936 · 2048 = 311,164,928.
// Small (f16): per layer 2 norms of 2048 + q/k norms of 128 = 4,352; x 28 = 121,856; + final norm 2,048
//   = 123,904 params = 247,808 bytes.
// f16: 2 bytes each: linear 2,818,572,288; embedding 622,329,856; total 3,441,149,952 (3.20 GiB).
// Q8_0: 34 bytes per 32 (every tensor is a whole number of 8 blocks, so no 16-byte padding):
//   linear 1,409,286,144 · 34/32 = 1,497,366,528; embedding 311,164,928 · 34/32 = 330,612,736;
//   total 1,497,366,528 + 330,612,736 + 247,808 = 1,828,227,072 (1.70 GiB).
// Q4_0: 18 bytes per 32: linear 792,723,456; embedding 175,030,272; total 968,001,536 (0.90 GiB).
describe('weight bytes per precision (Qwen3-1.7B shape)', () => {
  it('f16', () => {
    expect(weightBytes(QWEN3_1_7B, 'f16')).toEqual({ precision: 'f16', linearBytes: 2_818_572_288, embeddingBytes: 622_329_856, smallBytes: 247_808, totalBytes: 3_441_149_952 });
  });
  it('q8_0', () => {
    expect(weightBytes(QWEN3_1_7B, 'q8_0')).toEqual({ precision: 'q8_0', linearBytes: 1_497_366_528, embeddingBytes: 330_612_736, smallBytes: 247_808, totalBytes: 1_828_227_072 });
  });
  it('q4_0, and with the embedding kept in f16', () => {
    expect(weightBytes(QWEN3_1_7B, 'q4_0')).toEqual({ precision: 'q4_0', linearBytes: 792_723_456, embeddingBytes: 175_030_272, smallBytes: 247_808, totalBytes: 968_001_536 });
    expect(weightBytes(QWEN3_1_7B, 'q4_0', { embeddings: 'f16' }).totalBytes).toBe(792_723_456 + 622_329_856 + 247_808);
  });
  it('an untied head counts twice; biases count in f16', () => {
    const c = { ...QWEN3_1_7B, tieWordEmbeddings: false, attentionBias: true };
    const r = weightBytes(c, 'q4_0');
    expect(r.embeddingBytes).toBe(2 * 175_030_272);
    expect(r.smallBytes).toBe(247_808 + 28 * 2 * (2048 + 2 * 1024));
  });
  it('a row that is not whole blocks pads to a block; odd f16 counts pad to a word', () => {
    expect(tensorBytes('q4_0', 1, 33)).toBe(48); // 2 blocks: 32 bytes of nibbles + 4 bytes of scales, padded to 16
    expect(tensorBytes('f16', 1, 3)).toBe(8);
  });
});

describe('KV cache bytes', () => {
  it('Qwen3-1.7B at 8,192 tokens: 2 · 28 · 8 · 128 · 8192 = 469,762,048 values', () => {
    expect(kvCacheBytes(QWEN3_1_7B, 8192, 'f32')).toBe(469_762_048 * 4);
    expect(kvCacheBytes(QWEN3_1_7B, 8192, 'f16')).toBe(469_762_048 * 2);
  });
});
