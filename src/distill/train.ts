// Distillation run: traces -> packed-loop sequences (examples.ts: chat template, loss only on the
// reply, weights and kind per segment; the teacher's top-k for the KL term where a trace carries it,
// teacher-targets.ts; curriculum.ts) -> the placement (importance probe + budget
// solver, importance.ts) -> the engine's training loop (train-loop.ts: mini-batches, AdamW with
// warmup + cosine, validation, checkpoints to resume from, pause, cancel).
import type { GpuContext } from '../engine/device/gpu-context.ts';
import type { Decoder } from '../engine/model/decoder.ts';
import { type LoraAdapter, type LoraModuleSpec, type LoraTarget, createLoraAdapter, loraParamCount } from '../engine/adapter/lora.ts';
import { planPlacement } from '../engine/adapter/importance.ts';
import { type PlacementCandidate, type PlacementPlan, budgetReport } from '../engine/adapter/placement.ts';
import { type LoopHooks, type LoopSettings, type StepProgress, type TrainCheckpoint, type TrainSequence, DEFAULT_LOOP_SETTINGS, trainLora } from '../engine/adapter/train-loop.ts';
import { mulberry32 } from '../lib/rng.ts';
import { buildExamples, exampleSequence, type ExampleTokenizer, type TrainTrace } from './examples.ts';
import { curriculumWeights } from './curriculum.ts';
import { type TeacherTokenizer, teacherRows } from './teacher-targets.ts';
import { checkSettings, LOOP_DEFAULTS, PROBE_LOSS, type TrainSettings } from './settings.ts';

/** Examples whose mean loss is the validation loss (the first ones trained on). */
export const VAL_EXAMPLES = 8;

/** Where the adapter went and why (exact count). */
export interface PlacementSummary { mode: 'manual' | 'importance' | 'uniform'; report: string; modules: LoraModuleSpec[] }

export interface DistillSummary {
  steps: number;
  cancelled: boolean;
  examples: number;
  /** traces left out: their prompt leaves no room for a target within seqLen */
  skipped: number;
  /** trainable LoRA parameters (A and B of every module) */
  params: number;
  baseParams: number;
  /** params / baseParams · 100 */
  percentOfBase: number;
  /** validation loss before the first step and after the last one run (also after a cancel) */
  lossBefore: number;
  lossAfter: number;
  losses: number[];
  valLosses: Array<{ step: number; loss: number }>;
  msPerStep: number;
  tokensPerSec: number;
  /** the step this run resumed after (0: from the start) */
  resumedAt: number;
  /** positions with a KL term to the teacher's top-k (0: no trace carries it, or loss.kl is 0) */
  klPositions: number;
  targetModules: LoraTarget[];
  rank: number;
  alpha: number;
  seqLen: number;
  batchSize: number;
  placement: PlacementSummary;
}

export interface DistillHooks {
  onProgress?: (p: StepProgress) => void;
  onEval?: (e: { step: number; loss: number }) => void;
  /** the placement, once solved (before the first step; store it to resume) */
  onPlaced?: (p: PlacementSummary) => void;
  onCheckpoint?: (c: TrainCheckpoint) => void | Promise<void>;
  isCancelled?: () => boolean;
  isPaused?: () => boolean;
  resumeFrom?: TrainCheckpoint;
  baseModel?: string;
  baseParams: number;
}

/** The importance probe over the first placement.probeExamples traces (reasoning-token loss) and the budget solver. */
export async function planPlacementOnTraces(ctx: GpuContext, decoder: Decoder, tok: ExampleTokenizer, traces: readonly TrainTrace[], s: TrainSettings, baseParams: number, hooks: { onProbe?: (done: number, total: number) => void; isCancelled?: () => boolean } = {}): Promise<{ candidates: PlacementCandidate[]; plan: PlacementPlan }> {
  const p = s.placement;
  if (!p || p.mode === 'manual') throw new Error('planPlacement: settings.placement.mode must be importance or uniform');
  const { examples } = buildExamples(tok, traces, s.seqLen, PROBE_LOSS, p.probeExamples);
  return planPlacement(ctx, decoder, examples.map((e) => e.batch), s, baseParams, hooks);
}

/** The loop's settings for a distillation run. */
export function loopSettingsOf(s: TrainSettings): LoopSettings {
  const evalEvery = s.evalEvery ?? LOOP_DEFAULTS.evalEvery;
  return {
    ...DEFAULT_LOOP_SETTINGS, steps: s.steps, batchSize: s.batchSize ?? LOOP_DEFAULTS.batchSize, microBatchTokens: Math.max(1024, s.seqLen), lr: s.lr,
    warmupSteps: Math.min(s.warmupSteps ?? LOOP_DEFAULTS.warmupSteps, s.steps), minLrRatio: s.minLrRatio ?? LOOP_DEFAULTS.minLrRatio, weightDecay: 0.01, maxGradNorm: 1,
    evalEvery: evalEvery > 0 ? evalEvery : s.steps, checkpointEvery: s.checkpointEvery ?? LOOP_DEFAULTS.checkpointEvery, seed: s.seed,
    lora: { r: s.rank, alpha: s.alpha, targetModules: s.targetModules },
  };
}

