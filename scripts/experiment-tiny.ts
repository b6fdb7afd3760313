// The tiny world's measured effect (issues: "The tiny reasoning world", 22): trains adapters on the
// bundled student with the app's own trainer and recipe (scripts/lib/world-train.ts ->
// src/distill/train.ts, src/world/recipe.ts) and evaluates each row on two test splits side by side
// (greedy unless noted, 95% Wilson intervals, by domain and level): the level-uniform held-out set
// and a hard split (its levels 4-5), as s1 reports AIME beside MATH500.
//
//   npm run experiment:tiny [-- --quick] [--test N] [--hard N] [--steps S] [--out FILE.json] [--rows a,b,...]
//
// Rows (--rows picks groups): base, base+budget; the selections (s1's ablation: random from the raw
// pool, diverse-only, longest-only, difficulty-only, quality-gated random, Reason1K's old
// difficulty-first sampling and its multi-criteria selection, whose weights are chosen on a
// validation split, below); plain CE, a strategy-weight sweep and the strategy-first curriculum,
// uniform placement, the adapter-budget curve; the reflective
// teacher (checks, slips caught with "Wait") with a check-token weight and the interventions that act
// on it (a "Wait" that continues into a check, verification by a check line, self-consistency at a
// temperature that gives distinct samples); strategy injection of the nearest Reason1K plan; and the
// test-time scaling curve (0, 1, 2, 4 Waits and a thinking cap) for base and adapter.
//
// The multi-criteria weights: each setting of MULTI_GRID (src/selection/ablations.ts) selects a set,
// trains an adapter by the recipe and is scored on a validation split of --val problems drawn from
// the pool's generator with its own seed (VAL_SEED), none of them a test or pool problem; score =
// mean of its accuracy on all of it and on its levels 4-5. The best setting's adapter is the row.
// Difficulty is the student's own: its NLL of the reference answer (src/selection/student-difficulty.ts).
//
// --quick (the test suite's mode): a small pool, 4 + 4 test problems, 2 steps: checks every row
// is produced, never the size of an effect. Writes the table as JSON (default
// models/tiny-world/experiment.json) and the main row's adapter as PEFT files in
// models/tiny-world/adapters/reason1k/ (reflective: adapters/reflective/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trace } from '../src/domain/trace.ts';
import type { Interventions } from '../src/domain/guide.ts';
import { exportPeftAdapter, type LoraAdapter } from '../src/engine/adapter/lora.ts';
import type { LossWeights } from '../src/distill/settings.ts';
import type { ExampleTokenizer } from '../src/distill/examples.ts';
import { type Benchmark, type BenchmarkItem, selectSubset } from '../src/eval/benchmarks.ts';
import { summarize } from '../src/eval/runner.ts';
import type { EvalItemRecord } from '../src/domain/eval.ts';
import { gradeAnswer } from '../src/grading/equivalence.ts';
import { forcedWaits } from '../src/guide/interventions/budget.ts';
import { INTERVENTION_DEFAULTS } from '../src/guide/interventions/defaults.ts';
import { TfIdfIndex, planOf } from '../src/guide/strategy.ts';
import { mulberry32 } from '../src/lib/rng.ts';
import { type Candidate, MULTI_GRID, type MultiWeights, pickDiverse, pickHardest, pickLongest, pickMulti, pickRandom, planShape } from '../src/selection/ablations.ts';
import { EvalIndex } from '../src/selection/eval-index.ts';
import { DEFAULT_SELECTION, runSelection, type SelectionOutput } from '../src/selection/select.ts';
import { answerNll } from '../src/selection/student-difficulty.ts';
import { generateProblems } from '../src/world/generator.ts';
import { type WorldPool, worldPool } from '../src/world/pool.ts';
import { REFLECTIVE_MAX_TOKENS, REFLECTIVE_SEQ_LEN, REFLECTIVE_STYLE, WORLD_RECIPE } from '../src/world/recipe.ts';
import { worldTestSet } from '../src/world/split.ts';
import type { FlawKind } from '../src/world/teacher.ts';
import { evaluateNode, loadBench } from './lib/node-eval.ts';
import { loadNodeModel } from './lib/node-model.ts';
import { type WorldTrainInfo, trainOnTraces, worldSequences } from './lib/world-train.ts';

const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(`--${k}`);
const opt = (k: string, d: string) => { const i = argv.indexOf(`--${k}`); return i >= 0 && argv[i + 1] ? argv[i + 1] : d; };
const quick = flag('quick');
const MODEL = opt('model', 'models/tiny-world');
const TEST_N = Number(opt('test', quick ? '4' : '1000'));
const HARD_N = Number(opt('hard', quick ? '4' : '400'));
/** Secondary rows (ablations, interventions, the scaling curve) are measured on this many of the
 *  held-out problems (their levels 4-5 form the hard split, topped up to HARD_N x SIDE_N / TEST_N);
 *  guided decoding runs one item at a time, so these sizes set the table's time. */
