// "Run the whole pipeline" on the tiny world: pool -> Reason1K selection -> adapter training ->
// evaluation of base, adapter and adapter + budget forcing on the held-out set. Each stage runs in
// a worker (data worker: pool, selection; engine worker: training, evaluation), reports progress,
// can be cancelled, and leaves its result in IndexedDB (pool, selection, eval runs); the ids of the
// last run are kept in localStorage so the table survives a reload. Settings travel in the URL.
import { DEFAULT_SELECTION } from '../selection/select.ts';
import { WORLD_RECIPE, worldTrainSettings } from '../world/recipe.ts';
import type { EvalConfig, EvalProgress, EvalRunRecord } from '../domain/eval.ts';
import { dataWorker, newJobId } from './data-client.ts';
import { getEvalRun } from './storage-client.ts';
import { Comlink, engine } from './engine-client.ts';
import { BUNDLED_MODEL, bundledSource, loadModel, model } from './model-state.svelte.ts';
import type { TrainEvent } from '../../workers/engine/train-api.ts';

export interface PipelineSettings { seed: number; pool: number; select: number; steps: number; test: number }
export const PIPELINE_DEFAULTS: PipelineSettings = { seed: 1, pool: WORLD_RECIPE.pool, select: WORLD_RECIPE.select, steps: WORLD_RECIPE.steps, test: 200 };
const LIMITS: Record<keyof PipelineSettings, [number, number]> = { seed: [0, 2 ** 31 - 1], pool: [20, 20000], select: [10, 5000], steps: [1, 20000], test: [5, 1000] };

/** Settings from the query string (?view=pipeline&seed=..&pool=..); bad or missing values fall back to the defaults, named in `errors`. */
export function parsePipelineSettings(search: string): { settings: PipelineSettings; errors: string[] } {
  const q = new URLSearchParams(search);
  const settings = { ...PIPELINE_DEFAULTS };
  const errors: string[] = [];
  for (const k of Object.keys(LIMITS) as (keyof PipelineSettings)[]) {
    const raw = q.get(k);
    if (raw === null) continue;
    const v = Number(raw);
    const [lo, hi] = LIMITS[k];
    if (!Number.isInteger(v) || v < lo || v > hi) errors.push(`"${k}" must be an integer in ${lo}..${hi}, got "${raw.slice(0, 40)}"`);
    else settings[k] = v;
  }
  if (settings.select > settings.pool) errors.push(`"select" (${settings.select}) cannot exceed "pool" (${settings.pool})`);
  return { settings, errors };
}

/** A link that reproduces the pipeline with these settings. */
export function pipelineLink(s: PipelineSettings, loc: { origin: string; pathname: string }): string {
  const q = new URLSearchParams({ view: 'pipeline', ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)])) });
  return `${loc.origin}${loc.pathname}?${q.toString()}`;
}

export type StageName = 'model' | 'pool' | 'selection' | 'training' | 'eval-base' | 'eval-adapter' | 'eval-guided';
export interface Stage { name: StageName; title: string; status: 'waiting' | 'running' | 'done' | 'failed' | 'cancelled'; detail: string; done: number; total: number; href?: string; startedAt: number; seconds: number }
export interface PipelineRow { name: string; runId: string; accuracy: number; low: number; high: number; n: number }

const TITLES: Record<StageName, string> = {
  model: 'Load the tiny-world student', pool: 'Tiny-world pool (local teacher)', selection: 'Reason1K selection', training: 'Adapter training',
  'eval-base': 'Evaluate: base', 'eval-adapter': 'Evaluate: base + adapter', 'eval-guided': 'Evaluate: adapter + budget forcing',
};
const freshStages = (): Stage[] => (Object.keys(TITLES) as StageName[]).map((name) => ({ name, title: TITLES[name], status: 'waiting', detail: '', done: 0, total: 0, startedAt: 0, seconds: 0 }));

