// Budget solver for the sparse adapter (src/engine/adapter/placement.ts): exact parameter count,
// never over budget, importance order respected, uniform ablation, too-small budgets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLoraAdapter, loraParamCount } from '../../src/engine/adapter/lora.ts';
import { type PlacementCandidate, budgetReport, placementCandidates, solvePlacement } from '../../src/engine/adapter/placement.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

const tiny = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'), 'models/tiny/config.json');
/** Qwen2.5-0.5B-Instruct's shape (hidden 896, 24 layers, 14:2 heads, FFN 4864, tied head). */
const qwen: ModelConfig = {
  ...tiny, vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, tieWordEmbeddings: true,
};
/** Qwen2.5-0.5B parameters counted from the shape: embed + 24 · (q,k,v with bias, o, gate/up/down, 2 norms) + final norm. */
const QWEN_PARAMS = 151936 * 896 + 24 * ((896 * 896 + 896) + 2 * (896 * 128 + 128) + 896 * 896 + 3 * 896 * 4864 + 2 * 896) + 896;

function withImportance(c: ModelConfig, seed: number): PlacementCandidate[] {
  const r = mulberry32(seed);
  return placementCandidates(c).map((x) => ({ ...x, importance: r() ** 3 }));
}
/** Parameters of a plan recomputed from the model's shapes (independently of the solver's own sum). */
function countFromShapes(c: ModelConfig, mods: Array<{ layer: number; target: string; r: number }>): number {
  const dims: Record<string, [number, number]> = {
    q_proj: [c.hiddenSize, c.numHeads * c.headDim], k_proj: [c.hiddenSize, c.numKvHeads * c.headDim], v_proj: [c.hiddenSize, c.numKvHeads * c.headDim],
    o_proj: [c.numHeads * c.headDim, c.hiddenSize], gate_proj: [c.hiddenSize, c.intermediateSize], up_proj: [c.hiddenSize, c.intermediateSize], down_proj: [c.intermediateSize, c.hiddenSize],
  };
  return mods.reduce((s, m) => s + m.r * (dims[m.target][0] + dims[m.target][1]), 0);
}

