// Settings of a LoRA training run (train-run.ts), their defaults for the bundled tiny model and
// their checks; kept apart from the GPU code so the UI can import them.
import { LORA_TARGETS, type LoraModuleSpec, type LoraTarget } from './lora.ts';
import type { LossWeights } from './train-examples.ts';

export interface TrainSettings {
  maxExamples: number;
  /** fixed sequence length: every example is truncated or padded to it */
  seqLen: number;
  targetModules: LoraTarget[];
  rank: number;
  alpha: number;
  lr: number;
  steps: number;
  seed: number;
  loss: LossWeights;
  /** where the adapter goes: 'manual' = every layer's targetModules at `rank`; 'importance' / 'uniform' = solved
   *  within `budget` (fraction of the base) over the targetModules kinds, ranks with alpha = r·alpha/rank */
  placement?: PlacementSettings;
  /** an explicit placement (e.g. the one shown in the Train view after a probe); overrides targetModules/rank */
  modules?: LoraModuleSpec[];
}

export interface PlacementSettings { mode: 'manual' | 'importance' | 'uniform'; budget: number; probeExamples: number }

export const DEFAULT_PLACEMENT: PlacementSettings = { mode: 'manual', budget: 0.003, probeExamples: 32 };

/** Small defaults for models/tiny: T 256 fits most GSM8K prompts with its 512-token vocabulary (T 64 fits almost none). */
export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  maxExamples: 8, seqLen: 256, targetModules: ['q_proj', 'v_proj'], rank: 4, alpha: 8, lr: 1e-2, steps: 20, seed: 0,
  loss: { strategy: 1, tactics: 1, answer: 1 },
};

/** Checks settings; the error names the field. */
export function checkSettings(s: TrainSettings, maxT: number): void {
  const int = (v: number, lo: number, hi: number, f: string) => { if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`training setting "${f}" must be an integer in ${lo}..${hi}, got ${v}`); };
  int(s.seqLen, 8, maxT, 'seqLen'); int(s.steps, 1, 100000, 'steps'); int(s.maxExamples, 1, 1000000, 'maxExamples'); int(s.rank, 1, 1024, 'rank');
  if (!(s.alpha > 0)) throw new Error(`training setting "alpha" must be > 0, got ${s.alpha}`);
  if (!(s.lr > 0 && s.lr < 1)) throw new Error(`training setting "lr" must be in (0, 1), got ${s.lr}`);
  if (!s.targetModules.length || s.targetModules.some((m) => !(LORA_TARGETS as readonly string[]).includes(m))) throw new Error(`training setting "targetModules" must be a non-empty subset of ${LORA_TARGETS.join(', ')}, got ${s.targetModules.join(', ')}`);
  for (const k of ['strategy', 'tactics', 'answer'] as const) if (!(s.loss[k] >= 0)) throw new Error(`training setting "loss.${k}" must be >= 0, got ${s.loss[k]}`);
  if (s.loss.strategy + s.loss.tactics + s.loss.answer <= 0) throw new Error('training settings "loss": at least one weight must be > 0');
  if (s.placement) {
    if (!['manual', 'importance', 'uniform'].includes(s.placement.mode)) throw new Error(`training setting "placement.mode" must be manual, importance or uniform, got ${s.placement.mode}`);
    if (!(s.placement.budget > 0 && s.placement.budget < 1)) throw new Error(`training setting "placement.budget" must be a fraction in (0, 1), got ${s.placement.budget}`);
    int(s.placement.probeExamples, 1, 10000, 'placement.probeExamples');
  }
}

