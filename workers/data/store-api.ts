// The stores, for the page: every read and write the views, components and app state make goes
// through here (the page's one client is src/app/storage-client.ts), so IndexedDB is opened in
// this worker only and the queries stay in src/data.
import { getSetting, putSetting } from '../../src/data/db.ts';
import { deleteCheckpoint, listCheckpoints } from '../../src/data/checkpoint-store.ts';
import { deleteEvalRun, getEvalRun, listEvalItems, listEvalRuns, settleInterruptedRuns, storeImportedRun } from '../../src/data/eval-store.ts';
import type { EvalItemRecord, EvalRunRecord } from '../../src/domain/eval.ts';
import { newId } from '../../src/lib/id.ts';
import { deletePool, deleteSelection, getPoolTraces, getTrace, keepPartialPool, listPools, listSelections, newestSelectionTraces, putTrace } from '../../src/data/pool-store.ts';
import { deleteGuideRun, listGuideRuns, loadGuideRun, saveGuideRun } from '../../src/data/run-store.ts';
import { forgetKey, getRememberedKey, problemsFromPool, rememberKey } from '../../src/data/teacher-store.ts';
import { tracesToJsonl } from '../../src/teacher/jsonl.ts';

export const storeApi = {
  getSetting: <T>(key: string, fallback: T): Promise<T> => getSetting(key, fallback),
  putSetting: (key: string, value: unknown) => putSetting(key, value),
  listPools: () => listPools(),
  deletePool: (id: string) => deletePool(id),
  keepPartialPool: (id: string) => keepPartialPool(id),
  listSelections: (poolId: string) => listSelections(poolId),
  deleteSelection: (id: string) => deleteSelection(id),
  newestSelectionTraces: () => newestSelectionTraces(),
  getTrace: (id: string) => getTrace(id),
  putTrace: (t: Parameters<typeof putTrace>[0]) => putTrace(t),
  listEvalRuns: () => listEvalRuns(),
  getEvalRun: (id: string) => getEvalRun(id),
  listEvalItems: (runId: string) => listEvalItems(runId),
  deleteEvalRun: (runId: string) => deleteEvalRun(runId),
  settleInterruptedRuns: (activeRunId: string | null) => settleInterruptedRuns(activeRunId),
  /** An exported run read back (a run id already here gets a new one); returns the id used. */
  importEvalRun: (run: EvalRunRecord, items: EvalItemRecord[]) => storeImportedRun(run, items, () => newId('eval', Date.now())),
  saveGuideRun: (run: Parameters<typeof saveGuideRun>[0]) => saveGuideRun(run),
  loadGuideRun: (id: string) => loadGuideRun(id),
  listGuideRuns: (limit?: number) => listGuideRuns(limit),
  deleteGuideRun: (id: string) => deleteGuideRun(id),
  listCheckpoints: () => listCheckpoints(),
  deleteCheckpoint: (runId: string) => deleteCheckpoint(runId),
  problemsFromPool: (poolId: string, limit?: number) => problemsFromPool(poolId, undefined, limit),
  getRememberedKey: (slot: string) => getRememberedKey(slot),
  rememberKey: (slot: string, key: string) => rememberKey(slot, key),
  forgetKey: (slot: string) => forgetKey(slot),
  /** A teacher job's pool as JSONL (the traces as stored; they never hold the key). */
  async teacherPoolJsonl(poolId: string): Promise<string> {
    return tracesToJsonl(await getPoolTraces(poolId));
  },
};
