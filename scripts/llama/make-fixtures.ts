// llama.cpp as an independent reference (build time only; CI reads the committed fixtures):
//   npm run make:llama-fixtures [-- ID ...]      IDs: tiny-world, tiny-world-reason1k, tiny-world-q8_0,
//                                                tiny-world-q4_0 (Q8_0 / Q4_0 GGUF), qwen3-0.6b,
//                                                llama-3.2-1b, gemma-3-270m, smollm3-3b, r1-distill-qwen-1.5b
// Needs tools/llama-ref installed (cd tools/llama-ref && npm ci): node-llama-cpp 3.21.1's prebuilt CPU
// llama.cpp, loaded offline. Each model is written as an F16 GGUF by our exporter (build/llama/ID.gguf),
// then llama.cpp evaluates a prompt of >= 64 tokens and reports the next-token distribution at every
// position (controlledEvaluate with probabilities: softmax of the raw logits over the whole
// vocabulary, sampler at temperature 0). The fixture (tests/fixtures/llama/ID.json) keeps, per
// position, llama.cpp's top-8 token ids and their log-probabilities; the kernel tests
// (tests/kernel/llama-*.test.ts) run our engine on the same weights and compare.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { exportGgufParts } from '../../src/engine/adapter/gguf-export.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';
import { loadTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { fnv1aWords } from '../../src/lib/hash.ts';
import { readModelTensors } from '../export-gguf.ts';
import { ARCH_MODELS, ARCH_POSITIONS, ARCH_PROMPT, archModel, archTokenizerFiles, archTensors, tinyWorldPrompt } from './arch-models.ts';

const OUT = 'tests/fixtures/llama';
const TOP_K = 8;
const LLAMA_PKG = 'tools/llama-ref/node_modules/node-llama-cpp';

export interface LlamaFixture {
  source: string;
  model: string;
  hub_id?: string;
  config: Record<string, unknown>;
  adapter?: string;
  gguf: { dtype: 'F16' | 'Q8_0' | 'Q4_0'; bytes: number };
  /** FNV-1a over every tensor's packed f16 words, in order: the test checks it rebuilt the same weights */
  weights_fnv: number;
  ids: number[];
  vocab_candidates: number;
  top_k: number;
  /** per position: llama.cpp's top-k next-token ids (best first) and their natural-log probabilities */
  top_ids: number[][];
  top_logprobs: number[][];
  seconds: number;
}

type Json = Record<string, unknown>;
const json = (p: string): Json => JSON.parse(readFileSync(p, 'utf8')) as Json;

export function weightsFnv(tensors: Iterable<HostTensor>): number {
  let h: number | undefined;
  for (const t of tensors) h = fnv1aWords(t.packed, h);
  return h ?? 0;
}

interface Target { dtype: 'F16' | 'Q8_0' | 'Q4_0'; id: string; hubId?: string; config: Json; tokenizer: Json; tokenizerConfig: Json; tensors: HostTensor[]; ids: number[]; adapterDir?: string }

async function target(id: string): Promise<Target> {
  if (id.startsWith('tiny-world')) {
    const dir = 'models/tiny-world';
    const config = json(`${dir}/config.json`);
    const tokenizer = json(`${dir}/tokenizer.json`);
    const tokenizerConfig = json(`${dir}/tokenizer_config.json`);
    const tok = await loadTokenizer({ tokenizerJson: readFileSync(`${dir}/tokenizer.json`, 'utf8'), tokenizerConfig: readFileSync(`${dir}/tokenizer_config.json`, 'utf8'), source: dir });
    const dtype = id.endsWith('q8_0') ? 'Q8_0' : id.endsWith('q4_0') ? 'Q4_0' : 'F16';
    return { id, dtype, config, tokenizer, tokenizerConfig, tensors: await readModelTensors(dir), ids: tok.applyChatTemplate(tinyWorldPrompt()), adapterDir: id.endsWith('reason1k') ? `${dir}/adapters/reason1k` : undefined };
  }
  const m = archModel(id);
  const files = archTokenizerFiles(m);
  const tok = await loadTokenizer({ tokenizerJson: files.tokenizerJsonText, tokenizerConfig: files.tokenizerConfigText, source: m.tokenizerDir });
  return { id, dtype: 'F16', hubId: m.hubId, config: m.config, tokenizer: files.tokenizer, tokenizerConfig: files.tokenizerConfig, tensors: [...archTensors(m)], ids: tok.encodePrompt(ARCH_PROMPT).slice(0, ARCH_POSITIONS) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function llamaCpp(): Promise<any> {
  const pkg = json(`${LLAMA_PKG}/package.json`);
  const mod = await import(pathToFileURL(resolve(`${LLAMA_PKG}/dist/index.js`)).href);
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  return { llama, version: `node-llama-cpp ${pkg.version as string} (llama.cpp ${json(`${LLAMA_PKG}/llama/llama.cpp.info.json`).tag as string}, prebuilt CPU)` };
}

async function make(id: string, ref: { llama: any; version: string }): Promise<LlamaFixture> {
  const t0 = performance.now();
  const t = await target(id);
  if (t.ids.length < 64) throw new Error(`${id}: prompt is ${t.ids.length} tokens, need >= 64`);
  const adapter = t.adapterDir
    ? loadPeftAdapter(parseModelConfig(t.config), readFileSync(`${t.adapterDir}/adapter_config.json`, 'utf8'), new Uint8Array(readFileSync(`${t.adapterDir}/adapter_model.safetensors`)))
    : undefined;
  mkdirSync('build/llama', { recursive: true });
  const path = `build/llama/${id}.gguf`;
  const parts = exportGgufParts({ config: t.config, tokenizer: t.tokenizer, tokenizerConfig: t.tokenizerConfig, name: id }, t.tensors, adapter, { dtype: t.dtype });
  const fh = await open(path, 'w');
  let bytes = 0;
  for (const p of parts) { await fh.write(p); bytes += p.byteLength; }
  await fh.close();

  const model = await ref.llama.loadModel({ modelPath: resolve(path) });
  const context = await model.createContext({ contextSize: Math.max(256, t.ids.length + 16), batchSize: 512, sequences: 1 });
  const seq = context.getSequence();
  const res = await seq.controlledEvaluate(t.ids.map((tok) => [tok, { generateNext: { probabilities: true } }]));
  const top_ids: number[][] = [];
  const top_logprobs: number[][] = [];
  let candidates = Infinity;
  for (let i = 0; i < t.ids.length; i++) {
    const probs = res[i]?.next?.probabilities as Map<number, number> | undefined;
    if (!probs) throw new Error(`${id}: llama.cpp gave no probabilities at position ${i}`);
    candidates = Math.min(candidates, probs.size);
    const top = [...probs.entries()].slice(0, TOP_K);
    top_ids.push(top.map(([k]) => k));
    top_logprobs.push(top.map(([, p]) => Number(Math.log(p).toFixed(6))));
  }
  await context.dispose();
  await model.dispose();
  const vocab = t.config.vocab_size as number;
  if (candidates !== vocab) throw new Error(`${id}: llama.cpp's distribution covers ${candidates} tokens, not the whole vocabulary (${vocab})`);
  return {
    source: `llama.cpp via ${ref.version}: scripts/llama/make-fixtures.ts`,
    model: id,
    ...(t.hubId ? { hub_id: t.hubId } : {}),
    config: t.config,
    ...(t.adapterDir ? { adapter: t.adapterDir } : {}),
    gguf: { dtype: t.dtype, bytes },
    weights_fnv: weightsFnv(t.tensors),
    ids: t.ids,
    vocab_candidates: candidates,
    top_k: TOP_K,
    top_ids,
    top_logprobs,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
}

async function main(): Promise<void> {
  const all = ['tiny-world', 'tiny-world-reason1k', 'tiny-world-q8_0', 'tiny-world-q4_0', ...ARCH_MODELS.map((m) => m.id)];
  const ids = process.argv.slice(2).length ? process.argv.slice(2) : all;
  for (const id of ids) if (!all.includes(id)) throw new Error(`unknown fixture "${id}"; known: ${all.join(', ')}`);
  const ref = await llamaCpp();
  mkdirSync(OUT, { recursive: true });
  for (const id of ids) {
    const f = await make(id, ref);
    writeFileSync(`${OUT}/${id}.json`, JSON.stringify(f) + '\n');
    const top1 = f.top_logprobs.map((r) => r[0]);
    const margin = Math.min(...f.top_logprobs.map((r) => r[0] - r[1]));
    process.stderr.write(`${id}: ${f.ids.length} positions, GGUF ${(f.gguf.bytes / 2 ** 20).toFixed(1)} MiB, mean top-1 log-prob ${(top1.reduce((a, b) => a + b, 0) / top1.length).toFixed(3)}, smallest top-1 margin ${margin.toFixed(4)} nats, ${f.seconds} s -> ${OUT}/${id}.json\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => { process.stderr.write(`make:llama-fixtures: ${e.stack ?? e.message}\n`); process.exit(1); });
}
