// The evaluation runner core: for each not-yet-stored item of a run, generate k samples, grade
// them, store the item at once (resumable: stored items are skipped, the primary key
// [runId, itemKey] makes a repeat store an overwrite), then summarise. Written against
// DecodeSession/TextTokenizer-level `Generate`, so tests drive it with a scripted session.
import { SeededRng } from '../lib/rng.ts';
import { newId } from '../lib/id.ts';
import { itemSeed, sampleSeed } from '../lib/seed.ts';
import { extractAnswer } from '../grading/extract.ts';
import { gradeAnswer } from '../grading/equivalence.ts';
import type { BenchmarkItem } from './benchmarks.ts';
import { PromptTooLongError } from './generate.ts';
import { MAX_EVAL_TOKENS, responseText, splitThinking } from './thinking.ts';
import { breakdown, eta, majorityVote, score, type ScoredItem } from './metrics.ts';
import type { EvalConfig, EvalItemRecord, EvalProgress, EvalRunRecord, EvalSampleResult, EvalSummary } from '../domain/eval.ts';

/** Storage the runner needs (IndexedDB in the app: src/data/eval-store.ts; a Map in tests). */
export interface EvalStore {
  getRun(id: string): Promise<EvalRunRecord | undefined>;
  putRun(run: EvalRunRecord): Promise<void>;
  putItem(item: EvalItemRecord): Promise<void>;
  listItems(runId: string): Promise<EvalItemRecord[]>;
}

export interface GenerateRequest { maxTokens: number; temperature: number; topP: number; rng: () => number; system?: string; /** the template's enable_thinking */ thinking?: boolean; signal?: { readonly aborted: boolean } }
export interface Generated {
  text: string; tokens: number; stop: string; /** thinking tokens, when the generator counted them */ thinkingTokens?: number;
  /** the prompt opened the thinking (R1-Distill): the text starts inside it */ thinkingOpen?: boolean;
}

/** Generates one response for a problem; `rng` is the item/sample's seeded stream. */
export type Generate = (problem: string, o: GenerateRequest) => Promise<Generated>;

/** Generates many responses decoded together (one per request, in order); a prompt that does not
 *  fit comes back as its PromptTooLongError. Each request's `rng` is its own seeded stream, so the
 *  texts are those `Generate` gives one at a time. */
export type GenerateBatch = (requests: ReadonlyArray<{ problem: string } & GenerateRequest>) => Promise<Array<Generated | PromptTooLongError>>;

/** Items decoded together when the runner has a `generateBatch` (all k samples of each). */
export const DEFAULT_EVAL_BATCH = 16;

export interface RunDeps {
  store: EvalStore;
  generate: Generate;
  /** When given, items run in batches of `batchSize` through it (results equal `generate`'s). */
  generateBatch?: GenerateBatch;
  batchSize?: number;
  onProgress?: (p: EvalProgress) => void;
  signal?: { readonly aborted: boolean };
  now?: () => number;
}

/** Creates and stores the run record for `items` (their keys are frozen into the config). */
export async function createRun(store: EvalStore, config: Omit<EvalConfig, 'itemKeys'>, items: readonly BenchmarkItem[], badRows: string[], now = Date.now()): Promise<EvalRunRecord> {
  if (!Number.isInteger(config.maxTokens) || config.maxTokens < 1 || config.maxTokens > MAX_EVAL_TOKENS) {
    throw new Error(`evaluation setting maxTokens must be an integer from 1 to ${MAX_EVAL_TOKENS}, got ${config.maxTokens}`);
  }
  const run: EvalRunRecord = {
    id: newId('eval', now), createdAt: now, evalSet: config.evalSet, model: config.model, status: 'running',
    config: { ...config, itemKeys: items.map((i) => i.key) },
    summary: summarize([], items.length, badRows, 0),
  };
  await store.putRun(run);
  return run;
}

export function toScored(r: EvalItemRecord): ScoredItem {
  return { samples: r.samples.map((s) => s.correct), majority: r.majority.correct, tokens: r.samples.map((s) => s.tokens), answers: r.samples.map((s) => s.prediction), level: r.level, subject: r.subject };
}

export function summarize(items: readonly EvalItemRecord[], total: number, badRows: string[], elapsedMs: number, error?: string): EvalSummary {
  const scored = items.map(toScored);
  return {
    score: score(scored), byLevel: breakdown(scored, 'level'), bySubject: breakdown(scored, 'subject'),
    done: items.length, total, badRows, elapsedMs, ...(error ? { error } : {}),
  };
}

/** The run's thinking switch as a generate option (absent: the template's default). */
const thinkingOf = (config: EvalConfig): { thinking?: boolean } => (config.thinking === undefined ? {} : { thinking: config.thinking });

