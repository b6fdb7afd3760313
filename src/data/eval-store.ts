// Typed IndexedDB helpers for evaluation runs (store evalRuns) and per-item results (evalItems,
// key [runId, itemKey]: writing an item twice overwrites it, so a resumed run never counts twice).
import type { EvalStore } from '../eval/runner.ts';
import type { EvalItemRecord, EvalRunRecord } from '../domain/eval.ts';
import { openDb, type RBDatabase } from './db.ts';

/** The runner's store over the app database (`dbName` for tests only). */
export class IdbEvalStore implements EvalStore {
  constructor(private readonly dbName?: string) {}
  private db(): Promise<RBDatabase> { return openDb(this.dbName); }
  async getRun(id: string): Promise<EvalRunRecord | undefined> {
    return (await this.db()).get('evalRuns', id);
  }
  async putRun(run: EvalRunRecord): Promise<void> {
    await (await this.db()).put('evalRuns', run);
  }
  async putItem(item: EvalItemRecord): Promise<void> {
    await (await this.db()).put('evalItems', item);
  }
  async listItems(runId: string): Promise<EvalItemRecord[]> {
    return (await this.db()).getAllFromIndex('evalItems', 'runId', runId);
  }
}

/** All runs, newest first. */
export async function listEvalRuns(dbName?: string): Promise<EvalRunRecord[]> {
  const all = await (await openDb(dbName)).getAllFromIndex('evalRuns', 'createdAt');
  return all.reverse();
}

export async function getEvalRun(id: string, dbName?: string): Promise<EvalRunRecord | undefined> {
  return new IdbEvalStore(dbName).getRun(id);
}

export async function listEvalItems(runId: string, dbName?: string): Promise<EvalItemRecord[]> {
  return (await new IdbEvalStore(dbName).listItems(runId)).sort((a, b) => a.index - b.index);
}

/** Deletes a run and its items in one transaction. */
export async function deleteEvalRun(runId: string, dbName?: string): Promise<void> {
  const db = await openDb(dbName);
  const tx = db.transaction(['evalRuns', 'evalItems'], 'readwrite');
  const items = tx.objectStore('evalItems');
  for (const key of await items.index('runId').getAllKeys(runId)) await items.delete(key);
  await tx.objectStore('evalRuns').delete(runId);
  await tx.done;
}

/** Marks runs left 'running' by a closed tab as 'cancelled' (they can be resumed). */
export async function settleInterruptedRuns(activeRunId: string | null, dbName?: string): Promise<number> {
  const store = new IdbEvalStore(dbName);
  let n = 0;
  for (const r of await listEvalRuns(dbName)) {
    if (r.status === 'running' && r.id !== activeRunId) { r.status = 'cancelled'; await store.putRun(r); n++; }
  }
  return n;
}

/** Stores an imported run with its items; a run id already here gets a new one. Returns the id used. */
export async function storeImportedRun(run: EvalRunRecord, items: EvalItemRecord[], newRunId: () => string, dbName?: string): Promise<string> {
  const store = new IdbEvalStore(dbName);
  const id = (await store.getRun(run.id)) ? newRunId() : run.id;
  await store.putRun({ ...run, id, status: run.status === 'running' ? 'cancelled' : run.status });
  for (const it of items) await store.putItem({ ...it, runId: id });
  return id;
}