const SIDE_N = Number(opt('side', quick ? '4' : '300'));
/** Rows decoded one item at a time (every intervention: budget forcing, verification, strategy
 *  injection, self-consistency) are measured on this many (a subset of the SIDE_N items). */
const GUIDED_N = Number(opt('guided', quick ? '4' : '100'));
/** --quick caps every reply (rows are produced, never measured): untrained quick adapters run to the cap. */
const QUICK_MAX_TOKENS = 48;
const VAL_N = Number(opt('val', quick ? '8' : '200'));
const POOL_N = Number(opt('pool', quick ? '300' : String(WORLD_RECIPE.pool)));
const SELECT_N = Number(opt('select', quick ? '24' : String(WORLD_RECIPE.select)));
const STEPS = Number(opt('steps', quick ? '2' : String(WORLD_RECIPE.steps)));
const OUT = opt('out', quick ? 'build/tiny-world/experiment-quick.json' : 'models/tiny-world/experiment.json');
const SEED = Number(opt('seed', '1'));
/** Row groups a plain run measures (about an hour on this 2-core machine); `--rows all` runs every
 *  group, --quick runs every group. */
const DEFAULT_ROWS = ['base', 'random1k-flawed', 'diverse1k', 'longest1k', 'hardest1k', 'random1k', 'reason1k', 'multi', 'plain', 'uniform', 'reflective', 'scaling', 'curve'];
const ROWS_ARG = opt('rows', '');
const ONLY = ROWS_ARG === 'all' || quick && !ROWS_ARG ? [] : ROWS_ARG ? ROWS_ARG.split(',').filter(Boolean) : DEFAULT_ROWS;
/** The validation split's seed: the pool's generator, a seed no other split uses. */
const VAL_SEED = 7331;
const log = (s: string) => process.stderr.write(`[experiment] ${s}\n`);
const want = (name: string) => ONLY.length === 0 || ONLY.includes(name);

const t00 = performance.now();
const m = await loadNodeModel(MODEL, { contextLength: 512 });
const baseParams = m.decoder.params;
const tok = m.tokenizer as unknown as ExampleTokenizer;
// ---- the two test splits: level-uniform held-out, and its levels 4-5
const bench = loadBench('tiny-world');
const hardBench: Benchmark = { id: 'tiny_world_hard', items: bench.items.filter((it) => it.level === 'Level 4' || it.level === 'Level 5'), bad: [] };
log(`${m.label}: ${baseParams} params; test ${TEST_N} of ${bench.items.length} (hard split ${Math.min(HARD_N, hardBench.items.length)} of ${hardBench.items.length}, levels 4-5); validation ${VAL_N}; pool ${POOL_N}; select ${SELECT_N}; ${STEPS} steps per adapter${quick ? ' (quick)' : ''}`);

// ---- pools (the recipe's teacher and the reflective one) and their selections
const test = worldTestSet();
const evalIndex = new EvalIndex(test.map((p) => ({ set: 'tiny_world', key: p.id, problem: p.problem })), DEFAULT_SELECTION.decontamN);
const equivalent = async (a: string, b: string) => (await gradeAnswer(a, b)).correct;
const select = (pool: WorldPool, studentNll?: Map<string, number>) => runSelection({ traces: pool.traces, config: { ...DEFAULT_SELECTION, targetN: SELECT_N }, seed: SEED, evalIndex, equivalent, studentNll });
const pool = worldPool({ n: POOL_N, seed: SEED, style: WORLD_RECIPE.teacher });
const sel = await select(pool);
const byId = new Map(pool.traces.map((t) => [t.id, t]));
const passedGate = (s: SelectionOutput, p: WorldPool) => p.traces.filter((t) => { const d = s.decisions[t.id]; return d.kept || d.reason === 'not-sampled'; });
const gated = passedGate(sel, pool);
const shuffled = <T>(xs: readonly T[], seed: number): T[] => { const r = mulberry32(seed); const a = [...xs]; for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; };

// difficulty: the student's NLL of each reference answer (only where a row needs it)
const needsDifficulty = want('hardest1k') || want('multi');
const nll = new Map<string, number>();
/** The difficulty-based rows (hardest1k, multi) choose among the traces whose NLL was measured: a
 *  seeded --difficulty N of the pool (one teacher-forced pass each, the table's setup cost). */
