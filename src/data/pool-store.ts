// Typed helpers over the pools / traces / selections stores (page or worker). Trace ids are
// `${poolId}:${seq}`, so a pool's traces are one primary-key range and a pool is deleted in one
// range delete: a failed import never touches another pool.
import type { TraceSink } from './sink.ts';
import { openDb, type RBDatabase } from './db.ts';
import type { Pool, Trace } from '../domain/trace.ts';
import type { Selection } from '../domain/selection.ts';

export function poolKeyRange(poolId: string): IDBKeyRange {
  // ':' (0x3a) < ';' (0x3b): every `${poolId}:...` key and nothing else.
  return IDBKeyRange.bound(`${poolId}:`, `${poolId};`, false, true);
}

/** Writes an import into IndexedDB: one readwrite transaction per batch. */
export function idbSink(db: RBDatabase): TraceSink {
  return {
    async create(pool) {
      await db.put('pools', pool);
    },
    async write(traces) {
      const tx = db.transaction('traces', 'readwrite');
      // A failed transaction rejects tx.done (handled by the importer); each put's own rejection is the same failure.
      for (const t of traces) tx.store.put(t).catch(() => {});
      await tx.done;
    },
    async finish(pool) {
      await db.put('pools', pool);
    },
    async discard(poolId) {
      await deletePool(poolId, db);
    },
  };
}

/** Pools, newest first. An interrupted ('importing') pool's count is what it really holds. */
export async function listPools(db?: RBDatabase): Promise<Pool[]> {
  const d = db ?? (await openDb());
  const pools = (await d.getAllFromIndex('pools', 'createdAt')).reverse();
  for (const p of pools) {
    if (p.status === 'importing') p.counts = { ...p.counts, traces: await d.count('traces', poolKeyRange(p.id)) };
  }
  return pools;
}

/** Where an interrupted import stopped: its last stored trace's source line and the next seq. */
export async function lastStored(poolId: string, db?: RBDatabase): Promise<{ afterLine: number; nextSeq: number }> {
  const d = db ?? (await openDb());
  const cur = await d.transaction('traces').store.index('poolSeq').openCursor(IDBKeyRange.bound([poolId, -Infinity], [poolId, Infinity]), 'prev');
  if (!cur) return { afterLine: 0, nextSeq: 0 };
  const line = Number((cur.value.meta as Record<string, unknown> | undefined)?.line);
  return { afterLine: Number.isFinite(line) ? line : 0, nextSeq: cur.value.seq + 1 };
}

/** The interrupted import of the file with this fingerprint, if one is stored. */
export async function interruptedImport(fingerprint: string, db?: RBDatabase): Promise<Pool | undefined> {
  return (await listPools(db)).find((p) => p.status === 'importing' && p.source.fingerprint === fingerprint);
}

/** About how many bytes a pool's traces take (a sample of traces' JSON sizes x the count). */
export async function poolBytes(pool: Pool, db?: RBDatabase): Promise<number> {
  const d = db ?? (await openDb());
  let cur = await d.transaction('traces').store.openCursor(poolKeyRange(pool.id));
  let n = 0;
  let chars = 0;
  while (cur && n < 20) {
    chars += JSON.stringify(cur.value).length;
    n++;
    cur = await cur.continue();
  }
  return n ? Math.round((2 * chars * pool.counts.traces) / n) : 0;
}

export async function getPool(id: string, db?: RBDatabase): Promise<Pool | undefined> {
  return (db ?? (await openDb())).get('pools', id);
}

/** Deletes a pool, its traces and its selections in one transaction. */
export async function deletePool(poolId: string, db?: RBDatabase): Promise<void> {
  const d = db ?? (await openDb());
  const tx = d.transaction(['pools', 'traces', 'selections'], 'readwrite');
  const done = tx.done;
  done.catch(() => {}); // awaited below; an abort must not surface unhandled when a request fails first
  tx.objectStore('traces').delete(poolKeyRange(poolId)).catch(() => {}); // failures reject tx.done
  const sels = await tx.objectStore('selections').index('poolId').getAllKeys(poolId);
  for (const k of sels) tx.objectStore('selections').delete(k).catch(() => {});
  tx.objectStore('pools').delete(poolId).catch(() => {});
  await done;
}

/** An import interrupted by a closed tab leaves a pool 'importing': keep the rows it wrote. */
export async function keepPartialPool(poolId: string, db?: RBDatabase): Promise<Pool | undefined> {
  const d = db ?? (await openDb());
  const tx = d.transaction(['pools', 'traces'], 'readwrite');
  const pool = await tx.objectStore('pools').get(poolId);
  if (!pool) return undefined;
  const n = await tx.objectStore('traces').count(poolKeyRange(poolId));
  const kept: Pool = { ...pool, status: 'ready', counts: { ...pool.counts, traces: n } };
  await tx.objectStore('pools').put(kept);
  await tx.done;
  return kept;
}

export async function getPoolTraces(poolId: string, db?: RBDatabase): Promise<Trace[]> {
  const d = db ?? (await openDb());
  return d.getAll('traces', poolKeyRange(poolId));
}

/** Traces of a pool with seq in [fromSeq, fromSeq + limit), in seq order. */
export async function poolTracesPage(poolId: string, fromSeq: number, limit: number, db?: RBDatabase): Promise<Trace[]> {
  return (db ?? (await openDb())).getAllFromIndex('traces', 'poolSeq', IDBKeyRange.bound([poolId, fromSeq], [poolId, fromSeq + limit], false, true));
}

export async function getTrace(id: string, db?: RBDatabase): Promise<Trace | undefined> {
  return (db ?? (await openDb())).get('traces', id);
}

export async function putTrace(t: Trace, db?: RBDatabase): Promise<void> {
  await (db ?? (await openDb())).put('traces', t);
}

export async function listSelections(poolId: string, db?: RBDatabase): Promise<Selection[]> {
  const d = db ?? (await openDb());
  const all = await d.getAllFromIndex('selections', 'poolId', poolId);
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function getSelection(id: string, db?: RBDatabase): Promise<Selection | undefined> {
  return (db ?? (await openDb())).get('selections', id);
}

export async function putSelection(s: Selection, db?: RBDatabase): Promise<void> {
  await (db ?? (await openDb())).put('selections', s);
}

export async function deleteSelection(id: string, db?: RBDatabase): Promise<void> {
  await (db ?? (await openDb())).delete('selections', id);
}

/** The newest Reason1K selection in the database and its kept traces in sampling order (null when there is none or it is empty). */
export async function newestSelectionTraces(db?: RBDatabase): Promise<{ name: string; traces: Trace[] } | null> {
  const d = db ?? (await openDb());
  const sels = await d.getAllFromIndex('selections', 'createdAt');
  const newest = sels[sels.length - 1];
  if (!newest || newest.ids.length === 0) return null;
  const traces = (await Promise.all(newest.ids.map((id) => d.get('traces', id)))).filter((t): t is Trace => t !== undefined);
  return { name: newest.name, traces };
}