/** Per-(item, sample) stream, so a resumed or batched run samples exactly what the uninterrupted one would. */
const sampleRng = (config: EvalConfig, key: string, s: number) => { const r = new SeededRng(sampleSeed(itemSeed(config.seed, key), s)); return () => r.next(); };

async function gradeSample(g: Generated | PromptTooLongError, item: BenchmarkItem): Promise<EvalSampleResult> {
  if (g instanceof PromptTooLongError) return { prediction: null, correct: false, reason: `mismatch: no answer (${g.message})`, tokens: 0, stop: 'prompt-too-long', text: '' };
  // a reply the template opened inside thinking is read with its <think> (a cut-off one has no answer)
  const full = responseText(g.text, g.thinkingOpen);
  const prediction = extractAnswer(full)?.answer ?? null;
  const v = await gradeAnswer(prediction, item.answer, { problem: item.problem });
  // Thinking and reply recorded apart (the extractor reads the reply after </think> only).
  const split = splitThinking(full);
  const apart = split.thinking === null ? {} : { thinking: split.thinking, reply: split.reply, ...(g.thinkingTokens !== undefined ? { thinkingTokens: g.thinkingTokens } : {}) };
  const reason = split.closed ? v.reason : `${v.reason} (cut off while thinking: no end of thinking within ${g.tokens} tokens)`;
  return { prediction, correct: v.correct, reason, tokens: g.tokens, stop: g.stop, text: g.text, ...apart };
}

/** The item's record from its graded samples (majority vote under the grader). */
function itemRecord(runId: string, item: BenchmarkItem, samples: EvalSampleResult[], ms: number, finishedAt: number): EvalItemRecord {
  const vote = majorityVote(samples.map((x) => x.prediction));
  const mv = vote.index >= 0 ? samples[vote.index] : samples[0];
  const majority = { prediction: vote.answer, votes: vote.votes, correct: vote.index >= 0 ? mv.correct : false, reason: vote.index >= 0 ? mv.reason : 'mismatch: no answer in any sample' };
  const head = samples.length === 1 ? samples[0] : { ...majority };
  return {
    runId, itemKey: item.key, index: item.index, problem: item.problem, reference: item.answer,
    ...(item.level !== undefined ? { level: item.level } : {}), ...(item.subject !== undefined ? { subject: item.subject } : {}),
    prediction: head.prediction, correct: head.correct, reason: head.reason, samples, majority,
    tokens: samples.reduce((a, x) => a + x.tokens, 0), ms, finishedAt,
  };
}

/** Grades one item's samples into a record. */
export async function evaluateItem(runId: string, item: BenchmarkItem, config: EvalConfig, generate: Generate, signal?: { readonly aborted: boolean }, now: () => number = Date.now): Promise<EvalItemRecord | null> {
  const t0 = now();
  const samples: EvalSampleResult[] = [];
  const k = Math.max(1, Math.floor(config.samples));
  for (let s = 0; s < k; s++) {
    let g: Generated | PromptTooLongError;
    try {
      g = await generate(item.problem, { maxTokens: config.maxTokens, temperature: config.temperature, topP: config.topP, rng: sampleRng(config, item.key, s), system: config.system, ...thinkingOf(config), signal });
    } catch (e) {
      if (!(e instanceof PromptTooLongError)) throw e;
      g = e;
    }
    if (!(g instanceof PromptTooLongError) && (g.stop === 'cancelled' || signal?.aborted)) return null;
    samples.push(await gradeSample(g, item));
  }
  return itemRecord(runId, item, samples, now() - t0, now());
}

/** Items decoded together: every sample of every item in one generateBatch call; null when cancelled
 *  (nothing of the batch is stored, a resume redoes it with the same seeds). Each record's ms is its
 *  share of the batch's time. */
export async function evaluateBatch(runId: string, items: readonly BenchmarkItem[], config: EvalConfig, generateBatch: GenerateBatch, signal?: { readonly aborted: boolean }, now: () => number = Date.now): Promise<EvalItemRecord[] | null> {
  const t0 = now();
  const k = Math.max(1, Math.floor(config.samples));
  const requests = items.flatMap((item) => Array.from({ length: k }, (_, s) => ({
    problem: item.problem, maxTokens: config.maxTokens, temperature: config.temperature, topP: config.topP, rng: sampleRng(config, item.key, s), system: config.system, ...thinkingOf(config), signal,
  })));
  const out = await generateBatch(requests);
  if (signal?.aborted || out.some((g) => !(g instanceof PromptTooLongError) && g.stop === 'cancelled')) return null;
  const ms = (now() - t0) / Math.max(1, items.length);
  const records: EvalItemRecord[] = [];
  for (let i = 0; i < items.length; i++) {
    const samples: EvalSampleResult[] = [];
    for (let s = 0; s < k; s++) samples.push(await gradeSample(out[i * k + s], items[i]));
    records.push(itemRecord(runId, items[i], samples, ms, now()));
  }
  return records;
}

