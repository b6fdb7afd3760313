// Engine-worker module for adapter training: reads a pool's or a Reason1K selection's traces from
// IndexedDB and trains a LoRA adapter on the loaded model with the engine's loop (src/distill/train.ts
// over src/engine/adapter/train-loop.ts): events per step, pause / continue / cancel, a checkpoint
// every N steps (and when a pause begins) into IndexedDB (src/data/checkpoint-store.ts) from which
// resumeTraining() goes on after a reload or a lost device; the trained adapter is kept here and as
// a record (adapter-records.ts), and exported as PEFT files.
import { openDb } from '../../src/data/db.ts';
import { getPoolTraces, getSelection } from '../../src/data/pool-store.ts';
import { deleteCheckpoint, getCheckpoint, putCheckpoint, setCheckpointStatus } from '../../src/data/checkpoint-store.ts';
import type { TrainCheckpointRecord } from '../../src/domain/train.ts';
import type { Trace } from '../../src/domain/trace.ts';
import { exportPeftAdapter, type LoraAdapter } from '../../src/engine/adapter/lora.ts';
import type { StepProgress } from '../../src/engine/adapter/train-loop.ts';
import type { TrainSettings } from '../../src/distill/settings.ts';
import { planPlacementOnTraces, trainLoraOnTraces, type DistillSummary, type PlacementSummary } from '../../src/distill/train.ts';
import type { PlacementCandidate, PlacementPlan } from '../../src/engine/adapter/placement.ts';
import { newId } from '../../src/lib/id.ts';
import { saveTrainedAdapter } from './adapter-records.ts';
import { gpuContext, onDeviceLostInWorker } from './device-api.ts';
import { currentModel } from './model-api.ts';

export type { StepProgress } from '../../src/engine/adapter/train-loop.ts';
export type { TrainSettings } from '../../src/distill/settings.ts';
export type { DistillSummary, PlacementSummary } from '../../src/distill/train.ts';

/** What to train on: a whole pool (in import order) or a selection (in its sampling order). */
export interface TrainSpec extends TrainSettings { poolId?: string; selectionId?: string }

/** What a run reports while it trains (one comlink callback). */
export type TrainEvent =
  | { kind: 'started'; runId: string; steps: number; resumedAt: number }
  | { kind: 'placed'; placement: PlacementSummary }
  | { kind: 'step'; progress: StepProgress }
  | { kind: 'eval'; step: number; loss: number }
  | { kind: 'checkpoint'; step: number }
  | { kind: 'checkpoint-failed'; step: number; message: string }
  /** the pause took effect: the run waits after `step` (its checkpoint stored) */
  | { kind: 'paused'; step: number };

interface ActiveRun { runId: string; paused: boolean; cancelled: boolean; lost: boolean }

let trained: { adapter: LoraAdapter; summary: DistillSummary; modelId: string } | undefined;
let active: ActiveRun | undefined;
let probing = false;
let probeCancelled = false;

// A lost device ends the run (its GPU objects are gone); the last checkpoint stays for resumeTraining().
onDeviceLostInWorker(() => { if (active) active.lost = true; });

/** The traces a run over `spec` reads (also for the cluster export). */
export async function tracesForSpec(spec: TrainSpec): Promise<Trace[]> { return tracesFor(spec); }

async function tracesFor(spec: TrainSpec): Promise<Trace[]> {
  const db = await openDb();
  if (spec.selectionId) {
    const sel = await getSelection(spec.selectionId, db);
    if (!sel) throw new Error(`selection ${spec.selectionId} not found`);
    if (sel.ids.length === 0) throw new Error(`selection "${sel.name}" is empty: no trace to train on`);
    const byId = new Map((await getPoolTraces(sel.poolId, db)).map((t) => [t.id, t]));
    return sel.ids.slice(0, spec.maxExamples * 4).map((id) => byId.get(id)).filter((t): t is Trace => !!t);
  }
  if (!spec.poolId) throw new Error('choose a pool or a selection to train on');
  const traces = (await getPoolTraces(spec.poolId, db)).sort((a, b) => a.seq - b.seq);
  if (traces.length === 0) throw new Error(`pool ${spec.poolId} has no traces: the dataset is empty`);
  return traces.slice(0, spec.maxExamples * 4); // room for examples skipped as too long
}

/** The stored run's spec (written by execute() below from a TrainSpec; checked again by the run's settings checks). */
function specOfRecord(rec: TrainCheckpointRecord): TrainSpec {
  const s = rec.spec as Partial<TrainSpec>;
  if (typeof s.seqLen !== 'number' || typeof s.steps !== 'number' || !Array.isArray(s.targetModules) || !s.loss || (typeof s.poolId !== 'string' && typeof s.selectionId !== 'string')) {
    throw new Error(`run ${rec.runId}: its stored settings are incomplete, so it cannot be resumed (discard it)`);
  }
  return s as TrainSpec;
}

