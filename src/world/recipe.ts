// The one training recipe of the tiny world, resolved here and read by every trainer: the app's
// Pipeline (src/app/pipeline.svelte.ts), the Train view's defaults for the bundled student, and
// `npm run experiment:tiny` (scripts/lib/world-train.ts), which all train through the same code
// (src/distill/train.ts trainLoraOnTraces: examples, importance placement, the engine's loop). The
// measured main row: Reason1K, importance placement at 10% of the base, 40 steps of 16 packed traces
// at lr 1e-2 (on the textbook-stage student 5.5% -> 56.5% on 200 held-out problems).
import type { LossWeights, TrainSettings } from '../distill/settings.ts';
import { LORA_TARGETS } from '../engine/adapter/lora.ts';
import { PLAIN_STYLE, REFLECTIVE_STYLE, type TeacherStyle } from './teacher.ts';

export const WORLD_RECIPE = {
  budget: 0.1, steps: 40, batchSize: 16, lr: 1e-2, pool: 6000, select: 1000, probeExamples: 8,
  /** tokens per training example (prompt + reply; longer replies are cut) */
  seqLen: 192,
  /** the hierarchical loss with every lambda at 1 */
  loss: { strategy: 1, tactics: 1, answer: 1 },
  /** validation loss about ten times a run; a checkpoint every 10 steps (the app resumes from it) */
  evalTimes: 10, checkpointEvery: 10,
  /** the teacher of the measured rows (plain traces); experiment:tiny's reflective rows use REFLECTIVE_STYLE */
  teacher: PLAIN_STYLE as TeacherStyle,
} as const;

/** Examples of reflective traces are longer (a check line per step): 384 tokens hold 95% of them
 *  (prompt + reply, world tokenizer: median 257, 90th percentile 354; plain traces: 135 and 202). */
export const REFLECTIVE_SEQ_LEN = 384;
/** Tokens a reflective reply may generate in evaluation (plain replies: 160). */
export const REFLECTIVE_MAX_TOKENS = 320;
export { REFLECTIVE_STYLE };

/** Linear warmup over the first 5% of the steps (at least one). */
export const worldWarmup = (steps: number): number => Math.max(1, Math.floor(steps / 20));

/** What a run may change of the recipe. */
export interface WorldRecipeOptions {
  steps?: number; seed: number; maxExamples: number; budget?: number; mode?: 'importance' | 'uniform';
  loss?: LossWeights; lr?: number; batchSize?: number; seqLen?: number; curriculum?: { strategyFirst: number };
}

/** The recipe as the app's trainer takes it (TrainSettings): every default resolved here. */
export function worldTrainSettings(o: WorldRecipeOptions): TrainSettings {
  const steps = o.steps ?? WORLD_RECIPE.steps;
  return {
    maxExamples: o.maxExamples, seqLen: o.seqLen ?? WORLD_RECIPE.seqLen, targetModules: [...LORA_TARGETS], rank: 4, alpha: 8,
    lr: o.lr ?? WORLD_RECIPE.lr, steps, seed: o.seed, loss: { ...(o.loss ?? WORLD_RECIPE.loss) },
    placement: { mode: o.mode ?? 'importance', budget: o.budget ?? WORLD_RECIPE.budget, probeExamples: WORLD_RECIPE.probeExamples },
    batchSize: o.batchSize ?? WORLD_RECIPE.batchSize, warmupSteps: worldWarmup(steps), minLrRatio: 0.1,
    evalEvery: Math.max(1, Math.ceil(steps / WORLD_RECIPE.evalTimes)), checkpointEvery: WORLD_RECIPE.checkpointEvery,
    ...(o.curriculum ? { curriculum: o.curriculum } : {}),
  };
}
