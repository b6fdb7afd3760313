// Qwen2 / Qwen2.5 (and DeepSeek-R1-Distill-Qwen): biases on q/k/v, plain RoPE, tied or untied head.
import { type ArchSpec, readRopeScaling, refuseTrue, standardLayer } from './arch.ts';

export const qwen2: ArchSpec = {
  hfClass: 'Qwen2ForCausalLM',
  modelType: 'qwen2',
  architecture: 'qwen2',
  // Qwen2 always has q/k/v biases (not configurable)
  attentionBias: () => true,
  mlpBias: () => false,
  extras(r) {
    readRopeScaling(r, false);
    refuseTrue(r, 'use_sliding_window', 'sliding-window attention on Qwen2');
    return {};
  },
  layer: (c, l) => standardLayer(c, l),
};
