// Where an import writes its pool and traces: IndexedDB in the app (pool-store.ts idbSink), an array
// in tests. Kept in src/data (not import/) so the stores never import the importers.
import type { Pool, Trace } from '../domain/trace.ts';

export interface TraceSink {
  create(pool: Pool): Promise<void>;
  write(traces: Trace[]): Promise<void>;
  finish(pool: Pool): Promise<void>;
  /** Removes the pool and every trace it holds. */
  discard(poolId: string): Promise<void>;
}
