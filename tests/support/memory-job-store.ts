// An in-memory JobStore with the same transactional contract as src/data/teacher-store.ts
// (which the e2e test exercises on real IndexedDB). Unit tests of the runner use it.
import type { Trace, Pool } from '../../src/domain/trace.ts';
import type { JobStore } from '../../src/teacher/job-runner.ts';
import type { TeacherJobRecord } from '../../src/domain/teacher.ts';

export class MemoryJobStore implements JobStore {
  jobs = new Map<string, TeacherJobRecord>();
  traces = new Map<string, Trace>();
  pools = new Map<string, Pool>();
  commits = 0;
  async getJob(id: string) { const j = this.jobs.get(id); return j && structuredClone(j); }
  async putJob(job: TeacherJobRecord) { this.jobs.set(job.id, structuredClone(job)); }
  async doneSeqs(poolId: string) { return new Set([...this.traces.values()].filter((t) => t.poolId === poolId).map((t) => t.seq)); }
  async commitTrace(jobId: string, trace: Trace, update: (job: TeacherJobRecord) => void) {
    const job = structuredClone(this.jobs.get(jobId)!);
    if (this.traces.has(trace.id)) return { added: false, job };
    this.traces.set(trace.id, structuredClone(trace));
    update(job);
    this.jobs.set(jobId, structuredClone(job));
    const pool = this.pools.get(trace.poolId);
    if (pool) pool.counts.traces++;
    this.commits++;
    return { added: true, job };
  }
}
