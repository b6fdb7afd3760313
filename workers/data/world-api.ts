// The tiny world's local teacher in the data worker: a seeded train pool of world problems with
// programmatic traces, written to IndexedDB as a new pool (as an import or an API teacher would).
// The flaws stay out of the stored traces: `worldPool` recomputes them from (n, seed).
import { openDb } from '../../src/data/db.ts';
import { idbSink } from '../../src/data/pool-store.ts';
import type { Pool } from '../../src/domain/trace.ts';
import { newId } from '../../src/lib/id.ts';
import { worldPool, worldPoolName } from '../../src/world/pool.ts';
import { endJob, startJob } from './context.ts';

export interface WorldPoolRequest { n: number; seed: number; flawRate?: number }

export const worldApi = {
  async makeWorldPool(jobId: string, req: WorldPoolRequest, onProgress?: (done: number, total: number) => void): Promise<Pool> {
    const signal = startJob(jobId);
    const db = await openDb();
    const sink = idbSink(db);
    const poolId = newId('pool');
    try {
      if (!Number.isInteger(req.n) || req.n < 1 || req.n > 100_000) throw new Error(`world pool: n must be an integer in 1..100000, got ${req.n}`);
      const { traces, flaws } = worldPool({ n: req.n, seed: req.seed, poolId, flawRate: req.flawRate });
      const pool: Pool = {
        id: poolId, name: worldPoolName(req), createdAt: Date.now(), status: 'importing', counts: { traces: 0, rejected: 0 },
        source: { kind: 'world', name: `tiny-world n=${req.n} seed=${req.seed}`, provenance: `src/world programmatic teacher, ${flaws.size} flawed traces (kinds kept apart from the traces)` },
      };
      await sink.create(pool);
      for (let i = 0; i < traces.length; i += 1000) {
        if (signal.aborted) throw Object.assign(new Error('world pool cancelled'), { name: 'AbortError' });
        await sink.write(traces.slice(i, i + 1000));
        onProgress?.(Math.min(traces.length, i + 1000), traces.length);
      }
      const done: Pool = { ...pool, status: 'ready', counts: { traces: traces.length, rejected: 0 } };
      await sink.finish(done);
      return done;
    } catch (e) {
      await sink.discard(poolId);
      throw e;
    } finally {
      endJob(jobId);
    }
  },
};