const DIFF_N = Number(opt('difficulty', quick ? '100000' : '1500'));
const diffTraces = shuffled(pool.traces, SEED + 21).slice(0, DIFF_N);
if (needsDifficulty) {
  const t0 = performance.now();
  const session = m.decoder.newSession(Math.min(m.contextLength, 512));
  try {
    for (const t of diffTraces) { const r = await answerNll(session, m.tokenizer, t.problem, t.referenceAnswer ?? t.answer); if (r) nll.set(t.id, r.nll); }
  } finally { session.dispose(); }
  log(`difficulty: the student's answer NLL of ${nll.size} traces (a seeded ${diffTraces.length} of the pool's ${pool.traces.length}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const candidate = (t: Trace): Candidate => ({ id: t.id, domain: t.domain, level: t.level, length: t.tokenCounts?.reasoning ?? t.reasoning.length, difficulty: nll.get(t.id), shape: planShape(t.reasoning) });
const raw = pool.traces.map(candidate);
const ids = (xs: string[]) => xs.map((id) => byId.get(id)!);
const sets: Record<string, Trace[]> = {
  reason1k: ids(sel.ids),
  random1k: shuffled(gated, SEED + 11).slice(0, SELECT_N),
  'random1k-flawed': ids(pickRandom(raw, SELECT_N, SEED + 12)),
  diverse1k: ids(pickDiverse(raw, SELECT_N, SEED + 13)),
  longest1k: ids(pickLongest(raw, SELECT_N)),
  ...(needsDifficulty ? { hardest1k: ids(pickHardest(raw.filter((c) => nll.has(c.id)), SELECT_N)) } : {}),
};
const multiSet = (w: MultiWeights) => ids(pickMulti(gated.filter((t) => nll.has(t.id)).map(candidate), SELECT_N, w));
const flawCount = (ts: readonly Trace[], flaws = pool.flaws) => { const c: Partial<Record<FlawKind, number>> = {}; let n = 0; for (const t of ts) { const f = flaws.get(t.id); if (f) { c[f] = (c[f] ?? 0) + 1; n++; } } return { n, kinds: c }; };
log(`pool ${pool.traces.length} traces (${pool.flaws.size} flawed, ${pool.decontaminated} problems removed by decontamination); selection kept ${sel.counts.kept}, dropped ${JSON.stringify(sel.counts.dropped)}`);
const mix = (ts: readonly Trace[], key: (t: Trace) => string) => { const c: Record<string, number> = {}; for (const t of ts) c[key(t)] = (c[key(t)] ?? 0) + 1; return Object.fromEntries(Object.entries(c).sort()); };
const setMix: Record<string, unknown> = {};
const describeSet = (name: string, ts: readonly Trace[], flaws = pool.flaws) => {
  const v = { flawed: flawCount(ts, flaws), byLevel: mix(ts, (t) => `L${t.level ?? '?'}`), byDomain: mix(ts, (t) => t.domain) };
  setMix[name] = v;
  log(`  ${name}: ${ts.length} traces, ${v.flawed.n} flawed ${JSON.stringify(v.flawed.kinds)}; levels ${JSON.stringify(v.byLevel)}; domains ${JSON.stringify(v.byDomain)}`);
};
for (const [k, v] of Object.entries(sets)) describeSet(k, v);

const HIER: LossWeights = { ...WORLD_RECIPE.loss };

// --dump-sft FILE: the training sequences of each set (as the engine's loop gets them) and the test
// prompts, for the PyTorch reference of this experiment (scripts/world/finetune_check.py); then exit.
const DUMP = opt('dump-sft', '');
if (DUMP) {
  const seqsOf = (ts: readonly Trace[]) => worldSequences(tok, ts, HIER).map((q) => ({ ids: Array.from(q.ids), targets: Array.from(q.targets), weights: Array.from(q.weights, (w) => +w.toFixed(6)) }));
  const items = selectSubset(bench.items, { kind: 'random', n: TEST_N, seed: SEED });
  const testItems = items.map((it) => ({ key: it.key, prompt: tok.applyChatTemplate([{ role: 'user', content: it.problem }]), answer: it.answer, subject: it.subject, level: it.level }));
  writeFileSync(DUMP, JSON.stringify({ sets: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, seqsOf(v)])), test: testItems }) + '\n');
  log(`wrote ${DUMP}`);
  m.dispose();
  process.exit(0);
}

// ---- training and evaluation
const MAIN_BUDGET = Number(opt('budget', String(WORLD_RECIPE.budget)));
const BATCH = Number(opt('batch', quick ? '2' : String(WORLD_RECIPE.batchSize)));
const LR = Number(opt('lr', String(WORLD_RECIPE.lr)));
interface SplitEval { accuracy: number; low: number; high: number; n: number; byDomain: Record<string, number>; byLevel: Record<string, number>; seconds: number; meanTokens: number; distinctAnswers?: number }
interface Row { name: string; group: string; note: string; train?: WorldTrainInfo & { flawed: number }; eval: SplitEval; hard: SplitEval; line: string; waits?: number;
  /** the same uniform items under another row (an intervention's adapter without it): its accuracy there, items this row fixed and broke */
  paired?: { row: string; accuracy: number; n: number; fixed: number; broken: number } }
const rows: Row[] = [];
const adapters = new Map<string, LoraAdapter>();

async function train(name: string, traces: Trace[], o: { budget?: number; loss?: LossWeights; mode?: 'importance' | 'uniform'; seqLen?: number; flaws?: Map<string, FlawKind>; curriculum?: { strategyFirst: number } } = {}): Promise<{ adapter: LoraAdapter; info: Row['train'] } | null> {
  let last = 0;
  const mode = o.mode ?? 'importance';
  try {
    const { adapter, info } = await trainOnTraces(m, traces, {
      budget: o.budget ?? MAIN_BUDGET, mode, loss: o.loss ?? HIER, steps: STEPS, batchSize: BATCH, lr: LR, seed: SEED, seqLen: o.seqLen, curriculum: o.curriculum,
      onPlaced: (rep, sec) => log(`  ${name} placement (${mode}): ${rep} in ${sec.toFixed(0)} s`),
      onStep: (step, steps, l, tps) => { if (step - last >= 20 || step === steps) { last = step; log(`  ${name} step ${step}/${steps} loss ${l.toFixed(3)} (${tps.toFixed(0)} tok/s)`); } },
    });
    log(`${name}: ${info.report}, ${info.modules} modules, ${info.seconds.toFixed(0)} s`);
    return { adapter, info: { ...info, flawed: flawCount(traces, o.flaws).n } };
  } catch (e) {
    if (/too small/i.test((e as Error).message)) { log(`${name}: ${(e as Error).message}`); return null; }
    throw e;
  }
}

interface EvalOpts { /** a row measured before on (a superset of) the same items: paired counts against it */ vs?: string; interventions?: Interventions; interventionsFor?: (problem: string) => Interventions; samples?: number; temperature?: number; maxTokens?: number; /** uniform-split size (default TEST_N; secondary rows SIDE_N) */ n?: number }
/** One evaluation over the union of a level-uniform subset of n held-out problems and a hard subset
 *  (levels 4-5: those of the uniform subset first, then others in a seeded order, up to
 *  HARD_N x n / TEST_N), each split then scored from its own items: at n = 1,000 the hard split is
 *  exactly the held-out set's levels 4-5 and costs nothing extra. */
function splitItems(n: number): { uniform: BenchmarkItem[]; hard: BenchmarkItem[] } {
  const uniform = n >= bench.items.length ? [...bench.items] : selectSubset(bench.items, { kind: 'random', n, seed: SEED });
  const hardN = Math.min(hardBench.items.length, Math.max(1, Math.round((HARD_N * n) / TEST_N)));
  const inU = new Set(uniform.map((it) => it.key));
  const hardOrder = selectSubset(hardBench.items, { kind: 'random', n: hardBench.items.length, seed: SEED });
  const hard = [...uniform.filter((it) => it.level === 'Level 4' || it.level === 'Level 5'), ...hardOrder.filter((it) => !inU.has(it.key))].slice(0, hardN);
  return { uniform, hard };
}
function scoreOf(items: readonly EvalItemRecord[], k: boolean, seconds: number): SplitEval {
  const s = summarize(items, items.length, [], 0);
  const pick = (xs: { key: string; score: { pass1: number; majK: number } }[]) => Object.fromEntries(xs.map((x) => [x.key, k ? x.score.majK : x.score.pass1]));
  const acc = k ? s.score.majK : s.score.pass1; const ci = k ? s.score.majInterval : s.score.pass1Interval;
  const distinct = k ? items.reduce((a, it) => a + new Set(it.samples.map((x) => x.prediction ?? '')).size, 0) / Math.max(1, items.length) : undefined;
  return { accuracy: acc, low: ci.low, high: ci.high, n: items.length, byDomain: pick(s.bySubject), byLevel: pick(s.byLevel), seconds, meanTokens: s.score.meanTokens, ...(distinct !== undefined ? { distinctAnswers: distinct } : {}) };
}
/** evaluated items by (adapter, settings): rows that share them reuse the records */
const memos = new Map<string, Map<string, EvalItemRecord>>();
const adapterIds = new WeakMap<LoraAdapter, number>();
let nextAdapterId = 1;
const adapterId = (a: LoraAdapter | null) => { if (!a) return 0; if (!adapterIds.has(a)) adapterIds.set(a, nextAdapterId++); return adapterIds.get(a)!; };
/** each row's verdicts by item key (for paired comparisons on the same items) */
const verdicts = new Map<string, Map<string, boolean>>();
async function evalSplits(adapter: LoraAdapter | null, name: string, o: EvalOpts): Promise<{ u: SplitEval; h: SplitEval; line: string; correct: Map<string, boolean> }> {
  const t0 = performance.now();
  const { uniform, hard } = splitItems(o.n ?? TEST_N);
  const inU = new Set(uniform.map((it) => it.key));
  const union = [...uniform, ...hard.filter((it) => !inU.has(it.key))];
  // items this adapter already answered under the same settings (another row: a subset, or the same
  // intervention) are reused, not decoded again; greedy and seeded sampling give the same records
  const memoKey = o.interventionsFor ? null : `${adapterId(adapter)}|${JSON.stringify({ iv: o.interventions ?? null, s: o.samples ?? 1, t: o.temperature ?? null, mt: o.maxTokens ?? 160 })}`;
  const memo = memoKey ? (memos.get(memoKey) ?? new Map<string, EvalItemRecord>()) : new Map<string, EvalItemRecord>();
  if (memoKey) memos.set(memoKey, memo);
  const todo = union.filter((it) => !memo.has(it.key));
  const res = !todo.length ? { items: [] as EvalItemRecord[] } : await evaluateNode(m, { id: bench.id, items: todo, bad: [] }, { seed: SEED, adapter: adapter ? { adapter, name } : null, interventions: o.interventions ?? null, interventionsFor: o.interventionsFor, samples: o.samples ?? 1, temperature: o.temperature, maxTokens: quick ? Math.min(QUICK_MAX_TOKENS, o.maxTokens ?? 160) : o.maxTokens ?? 160 });
  const seconds = (performance.now() - t0) / 1000;
  const k = (o.samples ?? 1) > 1;
  for (const it of res.items) memo.set(it.itemKey, it);
  const byKey = memo;
  if (todo.length < union.length) log(`  ${name}: ${union.length - todo.length} of ${union.length} items reused from an earlier row with the same adapter and settings`);
  const of = (xs: BenchmarkItem[]) => xs.map((it) => byKey.get(it.key)).filter((x): x is EvalItemRecord => !!x);
  const u = scoreOf(of(uniform), k, seconds);
  const h = scoreOf(of(hard), k, 0);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const correct = new Map(of(uniform).map((it) => [it.itemKey, k ? it.majority.correct : it.correct]));
  return { u, h, line: `accuracy: ${pct(u.accuracy)}  95% CI [${pct(u.low)}, ${pct(u.high)}]`, correct };
}
/** Accuracy on a whole benchmark (the validation split) and on its levels 4-5 (NaN if it has none), one evaluation. */
async function benchAccuracy(b: Benchmark, adapter: LoraAdapter | null, name: string): Promise<{ all: number; hard: number }> {
  const res = await evaluateNode(m, b, { seed: SEED, adapter: adapter ? { adapter, name } : null, maxTokens: quick ? QUICK_MAX_TOKENS : 160 });
  const hard = res.items.filter((it) => it.level === 'Level 4' || it.level === 'Level 5');
  return { all: res.run.summary!.score.pass1, hard: hard.length ? hard.filter((it) => it.correct).length / hard.length : NaN };
}
const fmt = (e: SplitEval) => `${(e.accuracy * 100).toFixed(1)}% [${(e.low * 100).toFixed(1)}, ${(e.high * 100).toFixed(1)}]`;
async function evaluate(group: string, name: string, note: string, adapter: LoraAdapter | null, o: EvalOpts = {}, trainInfo?: Row['train'], extra: Partial<Row> = {}): Promise<void> {
  const { u, h, line, correct } = await evalSplits(adapter, name, o);
  verdicts.set(name, correct);
  const ref = o.vs ? verdicts.get(o.vs) : undefined;
  let paired: Row['paired'];
  if (ref) {
    let n = 0; let acc = 0; let fixed = 0; let broken = 0;
    for (const [key, c] of correct) { const r = ref.get(key); if (r === undefined) continue; n++; if (r) acc++; if (c && !r) fixed++; if (!c && r) broken++; }
    paired = { row: o.vs!, accuracy: acc / Math.max(1, n), n, fixed, broken };
    log(`  vs ${o.vs} on the same ${n} items: ${(paired.accuracy * 100).toFixed(1)}%; fixed ${fixed}, broke ${broken}`);
  }
  rows.push({ name, group, note, ...(trainInfo ? { train: trainInfo } : {}), eval: u, hard: h, line, ...(paired ? { paired } : {}), ...extra });
  log(`${name}: uniform ${fmt(u)} (n ${u.n}), hard ${fmt(h)} (n ${h.n}) in ${u.seconds.toFixed(0)} s${u.distinctAnswers !== undefined ? `; distinct answers per item ${u.distinctAnswers.toFixed(2)}` : ''}`);
  writeFileSync(OUT, JSON.stringify(result(), null, 2) + '\n');
}
const na = (group: string, name: string, note: string): Row => {
  const e: SplitEval = { accuracy: NaN, low: NaN, high: NaN, n: 0, byDomain: {}, byLevel: {}, seconds: 0, meanTokens: 0 };
  return { name, group, note, eval: e, hard: { ...e }, line: 'n/a' };
};

/** An adapter as PEFT files (committed under models/tiny-world/adapters/<name>/ by a full run). */
function writeAdapter(a: LoraAdapter, name: string): void {
  const { adapterConfig, safetensors } = exportPeftAdapter(a);
  const dir = quick ? `build/tiny-world/adapters/${name}` : join(MODEL, `adapters/${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), adapterConfig);
  writeFileSync(join(dir, 'adapter_model.safetensors'), safetensors);
  log(`wrote ${dir}`);
}
const multi: { weights: MultiWeights; val: number; valHard: number; chosen: boolean }[] = [];
function result() {
  return { command: `npm run experiment:tiny -- ${argv.join(' ')}`.trim(), model: MODEL, baseParams, testN: TEST_N, hardN: HARD_N, valN: VAL_N, valSeed: VAL_SEED, poolN: POOL_N, selectN: SELECT_N, steps: STEPS, seed: SEED, mainBudget: MAIN_BUDGET, selection: sel.counts, sets: setMix, multiGrid: multi, minutes: (performance.now() - t00) / 60000, rows };
}
mkdirSync(join(OUT, '..'), { recursive: true });

