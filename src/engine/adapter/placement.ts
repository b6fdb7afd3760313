// Sparse adapter placement: which (layer, module) pairs get a LoRA and at which integer rank, within
// a parameter budget (a fraction of the base model). Pure: importances come from the probe
// (importance.ts) or anywhere else.
//   cost of module i at rank r:  r · (in_i + out_i)            (A (r,in) + B (out,r); gates not counted)
//   budget:                      floor(fraction · baseParams)
//   importance mode:  maximise Σ_i w_i · log2(1 + r_i)  s.t.  Σ_i r_i·(in_i+out_i) ≤ budget, 0 ≤ r_i ≤ min(in,out)
//                     (concave capacity: a second rank adds less than the first), solved greedily by the
//                     marginal gain per parameter, then any leftover filled by the best increment that fits.
//   uniform mode:     the same rank r on every candidate, r = floor(budget / Σ(in+out)); when even rank 1 on all
//                     does not fit, rank 1 on as many as fit, spread round-robin over layers and module kinds.
import { LORA_TARGETS, type LoraModuleSpec, type LoraTarget, loraModuleDims, loraModulePath } from './lora.ts';
import type { ModelConfig } from '../model/types.ts';

export interface PlacementCandidate { layer: number; target: LoraTarget; inFeatures: number; outFeatures: number; importance: number }

export type PlacementMode = 'importance' | 'uniform';

export interface PlacementOptions {
  baseParams: number;
  /** budget as a fraction of baseParams (default 0.003 = 0.3%) */
  fraction?: number;
  mode?: PlacementMode;
  /** alpha = alphaPerRank · r for every module (constant scaling alpha/r; default 2) */
  alphaPerRank?: number;
  /** highest rank for one module (default min(in, out)) */
  maxRank?: number;
}

export interface PlacementPlan {
  mode: PlacementMode;
  modules: LoraModuleSpec[];
  /** trainable A and B parameters of the plan (exact) */
  params: number;
  /** floor(fraction · baseParams) */
  budget: number;
  baseParams: number;
  fraction: number;
  /** Σ w_i · log2(1 + r_i) */
  capacity: number;
  /** "1,478,464 trainable = 0.299% of 494,032,768" */
  report: string;
  /** the default rank / alpha for PEFT (the most common rank) */
  r: number;
  alpha: number;
}

export const DEFAULT_BUDGET_FRACTION = 0.003;

