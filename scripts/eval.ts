// Evaluation from the command line with the app's own runner and engine (Node, WebGPU via npm `webgpu`):
//   npm run eval -- --model DIR [--adapter DIR] --bench NAME|FILE.jsonl --n N --seed S [--budget T]
//                   [--wait N] [--samples K] [--temperature X] [--max-tokens M] [--thinking on|off] --out FILE.jsonl
// --wait N: s1's budget forcing by count: the end of thinking is suppressed N times, "Wait" appended
// each time (0 = off); with --budget T as well, T caps the thinking.
// --thinking on|off: the chat template's enable_thinking (Qwen3, SmolLM3); absent = the template's
// default; refused for a model whose template has no such switch.
// NAME: tiny-world, math500, aime24, aime25, amc23, gsm8k_test. Prints "accuracy: X%  95% CI [lo%, hi%]" as
// `npm run grade` does, then accuracy by level and by subject (domain); writes one JSON line per
// item (prediction, verdict, reason, samples) to --out.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPeftAdapter } from '../src/engine/adapter/lora.ts';
import { forcedWaits } from '../src/guide/interventions/budget.ts';
import { accuracyLine, evaluateNode, loadBench } from './lib/node-eval.ts';
import { loadNodeModel } from './lib/node-model.ts';

const USAGE = 'usage: npm run eval -- --model DIR [--adapter DIR] --bench NAME|FILE.jsonl --n N --seed S [--budget T] [--wait N] [--samples K] [--temperature X] [--max-tokens M] [--thinking on|off] --out FILE.jsonl';
function fail(msg: string): never { console.error(`eval: ${msg}\n${USAGE}`); process.exit(2); }

const argv = process.argv.slice(2);
const args: Record<string, string> = {};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith('--')) fail(`unexpected argument "${a}"`);
  if (i + 1 >= argv.length) fail(`${a} needs a value`);
  args[a.slice(2)] = argv[++i];
}
const known = ['model', 'adapter', 'bench', 'n', 'seed', 'budget', 'wait', 'samples', 'temperature', 'max-tokens', 'thinking', 'out'];
for (const k of Object.keys(args)) if (!known.includes(k)) fail(`unknown option --${k}`);
for (const k of ['model', 'bench', 'out']) if (!args[k]) fail(`--${k} is required`);
const num = (k: string, d?: number): number | undefined => {
  if (args[k] === undefined) return d;
  const v = Number(args[k]);
  if (!Number.isFinite(v) || v < 0) fail(`--${k} must be a non-negative number, got "${args[k]}"`);
  return v;
};

if (args.thinking !== undefined && args.thinking !== 'on' && args.thinking !== 'off') fail(`--thinking must be on or off, got "${args.thinking}"`);
const thinking = args.thinking === undefined ? undefined : args.thinking === 'on';
const waits = num('wait', 0)!;
if (!Number.isInteger(waits)) fail(`--wait must be a whole number of Waits, got "${args.wait}"`);
const bench = (() => { try { return loadBench(args.bench); } catch (e) { fail((e as Error).message); } })();
for (const b of bench.bad) console.error(b.error);
const m = await loadNodeModel(args.model, { contextLength: 512 });
if (thinking !== undefined && !m.tokenizer.thinking?.switchable) fail(`--thinking: the chat template of ${m.label} has no enable_thinking switch`);
let adapter = null;
if (args.adapter) {
  const cfg = readFileSync(join(args.adapter, 'adapter_config.json'), 'utf8');
  const st = new Uint8Array(readFileSync(join(args.adapter, 'adapter_model.safetensors')));
  adapter = { adapter: loadPeftAdapter(m.decoder.config, cfg, st), name: args.adapter };
}
const n = num('n');
let last = 0;
const res = await evaluateNode(m, bench, {
  n: n || undefined, seed: num('seed', 0)!, budget: num('budget') ?? null,
  interventions: waits > 0 ? { budget: forcedWaits(waits, { maxThinking: num('budget') ?? 0 }) } : null, samples: num('samples', 1), temperature: num('temperature'), maxTokens: num('max-tokens'), adapter,
  ...(thinking === undefined ? {} : { thinking }),
  onItem: (done, total) => { if (done - last >= 50 || done === total) { last = done; process.stderr.write(`  ${done}/${total}\n`); } },
});
writeFileSync(args.out, res.items.map((it) => JSON.stringify(it)).join('\n') + (res.items.length ? '\n' : ''));
const s = res.run.summary!;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(`${bench.id}: ${s.done} items, ${m.label}${adapter ? ` + adapter ${args.adapter}` : ''}, ${(res.ms / 1000).toFixed(1)} s`);
console.log(accuracyLine(res.run));
if (s.score.k > 1) console.log(`maj@${s.score.k}: ${pct(s.score.majK)}  95% CI [${pct(s.score.majInterval.low)}, ${pct(s.score.majInterval.high)}]`);
for (const [name, rows] of [['level', s.byLevel], ['subject', s.bySubject]] as const) {
  if (rows.length) console.log(`by ${name}: ${rows.map((r) => `${r.key} ${pct(r.score.pass1)} (n=${r.score.n})`).join(', ')}`);
}
console.log(`verdicts written to ${args.out}`);
m.dispose();
process.exit(0);
