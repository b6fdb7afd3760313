// SmolLM3: a Llama layer where some layers apply no RoPE (no_rope_layers[l] == 0; by default every
// 4th layer: no_rope_layer_interval 4), as transformers' SmolLM3Attention.use_rope.
import { type ArchSpec, readRopeScaling, refuseTrue, standardLayer } from './arch.ts';

export const smollm3: ArchSpec = {
  hfClass: 'SmolLM3ForCausalLM',
  modelType: 'smollm3',
  architecture: 'smollm3',
  attentionBias: (r) => r.bool('attention_bias', false),
  mlpBias: (r) => r.bool('mlp_bias', false),
  extras(r, c) {
    readRopeScaling(r, false);
    refuseTrue(r, 'use_sliding_window', 'sliding-window attention on SmolLM3');
    const L = c.numLayers;
    const raw = r.json.no_rope_layers;
    let flags: number[];
    if (raw === undefined || raw === null) {
      const every = r.int('no_rope_layer_interval', 4);
      flags = Array.from({ length: L }, (_, l) => ((l + 1) % every !== 0 ? 1 : 0));
    } else {
      if (!Array.isArray(raw) || raw.length !== L) return r.fail('no_rope_layers', `must be a list of ${L} entries (one per layer, 1 = RoPE, 0 = none), got ${JSON.stringify(raw)?.slice(0, 80)}`);
      flags = (raw as unknown[]).map((v, i) => {
        if (v !== 0 && v !== 1 && v !== true && v !== false) r.fail(`no_rope_layers[${i}]`, `must be 0 or 1, got ${JSON.stringify(v)}`);
        return v === 1 || v === true ? 1 : 0;
      });
    }
    return { noRopeLayers: flags.flatMap((f, l) => (f ? [] : [l])) };
  },
  layer: (c, l) => standardLayer(c, l, { rope: c.noRopeLayers?.includes(l) ? null : undefined }),
};
