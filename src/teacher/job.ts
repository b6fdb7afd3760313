// A teacher generation job as stored in IndexedDB (store `teacherJobs`). It never holds the key.
import type { TeacherJob } from '../data/types.ts';
import type { ModelPrice } from './pricing.ts';
import type { JobProblem } from './problems.ts';
import type { PromptTemplate } from './prompt-template.ts';
import type { TeacherConfig, Usage } from './types.ts';

export type JobStatus = 'created' | 'running' | 'paused' | 'cancelled' | 'done' | 'failed';

export interface JobErrorEntry {
  /** Unit = problemIndex * samples + sample (also the trace's seq in the pool). */
  seq: number;
  message: string;
  at: number;
  /** true: the unit was retried after this and may still succeed. */
  retry?: boolean;
}

export interface JobProgress {
  total: number;
  /** Units with a stored trace. */
  done: number;
  /** Of those, passed the quality gate. */
  passed: number;
  /** Units that failed for good in the last run (retried on resume). */
  failed: number;
  retries: number;
}

export interface TeacherJobRecord extends TeacherJob {
  id: string;
  createdAt: number;
  updatedAt: number;
  status: JobStatus;
  poolId: string;
  name: string;
  teacher: TeacherConfig;
  /** provider/model, written to every trace. */
  teacherName: string;
  template: PromptTemplate;
  problems: JobProblem[];
  samples: number;
  concurrency: number;
  prices: ModelPrice[];
  progress: JobProgress;
  usage: Usage;
  /** US$; null when the model has no price in the table. */
  cost: number | null;
  /** Latest errors, newest last, capped (MAX_JOB_ERRORS). Messages are key-free. */
  errors: JobErrorEntry[];
  /** Why the job stopped, when failed. */
  failure?: string;
}

export const MAX_JOB_ERRORS = 100;

export interface NewJobSpec {
  name?: string;
  teacher: TeacherConfig;
  template: PromptTemplate;
  problems: JobProblem[];
  samples: number;
  concurrency: number;
  prices: ModelPrice[];
}

export function unitSeq(problemIndex: number, sample: number, samples: number): number {
  return problemIndex * samples + sample;
}

export function poolIdForJob(jobId: string): string {
  return `teacher-${jobId}`;
}