const WAIT_CUE = ', check:';
const oldBudget: Interventions = { budget: { minThinking: 24, maxThinking: 120, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 16 } };
const waitsIv = (n: number, cap = 0): Interventions => ({ budget: { ...forcedWaits(n, { maxThinking: cap, cue: WAIT_CUE }), endMarkers: [], maxAnswerTokens: 16 } });
const checkVerify: Interventions = { verify: { ...INTERVENTION_DEFAULTS.verify, by: 'check', action: 'resample', maxResamples: 2, maxStepTokens: 48 } };
/** Self-consistency at a temperature that gives distinct samples (the row records distinct answers per item). */
const SC_T = 1.0;

// ---- base
if (want('base')) await evaluate('base', 'base', 'the pretrained student, greedy', null);
if (want('base+budget')) await evaluate('base', 'base + budget forcing', 'min 24 thinking tokens ("Wait"), max 120', null, { interventions: oldBudget, n: GUIDED_N });

// ---- selection, s1's way (each set trained by the recipe)
const SELECTION_ROWS: Array<[string, string]> = [
  ['random1k-flawed', 'random from the raw pool (s1: 1K-random)'],
  ['diverse1k', 'diversity only: round robin over domain x level x plan shape (s1: 1K-diverse)'],
  ['longest1k', 'length only: the longest reasonings (s1: 1K-longest)'],
  ['hardest1k', "difficulty only: the student's highest answer NLL"],
  ['random1k', 'quality-gated random'],
  ['reason1k', "Reason1K's quality gate + difficulty-first sampling (rankBase 2)"],
];
/** the selection rows measured on every held-out problem (the others on SIDE_N) */
const MAIN_SETS = ['random1k-flawed', 'random1k', 'reason1k'];
async function selectionRows(which: (set: string) => boolean): Promise<void> {
  for (const [set, note] of SELECTION_ROWS) {
    if (!which(set) || !want(set) || !sets[set]) continue;
    const t = await train(set, sets[set]);
    if (!t) continue;
    adapters.set(set, t.adapter);
    if (set === 'reason1k') writeAdapter(t.adapter, 'reason1k');
    await evaluate('selection', `adapter on ${set}`, `${note}; hierarchical loss, ${(MAIN_BUDGET * 100).toFixed(0)}% budget`, t.adapter, { n: MAIN_SETS.includes(set) ? TEST_N : SIDE_N }, t.info);
  }
}
// the recipe's set and quality-gated random first (the aims compare them), the other selections after the reflective rows
await selectionRows((s) => s === 'reason1k' || s === 'random1k');
const main = adapters.get('reason1k');

