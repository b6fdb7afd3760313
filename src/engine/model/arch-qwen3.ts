// Qwen3: RMSNorm over each query and key head (q_norm, k_norm, weight (head_dim)) before RoPE;
// head_dim decoupled from hidden / heads (Qwen3-0.6B: 16 x 128 = 2,048 over hidden 1,024); no biases.
import { type ArchSpec, readRopeScaling, refuseTrue, standardLayer } from './arch.ts';

export const qwen3: ArchSpec = {
  hfClass: 'Qwen3ForCausalLM',
  modelType: 'qwen3',
  architecture: 'qwen3',
  headDim: () => 128, // transformers' Qwen3Config default
  attentionBias: (r) => r.bool('attention_bias', false),
  mlpBias: () => false,
  extras(r) {
    readRopeScaling(r, false);
    refuseTrue(r, 'use_sliding_window', 'sliding-window attention on Qwen3');
    return { qkNorm: true };
  },
  layer: (c, l) => standardLayer(c, l, { qkNorm: true }),
};
