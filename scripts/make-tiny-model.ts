// Makes the bundled tiny test model models/tiny/{config.json, model.safetensors}: a Qwen2-architecture
// decoder with seeded random weights (F16). Deterministic: same seed, byte-identical files.
// The tokenizer files beside them come from scripts/make-tiny-tokenizer.ts (ids 0..4 special, 512 tokens).
//
//   npm run make:tiny-model [-- --out models/tiny --seed 1234]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../src/engine/model/config.ts';
import { randomModelTensors } from '../src/engine/model/random-model.ts';
import { hostTensorToF16Bytes, writeSafetensors } from '../src/engine/model/safetensors-write.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const out = arg('out', 'models/tiny');
const seed = Number(arg('seed', '1234'));

export const TINY_CONFIG_JSON = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  vocab_size: 512,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  hidden_act: 'silu',
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: true,
  bos_token_id: null,
  eos_token_id: [0, 2],
  torch_dtype: 'float16',
  use_cache: true,
  use_sliding_window: false,
};

const config = parseModelConfig(TINY_CONFIG_JSON);
// Embedding std 0.5 spreads the tied-head logits (std ~3) so greedy picks are well separated.
const tensors = [...randomModelTensors(config, { seed, embedStd: 0.5, std: 0.25 })];
const bytes = writeSafetensors(tensors.map(hostTensorToF16Bytes), { format: 'pt', made_by: `scripts/make-tiny-model.ts --seed ${seed}` });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'config.json'), JSON.stringify(TINY_CONFIG_JSON, null, 2) + '\n');
writeFileSync(join(out, 'model.safetensors'), bytes);
const params = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
console.log(`wrote ${out}/config.json and ${out}/model.safetensors (${tensors.length} tensors, ${params} params, ${bytes.length} bytes, seed ${seed})`);
