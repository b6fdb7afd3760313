// The engine from the command line (Node, WebGPU through npm `webgpu`):
//   npm run generate -- --model DIR_OR_ID --prompt TEXT [--chat] [--max-tokens N] [--temperature T]
//                       [--top-p P] [--top-k K] [--seed S] [--context N] [--jsonl]
// Streams the text to stdout; --jsonl prints one JSON object per token instead (id, text, logprob,
// entropy, top-k alternatives), then a summary line. DIR_OR_ID: a folder with config.json,
// tokenizer files and safetensors, or a Hugging Face hub id (needs network).
import { generate } from '../src/engine/generation/generate.ts';
import { loadNodeModel } from './lib/node-model.ts';

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
  const t0 = performance.now();
  const m = await loadNodeModel(model, { contextLength: num('context', 2048) });
  const { decoder, tokenizer, ctx } = m;
  log(`loaded ${m.label}: ${decoder.config.hfArchitecture}, ${(decoder.params / 1e6).toFixed(2)}M params, ${(decoder.weightBytes / 2 ** 20).toFixed(1)} MiB weights in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${ctx.report.description || ctx.report.vendor} (matmul: ${m.matmul})`);
  const res = await generate(
    { tokenizer, newSession: (n) => decoder.newSession(n), maxContext: m.contextLength, eosTokenIds: m.eosTokenIds },
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
  m.dispose();
}

main().then(() => process.exit(0), (e) => { console.error(`generate: ${(e as Error).message}`); process.exit(1); });
