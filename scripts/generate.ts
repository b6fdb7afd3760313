// The engine from the command line (Node, WebGPU through npm `webgpu`):
//   npm run generate -- --model DIR_OR_ID --prompt TEXT [--chat] [--max-tokens N] [--temperature T]
//                       [--top-p P] [--top-k K] [--seed S] [--context N] [--jsonl]
// Streams the text to stdout; --jsonl prints one JSON object per token instead (id, text, logprob,
// entropy, top-k alternatives), then a summary line. DIR_OR_ID: a folder with config.json,
// tokenizer files and safetensors, or a Hugging Face hub id (needs network).
import { nodeGpuContext } from '../src/engine/device/node-gpu.ts';
import { measureMatmulVariants } from '../src/engine/device/kernel-choice.ts';
import { generate } from '../src/engine/generation/generate.ts';
import { createDecoder } from '../src/engine/model/decoder.ts';
import { nodeAccess } from '../src/engine/model/node-source.ts';
import { openModel } from '../src/engine/model/sources.ts';
import { loadTokenizer } from '../src/engine/tokenizer/hf-tokenizer.ts';

function parseArgs(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const key = a.slice(2);
    if (['jsonl', 'chat', 'no-eos'].includes(key)) out[key] = true;
    else { if (i + 1 >= argv.length) throw new Error(`--${key} needs a value`); out[key] = argv[++i]; }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const num = (k: string, d: number) => { const v = args[k]; if (v === undefined) return d; const n = Number(v); if (!Number.isFinite(n)) throw new Error(`--${k} must be a number, got "${v}"`); return n; };
  const model = args.model;
  const prompt = args.prompt;
  if (typeof model !== 'string' || typeof prompt !== 'string') {
    throw new Error('usage: npm run generate -- --model DIR_OR_ID --prompt TEXT [--chat] [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S] [--jsonl]');
  }
  const jsonl = Boolean(args.jsonl);
  const log = (s: string) => process.stderr.write(s + '\n');
  const ctx = await nodeGpuContext();
  const access = await nodeAccess(model);
  const opened = await openModel(access, { contextLength: num('context', 2048), limits: ctx.report.limits as never });
  const tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig, source: access.label, extraEosIds: opened.eosTokenIds });
  const { best } = await measureMatmulVariants(ctx, 32, 128, 128);
  const t0 = performance.now();
  const decoder = await createDecoder(ctx, opened.config, opened.tensors(), undefined, { matmul: best });
  log(`loaded ${access.label}: ${opened.config.hfArchitecture}, ${(decoder.params / 1e6).toFixed(2)}M params, ${(decoder.weightBytes / 2 ** 20).toFixed(1)} MiB weights in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${ctx.report.description || ctx.report.vendor} (matmul: ${best})`);
  const res = await generate(
    { tokenizer, newSession: (n) => decoder.newSession(n), maxContext: opened.contextLength, eosTokenIds: opened.eosTokenIds },
    {
      ...(args.chat ? { messages: [{ role: 'user' as const, content: prompt }] } : { prompt }),
      maxTokens: num('max-tokens', 64), temperature: num('temperature', 0), topP: num('top-p', 1), topK: num('top-k', 5), seed: num('seed', 0),
      stopAtEos: !args['no-eos'],
    },
    (t) => {
      if (jsonl) {
        process.stdout.write(JSON.stringify({
          id: t.id, text: t.text, logprob: +t.logprob.toFixed(5), entropy: +t.entropy.toFixed(5),
          top: t.alternatives.map((a, i) => ({ id: a.id, text: t.alternativeTexts?.[i], logprob: +a.logprob.toFixed(5) })),
        }) + '\n');
      } else process.stdout.write(t.text);
    },
  );
  if (!jsonl) process.stdout.write('\n');
  const summary = { stopReason: res.stopReason, promptTokens: res.promptTokens, generated: res.tokens.length, prefillTokensPerSecond: +res.prefillTokensPerSecond.toFixed(1), tokensPerSecond: +res.tokensPerSecond.toFixed(2), gpuBytes: decoder.gpuBytes };
  if (jsonl) process.stdout.write(JSON.stringify({ summary }) + '\n');
  else log(JSON.stringify(summary));
  decoder.dispose();
  ctx.device.destroy();
}

main().then(() => process.exit(0), (e) => { console.error(`generate: ${(e as Error).message}`); process.exit(1); });
