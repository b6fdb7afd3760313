// The tiny world's measured effect (issue: "The tiny reasoning world"): trains adapters on the
// bundled student with the project's own engine (WebGPU in Node) and evaluates each row on the
// held-out test set (greedy, 95% Wilson intervals, by domain and level).
//
//   npm run experiment:tiny [-- --quick] [--test N] [--steps S] [--out FILE.json] [--rows a,b,...]
//
// --quick (the test suite's mode): a small pool, 40 test problems, a few steps: checks every row
// is produced, never the size of an effect. Without it: 20,000-problem pool, the Reason1K
// selection (N = 1,000), 1,000 test problems. Writes the table as JSON (default
// models/tiny-world/experiment.json) and the main row's adapter as PEFT files in
// models/tiny-world/adapters/reason1k/.
import { WORLD_RECIPE } from '../src/world/recipe.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trace } from '../src/domain/trace.ts';
import type { EvalItemRecord } from '../src/domain/eval.ts';
import { exportPeftAdapter, type LoraAdapter } from '../src/engine/adapter/lora.ts';
import type { LossWeights } from '../src/distill/settings.ts';
import { type WorldTrainInfo, trainOnTraces, worldSequences } from './lib/world-train.ts';
import { mulberry32 } from '../src/lib/rng.ts';
import { gradeAnswer } from '../src/grading/equivalence.ts';
import type { Interventions } from '../src/domain/guide.ts';
import { DEFAULT_SELECTION, runSelection } from '../src/selection/select.ts';
import { EvalIndex } from '../src/selection/eval-index.ts';
import { worldPool } from '../src/world/pool.ts';
import { worldTestSet } from '../src/world/split.ts';
import type { FlawKind } from '../src/world/teacher.ts';
import { accuracyLine, evaluateNode, loadBench } from './lib/node-eval.ts';
import type { ExampleTokenizer } from '../src/distill/examples.ts';
import { selectSubset } from '../src/eval/benchmarks.ts';
import { loadNodeModel } from './lib/node-model.ts';

const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(`--${k}`);
const opt = (k: string, d: string) => { const i = argv.indexOf(`--${k}`); return i >= 0 && argv[i + 1] ? argv[i + 1] : d; };
const quick = flag('quick');
const MODEL = opt('model', 'models/tiny-world');
const TEST_N = Number(opt('test', quick ? '12' : '1000'));
const POOL_N = Number(opt('pool', quick ? '400' : '20000'));
const SELECT_N = Number(opt('select', quick ? '48' : '1000'));
const STEPS = Number(opt('steps', quick ? '6' : String(WORLD_RECIPE.steps)));
const OUT = opt('out', quick ? 'build/tiny-world/experiment-quick.json' : 'models/tiny-world/experiment.json');
const SEED = Number(opt('seed', '1'));
const ONLY = opt('rows', '').split(',').filter(Boolean);
const log = (s: string) => process.stderr.write(`[experiment] ${s}\n`);

const t00 = performance.now();
const m = await loadNodeModel(MODEL, { contextLength: 512 });
const baseParams = m.decoder.params;
const bench = loadBench('tiny-world');
log(`${m.label}: ${baseParams} params; test ${TEST_N} of ${bench.items.length}; pool ${POOL_N}; select ${SELECT_N}; ${STEPS} steps per adapter${quick ? ' (quick)' : ''}`);