/** Every (layer, target) of the model as a candidate with importance 0 (fill importance from a probe). */
export function placementCandidates(c: ModelConfig, targets: readonly LoraTarget[] = LORA_TARGETS): PlacementCandidate[] {
  const out: PlacementCandidate[] = [];
  for (let l = 0; l < c.numLayers; l++) for (const t of LORA_TARGETS) {
    if (!targets.includes(t)) continue;
    const [inF, outF] = loraModuleDims(c, t);
    out.push({ layer: l, target: t, inFeatures: inF, outFeatures: outF, importance: 0 });
  }
  return out;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** "N trainable = P% of B" with P to 3 decimals. */
export function budgetReport(params: number, baseParams: number): string {
  return `${fmt(params)} trainable = ${((100 * params) / baseParams).toFixed(3)}% of ${fmt(baseParams)}`;
}

/** Chooses modules and integer ranks within the budget. Throws a clear message when no module fits rank 1. */
export function solvePlacement(cands: readonly PlacementCandidate[], o: PlacementOptions): PlacementPlan {
  const fraction = o.fraction ?? DEFAULT_BUDGET_FRACTION;
  const mode = o.mode ?? 'importance';
  const perRank = o.alphaPerRank ?? 2;
  if (!(Number.isInteger(o.baseParams) && o.baseParams > 0)) throw new Error(`placement: baseParams must be a positive integer, got ${o.baseParams}`);
  if (!(fraction > 0 && fraction < 1)) throw new Error(`placement: budget fraction must be in (0, 1), got ${fraction}`);
  if (!(perRank > 0)) throw new Error(`placement: alphaPerRank must be > 0, got ${perRank}`);
  if (cands.length === 0) throw new Error('placement: no candidate modules');
  for (const c of cands) if (!(c.importance >= 0 && Number.isFinite(c.importance))) throw new Error(`placement: importance of ${loraModulePath(c.layer, c.target)} must be a finite number >= 0, got ${c.importance}`);
  const budget = Math.floor(fraction * o.baseParams);
  const cost = cands.map((c) => c.inFeatures + c.outFeatures);
  const cap = cands.map((c) => Math.min(o.maxRank ?? Infinity, c.inFeatures, c.outFeatures));
  const cheapest = cands.reduce((b, c, i) => (cost[i] < cost[b] ? i : b), 0);
  if (cost[cheapest] > budget) {
    const c = cands[cheapest];
    throw new Error(`budget too small: ${fmt(budget)} parameters (${(100 * fraction).toPrecision(3)}% of ${fmt(o.baseParams)}) cannot hold rank 1 on any module; the smallest, ${loraModulePath(c.layer, c.target)}, needs ${fmt(cost[cheapest])} (raise the budget to at least ${((100 * cost[cheapest]) / o.baseParams).toPrecision(3)}%)`);
  }
  const ranks = new Array<number>(cands.length).fill(0);
  let used = 0;
  if (mode === 'uniform') {
    const all = cost.reduce((a, b) => a + b, 0);
    const r = Math.min(Math.floor(budget / all), ...cap);
    if (r >= 1) { ranks.fill(r); used = r * all; }
    else {
      // round-robin: layer 0 kind 0, layer 1 kind 1, ...: spread over layers and kinds, not importance
      const kinds = [...new Set(cands.map((c) => c.target))];
      const layers = [...new Set(cands.map((c) => c.layer))].sort((a, b) => a - b);
      const orderIdx: number[] = [];
      for (let k = 0; k < kinds.length; k++) for (let li = 0; li < layers.length; li++) {
        const i = cands.findIndex((c) => c.layer === layers[li] && c.target === kinds[(li + k) % kinds.length]);
        if (i >= 0 && !orderIdx.includes(i)) orderIdx.push(i);
      }
      for (let i = 0; i < cands.length; i++) if (!orderIdx.includes(i)) orderIdx.push(i);
      for (const i of orderIdx) if (used + cost[i] <= budget) { ranks[i] = 1; used += cost[i]; }
    }
  } else {
    if (!cands.some((c) => c.importance > 0)) throw new Error('placement: every candidate has importance 0 (run the probe on examples with strategy or tactics tokens, or use the uniform placement)');
    const gain = (i: number) => (ranks[i] >= cap[i] || cands[i].importance === 0 ? -1 : (cands[i].importance * Math.log2((ranks[i] + 2) / (ranks[i] + 1))) / cost[i]);
    // greedy by marginal gain per parameter; ties: higher importance, then candidate order
    for (;;) {
      let best = -1;
      for (let i = 0; i < cands.length; i++) {
        if (used + cost[i] > budget) continue;
        const g = gain(i);
        if (g < 0) continue;
        if (best < 0 || g > gain(best) || (g === gain(best) && cands[i].importance > cands[best].importance)) best = i;
      }
      if (best < 0) break;
      ranks[best]++; used += cost[best];
    }
  }
  const modules: LoraModuleSpec[] = [];
  cands.forEach((c, i) => { if (ranks[i] > 0) modules.push({ layer: c.layer, target: c.target, r: ranks[i], alpha: perRank * ranks[i] }); });
  if (modules.length === 0) throw new Error('placement: no module fits the budget');
  const count = new Map<number, number>();
  for (const m of modules) count.set(m.r, (count.get(m.r) ?? 0) + 1);
  const r = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  const capacity = cands.reduce((s, c, i) => s + c.importance * Math.log2(1 + ranks[i]), 0);
  return { mode, modules, params: used, budget, baseParams: o.baseParams, fraction, capacity, report: budgetReport(used, o.baseParams), r, alpha: perRank * r };
}
