// Reasoning importance of every candidate (layer, module) for the sparse placement (placement.ts):
// a rank-1 probe on every candidate, B = 0 (so the model is the base and dA = 0), A = one random unit
// direction a per module, scaling 1, gate 1. For a batch with loss weights on reasoning tokens only
// (strategy + tactics), the train pass returns
//   dB (out,1) = Σ_t dy_t·(x_t·a) = G·a,   G = dL/dW (out,in)
// and for a uniform unit a, E‖G·a‖² = ‖G‖_F² / in, so   score = in · ‖dB‖²   estimates ‖dL/dW‖_F²
// (the empirical Fisher of W summed over its entries). Scores are averaged over the probe batches.
// planPlacement: the probe, then the budget solver (placement.ts) over its scores.
// Engine only: token ids and per-token weights in, numbers out.
import type { GpuContext } from '../device/gpu-context.ts';
import type { Decoder } from '../model/decoder.ts';
import type { TrainBatch } from './batch.ts';
import { LORA_TARGETS, type LoraTarget, createLoraAdapter } from './lora.ts';
import { type PlacementCandidate, type PlacementPlan, placementCandidates, solvePlacement } from './placement.ts';
import { LoraTrainPass } from './train-pass.ts';
import type { LoraTrainSettings } from './train-settings.ts';
import { mulberry32 } from '../../lib/rng.ts';

export const DEFAULT_PROBE_EXAMPLES = 32;

export interface ProbeOptions {
  targets?: readonly LoraTarget[];
  /** the random probe directions */
  rand: () => number;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

/** Candidates with importance = mean over `batches` of in·‖dB‖² through a rank-1 probe (see above). */
export async function probeImportance(ctx: GpuContext, decoder: Decoder, batches: readonly TrainBatch[], o: ProbeOptions): Promise<PlacementCandidate[]> {
  const c = decoder.config;
  if (batches.length === 0) throw new Error('importance probe: no probe examples (the selection has no example with reasoning tokens that fits seqLen)');
  for (const [i, b] of batches.entries()) {
    if (!b.weights.some((w, t) => w > 0 && b.targets[t] >= 0)) throw new Error(`importance probe: example ${i} has no weighted reasoning token (strategy or tactics)`);
  }
  const cands = placementCandidates(c, o.targets ?? LORA_TARGETS);
  const probe = createLoraAdapter(c, { r: 1, alpha: 1, modules: cands.map((x) => ({ layer: x.layer, target: x.target, r: 1, alpha: 1 })) }, o.rand);
  for (const m of probe.modules) { // A: one unit direction
    let n = 0;
    for (const v of m.A) n += v * v;
    const s = 1 / Math.sqrt(n);
    for (let i = 0; i < m.A.length; i++) m.A[i] *= s;
  }
  const passes = new Map<number, LoraTrainPass>();
  const sums = new Float64Array(cands.length);
  try {
    for (const [bi, b] of batches.entries()) {
      if (o.isCancelled?.()) throw new Error('importance probe cancelled');
      const T = b.ids.length;
      let pass = passes.get(T);
      if (!pass) { pass = new LoraTrainPass(ctx, decoder, probe, T); passes.set(T, pass); }
      const { grads } = await pass.run(b);
      probe.modules.forEach((m, i) => {
        const dB = grads.get(m.path)!.dB;
        let s = 0;
        for (const v of dB) s += v * v;
        sums[i] += m.inFeatures * s;
      });
      o.onProgress?.(bi + 1, batches.length);
    }
  } finally {
    for (const p of passes.values()) p.dispose();
  }
  return cands.map((x, i) => ({ ...x, importance: sums[i] / batches.length }));
}

/** The importance probe over `probe` (batches weighting the reasoning tokens only) and the budget solver (settings.placement). */
export async function planPlacement(ctx: GpuContext, decoder: Decoder, probe: readonly TrainBatch[], s: LoraTrainSettings, baseParams: number, hooks: { onProbe?: (done: number, total: number) => void; isCancelled?: () => boolean } = {}): Promise<{ candidates: PlacementCandidate[]; plan: PlacementPlan }> {
  const p = s.placement;
  if (!p || p.mode === 'manual') throw new Error('planPlacement: settings.placement.mode must be importance or uniform');
  const candidates = await probeImportance(ctx, decoder, probe, { targets: s.targetModules, rand: mulberry32(s.seed ^ 0x5eed), onProgress: hooks.onProbe, isCancelled: hooks.isCancelled });
  const plan = solvePlacement(candidates, { baseParams, fraction: p.budget, mode: p.mode, alphaPerRank: s.alpha / s.rank });
  return { candidates, plan };
}
