// Settings of a distillation run: the LoRA run's (src/engine/adapter/train-settings.ts) plus how
// examples are built from traces (how many, loss weight per segment kind). Defaults for the
// bundled tiny model.
import { checkLoraSettings, type LoraTrainSettings } from '../engine/adapter/train-settings.ts';

/** lambda per segment kind of the hierarchical loss l_s·CE(strategy) + l_t·CE(tactics) + l_a·CE(answer). */
export interface LossWeights {
  strategy: number; tactics: number; answer: number;
  /** 'plain': ordinary cross-entropy, the mean over every reply token (the lambdas are ignored); default 'hierarchical' */
  mode?: 'hierarchical' | 'plain';
}

export interface TrainSettings extends LoraTrainSettings {
  maxExamples: number;
  loss: LossWeights;
}

/** Reasoning tokens only (strategy + tactics): the loss the importance probe differentiates. */
export const PROBE_LOSS: LossWeights = { strategy: 1, tactics: 1, answer: 0 };

/** Small defaults for models/tiny: T 256 fits most GSM8K prompts with its 512-token vocabulary (T 64 fits almost none). */
export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  maxExamples: 8, seqLen: 256, targetModules: ['q_proj', 'v_proj'], rank: 4, alpha: 8, lr: 1e-2, steps: 20, seed: 0,
  loss: { strategy: 1, tactics: 1, answer: 1 },
};

/** Checks settings; the error names the field. */
export function checkSettings(s: TrainSettings, maxT: number): void {
  checkLoraSettings(s, maxT);
  if (!Number.isInteger(s.maxExamples) || s.maxExamples < 1 || s.maxExamples > 1000000) throw new Error(`training setting "maxExamples" must be an integer in 1..1000000, got ${s.maxExamples}`);
  for (const k of ['strategy', 'tactics', 'answer'] as const) if (!(s.loss[k] >= 0)) throw new Error(`training setting "loss.${k}" must be >= 0, got ${s.loss[k]}`);
  if (s.loss.strategy + s.loss.tactics + s.loss.answer <= 0) throw new Error('training settings "loss": at least one weight must be > 0');
}
