// Engine-worker module for adapter training: reads a pool's or a Reason1K selection's traces from
// IndexedDB, trains a LoRA adapter on the loaded model (src/distill/train.ts) with
// progress per step and cancel, keeps the trained adapter here and exports it as PEFT files.
import { openDb } from '../../src/data/db.ts';
import { getPoolTraces, getSelection } from '../../src/data/pool-store.ts';
import type { Trace } from '../../src/domain/trace.ts';
import { exportPeftAdapter, type LoraAdapter } from '../../src/engine/adapter/lora.ts';
import type { TrainProgress } from '../../src/engine/adapter/train-run.ts';
import type { TrainSettings } from '../../src/distill/settings.ts';
import { planPlacementOnTraces, trainLoraOnTraces, type DistillSummary } from '../../src/distill/train.ts';
import type { PlacementCandidate, PlacementPlan } from '../../src/engine/adapter/placement.ts';
import { saveTrainedAdapter } from './adapter-records.ts';
import { gpuContext } from './device-api.ts';
import { currentModel } from './model-api.ts';

export type { TrainProgress } from '../../src/engine/adapter/train-run.ts';
export type { TrainSettings } from '../../src/distill/settings.ts';
export type { DistillSummary } from '../../src/distill/train.ts';

/** What to train on: a whole pool (in import order) or a selection (in its sampling order). */
export interface TrainSpec extends TrainSettings { poolId?: string; selectionId?: string }

let trained: { adapter: LoraAdapter; summary: DistillSummary; modelId: string } | undefined;
let running = false;
let cancelled = false;

/** The traces a run over `spec` reads (also for the cluster export). */
export async function tracesForSpec(spec: TrainSpec): Promise<Trace[]> { return tracesFor(spec); }

async function tracesFor(spec: TrainSpec): Promise<Trace[]> {
  const db = await openDb();
  if (spec.selectionId) {
    const sel = await getSelection(spec.selectionId, db);
    if (!sel) throw new Error(`selection ${spec.selectionId} not found`);
    const byId = new Map((await getPoolTraces(sel.poolId, db)).map((t) => [t.id, t]));
    return sel.ids.slice(0, spec.maxExamples * 4).map((id) => byId.get(id)).filter((t): t is Trace => !!t);
  }
  if (!spec.poolId) throw new Error('choose a pool or a selection to train on');
  const traces = (await getPoolTraces(spec.poolId, db)).sort((a, b) => a.seq - b.seq);
  if (traces.length === 0) throw new Error(`pool ${spec.poolId} has no traces`);
  return traces.slice(0, spec.maxExamples * 4); // room for examples skipped as too long
}

/** The trained adapter itself, for inference (workers/engine/adapter-api.ts). */
export function trainedLora(): { adapter: LoraAdapter; modelId: string } | undefined {
  return trained ? { adapter: trained.adapter, modelId: trained.modelId } : undefined;
}

export const trainApi = {
  /** Trains a fresh adapter; resolves with its summary (also after a cancel, with the steps done). */
  async startTraining(spec: TrainSpec, onProgress?: (p: TrainProgress) => void): Promise<DistillSummary> {
    const model = currentModel();
    if (!model) throw new Error('no model loaded: load a student in Models / Device first');
    if (running) throw new Error('a training run is already in progress');
    running = true;
    cancelled = false;
    try {
      const traces = await tracesFor(spec);
      const ctx = await gpuContext();
      const settings: TrainSettings = { maxExamples: spec.maxExamples, seqLen: spec.seqLen, targetModules: spec.targetModules, rank: spec.rank, alpha: spec.alpha, lr: spec.lr, steps: spec.steps, seed: spec.seed, loss: spec.loss, placement: spec.placement, modules: spec.modules };
      const r = await trainLoraOnTraces(ctx, model.decoder, model.tokenizer, traces, settings, {
        onProgress, isCancelled: () => cancelled, baseModel: model.id, baseParams: model.info.params,
      });
      trained = { ...r, modelId: model.id };
      // kept in IndexedDB: offered in Playground / Evaluate after a reload (a failed write loses only the record)
      await saveTrainedAdapter(r.adapter, r.summary, model.id, { ...spec }).catch((e: unknown) => { console.warn(`adapter record not saved: ${(e as Error).message}`); });
      return r.summary;
    } finally {
      running = false;
    }
  },
  /** Importance probe (reasoning tokens of the first placement.probeExamples traces) and the budget solver's
   *  placement, for the Train view's heatmap before training. */
  async probePlacement(spec: TrainSpec, onProbe?: (done: number, total: number) => void): Promise<{ candidates: PlacementCandidate[]; plan: PlacementPlan }> {
    const model = currentModel();
    if (!model) throw new Error('no model loaded: load a student in Models / Device first');
    if (running) throw new Error('a training run is in progress');
    if (!spec.placement || spec.placement.mode === 'manual') throw new Error('choose the importance or uniform placement first');
    running = true; cancelled = false;
    try {
      const traces = await tracesFor({ ...spec, maxExamples: Math.max(spec.maxExamples, spec.placement.probeExamples) });
      return await planPlacementOnTraces(await gpuContext(), model.decoder, model.tokenizer, traces, spec, model.info.params, { onProbe, isCancelled: () => cancelled });
    } finally { running = false; }
  },
  cancelTraining(): void {
    cancelled = true;
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
