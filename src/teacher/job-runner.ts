// Runs a teacher job: every (problem, sample) unit not yet in the pool is sent to the teacher under
// the concurrency limit with retries; each finished unit is graded, gated and committed together
// with the job's counters in one transaction. Trace ids are `${poolId}:${seq}` with
// seq = problemIndex * samples + sample, so a resumed job never duplicates a trace.
import type { DropReason } from '../domain/selection.ts';
import type { Trace } from '../domain/trace.ts';
import { extractAnswer, gradeResponse } from '../grading/index.ts';
import { segmentReasoning } from '../segment/segment.ts';
import { gateTrace } from '../selection/quality.ts';
import { DEFAULT_SELECTION } from '../selection/select.ts';
import { createTeacherClient } from './client.ts';
import { scrubSecrets, toTeacherError, TeacherError } from './errors.ts';
import { MAX_JOB_ERRORS, unitSeq } from './job.ts';
import type { JobErrorEntry, JobStatus, TeacherJobRecord } from '../domain/teacher.ts';
import { createLimiter } from './limiter.ts';
import { costOf } from './pricing.ts';
import { renderPrompt } from './prompt-template.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import type { Completion } from './types.ts';

/** Storage the runner needs (IndexedDB in the app: src/data/teacher-store.ts). */
export interface JobStore {
  getJob(id: string): Promise<TeacherJobRecord | undefined>;
  putJob(job: TeacherJobRecord): Promise<void>;
  /** Seqs of the traces already in the pool. */
  doneSeqs(poolId: string): Promise<Set<number>>;
  /** In one transaction: if no trace with this id exists, store it, apply `update` to the stored
   *  job and bump the pool's count. Returns the job as stored, and whether the trace was new. */
  commitTrace(jobId: string, trace: Trace, update: (job: TeacherJobRecord) => void): Promise<{ added: boolean; job: TeacherJobRecord }>;
}

export type StopReason = 'pause' | 'cancel';

export interface RunOptions {
  store: JobStore;
  apiKey: string;
  signal?: AbortSignal;
  /** Why the signal aborted (read when it fires). */
  stopReason?: () => StopReason;
  onProgress?: (job: TeacherJobRecord) => void;
  /** Key-free log lines (retries, errors, status), e.g. to the console. */
  onLog?: (line: string) => void;
  fetchImpl?: typeof fetch;
  retry?: Omit<RetryOptions, 'signal' | 'onRetry'>;
}

/** Quality gate of one teacher trace: the selection's trace-local checks (src/selection/quality.ts:
 *  answer present, no figure, not truncated, not too short, not degenerate), then, where the problem
 *  has a reference answer, the grader (src/grading). The Data view's selection applies its gate again. */
export interface GateResult {
  passed: boolean;
  reason?: DropReason | 'empty';
  detail: string;
}

export async function gateTeacherTrace(trace: Trace): Promise<GateResult> {
  if (!trace.reasoning.trim()) return { passed: false, reason: 'empty', detail: 'empty response' };
  const local = gateTrace(trace, DEFAULT_SELECTION);
  if (local) return { passed: false, reason: local.reason, detail: local.detail };
  if (!trace.referenceAnswer) return { passed: true, detail: 'answer present; no reference to grade against' };
  const g = await gradeResponse(trace.reasoning, trace.referenceAnswer);
  return g.correct ? { passed: true, detail: `correct: ${g.reason}` } : { passed: false, reason: 'wrong-answer', detail: g.reason };
}

const estTokens = (s: string) => Math.ceil(s.length / 4);

/** The trace of one finished unit (meta.gate is filled by the runner after gating). */
export function buildTrace(job: TeacherJobRecord, problemIndex: number, sample: number, c: Completion, cost: number | null): Trace {
  const answer = extractAnswer(c.text)?.answer ?? '';
  const p = job.problems[problemIndex];
  const seq = unitSeq(problemIndex, sample, job.samples);
  const trace: Trace = {
    id: `${job.poolId}:${seq}`,
    poolId: job.poolId,
    seq,
    problem: p.problem,
    reasoning: c.text,
    answer,
    referenceAnswer: p.reference,
    domain: p.domain ?? 'unlabelled',
    source: `teacher job ${job.name}`,
    teacher: job.teacherName,
    tokenCounts: { problem: estTokens(p.problem), reasoning: estTokens(c.text), answer: estTokens(answer), method: 'estimate' },
    segments: segmentReasoning(c.text),
    meta: {
      jobId: job.id,
      sample,
      origin: p.origin,
      model: c.model,
      finishReason: c.finishReason,
      usage: c.usage,
      cost,
      ...(c.thinking ? { thinking: c.thinking } : {}),
    },
  };
  if (p.level !== undefined) trace.level = p.level;
  if (c.logprobs?.length) trace.teacherTopK = { k: job.teacher.topLogprobs ?? c.logprobs[0].top.length, tokens: c.logprobs };
  return trace;
}

