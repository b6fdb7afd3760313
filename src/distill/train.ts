// Distillation run: traces -> token batches (examples.ts: chat template, loss only on the reply,
// weights per segment kind) -> the engine's placement probe and LoRA run (src/engine/adapter/).
import type { GpuContext } from '../engine/device/gpu-context.ts';
import type { Decoder } from '../engine/model/decoder.ts';
import type { LoraAdapter } from '../engine/adapter/lora.ts';
import type { PlacementCandidate, PlacementPlan } from '../engine/adapter/placement.ts';
import { planPlacement, trainLoraOnBatches, type TrainRunHooks, type TrainSummary } from '../engine/adapter/train-run.ts';
import { buildExamples, type ExampleTokenizer, type TrainTrace } from './examples.ts';
import { checkSettings, PROBE_LOSS, type TrainSettings } from './settings.ts';

export interface DistillSummary extends TrainSummary {
  /** traces left out: their prompt leaves no room for a target within seqLen */
  skipped: number;
}

/** The importance probe over the first placement.probeExamples traces (reasoning-token loss) and the budget solver. */
export async function planPlacementOnTraces(ctx: GpuContext, decoder: Decoder, tok: ExampleTokenizer, traces: readonly TrainTrace[], s: TrainSettings, baseParams: number, hooks: { onProbe?: (done: number, total: number) => void; isCancelled?: () => boolean } = {}): Promise<{ candidates: PlacementCandidate[]; plan: PlacementPlan }> {
  const p = s.placement;
  if (!p || p.mode === 'manual') throw new Error('planPlacement: settings.placement.mode must be importance or uniform');
  const { examples } = buildExamples(tok, traces, s.seqLen, PROBE_LOSS, p.probeExamples);
  return planPlacement(ctx, decoder, examples.map((e) => e.batch), s, baseParams, hooks);
}

/** Trains a fresh LoRA adapter on `traces`; returns it (read back from the GPU) and a summary. */
export async function trainLoraOnTraces(ctx: GpuContext, decoder: Decoder, tok: ExampleTokenizer, traces: readonly TrainTrace[], s: TrainSettings, hooks: TrainRunHooks): Promise<{ adapter: LoraAdapter; summary: DistillSummary }> {
  checkSettings(s, decoder.config.maxPositionEmbeddings);
  const { examples, skipped } = buildExamples(tok, traces, s.seqLen, s.loss, s.maxExamples);
  if (examples.length === 0) throw new Error(`no training example fits seqLen ${s.seqLen}: ${traces.length} trace(s), ${skipped} with a prompt of ${s.seqLen} tokens or more (raise seqLen)`);
  let planned: TrainSummary['placement'] | undefined;
  if (!s.modules && s.placement && s.placement.mode !== 'manual') {
    const { candidates, plan } = await planPlacementOnTraces(ctx, decoder, tok, traces, s, hooks.baseParams, { isCancelled: hooks.isCancelled });
    planned = { mode: plan.mode, report: plan.report, modules: plan.modules, candidates };
  }
  const { adapter, summary } = await trainLoraOnBatches(ctx, decoder, examples.map((e) => e.batch), s, hooks, planned);
  return { adapter, summary: { ...summary, skipped } };
}
