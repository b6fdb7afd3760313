// Settings of a distillation run: the adapter's (src/engine/adapter/train-settings.ts), how examples
// are built from traces (how many, loss weight per segment kind, an optional strategy-first
// curriculum) and the loop's (mini-batch, warmup + cosine, validation and checkpoint cadence;
// src/engine/adapter/train-loop.ts). Defaults for the bundled tiny model.
import { checkLoraSettings, type LoraTrainSettings } from '../engine/adapter/train-settings.ts';

/** lambda per segment kind of the hierarchical loss l_s·CE(strategy) + l_t·CE(tactics) + l_c·CE(checks) + l_a·CE(answer). */
export interface LossWeights {
  strategy: number; tactics: number; answer: number;
  /** lambda of check spans (lines that verify or correct a step); absent: checks count as tactics, as before they had a kind */
  check?: number;
  /** 'plain': ordinary cross-entropy, the mean over every reply token (the lambdas are ignored); default 'hierarchical' */
  mode?: 'hierarchical' | 'plain';
  /** lambda_KL: weight of the KL to the teacher's top-k log-probs (per position, times its CE weight) where a trace carries them; default 0 */
  kl?: number;
}

export interface TrainSettings extends LoraTrainSettings {
  maxExamples: number;
  loss: LossWeights;
  /** sequences per optimiser step (packed without padding) */
  batchSize?: number;
  /** linear warmup steps, then cosine decay to lr·minLrRatio */
  warmupSteps?: number;
  minLrRatio?: number;
  /** validation loss (on the first VAL_EXAMPLES examples) every N steps, and before the first and after the last */
  evalEvery?: number;
  /** checkpoint every N steps (0 = never) */
  checkpointEvery?: number;
  /** two-phase curriculum: for the first `strategyFirst` fraction of the steps only strategy tokens carry loss, then all */
  curriculum?: { strategyFirst: number };
}

/** The loop settings a TrainSettings leaves out, filled in. */
export const LOOP_DEFAULTS = { batchSize: 4, warmupSteps: 2, minLrRatio: 0.1, evalEvery: 10, checkpointEvery: 5 } as const;

/** Reasoning tokens only (strategy + tactics): the loss the importance probe differentiates. */
export const PROBE_LOSS: LossWeights = { strategy: 1, tactics: 1, answer: 0 };

/** Small defaults for models/tiny: T 256 fits most GSM8K prompts with its 512-token vocabulary (T 64 fits almost none). */
export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  maxExamples: 8, seqLen: 256, targetModules: ['q_proj', 'v_proj'], rank: 4, alpha: 8, lr: 1e-2, steps: 20, seed: 0,
  loss: { strategy: 1, tactics: 1, answer: 1, kl: 1 },
};

/** Checks settings; the error names the field. */
export function checkSettings(s: TrainSettings, maxT: number): void {
  checkLoraSettings(s, maxT);
  if (!Number.isInteger(s.maxExamples) || s.maxExamples < 1 || s.maxExamples > 1000000) throw new Error(`training setting "maxExamples" must be an integer in 1..1000000, got ${s.maxExamples}`);
  if (s.loss.kl !== undefined && !(s.loss.kl >= 0)) throw new Error(`training setting "loss.kl" must be >= 0, got ${s.loss.kl}`);
  for (const k of ['strategy', 'tactics', 'answer'] as const) if (!(s.loss[k] >= 0)) throw new Error(`training setting "loss.${k}" must be >= 0, got ${s.loss[k]}`);
  if (s.loss.check !== undefined && !(s.loss.check >= 0)) throw new Error(`training setting "loss.check" must be >= 0, got ${s.loss.check}`);
  if (s.loss.strategy + s.loss.tactics + s.loss.answer <= 0) throw new Error('training settings "loss": at least one weight must be > 0');
  const int = (v: number | undefined, lo: number, f: string) => { if (v !== undefined && (!Number.isInteger(v) || v < lo)) throw new Error(`training setting "${f}" must be an integer >= ${lo}, got ${v}`); };
  int(s.batchSize, 1, 'batchSize'); int(s.warmupSteps, 0, 'warmupSteps'); int(s.evalEvery, 0, 'evalEvery'); int(s.checkpointEvery, 0, 'checkpointEvery');
  if (s.minLrRatio !== undefined && !(s.minLrRatio >= 0 && s.minLrRatio <= 1)) throw new Error(`training setting "minLrRatio" must be in [0, 1], got ${s.minLrRatio}`);
  if (s.curriculum && !(s.curriculum.strategyFirst >= 0 && s.curriculum.strategyFirst < 1)) throw new Error(`training setting "curriculum.strategyFirst" must be a fraction in [0, 1), got ${s.curriculum.strategyFirst}`);
}
