// Quality cost of a quantized frozen base (issue 23), on the tiny-world student: perplexity over
// held-out teacher traces and accuracy on held-out world problems with the base in f16, Q8_0 and Q4_0
// (quantized at load, sources.ts), with and without the committed Reason1K adapter; then the same short
// training by the shared recipe (src/world/recipe.ts via scripts/lib/world-train.ts) over an f16 base and
// over a Q4_0 base (QLoRA), each adapter scored on its own base. Effect sizes printed, never asserted.
//   npm run quality:qlora [-- --test 200] [--steps 40] [--select 400] [--pool 2000] [--traces 200]
// Perplexity: exp(mean cross-entropy over the reply tokens) of --traces traces of a pool drawn with its
// own seed (no problem shared with the training pool or the test set), through the training pass
// (the adapter applied unmerged over the quantized base, as in training). Accuracy: greedy, the
// evaluation runner (npm run eval's), the adapter merged into the base: over Q8_0 / Q4_0 the merge
// quantizes W + ΔW again (adapter/merge.ts), so those rows carry that rounding too.
import { readFileSync } from 'node:fs';
import { createLoraAdapter, loadPeftAdapter, type LoraAdapter } from '../src/engine/adapter/lora.ts';
import { LoraTrainPass } from '../src/engine/adapter/train-pass.ts';
import type { TrainSequence } from '../src/engine/adapter/train-loop.ts';
import { nodeGpuContext } from '../src/engine/device/node-gpu.ts';
import type { WeightPrecision } from '../src/engine/model/memory-quant.ts';
import type { ExampleTokenizer } from '../src/distill/examples.ts';
import { gradeAnswer } from '../src/grading/equivalence.ts';
import { mulberry32 } from '../src/lib/rng.ts';
import { EvalIndex } from '../src/selection/eval-index.ts';
import { DEFAULT_SELECTION, runSelection } from '../src/selection/select.ts';
import { worldPool } from '../src/world/pool.ts';
import { WORLD_RECIPE } from '../src/world/recipe.ts';
import { worldTestSet } from '../src/world/split.ts';
import { evaluateNode, loadBench } from './lib/node-eval.ts';
import { type NodeModel, loadNodeModel } from './lib/node-model.ts';
import { trainOnTraces, worldSequences } from './lib/world-train.ts';

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => { const i = argv.indexOf(`--${k}`); return i >= 0 && argv[i + 1] ? argv[i + 1] : d; };
const MODEL = 'models/tiny-world';
const TEST_N = Number(opt('test', '200'));
const STEPS = Number(opt('steps', String(WORLD_RECIPE.steps)));
const POOL_N = Number(opt('pool', '2000'));
const SELECT_N = Number(opt('select', '400'));
const TRACES_N = Number(opt('traces', '200'));
const SEED = 1;
const HELD_SEED = 9173; // the perplexity traces' pool: a seed no other split uses
const log = (s: string) => process.stderr.write(`[qlora-quality] ${s}\n`);
const PRECISIONS: WeightPrecision[] = ['f16', 'q8_0', 'q4_0'];

const ctx = await nodeGpuContext();
const models = new Map<WeightPrecision, NodeModel>();
for (const p of PRECISIONS) models.set(p, await loadNodeModel(MODEL, { contextLength: 512, ctx, precision: p }));
const f16 = models.get('f16')!;
const tok = f16.tokenizer as unknown as ExampleTokenizer;
const config = f16.decoder.config;
const bench = loadBench('tiny-world');
const committed = loadPeftAdapter(config, readFileSync(`${MODEL}/adapters/reason1k/adapter_config.json`, 'utf8'), new Uint8Array(readFileSync(`${MODEL}/adapters/reason1k/adapter_model.safetensors`)));

// training pool and its Reason1K selection (the recipe's teacher), decontaminated against the test set
const test = worldTestSet();
const evalIndex = new EvalIndex(test.map((p) => ({ set: 'tiny_world', key: p.id, problem: p.problem })), DEFAULT_SELECTION.decontamN);
const pool = worldPool({ n: POOL_N, seed: SEED, style: WORLD_RECIPE.teacher });
const sel = await runSelection({ traces: pool.traces, config: { ...DEFAULT_SELECTION, targetN: SELECT_N }, seed: SEED, evalIndex, equivalent: async (a, b) => (await gradeAnswer(a, b)).correct });
const byId = new Map(pool.traces.map((t) => [t.id, t]));
const trainTraces = sel.ids.map((id) => byId.get(id)!);
// held-out traces: another seed, none of whose problems is in the training pool or the test set
const seen = new Set([...pool.traces.map((t) => t.problem), ...test.map((p) => p.problem)]);
const held = worldPool({ n: TRACES_N * 2, seed: HELD_SEED, style: WORLD_RECIPE.teacher }).traces.filter((t) => !seen.has(t.problem)).slice(0, TRACES_N);
const heldSeqs: TrainSequence[] = worldSequences(tok, held, { strategy: 1, tactics: 1, answer: 1 });
log(`${f16.label}: ${f16.decoder.params} params; train ${trainTraces.length} Reason1K traces of a ${POOL_N} pool, ${STEPS} steps; perplexity over ${heldSeqs.length} held-out traces; accuracy on ${TEST_N} held-out problems`);

