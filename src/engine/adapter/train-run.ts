// A LoRA training run on the GPU over in-memory traces: build the examples (train-examples.ts), one
// LoraTrainPass for the fixed length T, LoraAdamW steps over the examples in a seeded shuffled
// order (one sequence per step), progress after each step, cancellable between steps. The caller
// (workers/engine/train-api.ts) reads traces from IndexedDB; tests pass them directly.
import type { GpuContext } from '../device/gpu-context.ts';
import type { Decoder } from '../model/decoder.ts';
import { createLoraAdapter, type LoraAdapter, type LoraTarget } from './lora.ts';
import { LoraAdamW } from './optimizer.ts';
import { LoraTrainPass } from './train-pass.ts';
import { buildExamples, type ExampleTokenizer, type TrainTrace } from './train-examples.ts';
import { checkSettings, type TrainSettings } from './train-settings.ts';
import { mulberry32 } from '../../lib/rng.ts';

export { DEFAULT_TRAIN_SETTINGS, checkSettings, type TrainSettings } from './train-settings.ts';

export interface TrainProgress {
  step: number;
  steps: number;
  /** loss of this step's example (before its update) */
  loss: number;
  /** tokens carrying loss in this step's example */
  tokens: number;
  msPerStep: number;
}

export interface TrainSummary {
  steps: number;
  cancelled: boolean;
  examples: number;
  skipped: number;
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
}

/** Examples whose mean loss is reported before and after training. */
export const EVAL_EXAMPLES = 8;

export interface TrainRunHooks {
  onProgress?: (p: TrainProgress) => void;
  isCancelled?: () => boolean;
  baseModel?: string;
  baseParams: number;
}

/** Trains a fresh LoRA adapter on `traces`; returns it (read back from the GPU) and a summary. */
export async function trainLoraOnTraces(ctx: GpuContext, decoder: Decoder, tok: ExampleTokenizer, traces: readonly TrainTrace[], s: TrainSettings, hooks: TrainRunHooks): Promise<{ adapter: LoraAdapter; summary: TrainSummary }> {
  const c = decoder.config;
  checkSettings(s, c.maxPositionEmbeddings);
  const rand = mulberry32(s.seed);
  const { examples, skipped } = buildExamples(tok, traces, s.seqLen, s.loss, s.maxExamples);
  if (examples.length === 0) throw new Error(`no training example fits seqLen ${s.seqLen}: ${traces.length} trace(s), ${skipped} with a prompt of ${s.seqLen} tokens or more (raise seqLen)`);
  const adapter = createLoraAdapter(c, { r: s.rank, alpha: s.alpha, targetModules: s.targetModules, baseModel: hooks.baseModel }, rand);
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
      steps: losses.length, cancelled, examples: examples.length, skipped, params, baseParams: hooks.baseParams,
      percentOfBase: hooks.baseParams > 0 ? (100 * params) / hooks.baseParams : 0, lossBefore, lossAfter, losses,
      msPerStep: losses.length ? (performance.now() - t0) / losses.length : 0,
      targetModules: [...s.targetModules], rank: s.rank, alpha: s.alpha, seqLen: s.seqLen,
    };
    return { adapter: trained, summary };
  } finally {
    opt.dispose();
    pass.dispose();
  }
}
