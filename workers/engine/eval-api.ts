// Engine worker: evaluation runs. Loads the bundled benchmark, resolves the subset, and runs the
// runner (src/eval/runner.ts) with the loaded model, storing each item in IndexedDB as it comes.
// One run at a time; cancel() stops after the current token; resume() continues a stored run.
// Plain runs (no interventions) decode batchSize items, all k samples each, as one batch.
// Built by createEvalApi from the loaded model and the adapter merge, wired in workers/engine.worker.ts.
import type { DecodeSession, TextTokenizer } from '../../src/engine/generation/types.ts';
import { fetchBundled, loadEvalSet } from '../../src/data/bundled.ts';
import { IdbEvalStore } from '../../src/data/eval-store.ts';
import { selectSubset, type Benchmark } from '../../src/eval/benchmarks.ts';
import { generatePlain, generatePlainBatch, type OpenBatchSession } from '../../src/eval/generate.ts';
import { generateGuided, hasInterventions } from '../../src/eval/guided.ts';
import { sampleCount } from '../../src/guide/interventions/consistency.ts';
import { createRun, DEFAULT_EVAL_BATCH, runEvaluation, type Generate, type GenerateBatch } from '../../src/eval/runner.ts';
import type { EvalConfig, EvalProgress, EvalRunRecord } from '../../src/domain/eval.ts';

/** What the runner needs from the loaded model. */
export interface EvalModel {
  name: string;
  tokenizer: TextTokenizer;
  session: DecodeSession;
  /** Context of `session` (generation stops where it would). */
  contextLength: number;
  /** Batched decoding (plain runs decode `batchSize` items, all their samples, together). */
  openBatch?: OpenBatchSession;
}

/** Items per batch of a plain evaluation run (setEvalBatchSize; tests and the tiny-world script tune it). */
let batchSize = DEFAULT_EVAL_BATCH;
export function setEvalBatchSize(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`batch size must be a positive integer, got ${n}`);
  batchSize = n;
}

/** Runs a function with an adapter merged (workers/engine/adapter-api.ts withAdapter). */
export type AdapterRunner = <T>(sha256: string | null | undefined, fn: () => Promise<T>) => Promise<T>;

export interface EvalDeps {
  /** The loaded model's evaluation session; throws when none is loaded. */
  model: () => Promise<EvalModel>;
  withAdapter: AdapterRunner;
}

function loadBenchmark(evalSet: string, baseUrl: string): Promise<Benchmark> {
  return loadEvalSet(evalSet, fetchBundled(baseUrl), baseUrl);
}

let active: { runId: string; signal: { aborted: boolean }; done: Promise<EvalRunRecord> } | undefined;

async function execute(deps: EvalDeps, runId: string, bench: Benchmark, onProgress: (p: EvalProgress) => void, store: IdbEvalStore): Promise<EvalRunRecord> {
  const model = await deps.model();
  const signal = { aborted: false };
  const run = await store.getRun(runId);
  const iv = run?.config.interventions;
  // guided runs with self-consistency decode each item's n samples together
  const guidedSession = () => (hasInterventions(iv) && sampleCount(iv) > 1 && model.openBatch ? model.openBatch(sampleCount(iv), model.contextLength) : model.session);
  const generate: Generate = hasInterventions(iv)
    ? (problem, o) => generateGuided(guidedSession(), model.tokenizer, problem, { ...o, signal }, iv)
    : (problem, o) => generatePlain(model.session, model.tokenizer, problem, { ...o, signal });
  // plain runs decode in batches: each sequence keeps its own seeded stream, so texts equal generatePlain's
  const k = Math.max(1, Math.floor(run?.config.samples ?? 1));
  const generateBatch: GenerateBatch | undefined = !hasInterventions(iv) && model.openBatch
    ? (reqs) => generatePlainBatch(model.openBatch!, model.tokenizer, reqs, { slots: batchSize * k, contextLength: model.contextLength, signal })
    : undefined;
  const sha = run?.config.adapter ?? null;
  const runIt = () => runEvaluation(runId, bench.items, { store, generate, generateBatch, batchSize, signal, onProgress });
  // the adapter (config.adapter = its content hash) is merged for the run, the base restored after
  const done = deps.withAdapter(sha, runIt);
  active = { runId, signal, done };
  try { return await done; } finally { if (active?.runId === runId) active = undefined; }
}

/** Records a failure that happened before or outside the runner (no model, fetch error). */
async function fail(store: IdbEvalStore, runId: string, e: unknown, onProgress: (p: EvalProgress) => void): Promise<void> {
  const message = e instanceof Error ? e.message : String(e);
  const r = await store.getRun(runId);
  if (r) {
    r.status = 'failed';
    if (r.summary) r.summary = { ...r.summary, error: message };
    await store.putRun(r);
  }
  onProgress({ runId, done: r?.summary?.done ?? 0, total: r?.config.itemKeys.length ?? 0, correct: 0, etaMs: null, elapsedMs: r?.summary?.elapsedMs ?? 0, status: 'failed', error: message });
}

export function createEvalApi(deps: EvalDeps) {
  return {
    /** Creates a run over the chosen subset and starts it; resolves with the run id once stored. */
    async startEval(config: Omit<EvalConfig, 'itemKeys'>, baseUrl: string, onProgress: (p: EvalProgress) => void, dbName?: string): Promise<string> {
      if (active) throw new Error(`an evaluation is already running (${active.runId})`);
      const bench = await loadBenchmark(config.evalSet, baseUrl);
      const items = selectSubset(bench.items, config.subset);
      if (items.length === 0) throw new Error('the chosen subset has no items');
      const store = new IdbEvalStore(dbName);
      const run = await createRun(store, config, items, bench.bad.map((b) => b.error));
      void execute(deps, run.id, bench, onProgress, store).catch((e) => fail(store, run.id, e, onProgress));
      return run.id;
    },
    /** Continues a stored run: items already stored are skipped. */
    async resumeEval(runId: string, baseUrl: string, onProgress: (p: EvalProgress) => void, dbName?: string): Promise<void> {
      if (active) throw new Error(`an evaluation is already running (${active.runId})`);
      const store = new IdbEvalStore(dbName);
      const run = await store.getRun(runId);
      if (!run) throw new Error(`evaluation run ${runId} not found`);
      const bench = await loadBenchmark(run.evalSet, baseUrl);
      void execute(deps, runId, bench, onProgress, store).catch((e) => fail(store, runId, e, onProgress));
    },
    /** Whether a model is reachable for evaluation, and its name. */
    async evalModelStatus(): Promise<{ loaded: boolean; name?: string; error?: string }> {
      try { return { loaded: true, name: (await deps.model()).name }; } catch (e) { return { loaded: false, error: e instanceof Error ? e.message : String(e) }; }
    },
    cancelEval(): void {
      if (active) active.signal.aborted = true;
    },
    activeEval(): string | null {
      return active?.runId ?? null;
    },
    /** Items decoded together in plain runs (default 16). */
    setEvalBatchSize(n: number): void {
      setEvalBatchSize(n);
    },
  };
}
