// Reasoning-importance probe (src/engine/adapter/importance.ts) on models/tiny: the GPU rank-1 probe's
// scores equal in·‖dB‖² from the float64 reference with the same probe adapter; in·‖G·a‖² over random
// unit directions averages to ‖dL/dW‖_F² (measured through an r = in probe with A = I); a training run
// with the importance placement trains exactly the solved adapter within the budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentBatch } from '../../src/engine/adapter/batch.ts';
import { probeImportance } from '../../src/engine/adapter/importance.ts';
import { createLoraAdapter, loraParamCount } from '../../src/engine/adapter/lora.ts';
import { loraLossAndGrads } from '../../src/engine/adapter/reference.ts';
import type { TrainTrace } from '../../src/distill/examples.ts';
import { DEFAULT_TRAIN_SETTINGS } from '../../src/distill/settings.ts';
import { planPlacementOnTraces, trainLoraOnTraces } from '../../src/distill/train.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { readTinyTensors } from '../support/tiny-host.ts';
import { loadTinyModel } from './helpers.ts';

let ctx: GpuContext; let decoder: Decoder; let config: ModelConfig; let tokenizer: HfTextTokenizer; let model: ReferenceModel;
beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder, config, tokenizer } = await loadTinyModel(ctx));
  model = new ReferenceModel(config, await readTinyTensors());
});
afterAll(() => { decoder?.dispose(); ctx?.device.destroy(); });

const ids = [3, 140, 22, 301, 77, 5, 260, 411, 9, 88];
/** reasoning tokens 2..8 weighted, the "answer" 8..10 not */
const reasoning = segmentBatch(ids, [{ start: 2, end: 5, lambda: 1 }, { start: 5, end: 8, lambda: 1 }]);

describe('importance probe', () => {
  it('GPU scores = in·‖dB‖² of the float64 reference with the same rank-1 probe; every module scored > 0', async () => {
    const got = await probeImportance(ctx, decoder, [reasoning], { rand: mulberry32(5) });
    expect(got).toHaveLength(config.numLayers * 7);
    // the same probe adapter on the CPU: unit-norm A from the same generator, B = 0, scaling 1
    const probe = createLoraAdapter(config, { r: 1, alpha: 1, modules: got.map((c) => ({ layer: c.layer, target: c.target, r: 1, alpha: 1 })) }, mulberry32(5));
    for (const m of probe.modules) { const n = Math.hypot(...m.A); for (let i = 0; i < m.A.length; i++) m.A[i] /= n; }
    const ref = loraLossAndGrads(model, probe, reasoning);
    probe.modules.forEach((m, i) => {
      const g = ref.grads.get(m.path)!;
      expect(Math.max(...g.dA.map(Math.abs))).toBe(0); // B = 0: no gradient reaches A
      const want = m.inFeatures * g.dB.reduce((s, v) => s + v * v, 0);
      expect(got[i].importance, m.path).toBeGreaterThan(0);
      expect(Math.abs(got[i].importance - want), `${m.path} ${got[i].importance} vs ${want}`).toBeLessThan(1e-3 * want);
    });
    const top = [...got].sort((a, b) => b.importance - a.importance).slice(0, 3).map((c) => `${c.layer}.${c.target} ${c.importance.toExponential(2)}`);
    console.log(`[importance] top 3: ${top.join(', ')}`);
    // only reasoning tokens count: weighting the answer tokens too changes the scores
    const withAnswer = segmentBatch(ids, [{ start: 2, end: 5, lambda: 1 }, { start: 5, end: 8, lambda: 1 }, { start: 8, end: 10, lambda: 1 }]);
    const other = await probeImportance(ctx, decoder, [withAnswer], { rand: mulberry32(5) });
    expect(other.some((c, i) => Math.abs(c.importance - got[i].importance) > 1e-3 * got[i].importance)).toBe(true);
  });

  it('in·‖G·a‖² over random unit directions averages to ‖dL/dW‖_F² (float64 reference, G from an r = in probe with A = I)', () => {
    const target = { layer: 1, target: 'v_proj' as const };
    const full = createLoraAdapter(config, { r: 64, alpha: 64, modules: [{ ...target, r: 64, alpha: 64 }] }, mulberry32(1));
    const m = full.modules[0];
    m.A.fill(0); for (let k = 0; k < 64; k++) m.A[k * 64 + k] = 1; // A = I: dB = G (out, in)
    const G = loraLossAndGrads(model, full, reasoning).grads.get(m.path)!.dB;
    const fro = G.reduce((s, v) => s + v * v, 0);
    let sum = 0; const K = 200; const rnd = mulberry32(9);
    for (let k = 0; k < K; k++) {
      const p = createLoraAdapter(config, { r: 1, alpha: 1, modules: [{ ...target, r: 1, alpha: 1 }] }, rnd);
      const a = p.modules[0]; const n = Math.hypot(...a.A); for (let i = 0; i < a.A.length; i++) a.A[i] /= n;
      const dB = loraLossAndGrads(model, p, reasoning).grads.get(a.path)!.dB;
      sum += a.inFeatures * dB.reduce((s, v) => s + v * v, 0);
    }
    console.log(`[importance] mean in·|G a|^2 over ${K} directions ${(sum / K).toExponential(3)} vs |G|_F^2 ${fro.toExponential(3)}`);
    expect(Math.abs(sum / K - fro)).toBeLessThan(0.2 * fro);
  });

  it('a run with the importance placement trains the solved adapter: exact count within 3% of the base, report in the summary', async () => {
    const traces: TrainTrace[] = [
      { id: 'p:0', problem: 'Tom has 3 apples and buys 4 more. How many?', reasoning: 'Strategy: add the two amounts.\nStep 1: 3 + 4 = 7.\nFinal answer: 7', answer: '7' },
      { id: 'p:1', problem: 'A box holds 6 eggs. How many eggs in 2 boxes?', reasoning: 'Plan: multiply boxes by eggs per box.\nSteps: 2 * 6 = 12.', answer: '12' },
    ];
    const s = { ...DEFAULT_TRAIN_SETTINGS, seqLen: 64, steps: 2, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as typeof DEFAULT_TRAIN_SETTINGS.targetModules, placement: { mode: 'importance' as const, budget: 0.03, probeExamples: 2 } };
    const { plan } = await planPlacementOnTraces(ctx, decoder, tokenizer, traces, s, decoder.params);
    const { adapter, summary } = await trainLoraOnTraces(ctx, decoder, tokenizer, traces, s, { baseParams: decoder.params });
    expect(summary.placement.mode).toBe('importance');
    // the run probes and solves as the Train view's probe does: the same modules and ranks
    expect(summary.placement.modules).toEqual(plan.modules);
    expect(loraParamCount(adapter)).toBe(summary.params);
    expect(summary.params).toBeLessThanOrEqual(Math.floor(0.03 * decoder.params));
    expect(adapter.modules.map((m) => [m.layer, m.target, m.r])).toEqual(summary.placement.modules.map((m) => [m.layer, m.target, m.r]));
    expect(summary.placement.report).toBe(`${summary.params.toLocaleString('en-US')} trainable = ${((100 * summary.params) / decoder.params).toFixed(3)}% of ${decoder.params.toLocaleString('en-US')}`);
    console.log(`[importance run] ${summary.placement.report}; ${adapter.modules.map((m) => `${m.layer}.${m.target}:${m.r}`).join(' ')}`);
  });
});
