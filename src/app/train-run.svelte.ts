// App state of adapter training: the run in the engine worker (progress per step, pause / continue /
// cancel, the last stored checkpoint), its summary, and the unfinished runs kept in IndexedDB
// (checkpoints of runs a reload or a lost device interrupted) to resume or discard. Views read
// `trainRun` and call these actions; the work is in workers/engine/train-api.ts.
import { Comlink, engine } from './engine-client.ts';
import { deleteCheckpoint, listCheckpoints } from './storage-client.ts';
import type { TrainRunStatus } from '../domain/train.ts';
import type { DistillSummary, PlacementSummary, StepProgress, TrainEvent, TrainSpec } from '../../workers/engine/train-api.ts';

/** A stored run that is not training now. */
export interface UnfinishedRun { runId: string; modelId: string; status: TrainRunStatus; step: number; steps: number; updatedAt: number; source: string; placement: string }

export const trainRun = $state<{
  /** a run is training in the worker (started or resumed here) */
  running: boolean;
  paused: boolean;
  /** the step the run waits after, once the pause took effect (0: not yet) */
  pausedAt: number;
  cancelling: boolean;
  runId: string | null;
  steps: number;
  resumedAt: number;
  progress: StepProgress | null;
  losses: number[];
  valLosses: Array<{ step: number; loss: number }>;
  placement: PlacementSummary | null;
  /** step of the last checkpoint stored for this run */
  checkpointStep: number;
  checkpointWarning: string;
  summary: DistillSummary | null;
  error: string;
  unfinished: UnfinishedRun[];
}>({
  running: false, paused: false, pausedAt: 0, cancelling: false, runId: null, steps: 0, resumedAt: 0, progress: null, losses: [], valLosses: [], placement: null,
  checkpointStep: 0, checkpointWarning: '', summary: null, error: '', unfinished: [],
});

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^Error: /, '');
}

function onEvent(e: TrainEvent): void {
  switch (e.kind) {
    case 'started': trainRun.runId = e.runId; trainRun.steps = e.steps; trainRun.resumedAt = e.resumedAt; trainRun.checkpointStep = e.resumedAt; break;
    case 'placed': trainRun.placement = e.placement; break;
    case 'step': trainRun.progress = e.progress; trainRun.losses = [...trainRun.losses, e.progress.loss]; break;
    case 'eval': trainRun.valLosses = [...trainRun.valLosses, { step: e.step, loss: e.loss }]; break;
    case 'checkpoint': trainRun.checkpointStep = e.step; trainRun.checkpointWarning = ''; break;
    case 'checkpoint-failed': trainRun.checkpointWarning = e.message; break;
    case 'paused': if (trainRun.paused) trainRun.pausedAt = e.step; break;
  }
}

async function drive(call: () => Promise<DistillSummary>, losses: number[]): Promise<DistillSummary | null> {
  if (trainRun.running) return null;
  Object.assign(trainRun, { running: true, paused: false, pausedAt: 0, cancelling: false, runId: null, progress: null, losses, valLosses: [], placement: null, checkpointStep: 0, checkpointWarning: '', summary: null, error: '' });
  try {
    const s = await call();
    trainRun.summary = s;
    trainRun.losses = s.losses;
    return s;
  } catch (e) {
    trainRun.error = message(e);
    return null;
  } finally {
    trainRun.running = false; trainRun.paused = false; trainRun.pausedAt = 0; trainRun.cancelling = false;
    await refreshUnfinished();
  }
}

/** Trains a fresh adapter on `spec`; resolves with the summary (null on an error, in trainRun.error). */
export function startTraining(spec: TrainSpec): Promise<DistillSummary | null> {
  return drive(() => engine().startTraining(spec, Comlink.proxy(onEvent)), []);
}

/** Goes on with a stored run from its last checkpoint (the model it trains must be loaded). */
export function resumeRun(runId: string): Promise<DistillSummary | null> {
  return drive(() => engine().resumeTraining(runId, Comlink.proxy(onEvent)), []);
}

export function pauseRun(): void {
  trainRun.paused = true; trainRun.pausedAt = 0;
  void engine().pauseTraining();
}

export function continueRun(): void {
  trainRun.paused = false; trainRun.pausedAt = 0;
  void engine().continueTraining();
}

export function cancelRun(): void {
  trainRun.cancelling = true;
  void engine().cancelTraining();
}

/** Deletes a stored run's checkpoint (its adapter so far is dropped). */
export async function discardRun(runId: string): Promise<void> {
  try { await deleteCheckpoint(runId); } catch (e) { trainRun.error = `could not discard run ${runId}: ${message(e)}`; }
  await refreshUnfinished();
}

/** Reads the stored runs that are not training in the worker now (and what the worker is doing). */
export async function refreshUnfinished(): Promise<void> {
  try {
    const [recs, act] = await Promise.all([listCheckpoints(), engine().activeRun().catch(() => undefined)]);
    trainRun.unfinished = recs.filter((r) => r.runId !== act?.runId && r.status !== 'done' && r.status !== 'cancelled').map((r) => {
      const spec = r.spec as Partial<TrainSpec>;
      const placement = spec.placement && spec.placement.mode !== 'manual' ? `${spec.placement.mode} placement, budget ${(100 * spec.placement.budget).toFixed(2)}%` : `rank ${spec.rank ?? '?'} on ${(spec.targetModules ?? []).join(', ')}`;
      return { runId: r.runId, modelId: r.modelId, status: r.status, step: r.checkpoint.step, steps: Number(spec.steps ?? 0), updatedAt: r.updatedAt, source: spec.selectionId ? `selection ${spec.selectionId}` : `pool ${spec.poolId ?? '?'}`, placement };
    });
  } catch (e) {
    trainRun.error = `could not read stored runs: ${message(e)}`;
  }
}

/** After a reload: the adapter the worker still holds (it survives view changes, not reloads). */
export async function restoreSummary(): Promise<void> {
  if (trainRun.summary || trainRun.running) return;
  const s = await engine().trainedAdapter().catch(() => undefined);
  if (s && !trainRun.summary && !trainRun.running) { trainRun.summary = s; trainRun.losses = s.losses; }
}
