// The teacher worker runs generation jobs (HTTP to the teacher API, grading, IndexedDB writes)
// off the main thread. The API key arrives per start() call and lives only in this run's memory.
import * as Comlink from 'comlink';
import { createJobWithPool, getJob, idbJobStore, listJobs, problemsFromPool, putJob } from '../src/data/teacher-store.ts';
import { runJob, type StopReason } from '../src/teacher/job-runner.ts';
import { newJobRecord, validateSpec } from '../src/teacher/new-job.ts';
import type { NewJobSpec } from '../src/teacher/job.ts';
import type { TeacherJobRecord } from '../src/domain/teacher.ts';

const running = new Map<string, { ac: AbortController; reason: StopReason; done: Promise<TeacherJobRecord> }>();

const api = {
  async createJob(spec: NewJobSpec): Promise<TeacherJobRecord> {
    const errs = validateSpec(spec);
    if (errs.length) throw new Error(errs.join('\n'));
    const { job, pool } = newJobRecord(spec);
    await createJobWithPool(job, pool);
    return job;
  },

  listJobs: () => listJobs(),
  problemsFromPool: (poolId: string, limit?: number) => problemsFromPool(poolId, undefined, limit),

  /** Run or resume a job; resolves when it is done, paused, cancelled or failed. */
  async start(jobId: string, apiKey: string, onProgress?: (job: TeacherJobRecord) => void): Promise<TeacherJobRecord> {
    const live = running.get(jobId);
    if (live) return live.done;
    const entry = { ac: new AbortController(), reason: 'pause' as StopReason, done: undefined as unknown as Promise<TeacherJobRecord> };
    entry.done = runJob(jobId, {
      store: idbJobStore(),
      apiKey,
      signal: entry.ac.signal,
      stopReason: () => entry.reason,
      onLog: (line) => console.info(line),
      onProgress: onProgress ? (j) => { try { onProgress(j); } catch { /* UI gone */ } } : undefined,
    }).finally(() => running.delete(jobId));
    running.set(jobId, entry);
    return entry.done;
  },

  /** Stop a running job (status 'paused'); the finished traces stay. */
  pause(jobId: string): void {
    const r = running.get(jobId);
    if (r) { r.reason = 'pause'; r.ac.abort(); }
  },

  /** Stop for good (status 'cancelled'); also for a job that is not running now. */
  async cancel(jobId: string): Promise<void> {
    const r = running.get(jobId);
    if (r) { r.reason = 'cancel'; r.ac.abort(); await r.done.catch(() => {}); return; }
    const job = await getJob(jobId);
    if (job && job.status !== 'done') { job.status = 'cancelled'; job.updatedAt = Date.now(); await putJob(job); }
  },

  isRunning: (jobId: string): boolean => running.has(jobId),
};

export type TeacherWorkerApi = typeof api;
Comlink.expose(api);