// ---- the pool, the selection and the ablation sets
const pool = worldPool({ n: POOL_N, seed: SEED });
const test = worldTestSet();
const evalIndex = new EvalIndex(test.map((p) => ({ set: 'tiny_world', key: p.id, problem: p.problem })), DEFAULT_SELECTION.decontamN);
const sel = await runSelection({
  traces: pool.traces, config: { ...DEFAULT_SELECTION, targetN: SELECT_N }, seed: SEED, evalIndex,
  equivalent: async (a, b) => (await gradeAnswer(a, b)).correct,
});
const byId = new Map(pool.traces.map((t) => [t.id, t]));
const passedGate = pool.traces.filter((t) => { const d = sel.decisions[t.id]; return d.kept || d.reason === 'not-sampled'; });
const shuffled = <T>(xs: readonly T[], seed: number): T[] => { const r = mulberry32(seed); const a = [...xs]; for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; };
const sets: Record<string, Trace[]> = {
  reason1k: sel.ids.map((id) => byId.get(id)!),
  random1k: shuffled(passedGate, SEED + 11).slice(0, SELECT_N),
  'random1k-flawed': shuffled(pool.traces, SEED + 12).slice(0, SELECT_N),
};
const flawCount = (ts: readonly Trace[]) => { const c: Partial<Record<FlawKind, number>> = {}; let n = 0; for (const t of ts) { const f = pool.flaws.get(t.id); if (f) { c[f] = (c[f] ?? 0) + 1; n++; } } return { n, kinds: c }; };
log(`pool ${pool.traces.length} traces (${pool.flaws.size} flawed, ${pool.decontaminated} problems removed by decontamination); selection kept ${sel.counts.kept}, dropped ${JSON.stringify(sel.counts.dropped)}`);
// what each set holds by level and domain (a selection that leans to hard problems shows here)
const mix = (ts: readonly Trace[], key: (t: Trace) => string) => { const c: Record<string, number> = {}; for (const t of ts) c[key(t)] = (c[key(t)] ?? 0) + 1; return Object.fromEntries(Object.entries(c).sort()); };
const setMix = Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, { flawed: flawCount(v), byLevel: mix(v, (t) => `L${t.level ?? '?'}`), byDomain: mix(v, (t) => t.domain) }]));
for (const [k, v] of Object.entries(setMix)) log(`  ${k}: ${sets[k].length} traces, ${v.flawed.n} flawed ${JSON.stringify(v.flawed.kinds)}; levels ${JSON.stringify(v.byLevel)}; domains ${JSON.stringify(v.byDomain)}`);

const HIER: LossWeights = { ...WORLD_RECIPE.loss };

// --dump-sft FILE: the training sequences of each set (as the engine's loop gets them) and the test
// prompts, for the PyTorch reference of this experiment (scripts/world/finetune_check.py); then exit.
const DUMP = opt('dump-sft', '');
if (DUMP) {
  const tok = m.tokenizer as unknown as ExampleTokenizer;
  const seqsOf = (ts: readonly Trace[]) => worldSequences(tok, ts, HIER).map((q) => ({ ids: Array.from(q.ids), targets: Array.from(q.targets), weights: Array.from(q.weights, (w) => +w.toFixed(6)) }));
  const items = selectSubset(bench.items, { kind: 'random', n: TEST_N, seed: SEED });
  const testItems = items.map((it) => ({ key: it.key, prompt: tok.applyChatTemplate([{ role: 'user', content: it.problem }]), answer: it.answer, subject: it.subject, level: it.level }));
  writeFileSync(DUMP, JSON.stringify({ sets: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, seqsOf(v)])), test: testItems }) + '\n');
  log(`wrote ${DUMP}`);
  m.dispose();
  process.exit(0);
}

// ---- adapters: the sparse placement (src/engine/adapter/placement.ts) solves per-module ranks within a budget
const MAIN_BUDGET = Number(opt('budget', String(WORLD_RECIPE.budget)));
interface Row { name: string; note: string; train?: WorldTrainInfo & { flawed: number }; eval: { accuracy: number; low: number; high: number; n: number; correct: number; verdicts: string; majK?: number; byDomain: Record<string, number>; byLevel: Record<string, number>; seconds: number; meanTokens: number }; line: string }
const rows: Row[] = [];
const adapters = new Map<string, LoraAdapter>();

