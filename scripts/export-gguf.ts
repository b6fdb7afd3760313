// Export a model folder, optionally merged with a PEFT LoRA adapter, as one GGUF file that llama.cpp,
// Ollama and LM Studio load:
//   npm run export:gguf -- --model DIR [--adapter DIR] --out FILE.gguf [--dtype f16|f32|q8_0|q4_0]
// DIR holds config.json, tokenizer.json, tokenizer_config.json and model.safetensors (or shards with
// model.safetensors.index.json); the adapter folder holds adapter_config.json and
// adapter_model.safetensors. Weights are the engine's f16 (bf16 and f32 checkpoints are rounded).
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { loadPeftAdapter } from '../src/engine/adapter/lora.ts';
import { parseModelConfig } from '../src/engine/model/config.ts';
import { exportGgufParts } from '../src/engine/adapter/gguf-export.ts';
import { parseShardIndex, readSafetensors, readShardedSafetensors, type ByteSource } from '../src/engine/model/safetensors.ts';
import type { HostTensor } from '../src/engine/model/types.ts';

const USAGE = 'usage: npm run export:gguf -- --model DIR [--adapter DIR] --out FILE.gguf [--dtype f16|f32|q8_0|q4_0]';

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"\n${USAGE}`);
    if (i + 1 >= argv.length) throw new Error(`${a} needs a value\n${USAGE}`);
    out[a.slice(2)] = argv[++i];
  }
  for (const k of Object.keys(out)) if (!['model', 'adapter', 'out', 'dtype'].includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
  return out;
}

const stream = (path: string): ByteSource => Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 22 })) as unknown as ReadableStream<Uint8Array>;

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: is not valid JSON (${(e as Error).message})`);
  }
}

export async function readModelTensors(dir: string): Promise<HostTensor[]> {
  const out: HostTensor[] = [];
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) {
    for await (const t of readSafetensors(stream(single), { fileName: single })) out.push(t);
  } else if (existsSync(index)) {
    const idx = parseShardIndex(readFileSync(index, 'utf8'), index);
    for await (const t of readShardedSafetensors(idx, async (f) => ({ stream: stream(join(dir, f)) }))) out.push(t);
  } else {
    throw new Error(`${dir}: has neither model.safetensors nor model.safetensors.index.json`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.model || !args.out) throw new Error(USAGE);
  const dtype = (args.dtype ?? 'f16').toUpperCase();
  if (dtype !== 'F16' && dtype !== 'F32' && dtype !== 'Q8_0' && dtype !== 'Q4_0') throw new Error(`--dtype must be f16, f32, q8_0 or q4_0, got "${args.dtype}"`);
  const t0 = performance.now();
  const configPath = join(args.model, 'config.json');
  const config = readJson(configPath);
  const parsed = parseModelConfig(config, configPath);
  const tokenizer = readJson(join(args.model, 'tokenizer.json'));
  const tcPath = join(args.model, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(tcPath) ? readJson(tcPath) : undefined;
  const tensors = await readModelTensors(args.model);
  let adapter;
  if (args.adapter) {
    const cfg = join(args.adapter, 'adapter_config.json');
    const weights = join(args.adapter, 'adapter_model.safetensors');
    if (!existsSync(cfg)) throw new Error(`${cfg}: no such file`);
    if (!existsSync(weights)) throw new Error(`${weights}: no such file`);
    adapter = loadPeftAdapter(parsed, readFileSync(cfg, 'utf8'), new Uint8Array(readFileSync(weights)), { config: cfg, weights });
  }
  const name = (config._name_or_path as string | undefined) ?? args.model.replace(/\/+$/, '').split('/').pop() ?? 'model';
  const parts = exportGgufParts({ config, tokenizer, tokenizerConfig, name }, tensors, adapter, { dtype });
  const fh = await open(args.out, 'w');
  let bytes = 0;
  try {
    for (const p of parts) { await fh.write(p); bytes += p.byteLength; }
  } finally {
    await fh.close();
  }
  process.stderr.write(`wrote ${args.out}: ${(bytes / 2 ** 20).toFixed(1)} MiB, ${tensors.length} tensors (${dtype})${adapter ? `, merged with ${adapter.modules.length} adapter modules from ${args.adapter}` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => { process.stderr.write(`export:gguf: ${e.message}\n`); process.exit(1); });
}