/**
 * Runs (or resumes) `runId` over `items` (the benchmark's items; only those in the run's frozen
 * itemKeys are evaluated). Items already stored are skipped. Returns the final run record.
 */
export async function runEvaluation(runId: string, items: readonly BenchmarkItem[], deps: RunDeps): Promise<EvalRunRecord> {
  const now = deps.now ?? Date.now;
  const run = await deps.store.getRun(runId);
  if (!run) throw new Error(`evaluation run ${runId} not found`);
  const byKey = new Map(items.map((i) => [i.key, i]));
  const missing = run.config.itemKeys.filter((k) => !byKey.has(k));
  const badRows = [...(run.summary?.badRows ?? [])];
  for (const k of missing) if (!badRows.includes(`item ${k} is no longer in the benchmark file`)) badRows.push(`item ${k} is no longer in the benchmark file`);
  const wanted = run.config.itemKeys.filter((k) => byKey.has(k)).map((k) => byKey.get(k)!);
  const total = wanted.length;
  const stored = new Map((await deps.store.listItems(runId)).map((r) => [r.itemKey, r]));
  const prevElapsed = run.summary?.elapsedMs ?? 0;
  const t0 = now();
  let doneHere = 0;
  let error: string | undefined;
  const report = (status: EvalRunRecord['status'], last?: EvalItemRecord) => {
    const elapsed = now() - t0;
    const done = [...stored.keys()].filter((k) => byKey.has(k)).length;
    deps.onProgress?.({
      runId, done, total, correct: [...stored.values()].filter((r) => r.correct).length,
      etaMs: doneHere > 0 ? eta(doneHere, doneHere + (total - done), elapsed) : null, elapsedMs: prevElapsed + elapsed, status,
      ...(error ? { error } : {}),
      ...(last ? { lastItem: { key: last.itemKey, correct: last.correct, reason: last.reason } } : {}),
    });
  };
  run.status = 'running';
  await deps.store.putRun(run);
  report('running');
  let status: EvalRunRecord['status'] = 'done';
  const todo = wanted.filter((item) => !stored.has(item.key));
  const per = deps.generateBatch ? Math.max(1, Math.floor(deps.batchSize ?? DEFAULT_EVAL_BATCH)) : 1;
  try {
    for (let b = 0; b < todo.length; b += per) {
      if (deps.signal?.aborted) { status = 'cancelled'; break; }
      const group = todo.slice(b, b + per);
      const recs = deps.generateBatch
        ? await evaluateBatch(runId, group, run.config, deps.generateBatch, deps.signal, now)
        : await evaluateItem(runId, group[0], run.config, deps.generate, deps.signal, now).then((r) => (r ? [r] : null));
      if (!recs) { status = 'cancelled'; break; }
      for (const rec of recs) { // each item stored as its own record, as before
        await deps.store.putItem(rec);
        stored.set(rec.itemKey, rec);
        doneHere++;
        run.summary = summarize([...stored.values()], total, badRows, prevElapsed + now() - t0);
        await deps.store.putRun(run);
        report('running', rec);
      }
    }
  } catch (e) {
    status = 'failed';
    error = e instanceof Error ? e.message : String(e);
  }
  const finalItems = [...stored.values()].filter((r) => byKey.has(r.itemKey));
  if (status === 'done' && finalItems.length < total) status = 'cancelled';
  run.status = status;
  run.summary = summarize(finalItems, total, badRows, prevElapsed + now() - t0, error);
  await deps.store.putRun(run);
  report(status);
  return run;
}

/** An EvalStore in memory (tests, and the CLI). */
export class MemoryEvalStore implements EvalStore {
  runs = new Map<string, EvalRunRecord>();
  items = new Map<string, EvalItemRecord>();
  putCalls = 0;
  async getRun(id: string) { const r = this.runs.get(id); return r ? structuredClone(r) : undefined; }
  async putRun(run: EvalRunRecord) { this.runs.set(run.id, structuredClone(run)); }
  async putItem(item: EvalItemRecord) { this.putCalls++; this.items.set(`${item.runId}\u0000${item.itemKey}`, structuredClone(item)); }
  async listItems(runId: string) { return [...this.items.values()].filter((i) => i.runId === runId).map((i) => structuredClone(i)); }
}
