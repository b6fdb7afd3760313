// The training loop (src/engine/adapter/train-loop.ts) on models/tiny: packed mini-batches with
// gradient accumulation, schedule, validation, progress; a run stopped after a checkpoint and
// resumed from it (through structuredClone, as IndexedDB stores it) follows the uninterrupted
// run's loss trajectory to 1e-6 relative; bad input fails with a clear message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoopSettings, type StepProgress, type TrainCheckpoint, type TrainSequence, DEFAULT_LOOP_SETTINGS, KIND_ANSWER, KIND_STRATEGY, KIND_TACTICS, scheduledLr, trainLora } from '../../src/engine/adapter/train-loop.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import { loadTinyModel, rng } from './helpers.ts';

let ctx: GpuContext;
let decoder: Decoder;
beforeAll(async () => { ctx = await nodeGpuContext(); ({ decoder } = await loadTinyModel(ctx)); });
afterAll(() => { decoder?.dispose(); ctx?.device.destroy(); });

/** n sequences of 8..40 tokens; loss on the second half, split strategy / tactics / answer. */
function sequences(n: number, seed: number): TrainSequence[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const T = 8 + Math.floor(r() * 33);
    const ids = Array.from({ length: T }, () => 3 + Math.floor(r() * 40)); // a small alphabet: learnable
    const start = Math.floor(T / 2);
    const targets = ids.map((_, t) => (t >= start - 1 && t + 1 < T ? ids[t + 1] : -1));
    const n = targets.filter((y) => y >= 0).length;
    const weights = targets.map((y) => (y >= 0 ? 1 / n : 0));
    const kinds = targets.map((y, t) => (y < 0 ? 0 : t < start + 1 ? KIND_STRATEGY : t + 2 < T ? KIND_TACTICS : KIND_ANSWER));
    return { ids, targets, weights, kinds };
  });
}

const SETTINGS: LoopSettings = { ...DEFAULT_LOOP_SETTINGS, steps: 6, batchSize: 5, microBatchTokens: 96, lr: 1e-2, warmupSteps: 2, minLrRatio: 0.1, evalEvery: 3, checkpointEvery: 3, seed: 3, lora: { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'down_proj'] } };

describe('trainLora', () => {
  const data = sequences(12, 1);
  const validation = sequences(4, 2);

  it('packs batches into micro-batches, follows the schedule, reports progress; resume after a checkpoint = the uninterrupted run', async () => {
    const seen: StepProgress[] = [];
    const full = await trainLora(ctx, decoder, data, SETTINGS, { validation, onProgress: (p) => seen.push(p) });
    expect(full.summary.steps).toBe(6);
    expect(seen.map((p) => p.lr)).toEqual([1, 2, 3, 4, 5, 6].map((s) => scheduledLr(SETTINGS, s)));
    expect(seen.some((p) => p.microBatches > 1)).toBe(true); // 5 sequences of up to 40 tokens do not fit 96 rows
    for (const p of seen) {
      expect(p.gradNorm).toBeGreaterThan(0);
      expect(p.tokensPerSec).toBeGreaterThan(0);
      expect(p.gpuBytes).toBeGreaterThan(decoder.gpuBytes);
      for (const k of ['strategy', 'tactics', 'answer'] as const) expect(p.lossByKind[k]).toBeGreaterThan(0);
    }
    expect(full.summary.valLosses.map((v) => v.step)).toEqual([3, 6]);
    expect(full.summary.losses[5]).toBeLessThan(full.summary.losses[0]);

    let stored: TrainCheckpoint | undefined;
    let stop = false;
    const first = await trainLora(ctx, decoder, data, SETTINGS, { validation, isCancelled: () => stop, onCheckpoint: (c) => { stored = structuredClone(c); stop = true; } });
    expect(first.summary.cancelled).toBe(true);
    expect(first.summary.steps).toBe(3);
    expect(stored!.step).toBe(3);
    const resumed = await trainLora(ctx, decoder, data, SETTINGS, { validation, resumeFrom: stored });
    expect(resumed.summary.resumedAt).toBe(3);
    const rel = resumed.summary.losses.map((l, i) => Math.abs(l - full.summary.losses[i]) / full.summary.losses[i]);
    console.log(`[train-loop] uninterrupted ${full.summary.losses.map((l) => l.toFixed(6)).join(' ')}; resumed max rel diff ${Math.max(...rel).toExponential(2)}`);
    expect(resumed.summary.losses).toHaveLength(6);
    for (const d of rel) expect(d).toBeLessThanOrEqual(1e-6);
    expect(resumed.summary.valLosses[1].loss).toBeCloseTo(full.summary.valLosses[1].loss, 6);
    for (const [i, m] of resumed.adapter.modules.entries()) expect(m.B).toBeAllclose(full.adapter.modules[i].B, { atol: 1e-6, rtol: 1e-5 });
  });

  it('bad input: a clear message', async () => {
    await expect(trainLora(ctx, decoder, [], SETTINGS)).rejects.toThrow(/dataset is empty/);
    const long = sequences(1, 5)[0];
    await expect(trainLora(ctx, decoder, [long], { ...SETTINGS, microBatchTokens: 4 })).rejects.toThrow(/training sequence 0 has \d+ tokens, more than microBatchTokens 4/);
    await expect(trainLora(ctx, decoder, data, { ...SETTINGS, batchSize: 0 })).rejects.toThrow(/"batchSize"/);
    let ck: TrainCheckpoint | undefined;
    await trainLora(ctx, decoder, data.slice(0, 3), { ...SETTINGS, steps: 1, checkpointEvery: 1 }, { onCheckpoint: (c) => { ck = c; } });
    await expect(trainLora(ctx, decoder, data, SETTINGS, { resumeFrom: ck })).rejects.toThrow(/belongs to another run/);
  });
});
