// The page's one road to storage: settings, pools, traces, selections, evaluation runs, saved
// playground runs, training checkpoints and remembered teacher keys, all read and written in the
// data worker (workers/data/store-api.ts), where IndexedDB is opened; usage and persistence from
// navigator.storage. Views, components and app state import this module, never src/data's stores
// (tests/unit/storage-road.test.ts keeps it so). Cached models go through the engine worker
// (model-state.svelte.ts), which loads them.
import { dataWorker } from './data-client.ts';
import type { Trace } from '../domain/trace.ts';
import type { GuideRun } from '../domain/recipe.ts';
import type { EvalItemRecord, EvalRunRecord } from '../domain/eval.ts';

export { storageStatus } from '../data/quota.ts';

const w = () => dataWorker();

export const getSetting = <T>(key: string, fallback: T): Promise<T> => w().getSetting(key, fallback) as Promise<T>;
export const putSetting = (key: string, value: unknown): Promise<void> => w().putSetting(key, value);
export const listPools = () => w().listPools();
export const deletePool = (id: string) => w().deletePool(id);
export const keepPartialPool = (id: string) => w().keepPartialPool(id);
export const listSelections = (poolId: string) => w().listSelections(poolId);
export const deleteSelection = (id: string) => w().deleteSelection(id);
export const newestSelectionTraces = () => w().newestSelectionTraces();
export const getTrace = (id: string) => w().getTrace(id);
export const putTrace = (t: Trace) => w().putTrace(t);
export const listEvalRuns = () => w().listEvalRuns();
export const getEvalRun = (id: string) => w().getEvalRun(id);
export const listEvalItems = (runId: string) => w().listEvalItems(runId);
export const deleteEvalRun = (runId: string) => w().deleteEvalRun(runId);
export const settleInterruptedRuns = (activeRunId: string | null) => w().settleInterruptedRuns(activeRunId);
export const importEvalRun = (run: EvalRunRecord, items: EvalItemRecord[]) => w().importEvalRun(run, items);
export const saveGuideRun = (run: GuideRun) => w().saveGuideRun(run);
export const loadGuideRun = (id: string) => w().loadGuideRun(id);
export const listGuideRuns = (limit?: number) => w().listGuideRuns(limit);
export const deleteGuideRun = (id: string) => w().deleteGuideRun(id);
export const listCheckpoints = () => w().listCheckpoints();
export const deleteCheckpoint = (runId: string) => w().deleteCheckpoint(runId);
export const problemsFromPool = (poolId: string, limit?: number) => w().problemsFromPool(poolId, limit);
export const getRememberedKey = (slot: string) => w().getRememberedKey(slot);
export const rememberKey = (slot: string, key: string) => w().rememberKey(slot, key);
export const forgetKey = (slot: string) => w().forgetKey(slot);
export const teacherPoolJsonl = (poolId: string) => w().teacherPoolJsonl(poolId);
export { keySlot } from '../data/teacher-store.ts';