export const pipeline = $state<{ running: boolean; stages: Stage[]; rows: PipelineRow[]; error: string | null; startedAt: number; seconds: number }>({
  running: false, stages: freshStages(), rows: [], error: null, startedAt: 0, seconds: 0,
});

const STORE_KEY = 'rb-pipeline-last';
let cancelled = false;
let jobId = '';

function stage(name: StageName): Stage { return pipeline.stages.find((s) => s.name === name)!; }
/** Ends a stage with this status, timing it from its begin. */
function end(st: Stage, status: Stage['status']): void { st.status = status; st.seconds = (Date.now() - st.startedAt) / 1000; }
function check() { if (cancelled) throw Object.assign(new Error('pipeline cancelled'), { name: 'AbortError' }); }

/** Resolves when the engine's evaluation run ends (its progress stream says so). */
async function evaluate(st: Stage, config: Omit<EvalConfig, 'itemKeys'>): Promise<EvalRunRecord> {
  let resolveEnd!: (p: EvalProgress) => void;
  const ended = new Promise<EvalProgress>((r) => { resolveEnd = r; });
  const onProgress = (p: EvalProgress) => { st.done = p.done; st.total = p.total; st.detail = `${p.done}/${p.total} items, ${p.correct} correct`; if (p.status !== 'running') resolveEnd(p); };
  const id = await engine().startEval(config, document.baseURI, Comlink.proxy(onProgress));
  st.href = `?view=evaluate`;
  st.detail = `run ${id}`;
  const end = await ended;
  if (end.status === 'cancelled') throw Object.assign(new Error('pipeline cancelled'), { name: 'AbortError' });
  if (end.status !== 'done') throw new Error(end.error ?? `evaluation ${id} ${end.status}`);
  const run = await getEvalRun(id);
  if (!run?.summary) throw new Error(`evaluation ${id} has no summary`);
  return run;
}

function rowOf(name: string, run: EvalRunRecord): PipelineRow {
  const s = run.summary!.score;
  return { name, runId: run.id, accuracy: s.pass1, low: s.pass1Interval.low, high: s.pass1Interval.high, n: s.n };
}