const BATCH = Number(opt('batch', quick ? '4' : String(WORLD_RECIPE.batchSize)));
const LR = Number(opt('lr', String(WORLD_RECIPE.lr)));
async function train(name: string, traces: Trace[], budget: number, loss: LossWeights, mode: 'importance' | 'uniform' = 'importance'): Promise<{ adapter: LoraAdapter; info: Row['train'] } | null> {
  let last = 0;
  try {
    const { adapter, info } = await trainOnTraces(m, traces, {
      budget, mode, loss, steps: STEPS, batchSize: BATCH, lr: LR, seed: SEED,
      onPlaced: (rep, sec) => log(`  ${name} placement (${mode}): ${rep} in ${sec.toFixed(0)} s`),
      onStep: (step, steps, l, tps) => { if (step - last >= 20 || step === steps) { last = step; log(`  ${name} step ${step}/${steps} loss ${l.toFixed(3)} (${tps.toFixed(0)} tok/s)`); } },
    });
    log(`${name}: ${info.report}, ${info.modules} modules, ${info.seconds.toFixed(0)} s`);
    return { adapter, info: { ...info, flawed: flawCount(traces).n } };
  } catch (e) {
    if (/too small/i.test((e as Error).message)) { log(`${name}: ${(e as Error).message}`); return null; }
    throw e;
  }
}

/** Each evaluated item's verdict in item order, '1' correct / '0' wrong (the majority's when k > 1). */
const verdicts = (items: readonly EvalItemRecord[], k: boolean) => [...items].sort((a, b) => a.index - b.index).map((i) => ((k ? i.majority.correct : i.correct) ? '1' : '0')).join('');

async function evaluate(name: string, note: string, adapter: LoraAdapter | null, o: { interventions?: Interventions; samples?: number } = {}, trainInfo?: Row['train']): Promise<void> {
  const t0 = performance.now();
  const res = await evaluateNode(m, bench, { n: TEST_N, seed: SEED, adapter: adapter ? { adapter, name } : null, interventions: o.interventions ?? null, samples: o.samples ?? 1, maxTokens: 160 });
  const s = res.run.summary!;
  const pick = (xs: { key: string; score: { pass1: number; majK: number } }[]) => Object.fromEntries(xs.map((x) => [x.key, (o.samples ?? 1) > 1 ? x.score.majK : x.score.pass1]));
  const k = (o.samples ?? 1) > 1;
  const acc = k ? s.score.majK : s.score.pass1; const ci = k ? s.score.majInterval : s.score.pass1Interval;
  const row: Row = { name, note, ...(trainInfo ? { train: trainInfo } : {}), eval: { accuracy: acc, low: ci.low, high: ci.high, n: s.done, correct: Math.round(acc * s.done), verdicts: verdicts(res.items, k), ...(k ? { majK: s.score.majK } : {}), byDomain: pick(s.bySubject), byLevel: pick(s.byLevel), seconds: (performance.now() - t0) / 1000, meanTokens: s.score.meanTokens }, line: accuracyLine(res.run) };
  rows.push(row);
  log(`${name}: ${(acc * 100).toFixed(1)}% [${(ci.low * 100).toFixed(1)}, ${(ci.high * 100).toFixed(1)}] in ${row.eval.seconds.toFixed(0)} s`);
  writeFileSync(OUT, JSON.stringify(result(), null, 2) + '\n');
}

/** The main row's adapter as PEFT files (committed under models/tiny-world/adapters/reason1k/ by a full run). */
function writeAdapter(a: LoraAdapter): void {
  const { adapterConfig, safetensors } = exportPeftAdapter(a);
  const dir = quick ? 'build/tiny-world/adapters/reason1k' : join(MODEL, 'adapters/reason1k');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), adapterConfig);
  writeFileSync(join(dir, 'adapter_model.safetensors'), safetensors);
  log(`wrote ${dir}`);
}
const want = (name: string) => ONLY.length === 0 || ONLY.includes(name);
function result() {
  return { command: `npm run experiment:tiny -- ${argv.join(' ')}`.trim(), model: MODEL, baseParams, testN: TEST_N, poolN: POOL_N, selectN: SELECT_N, steps: STEPS, seed: SEED, mainBudget: MAIN_BUDGET, selection: sel.counts, sets: setMix, minutes: (performance.now() - t00) / 60000, rows };
}
mkdirSync(join(OUT, '..'), { recursive: true });

