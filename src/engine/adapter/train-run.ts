// A LoRA training run on the GPU over token batches (ids, targets and per-token loss weights, all of
// the fixed length T): one LoraTrainPass for T, LoraAdamW steps over the batches in a seeded
// shuffled order (one sequence per step), progress after each step, cancellable between steps.
// Batches from traces are built one layer up (src/distill/examples.ts, src/distill/train.ts).
import type { GpuContext } from '../device/gpu-context.ts';
import type { Decoder } from '../model/decoder.ts';
import { createLoraAdapter, type LoraAdapter, type LoraModuleSpec, type LoraTarget, loraParamCount } from './lora.ts';
import { probeImportance } from './importance.ts';
import { type PlacementCandidate, type PlacementPlan, budgetReport, solvePlacement } from './placement.ts';
import { LoraAdamW } from './optimizer.ts';
import { LoraTrainPass } from './train-pass.ts';
import type { TrainBatch } from './batch.ts';
import { checkLoraSettings, type LoraTrainSettings } from './train-settings.ts';
import { mulberry32 } from '../../lib/rng.ts';

export interface TrainProgress {
  step: number;
  steps: number;
  /** loss of this step's example (before its update) */
  loss: number;
  /** tokens carrying loss in this step's batch */
  tokens: number;
  msPerStep: number;
}

export interface TrainSummary {
  steps: number;
  cancelled: boolean;
  examples: number;
  /** trainable LoRA parameters (A and B of every module) */
  params: number;
  baseParams: number;
  /** params / baseParams · 100 */
  percentOfBase: number;
  /** mean loss over the first EVAL_EXAMPLES examples before the first and after the last step */
  lossBefore: number;
  lossAfter: number;
  losses: number[];
  msPerStep: number;
  targetModules: LoraTarget[];
  rank: number;
  alpha: number;
  seqLen: number;
  /** where the adapter went and why (exact count, and the probe's importances when it ran) */
  placement: { mode: 'manual' | 'importance' | 'uniform'; report: string; modules: LoraModuleSpec[]; candidates?: PlacementCandidate[] };
}

/** The importance probe over `probe` (batches weighting the reasoning tokens only) and the budget solver (settings.placement). */
export async function planPlacement(ctx: GpuContext, decoder: Decoder, probe: readonly TrainBatch[], s: LoraTrainSettings, baseParams: number, hooks: { onProbe?: (done: number, total: number) => void; isCancelled?: () => boolean } = {}): Promise<{ candidates: PlacementCandidate[]; plan: PlacementPlan }> {
  const p = s.placement;
  if (!p || p.mode === 'manual') throw new Error('planPlacement: settings.placement.mode must be importance or uniform');
  const candidates = await probeImportance(ctx, decoder, probe, { targets: s.targetModules, rand: mulberry32(s.seed ^ 0x5eed), onProgress: hooks.onProbe, isCancelled: hooks.isCancelled });
  const plan = solvePlacement(candidates, { baseParams, fraction: p.budget, mode: p.mode, alphaPerRank: s.alpha / s.rank });
  return { candidates, plan };
}

/** Batches whose mean loss is reported before and after training. */
export const EVAL_EXAMPLES = 8;

export interface TrainRunHooks {
  onProgress?: (p: TrainProgress) => void;
  isCancelled?: () => boolean;
  baseModel?: string;
  baseParams: number;
}

/** Trains a fresh LoRA adapter on `batches` (each of s.seqLen tokens); returns it (read back from the GPU) and a summary.
 *  `planned`: a placement solved beforehand (planPlacement); without it, s.modules or every layer's targetModules. */
export async function trainLoraOnBatches(ctx: GpuContext, decoder: Decoder, batches: readonly TrainBatch[], s: LoraTrainSettings, hooks: TrainRunHooks, planned?: TrainSummary['placement']): Promise<{ adapter: LoraAdapter; summary: TrainSummary }> {
  const c = decoder.config;
  checkLoraSettings(s, c.maxPositionEmbeddings);
  if (batches.length === 0) throw new Error('no training batch given');
  for (const [i, b] of batches.entries()) if (b.ids.length !== s.seqLen) throw new Error(`training batch ${i} has ${b.ids.length} tokens, seqLen is ${s.seqLen}`);
  const rand = mulberry32(s.seed);
  const examples = batches.map((batch) => ({ batch, targetTokens: batch.targets.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0) }));
  let placement: TrainSummary['placement'];
  if (s.modules) placement = { mode: s.placement?.mode ?? 'manual', report: '', modules: s.modules };
  else if (planned) placement = { ...planned, modules: [...planned.modules] };
  else placement = { mode: 'manual', report: '', modules: [] };
  const adapter = createLoraAdapter(c, placement.modules.length ? { r: s.rank, alpha: s.alpha, modules: placement.modules, baseModel: hooks.baseModel } : { r: s.rank, alpha: s.alpha, targetModules: s.targetModules, baseModel: hooks.baseModel }, rand);
  if (!placement.modules.length) placement.modules = adapter.modules.map((m) => ({ layer: m.layer, target: m.target, r: m.r, alpha: m.alpha }));
  placement.report = hooks.baseParams > 0 ? budgetReport(loraParamCount(adapter), hooks.baseParams) : `${loraParamCount(adapter)} trainable`;
  const pass = new LoraTrainPass(ctx, decoder, adapter, s.seqLen);
  const opt = new LoraAdamW(ctx, pass, { lr: s.lr, maxGradNorm: 1, weightDecay: 0.01 });
  const probe = examples.slice(0, EVAL_EXAMPLES);
  const meanLoss = async () => { let sum = 0; for (const e of probe) sum += (await pass.run(e.batch, { readGrads: false })).loss; return sum / probe.length; };
  try {
    pass.uploadAdapter(adapter);
    const lossBefore = await meanLoss();
    const order: number[] = [];
    const losses: number[] = [];
    const t0 = performance.now();
    let last = t0; // wall time between step ends (the previous update completes inside this run's readback)
    let cancelled = false;
    for (let step = 1; step <= s.steps; step++) {
      if (hooks.isCancelled?.()) { cancelled = true; break; }
      if (order.length === 0) { // a fresh shuffled pass over the examples (Fisher-Yates)
        const idx = examples.map((_, i) => i);
        for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
        order.push(...idx);
      }
      const ex = examples[order.shift()!];
      const { loss } = await pass.run(ex.batch, { readGrads: false });
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step}: loss is ${loss} (lower lr)`);
      opt.step();
      losses.push(loss);
      hooks.onProgress?.({ step, steps: s.steps, loss, tokens: ex.targetTokens, msPerStep: performance.now() - last });
      last = performance.now();
    }
    const lossAfter = await meanLoss();
    const trained = await pass.readAdapter();
    const params = trained.modules.reduce((a, m) => a + m.A.length + m.B.length, 0);
    const summary: TrainSummary = {
      steps: losses.length, cancelled, examples: examples.length, params, baseParams: hooks.baseParams,
      percentOfBase: hooks.baseParams > 0 ? (100 * params) / hooks.baseParams : 0, lossBefore, lossAfter, losses,
      msPerStep: losses.length ? (performance.now() - t0) / losses.length : 0,
      targetModules: [...trained.targetModules], rank: s.rank, alpha: s.alpha, seqLen: s.seqLen, placement,
    };
    return { adapter: trained, summary };
  } finally {
    opt.dispose();
    pass.dispose();
  }
}
