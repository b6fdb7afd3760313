// Gemma 3 text (Gemma3ForCausalLM: 270M, 1B): four norms per layer with (1 + w) RMSNorm (the norm
// kernels add the 1 in f32, block.normOffset; w is uploaded as stored), q/k norms, embeddings x
// sqrt(hidden), attention scale query_pre_attn_scalar^-1/2, GeGLU with tanh GELU, sliding-window
// layers (layer_types, or all but every sliding_window_pattern-th) with their own RoPE base
// (rope_local_base_freq), global layers at rope_theta.
import { type ArchSpec, type ConfigReader, layerPrefix, readRopeScaling, refuseTrue, standardLayer } from './arch.ts';

function slidingLayers(r: ConfigReader, L: number): number[] {
  const types = r.json.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== L) r.fail('layer_types', `must have ${L} entries (one per layer), got ${types.length}`);
    return types.flatMap((t, l) => {
      if (t !== 'sliding_attention' && t !== 'full_attention') r.fail(`layer_types[${l}]`, `"${String(t)}" is not supported; supported: sliding_attention, full_attention`);
      return t === 'sliding_attention' ? [l] : [];
    });
  }
  const every = r.int('sliding_window_pattern', 6);
  return Array.from({ length: L }, (_, l) => l).filter((l) => (l + 1) % every !== 0);
}

export const gemma3: ArchSpec = {
  hfClass: 'Gemma3ForCausalLM',
  modelType: 'gemma3_text',
  architecture: 'gemma3',
  headDim: () => 256,
  attentionBias: (r) => r.bool('attention_bias', false),
  mlpBias: () => false,
  normPlusOne: true,
  extras(r, c) {
    readRopeScaling(r, false);
    refuseTrue(r, 'use_bidirectional_attention', 'bidirectional attention (EmbeddingGemma)');
    for (const f of ['final_logit_softcapping', 'attn_logit_softcapping']) {
      if (r.json[f] !== undefined && r.json[f] !== null) r.fail(f, `${JSON.stringify(r.json[f])} is not supported (only null)`);
    }
    const act = r.json.hidden_activation ?? r.json.hidden_act ?? 'gelu_pytorch_tanh';
    if (act !== 'gelu_pytorch_tanh') r.fail('hidden_activation', `"${String(act)}" is not supported; supported: gelu_pytorch_tanh`);
    return {
      qkNorm: true, hiddenAct: 'gelu_tanh',
      slidingWindow: r.int('sliding_window', 4096), slidingLayers: slidingLayers(r, c.numLayers),
      ropeLocalTheta: r.num('rope_local_base_freq', 10000), queryPreAttnScalar: r.num('query_pre_attn_scalar', 256),
      tieWordEmbeddings: r.bool('tie_word_embeddings', true),
      ropeTheta: r.num('rope_theta', 1e6),
    };
  },
  layer(c, l) {
    const p = layerPrefix(l);
    const local = c.slidingLayers?.includes(l) ?? false;
    const theta = local ? (c.ropeLocalTheta ?? 10000) : c.ropeTheta;
    const s = standardLayer(c, l, { qkNorm: true, rope: { key: `${theta}`, theta } });
    return {
      ...s,
      window: local ? (c.slidingWindow ?? 0) : 0,
      postAttnNorm: `${p}.post_attention_layernorm.weight`,
      mlpNorm: `${p}.pre_feedforward_layernorm.weight`,
      postMlpNorm: `${p}.post_feedforward_layernorm.weight`,
      act: 'gelu_tanh',
    };
  },
  embedScale: (c) => Math.sqrt(c.hiddenSize),
};