// ---- the reflective teacher: checks, slips caught with "Wait", counted plans
let reflective: LoraAdapter | null = null;
const REFLECTIVE_ROW = 'adapter on reason1k, reflective teacher';
if (want('reflective') || want('check-weight') || want('scaling')) {
  const rpool = worldPool({ n: POOL_N, seed: SEED, style: REFLECTIVE_STYLE });
  const rsel = await select(rpool);
  const rset = rsel.ids.map((id) => rpool.traces.find((t) => t.id === id)!);
  describeSet('reason1k-reflective', rset, rpool.flaws);
  const t = await train('reason1k-reflective', rset, { seqLen: REFLECTIVE_SEQ_LEN, flaws: rpool.flaws });
  if (t) {
    reflective = t.adapter;
    writeAdapter(t.adapter, 'reflective');
    if (want('reflective')) {
      const R = REFLECTIVE_MAX_TOKENS;
      await evaluate('reflective', REFLECTIVE_ROW, 'Reason1K of the reflective pool (checks after every step, 20% slips caught with "Wait", counted plans)', t.adapter, { maxTokens: R, n: SIDE_N }, t.info);
      await evaluate('reflective', 'reflective + Wait, check', 'budget forcing: the end suppressed once, "Wait, check:" appended', t.adapter, { interventions: waitsIv(1), maxTokens: R, n: GUIDED_N, vs: REFLECTIVE_ROW });
      await evaluate('reflective', 'reflective + check verification', 'a step whose check line does not give it back is resampled (up to 2)', t.adapter, { interventions: checkVerify, maxTokens: R, n: GUIDED_N, vs: REFLECTIVE_ROW });
      if (want('reflective-sc')) await evaluate('reflective', 'reflective + self-consistency (maj@5)', `5 samples at T ${SC_T}, grader-equivalence vote`, t.adapter, { samples: 5, temperature: SC_T, maxTokens: R, n: GUIDED_N, vs: REFLECTIVE_ROW });
    }
    if (want('check-weight')) {
      const c = await train('reflective-check2', rset, { seqLen: REFLECTIVE_SEQ_LEN, loss: { ...HIER, check: 2 }, flaws: rpool.flaws });
      if (c) await evaluate('loss', 'reflective, check weight 2', 'lambda_check = 2 (check spans weighted on their own)', c.adapter, { maxTokens: REFLECTIVE_MAX_TOKENS, n: SIDE_N }, c.info);
    }
  }
}

