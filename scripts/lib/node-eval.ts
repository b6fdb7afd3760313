// The app's evaluation runner (src/eval/runner.ts) over a model loaded in Node: a bundled benchmark
// (by id, or `tiny-world`) or a JSONL file, a seeded subset, optional budget forcing / k samples /
// an adapter merged for the run. Used by `npm run eval` and `npm run experiment:tiny`.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EVAL_SETS, NO_SYSTEM_PROMPT_SETS } from '../../src/data/bundled.ts';
import { type LoraAdapter } from '../../src/engine/adapter/lora.ts';
import { applyAdapter, restoreBase } from '../../src/engine/adapter/merge.ts';
import { type Benchmark, parseBenchmark, selectSubset } from '../../src/eval/benchmarks.ts';
import { DEFAULT_SYSTEM_PROMPT, generatePlain, generatePlainBatch } from '../../src/eval/generate.ts';
import { budgetInterventions, generateGuided, hasInterventions } from '../../src/eval/guided.ts';
import { MemoryEvalStore, createRun, runEvaluation, type Generate, type GenerateBatch } from '../../src/eval/runner.ts';
import type { EvalItemRecord, EvalRunRecord } from '../../src/domain/eval.ts';
import type { Interventions } from '../../src/domain/guide.ts';
import { sampleCount } from '../../src/guide/interventions/consistency.ts';
import type { NodeModel } from './node-model.ts';

/** `tiny-world` and the bundled ids (math500, aime24, amc23, gsm8k_test, tiny_world), or a JSONL path. */
export function loadBench(nameOrFile: string, root = '.'): Benchmark {
  const id = nameOrFile === 'tiny-world' ? 'tiny_world' : nameOrFile;
  const meta = EVAL_SETS.find((s) => s.id === id);
  if (meta) return parseBenchmark(meta.id, readFileSync(join(root, 'public/data', meta.file), 'utf8'));
  if (!/\.jsonl?$/i.test(nameOrFile)) throw new Error(`unknown bench "${nameOrFile}": use tiny-world, ${EVAL_SETS.map((s) => s.id).join(', ')}, or a FILE.jsonl`);
  let text: string;
  try { text = readFileSync(nameOrFile, 'utf8'); } catch (e) { throw new Error(`cannot read ${nameOrFile}: ${(e as Error).message}`); }
  return parseBenchmark(basename(nameOrFile).replace(/\.jsonl?$/i, ''), text);
}

export interface NodeEvalOptions {
  n?: number;
  seed: number;
  budget?: number | null;
  samples?: number;
  temperature?: number;
  maxTokens?: number;
  interventions?: Interventions | null;
  /** per-problem interventions on top of `interventions` (strategy injection of the nearest plan) */
  interventionsFor?: (problem: string) => Interventions;
  adapter?: { adapter: LoraAdapter; name: string } | null;
  system?: string;
  /** The chat template's enable_thinking (absent: the template's default). */
  thinking?: boolean;
  onItem?: (done: number, total: number) => void;
}

export interface NodeEvalResult { run: EvalRunRecord; items: EvalItemRecord[]; ms: number }

export async function evaluateNode(m: NodeModel, bench: Benchmark, o: NodeEvalOptions): Promise<NodeEvalResult> {
  const samples = Math.max(1, o.samples ?? 1);
  const items = o.n && o.n < bench.items.length ? selectSubset(bench.items, { kind: 'random', n: o.n, seed: o.seed }) : bench.items;
  const iv: Interventions | null = o.interventions ?? (o.budget ? budgetInterventions(o.budget) : null);
  const system = o.system ?? (NO_SYSTEM_PROMPT_SETS.includes(bench.id) ? '' : DEFAULT_SYSTEM_PROMPT);
  const store = new MemoryEvalStore();
  const run = await createRun(store, {
    evalSet: bench.id, subset: o.n ? { kind: 'random', n: o.n, seed: o.seed } : { kind: 'all' }, maxTokens: o.maxTokens ?? 160, seed: o.seed,
    temperature: o.temperature ?? (samples > 1 ? 0.7 : 0), topP: 1, samples, system, model: `${m.label}${o.adapter ? ` + ${o.adapter.name}` : ''}`,
    adapter: o.adapter?.name ?? null, interventions: iv as Record<string, unknown> | null, budget: o.budget ?? null,
    ...(o.thinking === undefined ? {} : { thinking: o.thinking }),
  }, items, bench.bad.map((b) => b.error));
  const ctxLen = Math.min(m.contextLength, 512);
  const session = m.decoder.newSession(ctxLen);
  const guided = hasInterventions(iv as Record<string, unknown> | null);
  // self-consistency's samples decode together (one slot per sample)
  const n = guided ? sampleCount(iv!) : 1;
  const guidedSession = n > 1 ? m.decoder.newBatchSession(n, ctxLen) : session;
  const generate: Generate = guided
    ? (problem, g) => generateGuided(guidedSession, m.tokenizer, problem, g, o.interventionsFor ? { ...iv!, ...o.interventionsFor(problem) } : iv!)
    : (problem, g) => generatePlain(session, m.tokenizer, problem, g);
  // plain runs decode items in batches (the same texts as one at a time, src/eval/generate.ts)
  const generateBatch: GenerateBatch | undefined = hasInterventions(iv as Record<string, unknown> | null) ? undefined
    : (reqs) => generatePlainBatch((slots, maxLength) => m.decoder.newBatchSession(slots, maxLength), m.tokenizer, reqs, { slots: 16, contextLength: ctxLen });
  const t0 = performance.now();
  if (o.adapter) await applyAdapter(m.ctx.device, m.decoder, o.adapter.adapter);
  try {
    const final = await runEvaluation(run.id, bench.items, { store, generate, generateBatch, batchSize: 16, onProgress: (p) => o.onItem?.(p.done, p.total) });
    const stored = (await store.listItems(run.id)).sort((a, b) => a.index - b.index);
    return { run: final, items: stored, ms: performance.now() - t0 };
  } finally {
    if (o.adapter) restoreBase(m.ctx.device, m.decoder);
    session.dispose();
    if (guidedSession !== session) guidedSession.dispose();
  }
}

/** "accuracy: X%  95% CI [lo%, hi%]" exactly as `npm run grade` prints it. */
export function accuracyLine(run: EvalRunRecord): string {
  const s = run.summary!.score;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return `accuracy: ${pct(s.pass1)}  95% CI [${pct(s.pass1Interval.low)}, ${pct(s.pass1Interval.high)}]`;
}
