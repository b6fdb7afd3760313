// Settings of the adapter a training run makes (rank, targets, placement; the loop's own settings are
// train-loop.ts's) and their checks; kept apart from the GPU code so the UI can import them. What the batches are built from (traces, loss
// weights per segment kind) is the distillation layer's (src/distill/).
import { LORA_TARGETS, type LoraModuleSpec, type LoraTarget } from './lora.ts';

export interface LoraTrainSettings {
  /** longest sequence: an example is cut to this many tokens (prompt + reply) */
  seqLen: number;
  targetModules: LoraTarget[];
  rank: number;
  alpha: number;
  lr: number;
  steps: number;
  seed: number;
  /** where the adapter goes: 'manual' = every layer's targetModules at `rank`; 'importance' / 'uniform' = solved
   *  within `budget` (fraction of the base) over the targetModules kinds, ranks with alpha = r·alpha/rank */
  placement?: PlacementSettings;
  /** an explicit placement (e.g. the one shown in the Train view after a probe); overrides targetModules/rank */
  modules?: LoraModuleSpec[];
}

export interface PlacementSettings { mode: 'manual' | 'importance' | 'uniform'; budget: number; probeExamples: number }

export const DEFAULT_PLACEMENT: PlacementSettings = { mode: 'manual', budget: 0.003, probeExamples: 32 };

/** Checks settings; the error names the field. */
export function checkLoraSettings(s: LoraTrainSettings, maxT: number): void {
  const int = (v: number, lo: number, hi: number, f: string) => { if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`training setting "${f}" must be an integer in ${lo}..${hi}, got ${v}`); };
  if (Number.isInteger(s.seqLen) && s.seqLen > maxT) throw new Error(`training setting "seqLen": sequences of ${s.seqLen} tokens are longer than the model's context (${maxT} tokens); lower it`);
  int(s.seqLen, 8, maxT, 'seqLen'); int(s.steps, 1, 100000, 'steps'); int(s.rank, 1, 1024, 'rank');
  if (!(s.alpha > 0)) throw new Error(`training setting "alpha" must be > 0, got ${s.alpha}`);
  if (!(s.lr > 0 && s.lr < 1)) throw new Error(`training setting "lr" must be in (0, 1), got ${s.lr}`);
  if (!s.targetModules.length || s.targetModules.some((m) => !(LORA_TARGETS as readonly string[]).includes(m))) throw new Error(`training setting "targetModules" must be a non-empty subset of ${LORA_TARGETS.join(', ')}, got ${s.targetModules.join(', ')}`);
  if (s.placement) {
    if (!['manual', 'importance', 'uniform'].includes(s.placement.mode)) throw new Error(`training setting "placement.mode" must be manual, importance or uniform, got ${s.placement.mode}`);
    if (!(s.placement.budget > 0 && s.placement.budget < 1)) throw new Error(`training setting "placement.budget" must be a fraction in (0, 1), got ${s.placement.budget}`);
    int(s.placement.probeExamples, 1, 10000, 'placement.probeExamples');
  }
}