describe('placement budget solver', () => {
  it('reports in exactly the issue\'s form', () => {
    expect(QWEN_PARAMS).toBe(494032768);
    expect(budgetReport(1478464, 494032768)).toBe('1,478,464 trainable = 0.299% of 494,032,768');
  });

  it('Qwen2.5-0.5B shape at 0.3%: exact count, within budget, leftover smaller than any further rank', () => {
    for (const seed of [1, 2, 3]) {
      const cands = withImportance(qwen, seed);
      const plan = solvePlacement(cands, { baseParams: QWEN_PARAMS });
      expect(plan.budget).toBe(Math.floor(0.003 * 494032768));
      expect(plan.params).toBe(countFromShapes(qwen, plan.modules));
      expect(plan.params).toBeLessThanOrEqual(plan.budget);
      const minCost = Math.min(...cands.map((c) => c.inFeatures + c.outFeatures));
      expect(plan.budget - plan.params).toBeLessThan(minCost);
      expect(plan.report).toBe(budgetReport(plan.params, QWEN_PARAMS));
      expect(plan.report).toMatch(/^1,4\d\d,\d\d\d trainable = 0\.(29\d|300)% of 494,032,768$/);
      // the adapter built from the plan has exactly that many trainable parameters
      const a = createLoraAdapter(qwen, { r: plan.r, alpha: plan.alpha, modules: plan.modules }, mulberry32(0));
      expect(loraParamCount(a)).toBe(plan.params);
      // sparse: not every module, and ranks differ
      expect(plan.modules.length).toBeLessThan(cands.length);
      expect(new Set(plan.modules.map((m) => m.r)).size).toBeGreaterThan(1);
      console.log(`[placement seed ${seed}] ${plan.report}: ${plan.modules.length}/${cands.length} modules, ranks ${Math.min(...plan.modules.map((m) => m.r))}-${Math.max(...plan.modules.map((m) => m.r))}`);
    }
  });

  it('importance order is respected: among modules of the same shape a more important one never gets a lower rank; importance 0 gets none', () => {
    const cands = withImportance(qwen, 9);
    for (let i = 0; i < cands.length; i += 5) cands[i].importance = 0;
    const plan = solvePlacement(cands, { baseParams: QWEN_PARAMS, fraction: 0.002 });
    const rank = (c: PlacementCandidate) => plan.modules.find((m) => m.layer === c.layer && m.target === c.target)?.r ?? 0;
    for (const a of cands) for (const b of cands) {
      if (a.inFeatures === b.inFeatures && a.outFeatures === b.outFeatures && a.importance > b.importance) expect(rank(a), `${a.layer}.${a.target} vs ${b.layer}.${b.target}`).toBeGreaterThanOrEqual(rank(b));
    }
    for (let i = 0; i < cands.length; i += 5) expect(rank(cands[i])).toBe(0);
    // the single most important module (per parameter) is placed; scaling every importance changes nothing
    const top = cands.reduce((b, c) => (c.importance / (c.inFeatures + c.outFeatures) > b.importance / (b.inFeatures + b.outFeatures) ? c : b));
    expect(rank(top)).toBeGreaterThan(0);
    expect(solvePlacement(cands.map((c) => ({ ...c, importance: c.importance * 7 })), { baseParams: QWEN_PARAMS, fraction: 0.002 }).modules).toEqual(plan.modules);
  });

  it('importance beats uniform on importance-weighted capacity at the same budget; uniform spreads one rank everywhere', () => {
    const cands = withImportance(qwen, 4);
    const imp = solvePlacement(cands, { baseParams: QWEN_PARAMS });
    const uni = solvePlacement(cands, { baseParams: QWEN_PARAMS, mode: 'uniform' });
    expect(uni.modules.length).toBe(cands.length);
    expect(new Set(uni.modules.map((m) => m.r))).toEqual(new Set([2])); // floor(1,482,098 / 549,888) = 2
    expect(uni.params).toBe(2 * 24 * (1792 + 1024 + 1024 + 1792 + 3 * 5760));
    expect(uni.params).toBeLessThanOrEqual(uni.budget);
    expect(imp.capacity).toBeGreaterThan(uni.capacity);
    expect(uni.modules.every((m) => m.alpha === 2 * m.r)).toBe(true);
  });

  it('tiny model: uniform that cannot give every module rank 1 spreads rank 1 over layers and kinds within budget', () => {
    const base = 107_000;
    const cands = withImportance(tiny, 5);
    const uni = solvePlacement(cands, { baseParams: base, mode: 'uniform' });
    expect(uni.params).toBeLessThanOrEqual(Math.floor(0.003 * base));
    expect(uni.params).toBe(countFromShapes(tiny, uni.modules));
    expect(uni.modules.every((m) => m.r === 1)).toBe(true);
    expect(new Set(uni.modules.map((m) => m.layer)).size).toBe(Math.min(tiny.numLayers, uni.modules.length));
  });

  it('a budget too small for rank 1 anywhere, or no importance, is a clear message', () => {
    const cands = withImportance(tiny, 6);
    expect(() => solvePlacement(cands, { baseParams: 107_000, fraction: 0.0005 })).toThrow(/budget too small: 53 parameters \(0\.0500% of 107,000\) cannot hold rank 1 on any module; the smallest, model\.layers\.0\.self_attn\.k_proj, needs 96/);
    expect(() => solvePlacement(cands.map((c) => ({ ...c, importance: 0 })), { baseParams: 107_000 })).toThrow(/importance 0/);
    expect(() => solvePlacement(cands, { baseParams: 107_000, fraction: 1.5 })).toThrow(/fraction/);
  });
});