/** Trains (or goes on from `resumeFrom`) and stores checkpoints under `runId`. */
async function execute(runId: string, spec: TrainSpec, createdAt: number, resumeFrom: TrainCheckpointRecord['checkpoint'] | undefined, onEvent?: (e: TrainEvent) => void): Promise<DistillSummary> {
  const model = currentModel();
  if (!model) throw new Error('no model loaded: load a student in Models / Device first');
  if (active || probing) throw new Error('a training run is already in progress');
  const run: ActiveRun = { runId, paused: false, cancelled: false, lost: false };
  active = run;
  const emit = (e: TrainEvent) => { void Promise.resolve(onEvent?.(e)).catch(() => {}); };
  try {
    const traces = await tracesFor(spec);
    const ctx = await gpuContext();
    emit({ kind: 'started', runId, steps: spec.steps, resumedAt: resumeFrom?.step ?? 0 });
    let stored: TrainSpec = spec;
    const r = await trainLoraOnTraces(ctx, model.decoder, model.tokenizer, traces, spec, {
      baseModel: model.id, baseParams: model.info.params, resumeFrom,
      onPlaced: (p) => {
        // a solved sparse placement is kept with the run, so a resume trains the same modules without probing again
        if (p.mode !== 'manual') stored = { ...spec, modules: p.modules };
        emit({ kind: 'placed', placement: p });
      },
      onProgress: (progress) => emit({ kind: 'step', progress }),
      onEval: (e) => emit({ kind: 'eval', ...e }),
      onCheckpoint: async (checkpoint) => {
        try {
          await putCheckpoint({ runId, createdAt, updatedAt: Date.now(), modelId: model.id, status: run.paused ? 'paused' : 'running', spec: { ...stored }, checkpoint });
          emit({ kind: 'checkpoint', step: checkpoint.step });
        } catch (e) { // the previous checkpoint stays (the put is atomic); training goes on
          emit({ kind: 'checkpoint-failed', step: checkpoint.step, message: (e as Error).message });
        }
        if (run.paused) emit({ kind: 'paused', step: checkpoint.step }); // the loop stores a checkpoint when a pause begins
      },
      isCancelled: () => run.cancelled || run.lost,
      isPaused: () => run.paused,
    });
    if (run.lost) throw new Error('The GPU device was lost during training.');
    trained = { ...r, modelId: model.id };
    // kept in IndexedDB: offered in Playground / Evaluate after a reload (a failed write loses only the record)
    await saveTrainedAdapter(r.adapter, r.summary, model.id, { ...stored }).catch((e: unknown) => { console.warn(`adapter record not saved: ${(e as Error).message}`); });
    // finished or cancelled: nothing left to resume
    await deleteCheckpoint(runId).catch(() => {});
    return r.summary;
  } catch (e) {
    // the last checkpoint (if any) stays, offered as an unfinished run
    await setCheckpointStatus(runId, 'interrupted').catch(() => {});
    throw e;
  } finally {
    active = undefined;
  }
}

/** The trained adapter itself, for inference (workers/engine/adapter-api.ts). */
export function trainedLora(): { adapter: LoraAdapter; modelId: string } | undefined {
  return trained ? { adapter: trained.adapter, modelId: trained.modelId } : undefined;
}

export const trainApi = {
  /** Trains a fresh adapter; resolves with its summary (also after a cancel, with the steps done). */
  async startTraining(spec: TrainSpec, onEvent?: (e: TrainEvent) => void): Promise<DistillSummary> {
    return execute(newId('run'), spec, Date.now(), undefined, onEvent);
  },
  /** Goes on with a stored run from its last checkpoint (after a reload or a lost device) on the same model. */
  async resumeTraining(runId: string, onEvent?: (e: TrainEvent) => void): Promise<DistillSummary> {
    const rec = await getCheckpoint(runId);
    if (!rec) throw new Error(`run ${runId} has no checkpoint (it was discarded or finished)`);
    const model = currentModel();
    if (!model) throw new Error(`no model loaded: this run trains ${rec.modelId}; load it first`);
    if (model.id !== rec.modelId) throw new Error(`this run trains ${rec.modelId}, but ${model.id} is loaded: load ${rec.modelId} to resume it`);
    return execute(runId, specOfRecord(rec), rec.createdAt, rec.checkpoint, onEvent);
  },
  /** Importance probe (reasoning tokens of the first placement.probeExamples traces) and the budget solver's
   *  placement, for the Train view's heatmap before training. */
  async probePlacement(spec: TrainSpec, onProbe?: (done: number, total: number) => void): Promise<{ candidates: PlacementCandidate[]; plan: PlacementPlan }> {
    const model = currentModel();
    if (!model) throw new Error('no model loaded: load a student in Models / Device first');
    if (active || probing) throw new Error('a training run is in progress');
    if (!spec.placement || spec.placement.mode === 'manual') throw new Error('choose the importance or uniform placement first');
    probing = true; probeCancelled = false;
    try {
      const traces = await tracesFor({ ...spec, maxExamples: Math.max(spec.maxExamples, spec.placement.probeExamples) });
      return await planPlacementOnTraces(await gpuContext(), model.decoder, model.tokenizer, traces, spec, model.info.params, { onProbe, isCancelled: () => probeCancelled });
    } finally { probing = false; }
  },
  /** Waits between steps; the checkpoint stored when the pause begins carries the status (no second write that could race it). */
  pauseTraining(): void {
    if (active) active.paused = true;
  },
  continueTraining(): void {
    if (active) active.paused = false;
  },
  cancelTraining(): void {
    probeCancelled = true;
    if (active) active.cancelled = true;
  },
  /** The run training in this worker now, if any. */
  activeRun(): { runId: string; paused: boolean } | undefined {
    return active ? { runId: active.runId, paused: active.paused } : undefined;
  },
  /** Summary of the adapter kept in the worker, if any. */
  trainedAdapter(): DistillSummary | undefined {
    return trained?.summary;
  },
  /** PEFT files of the trained adapter, for download. */
  exportAdapter(): { adapterConfig: string; safetensors: Uint8Array } {
    if (!trained) throw new Error('no trained adapter: run a training first');
    return exportPeftAdapter(trained.adapter);
  },
};