// ---- the test-time scaling curve: N Waits (and a thinking cap) for base and adapter
if (want('scaling')) {
  const adapter = reflective ?? main ?? null;
  for (const [who, a] of [['base', null], ['adapter', adapter]] as const) {
    if (who === 'adapter' && !a) continue;
    // 0 Waits is plain greedy decoding (no intervention: batched, as the rows above)
    for (const n of [0, 1, 2, 4]) await evaluate('scaling', `scaling: ${who}, ${n} Wait${n === 1 ? '' : 's'}`, `${n ? `end of thinking suppressed ${n} times ("Wait, check:")` : 'greedy, no intervention'}${who === 'adapter' ? (reflective ? ' (reflective adapter)' : ' (reason1k adapter)') : ''}`, a, { ...(n ? { interventions: waitsIv(n), vs: `scaling: ${who}, 0 Waits` } : {}), maxTokens: REFLECTIVE_MAX_TOKENS, n: GUIDED_N }, undefined, { waits: n });
  }
  if (adapter) await evaluate('scaling', 'scaling: adapter, 4 Waits, max 96 thinking tokens', 'as 4 Waits, with the answer forced at 96 thinking tokens', adapter, { interventions: waitsIv(4, 96), maxTokens: REFLECTIVE_MAX_TOKENS, n: GUIDED_N, vs: 'scaling: adapter, 0 Waits' }, undefined, { waits: 4 });
}