if (want('base')) await evaluate('base', 'the pretrained student, greedy', null);
if (want('base+budget')) await evaluate('base + budget forcing', 'min 24 thinking tokens ("Wait"), max 120', null, { interventions: { budget: { minThinking: 24, maxThinking: 120, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 16 } } });
for (const set of ['reason1k', 'random1k', 'random1k-flawed'] as const) {
  if (!want(set)) continue;
  const t = await train(set, sets[set], MAIN_BUDGET, HIER);
  if (!t) continue;
  adapters.set(set, t.adapter);
  if (set === 'reason1k') writeAdapter(t.adapter);
  await evaluate(`adapter on ${set}`, `${set} traces, hierarchical loss, ${(MAIN_BUDGET * 100).toFixed(0)}% budget`, t.adapter, {}, t.info);
}
if (want('plain')) {
  const t = await train('reason1k-plain', sets.reason1k, MAIN_BUDGET, { ...HIER, mode: 'plain' });
  if (t) await evaluate('adapter on reason1k, plain CE', 'mean cross-entropy over every reply token (no per-segment weights)', t.adapter, {}, t.info);
}
const main = adapters.get('reason1k');
if (main) {
  if (want('budget')) await evaluate('reason1k + budget forcing', 'min 24 thinking tokens ("Wait"), max 120', main, { interventions: { budget: { minThinking: 24, maxThinking: 120, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 16 } } });
  if (want('sc')) await evaluate('reason1k + self-consistency (maj@5)', '5 samples at T 0.7, grader-equivalence vote', main, { samples: 5 });
  if (want('verify')) await evaluate('reason1k + step verification', 'confidence < 0.6: resample the step (up to 2)', main, { interventions: { verify: { threshold: 0.6, action: 'resample', maxResamples: 2, checkPhrase: '', maxStepTokens: 40 } } });
}
if (want('uniform')) {
  const t = await train('reason1k-uniform', sets.reason1k, MAIN_BUDGET, HIER, 'uniform');
  if (t) await evaluate('adapter on reason1k, uniform placement', `same ${(MAIN_BUDGET * 100).toFixed(0)}% budget spread evenly (the ablation of importance placement)`, t.adapter, {}, t.info);
}
const na = (name: string, note: string): Row => ({ name, note, eval: { accuracy: NaN, low: NaN, high: NaN, n: 0, correct: 0, verdicts: '', byDomain: {}, byLevel: {}, seconds: 0, meanTokens: 0 }, line: 'n/a' });
if (want('curve')) {
  for (const b of quick ? [0.003, 0.03] : [0.001, 0.003, 0.01, 0.03]) {
    const t = await train(`budget-${b}`, sets.reason1k, b, HIER);
    if (t) await evaluate(`reason1k at ${(b * 100).toFixed(1)}% budget`, 'importance placement', t.adapter, {}, t.info);
    else rows.push(na(`reason1k at ${(b * 100).toFixed(1)}% budget`, 'budget too small for rank 1 on any module'));
  }
}
writeFileSync(OUT, JSON.stringify(result(), null, 2) + '\n');

// ---- the table
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}` : '  - ');
const domains = [...new Set(rows.flatMap((r) => Object.keys(r.eval.byDomain)))].sort();
const levels = [...new Set(rows.flatMap((r) => Object.keys(r.eval.byLevel)))].sort();
console.log(`\ntiny world, held-out ${TEST_N} problems, greedy unless noted; accuracy % [95% CI]; ${((performance.now() - t00) / 60000).toFixed(1)} min`);
console.log(['row'.padEnd(40), 'acc'.padStart(6), '95% CI'.padStart(14), 'flawed', 'params%', ...domains.map((d) => d.slice(0, 6).padStart(7)), ...levels.map((l) => l.replace('Level ', 'L').padStart(5))].join(' '));
for (const r of rows) {
  console.log([r.name.padEnd(40), pct(r.eval.accuracy).padStart(6), `[${pct(r.eval.low)}, ${pct(r.eval.high)}]`.padStart(14), String(r.train?.flawed ?? '').padStart(6), (r.train ? r.train.percent.toFixed(2) : '').padStart(7),
    ...domains.map((d) => pct(r.eval.byDomain[d] ?? NaN).padStart(7)), ...levels.map((l) => pct(r.eval.byLevel[l] ?? NaN).padStart(5))].join(' '));
}
console.log(`\nwritten to ${OUT}`);
m.dispose();
process.exit(0);
