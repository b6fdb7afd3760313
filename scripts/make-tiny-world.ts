// Rebuilds the tiny-world student models/tiny-world/ from a seed (one command, build time):
//   1. the held-out test set public/data/tiny_world_test.jsonl (src/world/split.ts)
//   2. pretraining documents (src/world/corpus.ts: drills, worked bare problems, direct chat answers;
//      test problems excluded), the world tokenizer learned on them (byte-level BPE, digits single
//      tokens by Qwen2's split regex, ChatML template), the token stream build/tiny-world/corpus.u16
//   3. config.json, then Debian's /usr/bin/python3 with torch trains model.safetensors
//      (scripts/world/pretrain.py; the same Qwen2 architecture our engine runs)
//
//   npm run make:tiny-world [-- --seed 7 --docs 150000 --steps 1100 --out models/tiny-world] [--skip-train]
//                           [--init models/tiny-world/model.safetensors --lr 0.001]  (continue from weights)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../src/engine/tokenizer/hf-tokenizer.ts';
import { pretrainDocs, probeItems } from '../src/world/corpus.ts';
import { testRows, worldTestSet } from '../src/world/split.ts';
import { generateProblems } from '../src/world/generator.ts';
import { traceText } from '../src/world/teacher.ts';
import { makeTinyTokenizer } from './make-tiny-tokenizer.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const out = arg('out', 'models/tiny-world');
const seed = Number(arg('seed', '7'));
const docs = Number(arg('docs', '150000'));
const steps = Number(arg('steps', '1100'));
const build = 'build/tiny-world';

export const WORLD_VOCAB = 384;
export const TINY_WORLD_CONFIG = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: WORLD_VOCAB,
  hidden_size: 64, intermediate_size: 128, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16,
  hidden_act: 'silu', max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: true,
  bos_token_id: null, eos_token_id: [0, 2], torch_dtype: 'float16', use_cache: true, use_sliding_window: false,
};

const log = (s: string) => console.log(`[make:tiny-world] ${s}`);
mkdirSync(out, { recursive: true });
mkdirSync(build, { recursive: true });
mkdirSync('public/data', { recursive: true });

// 1. test set
const test = worldTestSet();
writeFileSync('public/data/tiny_world_test.jsonl', testRows(test).map((r) => JSON.stringify(r)).join('\n') + '\n');
log(`wrote public/data/tiny_world_test.jsonl (${test.length} problems)`);

// 2. corpus + tokenizer
const t0 = performance.now();
const exclude = new Set(test.map((p) => p.problem));
const corpus = pretrainDocs({ seed, docs, exclude });
const traceSample = generateProblems({ seed: seed + 2, n: 2000, idPrefix: 'tok-' }).map((p) => traceText(p));
// special tokens are matched whole at encode time: keep them out of the merges
const { tokenizer, config } = makeTinyTokenizer([...corpus.slice(0, 20000), ...traceSample].map((t) => t.replace(/<\|[a-z_]+\|>/g, ' ')), WORLD_VOCAB);
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizer, null, 1) + '\n');
writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
writeFileSync(join(out, 'config.json'), JSON.stringify(TINY_WORLD_CONFIG, null, 2) + '\n');
const tok = await loadTokenizer({ tokenizerJson: tokenizer, tokenizerConfig: config, source: out, extraEosIds: [0, 2] });
const ids: number[] = [];
for (const d of corpus) { for (const id of tok.encode(d)) ids.push(id); ids.push(0); } // <|endoftext|> between documents
writeFileSync(join(build, 'corpus.u16'), new Uint16Array(ids));
const probes = probeItems({ seed: seed + 5, n: 200, exclude }).map((p) => ({ ...p, ids: tok.encode(p.prompt) }));
writeFileSync(join(build, 'probe.json'), JSON.stringify(probes) + '\n');
log(`${corpus.length} documents, ${ids.length} tokens (${(ids.length / corpus.length).toFixed(1)}/doc), tokenizer ${WORLD_VOCAB} ids, ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// 3. pretraining (torch, build time only)
if (!args.includes('--skip-train')) {
  const py = '/usr/bin/python3';
  const r = spawnSync(py, ['scripts/world/pretrain.py', '--corpus', join(build, 'corpus.u16'), '--config', join(out, 'config.json'), '--out', join(out, 'model.safetensors'),
    '--steps', String(steps), '--seed', String(seed), '--log', join(build, 'pretrain.log'), '--probe', join(build, 'probe.json'), '--tokenizer', join(out, 'tokenizer.json'),
    ...(arg('init', '') ? ['--init', arg('init', '')] : []), ...(arg('lr', '') ? ['--lr', arg('lr', '')] : [])], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`pretraining failed (${py} scripts/world/pretrain.py exited ${r.status}); it needs Debian's python3-torch: apt-get install -y python3-torch`);
}
log('done');