function pushError(job: TeacherJobRecord, e: JobErrorEntry): void {
  job.errors.push(e);
  if (job.errors.length > MAX_JOB_ERRORS) job.errors.splice(0, job.errors.length - MAX_JOB_ERRORS);
}

/** Errors after which every other unit would fail the same way: stop the job. */
function isFatal(e: TeacherError): boolean {
  return e.kind === 'config' || e.status === 401 || e.status === 403 || e.status === 404;
}

/** Run (or resume) a job until every unit has a trace, it is paused/cancelled, or a fatal error. */
export async function runJob(jobId: string, opts: RunOptions): Promise<TeacherJobRecord> {
  const { store, apiKey } = opts;
  const secrets = [apiKey];
  let job = await store.getJob(jobId);
  if (!job) throw new Error(`No teacher job with id ${jobId}.`);
  if (job.status === 'done' || job.status === 'cancelled') return job;
  const inner = new AbortController();
  const onOuter = () => inner.abort();
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  if (opts.signal?.aborted) inner.abort();
  const signal = inner.signal;
  let fatal: string | undefined;

  const done = await store.doneSeqs(job.poolId);
  job.progress = { ...job.progress, total: job.problems.length * job.samples, done: done.size, failed: 0 };
  job.status = 'running';
  job.failure = undefined;
  job.updatedAt = Date.now();
  await store.putJob(job);
  opts.onProgress?.(job);

  const client = createTeacherClient(job.teacher, { apiKey, fetchImpl: opts.fetchImpl });
  const limiter = createLimiter(job.concurrency);
  const tasks: Promise<void>[] = [];
  // The in-memory job is the truth for errors/retries; commits merge trace counters into it.
  const save = async () => { job!.updatedAt = Date.now(); await store.putJob(job!); opts.onProgress?.(job!); };
  let saving: Promise<void> = Promise.resolve();
  const queueSave = () => { saving = saving.then(save, save); return saving; };

  for (let pi = 0; pi < job.problems.length; pi++) {
    for (let s = 0; s < job.samples; s++) {
      const seq = unitSeq(pi, s, job.samples);
      if (done.has(seq)) continue;
      tasks.push(limiter.run(async () => {
        if (signal.aborted) return;
        const j = job!;
        try {
          const prompt = renderPrompt(j.template, j.problems[pi].problem);
          const c = await withRetry(() => client.complete(prompt, signal), {
            ...opts.retry,
            signal,
            onRetry: ({ attempt, delayMs, error }) => {
              j.progress.retries++;
              const message = scrubSecrets(`${error.message} (retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s)`, secrets);
              pushError(j, { seq, message, at: Date.now(), retry: true });
              opts.onLog?.(`teacher job ${j.id} unit ${seq}: ${message}`);
              void queueSave();
            },
          });
          if (signal.aborted) return;
          const cost = costOf(j.teacher.model, c.usage, j.prices) ?? null;
          const trace = buildTrace(j, pi, s, c, cost);
          const gate = await gateTeacherTrace(trace);
          trace.meta.gate = gate;
          // Update the in-memory job and write that same state with the trace.
          const { added } = await store.commitTrace(j.id, trace, (stored) => {
            j.progress.done++;
            if (gate.passed) j.progress.passed++;
            j.usage = { inputTokens: j.usage.inputTokens + c.usage.inputTokens, outputTokens: j.usage.outputTokens + c.usage.outputTokens };
            j.cost = cost === null ? null : (j.cost ?? 0) + cost;
            j.updatedAt = Date.now();
            Object.assign(stored, structuredClone(j));
          });
          if (added) opts.onProgress?.(j);
        } catch (e) {
          if (signal.aborted) return;
          const err = toTeacherError(e, secrets, signal);
          j.progress.failed++;
          const message = scrubSecrets(err.message, secrets);
          pushError(j, { seq, message, at: Date.now() });
          opts.onLog?.(`teacher job ${j.id} unit ${seq} failed: ${message}`);
          if (isFatal(err)) {
            fatal = `Stopped: ${scrubSecrets(err.message, secrets)}`;
            inner.abort();
          }
          await queueSave();
        }
      }));
    }
  }
  await Promise.all(tasks);
  await saving;
  opts.signal?.removeEventListener('abort', onOuter);

  let status: JobStatus;
  if (fatal) status = 'failed';
  else if (signal.aborted) status = opts.stopReason?.() === 'cancel' ? 'cancelled' : 'paused';
  else status = 'done';
  job.status = status;
  job.failure = fatal;
  await save();
  opts.onLog?.(`teacher job ${job.id}: ${status}, ${job.progress.done}/${job.progress.total} traces${fatal ? ' - ' + fatal : ''}`);
  return job;
}
