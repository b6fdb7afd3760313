// Llama / Llama 3.x / SmolLM2: no biases unless attention_bias / mlp_bias; Llama 3's rope_scaling.
import { type ArchSpec, readRopeScaling, standardLayer } from './arch.ts';

export const llama: ArchSpec = {
  hfClass: 'LlamaForCausalLM',
  modelType: 'llama',
  architecture: 'llama',
  attentionBias: (r) => r.bool('attention_bias', false),
  mlpBias: (r) => r.bool('mlp_bias', false),
  extras(r) {
    const ropeScaling = readRopeScaling(r, true);
    return ropeScaling ? { ropeScaling } : {};
  },
  layer: (c, l) => standardLayer(c, l),
};