// ---- the adapter-budget curve
if (want('curve')) {
  // the recipe's 10% is the reason1k row; the default run measures 0.3% and 3%, --rows all also 0.1% and 1%
  for (const b of ROWS_ARG === 'all' ? [0.001, 0.003, 0.01, 0.03] : [0.003, 0.03]) {
    const t = await train(`budget-${b}`, sets.reason1k, { budget: b });
    if (t) await evaluate('budget', `reason1k at ${(b * 100).toFixed(1)}% budget`, 'importance placement', t.adapter, { n: SIDE_N }, t.info);
    else rows.push(na('budget', `reason1k at ${(b * 100).toFixed(1)}% budget`, 'budget too small for rank 1 on any module'));
  }
}
writeFileSync(OUT, JSON.stringify(result(), null, 2) + '\n');

if (want('multi')) {
  // weights chosen on the validation split (the pool's generator, its own seed; no test or pool problem)
  const seen = new Set([...test.map((p) => p.problem), ...pool.problems.map((p) => p.problem)]);
  // every domain x level cell equally often (the generator cycles cells), then a seeded order
  const valItems = shuffled(generateProblems({ seed: VAL_SEED, n: 30 * Math.ceil((VAL_N * 1.2) / 30), idPrefix: 'tw-val-' }).filter((p) => !seen.has(p.problem)), VAL_SEED).slice(0, VAL_N)
    .map((p, index) => ({ key: p.id, index, problem: p.problem, answer: p.answer, level: `Level ${p.level}`, subject: p.domain }));
  const val: Benchmark = { id: 'tiny_world_val', items: valItems, bad: [] };
  const valHard: Benchmark = { id: 'tiny_world_val_hard', items: valItems.filter((it) => it.level === 'Level 4' || it.level === 'Level 5'), bad: [] };
  let best: { i: number; score: number; adapter: LoraAdapter; info: Row['train']; set: Trace[] } | null = null;
  const grid = quick ? MULTI_GRID.slice(0, 2) : MULTI_GRID;
  for (let i = 0; i < grid.length; i++) {
    const set = multiSet(grid[i]);
    const t = await train(`multi-${i}`, set);
    if (!t) continue;
    const { all: a, hard: ah } = await benchAccuracy(val, t.adapter, `multi-${i}`);
    multi.push({ weights: grid[i], val: a, valHard: ah, chosen: false });
    log(`  multi-criteria ${JSON.stringify(grid[i])}: validation ${(a * 100).toFixed(1)}%, its levels 4-5 ${(ah * 100).toFixed(1)}% (${valHard.items.length})`);
    const score = Number.isFinite(ah) ? (a + ah) / 2 : a;
    if (!best || score > best.score) best = { i, score, adapter: t.adapter, info: t.info, set };
  }
  if (best) {
    multi[best.i].chosen = true;
    describeSet('reason1k-multi', best.set);
    adapters.set('reason1k-multi', best.adapter);
    await evaluate('selection', 'adapter on reason1k-multi', `Reason1K multi-criteria (quality gate; student difficulty; diversity over domain, level, plan shape), weights ${JSON.stringify(grid[best.i])} chosen on ${VAL_N} validation problems (seed ${VAL_SEED})`, best.adapter, {}, best.info);
  }
}

await selectionRows((s) => s !== 'reason1k' && s !== 'random1k');