/** Most top-k entries per position the KL term takes (ops/kl-topk.ts). */
const MAX_KL_K = 64;
const canDecode = (tok: ExampleTokenizer): tok is TeacherTokenizer => typeof (tok as Partial<TeacherTokenizer>).decode === 'function';

/** Sequences of the traces that fit (with teacher rows where a trace carries top-k and loss.kl > 0); a clear message when none does. */
export function trainSequences(tok: ExampleTokenizer, traces: readonly TrainTrace[], s: TrainSettings): { sequences: TrainSequence[]; skipped: number; kl?: LoopSettings['kl']; klPositions: number } {
  if (traces.length === 0) throw new Error('no traces to train on: the pool or selection is empty');
  const { examples, skipped } = buildExamples(tok, traces, s.seqLen, s.loss, s.maxExamples);
  if (examples.length === 0) throw new Error(`no training example fits seqLen ${s.seqLen}: ${traces.length} trace(s), ${skipped} with a prompt of ${s.seqLen} tokens or more, or no reply token to learn (raise seqLen)`);
  const sequences = examples.map(exampleSequence);
  const lambda = s.loss.kl ?? 0;
  const byId = new Map(traces.map((t) => [t.id, t]));
  const withTopK = lambda > 0 && canDecode(tok) ? examples.map((e) => byId.get(e.traceId)?.teacherTopK) : [];
  const k = Math.min(MAX_KL_K, Math.max(0, ...withTopK.map((t) => t?.k ?? 0)));
  let klPositions = 0;
  if (k > 0 && canDecode(tok)) {
    examples.forEach((e, i) => {
      const tk = withTopK[i];
      const rows = tk && teacherRows(tok, tk, byId.get(e.traceId)!.reasoning, e, sequences[i].ids.length, k);
      if (rows) { sequences[i] = { ...sequences[i], teacher: { ids: rows.ids, logprobs: rows.logprobs } }; klPositions += rows.aligned; }
    });
  }
  return { sequences, skipped, kl: klPositions ? { k, lambda } : undefined, klPositions };
}

/** Trains a LoRA adapter on `traces` (fresh, or from hooks.resumeFrom); returns it (read back from the GPU) and a summary. */
export async function trainLoraOnTraces(ctx: GpuContext, decoder: Decoder, tok: ExampleTokenizer, traces: readonly TrainTrace[], s: TrainSettings, hooks: DistillHooks): Promise<{ adapter: LoraAdapter; summary: DistillSummary }> {
  const c = decoder.config;
  checkSettings(s, c.maxPositionEmbeddings);
  const { sequences, skipped, kl, klPositions } = trainSequences(tok, traces, s);
  const mode = s.placement?.mode ?? 'manual';
  let modules = s.modules;
  if (!modules && mode !== 'manual') modules = (await planPlacementOnTraces(ctx, decoder, tok, traces, s, hooks.baseParams, { isCancelled: hooks.isCancelled })).plan.modules;
  const adapter0 = createLoraAdapter(c, modules?.length ? { r: s.rank, alpha: s.alpha, modules, baseModel: hooks.baseModel } : { r: s.rank, alpha: s.alpha, targetModules: s.targetModules, baseModel: hooks.baseModel }, mulberry32(s.seed));
  const params0 = loraParamCount(adapter0);
  const placement: PlacementSummary = {
    mode, modules: adapter0.modules.map((m) => ({ layer: m.layer, target: m.target, r: m.r, alpha: m.alpha })),
    report: hooks.baseParams > 0 ? budgetReport(params0, hooks.baseParams) : `${params0} trainable`,
  };
  hooks.onPlaced?.(placement);
  const ls = { ...loopSettingsOf(s), ...(kl ? { kl } : {}) };
  const loopHooks: LoopHooks = {
    adapter: adapter0, baseModel: hooks.baseModel, validation: sequences.slice(0, VAL_EXAMPLES), validateAtStart: true,
    onProgress: hooks.onProgress, onEval: hooks.onEval, onCheckpoint: hooks.onCheckpoint, isCancelled: hooks.isCancelled, isPaused: hooks.isPaused, resumeFrom: hooks.resumeFrom,
    weightsAt: s.curriculum && s.curriculum.strategyFirst > 0 ? curriculumWeights(sequences, s.curriculum.strategyFirst, s.steps) : undefined,
  };
  const { adapter, summary: r } = await trainLora(ctx, decoder, sequences, ls, loopHooks);
  const at = (step: number) => r.valLosses.find((v) => v.step === step)?.loss ?? NaN;
  const summary: DistillSummary = {
    steps: r.steps, cancelled: r.cancelled, examples: sequences.length, skipped, params: r.params, baseParams: hooks.baseParams,
    percentOfBase: hooks.baseParams > 0 ? (100 * r.params) / hooks.baseParams : 0, lossBefore: at(0), lossAfter: at(r.steps),
    losses: r.losses, valLosses: r.valLosses, msPerStep: r.msPerStep, tokensPerSec: r.tokensPerSec, resumedAt: r.resumedAt, klPositions,
    targetModules: [...adapter.targetModules], rank: s.rank, alpha: s.alpha, seqLen: s.seqLen, batchSize: ls.batchSize, placement,
  };
  return { adapter, summary };
}
