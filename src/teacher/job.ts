// Teacher generation jobs: the spec of a new one and the unit/pool numbering (the stored record is
// src/domain/teacher.ts TeacherJobRecord).
import type { JobProblem, ModelPrice, PromptTemplate, TeacherConfig } from '../domain/teacher.ts';

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