// ---- the loss and the placement (on Reason1K)
if (want('plain')) {
  const t = await train('reason1k-plain', sets.reason1k, { loss: { ...HIER, mode: 'plain' } });
  if (t) await evaluate('loss', 'adapter on reason1k, plain CE', 'mean cross-entropy over every reply token (no per-segment weights)', t.adapter, { n: SIDE_N }, t.info);
}
if (want('hier')) {
  // the hierarchical loss's strategy weight, and the strategy-first curriculum (src/distill/curriculum.ts)
  for (const w of [0.5, 2]) {
    const t = await train(`reason1k-strategy${w}`, sets.reason1k, { loss: { ...HIER, strategy: w } });
    if (t) await evaluate('loss', `adapter on reason1k, strategy weight ${w}`, `lambda_strategy = ${w} (tactics and answer 1)`, t.adapter, { n: SIDE_N }, t.info);
  }
  const t = await train('reason1k-curriculum', sets.reason1k, { curriculum: { strategyFirst: 0.3 } });
  if (t) await evaluate('loss', 'adapter on reason1k, strategy-first curriculum', 'the first 30% of the steps train strategy tokens only, then all', t.adapter, { n: SIDE_N }, t.info);
}
if (want('uniform')) {
  const t = await train('reason1k-uniform', sets.reason1k, { mode: 'uniform' });
  if (t) await evaluate('placement', 'adapter on reason1k, uniform placement', `same ${(MAIN_BUDGET * 100).toFixed(0)}% budget spread evenly (the ablation of importance placement)`, t.adapter, { n: SIDE_N }, t.info);
}

// ---- interventions on the recipe's adapter
if (main) {
  if (want('budget')) await evaluate('interventions', 'reason1k + budget forcing', 'min 24 thinking tokens ("Wait"), max 120', main, { interventions: oldBudget, n: GUIDED_N, vs: 'adapter on reason1k' });
  if (want('sc')) await evaluate('interventions', 'reason1k + self-consistency (maj@5)', `5 samples at T ${SC_T}, grader-equivalence vote`, main, { samples: 5, temperature: SC_T, n: GUIDED_N, vs: 'adapter on reason1k' });
  if (want('verify')) await evaluate('interventions', 'reason1k + step verification', 'confidence < 0.6: resample the step (up to 2)', main, { interventions: { verify: { threshold: 0.6, action: 'resample', maxResamples: 2, checkPhrase: '', maxStepTokens: 40 } }, n: GUIDED_N, vs: 'adapter on reason1k' });
  if (want('strategy')) {
    // the plan of the nearest Reason1K trace (TF-IDF over the problem), injected before the reasoning
    const index = new TfIdfIndex(sets.reason1k);
    await evaluate('interventions', 'reason1k + strategy injection', 'the plan of the nearest Reason1K trace injected before the reasoning', main, {
      interventions: { strategy: { source: 'reason1k', plan: '-' } }, n: GUIDED_N, vs: 'adapter on reason1k',
      interventionsFor: (problem) => { const hit = index.nearest(problem); return hit ? { strategy: { source: 'reason1k', traceId: hit.traceId, plan: hit.plan } } : {}; },
    });
  }
}

// ---- the table: both splits side by side
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}` : '  - ');
const domains = [...new Set(rows.flatMap((r) => Object.keys(r.eval.byDomain)))].sort();
const levels = [...new Set(rows.flatMap((r) => Object.keys(r.eval.byLevel)))].sort();
console.log(`\ntiny world: held-out ${TEST_N} problems (level-uniform) | hard split ${Math.min(HARD_N, hardBench.items.length)} (levels 4-5); greedy unless noted; accuracy % [95% CI]; ${((performance.now() - t00) / 60000).toFixed(1)} min`);
console.log(['row'.padEnd(48), 'uniform'.padStart(7), '95% CI'.padStart(14), 'hard'.padStart(6), '95% CI'.padStart(14), 'flawed', 'params%', ...domains.map((d) => d.slice(0, 6).padStart(7)), ...levels.map((l) => l.replace('Level ', 'L').padStart(5))].join(' '));
for (const r of rows) {
  console.log([r.name.padEnd(48), pct(r.eval.accuracy).padStart(7), `[${pct(r.eval.low)}, ${pct(r.eval.high)}]`.padStart(14), pct(r.hard.accuracy).padStart(6), `[${pct(r.hard.low)}, ${pct(r.hard.high)}]`.padStart(14), String(r.train?.flawed ?? '').padStart(6), (r.train ? r.train.percent.toFixed(2) : '').padStart(7),
    ...domains.map((d) => pct(r.eval.byDomain[d] ?? NaN).padStart(7)), ...levels.map((l) => pct(r.eval.byLevel[l] ?? NaN).padStart(5))].join(' '));
}
if (multi.length) console.log(`\nmulti-criteria weights on the validation split (${VAL_N} problems, seed ${VAL_SEED}): ${multi.map((x) => `${JSON.stringify(x.weights)} ${pct(x.val)} / L4-5 ${pct(x.valHard)}${x.chosen ? ' (chosen)' : ''}`).join('; ')}`);
console.log(`\nwritten to ${OUT}`);
m.dispose();
process.exit(0);
