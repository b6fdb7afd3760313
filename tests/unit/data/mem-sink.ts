// In-memory TraceSink for Node tests of the import pipeline (the IndexedDB sink is exercised in the browser e2e test).
import type { TraceSink } from '../../../src/data/import/importer.ts';
import type { Pool, Trace } from '../../../src/domain/trace.ts';

export class MemSink implements TraceSink {
  pools = new Map<string, Pool>();
  traces = new Map<string, Trace>();
  batches = 0;
  /** Throw on this write call (1-based), to simulate a failing transaction. */
  failOnBatch = 0;
  async create(pool: Pool) { this.pools.set(pool.id, pool); }
  async write(ts: Trace[]) {
    this.batches++;
    if (this.batches === this.failOnBatch) throw new Error('QuotaExceededError (simulated)');
    for (const t of ts) this.traces.set(t.id, t);
  }
  async finish(pool: Pool) { this.pools.set(pool.id, pool); }
  async discard(poolId: string) {
    this.pools.delete(poolId);
    for (const [k, t] of this.traces) if (t.poolId === poolId) this.traces.delete(k);
  }
  poolTraces(poolId: string): Trace[] {
    return [...this.traces.values()].filter((t) => t.poolId === poolId).sort((a, b) => a.seq - b.seq);
  }
}