export async function runPipeline(s: PipelineSettings): Promise<void> {
  if (pipeline.running) return;
  cancelled = false;
  pipeline.running = true; pipeline.error = null; pipeline.rows = []; pipeline.stages = freshStages(); pipeline.startedAt = Date.now();
  const timer = setInterval(() => { pipeline.seconds = (Date.now() - pipeline.startedAt) / 1000; }, 500);
  let current: Stage | undefined;
  const begin = (n: StageName) => { current = stage(n); current.status = 'running'; current.startedAt = Date.now(); return current; };
  const finish = (st: Stage, detail: string) => { end(st, 'done'); st.detail = detail; };
  try {
    let st = begin('model');
    if (model.info?.id !== BUNDLED_MODEL.id) await loadModel(bundledSource(), BUNDLED_MODEL.label);
    const info = model.info;
    if (info?.id !== BUNDLED_MODEL.id) throw new Error(model.error ?? 'the tiny-world student did not load');
    finish(st, `${info.params.toLocaleString()} parameters`);
    st.href = '?view=models';
    check();

    st = begin('pool');
    jobId = newJobId();
    const pool = await dataWorker().makeWorldPool(jobId, { n: s.pool, seed: s.seed }, Comlink.proxy((d: number, t: number) => { st.done = d; st.total = t; }));
    finish(st, `${pool.counts.traces.toLocaleString()} traces`); st.href = '?view=data';
    check();

    st = begin('selection');
    jobId = newJobId();
    const sel = await dataWorker().runSelection(jobId, { poolId: pool.id, name: `Reason1K (pipeline, seed ${s.seed})`, config: { ...DEFAULT_SELECTION, targetN: s.select }, seed: s.seed }, Comlink.proxy((phase: string, d: number, t: number) => { st.detail = phase; st.done = d; st.total = t; }));
    finish(st, `${sel.counts.kept.toLocaleString()} of ${sel.counts.pool.toLocaleString()} kept`); st.href = '?view=data';
    check();

    st = begin('training');
    // the measured recipe (src/world/recipe.ts): a sparse adapter placed by reasoning importance within
    // 10% of the base, mini-batches of 16 packed sequences, warmup + cosine, a checkpoint every 10 steps
    // (a reload leaves the run in the Train view's unfinished runs)
    const summary = await engine().startTraining({
      selectionId: sel.id, poolId: pool.id, ...worldTrainSettings({ maxExamples: s.select, steps: s.steps, seed: s.seed }),
    }, Comlink.proxy((e: TrainEvent) => {
      if (e.kind !== 'step') return;
      const p = e.progress;
      st.done = p.step; st.total = p.steps; st.detail = `step ${p.step}/${p.steps}, loss ${p.loss.toFixed(3)}, ${Math.round(p.tokensPerSec)} tokens/s`;
    }));
    if (summary.cancelled) throw Object.assign(new Error('pipeline cancelled'), { name: 'AbortError' });
    finish(st, `loss ${summary.lossBefore.toFixed(3)} -> ${summary.lossAfter.toFixed(3)}, ${summary.params.toLocaleString()} params (${summary.percentOfBase.toFixed(2)}%)`); st.href = '?view=train';
    const adapter = (await engine().adapterStatus()).trained?.sha256 ?? null;
    if (!adapter) throw new Error('the trained adapter is not available in the engine');
    check();

    const base: Omit<EvalConfig, 'itemKeys'> = { evalSet: 'tiny_world', subset: { kind: 'random', n: s.test, seed: s.seed }, maxTokens: 160, seed: s.seed, temperature: 0, topP: 1, samples: 1, system: '', model: 'tiny-world student', modelId: BUNDLED_MODEL.id, adapter: null, interventions: null, budget: null };
    const r0 = await evaluate(begin('eval-base'), base);
    finish(stage('eval-base'), `${(r0.summary!.score.pass1 * 100).toFixed(1)}%`);
    pipeline.rows = [rowOf('base', r0)];
    check();
    const r1 = await evaluate(begin('eval-adapter'), { ...base, model: 'tiny-world student + Reason1K adapter', adapter });
    finish(stage('eval-adapter'), `${(r1.summary!.score.pass1 * 100).toFixed(1)}%`);
    pipeline.rows = [...pipeline.rows, rowOf('base + adapter', r1)];
    check();
    const bf = { budget: { minThinking: 24, maxThinking: 120, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 16 } };
    const r2 = await evaluate(begin('eval-guided'), { ...base, model: 'tiny-world student + adapter + budget forcing', adapter, interventions: bf, budget: 120 });
    finish(stage('eval-guided'), `${(r2.summary!.score.pass1 * 100).toFixed(1)}%`);
    pipeline.rows = [...pipeline.rows, rowOf('adapter + budget forcing', r2)];
    localStorage.setItem(STORE_KEY, JSON.stringify({ settings: s, rows: pipeline.rows, seconds: (Date.now() - pipeline.startedAt) / 1000 }));
  } catch (e) {
    const abort = (e as Error).name === 'AbortError' || cancelled;
    if (current && current.status === 'running') end(current, abort ? 'cancelled' : 'failed');
    pipeline.error = abort ? 'Cancelled. Finished stages stay stored (their links still work).' : (e instanceof Error ? e.message : String(e)).slice(0, 500);
  } finally {
    clearInterval(timer);
    pipeline.seconds = (Date.now() - pipeline.startedAt) / 1000;
    pipeline.running = false;
  }
}

export function cancelPipeline(): void {
  cancelled = true;
  if (jobId) void dataWorker().cancel(jobId);
  void engine().cancelTraining();
  void engine().cancelEval();
}

/** The last finished pipeline's table (from localStorage), if any. */
export function lastPipeline(): { settings: PipelineSettings; rows: PipelineRow[]; seconds: number } | null {
  try { const v = localStorage.getItem(STORE_KEY); return v ? JSON.parse(v) : null; } catch { return null; }
}