/** exp(Σ w·CE / Σ w) over the held-out sequences, through the training pass (adapter unmerged; none: B = 0). */
async function perplexity(m: NodeModel, adapter: LoraAdapter | null): Promise<number> {
  const a = adapter ?? createLoraAdapter(config, { r: 1, alpha: 1, targetModules: ['q_proj'] }, mulberry32(1)); // B = 0: the base
  const T = Math.max(...heldSeqs.map((s) => s.ids.length));
  const pass = new LoraTrainPass(m.ctx, m.decoder, a, T);
  let loss = 0; let w = 0;
  try {
    for (const s of heldSeqs) {
      const r = await pass.forwardLoss({ ids: [...s.ids], targets: [...s.targets], weights: [...s.weights] });
      loss += r.loss;
      w += s.weights.reduce((x, y, i) => x + (s.targets[i] >= 0 ? y : 0), 0);
    }
  } finally { pass.dispose(); }
  return Math.exp(loss / w);
}

async function accuracy(m: NodeModel, adapter: LoraAdapter | null, name: string): Promise<{ acc: number; lo: number; hi: number; n: number }> {
  const r = await evaluateNode(m, bench, { n: TEST_N, seed: SEED, adapter: adapter ? { adapter, name } : null });
  const s = r.run.summary!.score;
  return { acc: s.pass1, lo: s.pass1Interval.low, hi: s.pass1Interval.high, n: r.items.length };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const rows: string[] = [];
const base: Record<string, { ppl: number; acc: number }> = {};
async function row(p: WeightPrecision, adapter: LoraAdapter | null, name: string, ref?: string): Promise<void> {
  const m = models.get(p)!;
  const t0 = performance.now();
  const ppl = await perplexity(m, adapter);
  const a = await accuracy(m, adapter, name);
  const key = `${name}@${p}`;
  base[key] = { ppl, acc: a.acc };
  const vs = ref && base[ref] ? `  (vs ${ref}: perplexity x${(ppl / base[ref].ppl).toFixed(4)}, accuracy ${((a.acc - base[ref].acc) * 100 >= 0 ? '+' : '')}${((a.acc - base[ref].acc) * 100).toFixed(1)} points)` : '';
  const line = `${`${name}, ${p} base`.padEnd(34)} perplexity ${ppl.toFixed(4)}  accuracy ${pct(a.acc)} [${pct(a.lo)}, ${pct(a.hi)}] of ${a.n}${vs}`;
  rows.push(line);
  log(`${line}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

for (const p of PRECISIONS) await row(p, null, 'student', p === 'f16' ? undefined : 'student@f16');
for (const p of PRECISIONS) await row(p, committed, 'committed reason1k', p === 'f16' ? undefined : 'committed reason1k@f16');
const trained = new Map<WeightPrecision, LoraAdapter>();
for (const p of ['f16', 'q4_0'] as const) {
  const t0 = performance.now();
  const { adapter, info } = await trainOnTraces(models.get(p)!, trainTraces, { seed: SEED, steps: STEPS });
  trained.set(p, adapter);
  log(`trained over ${p}: ${info.report}, ${info.modules} modules, loss ${info.lossFirst.toFixed(3)} -> ${info.lossLast.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  rows.push(`trained over ${p}: ${info.report}; loss ${info.lossFirst.toFixed(3)} -> ${info.lossLast.toFixed(3)} (mean of the last 10 steps)`);
}
await row('f16', trained.get('f16')!, 'adapter trained over f16');
await row('q4_0', trained.get('q4_0')!, 'adapter trained over q4_0', 'adapter trained over f16@f16');
await row('f16', trained.get('q4_0')!, 'adapter trained over q4_0', 'adapter trained over f16@f16');
for (const m of models.values()) m.decoder.dispose();
ctx.device.destroy();
console.log(`qlora quality, tiny-world student (${config.hiddenSize} hidden, ${config.numLayers} layers), ${TEST_N} held-out problems, ${heldSeqs.length} held-out traces:`);
for (const r of rows) console.log(`  ${r}`);
