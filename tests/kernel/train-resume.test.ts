// The app's training path (src/distill/train.ts: traces -> sequences -> sparse placement -> the
// engine's loop, as workers/engine/train-api.ts calls it) resumed from a stored checkpoint record
// (structured-cloned, as IndexedDB keeps it) follows the uninterrupted run's loss trajectory to 1e-6
// relative (with the KL term on a trace that carries teacher top-k); a pause stores a checkpoint at the step it begins; the strategy-first curriculum weights
// only strategy tokens up to its step, then every kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainTrace } from '../../src/distill/examples.ts';
import { DEFAULT_TRAIN_SETTINGS, type TrainSettings } from '../../src/distill/settings.ts';
import { trainLoraOnTraces, type PlacementSummary } from '../../src/distill/train.ts';
import type { TrainCheckpointRecord } from '../../src/domain/train.ts';
import type { StepProgress, TrainCheckpoint } from '../../src/engine/adapter/train-loop.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel } from './helpers.ts';

const TRACES: TrainTrace[] = [
  { id: 'p:0', problem: 'Tom has 3 apples and buys 4 more. How many?', reasoning: 'Strategy: add the two amounts.\nStep 1: 3 + 4 = 7.\nFinal answer: 7', answer: '7' },
  { id: 'p:1', problem: 'A box holds 6 eggs. How many eggs in 2 boxes?', reasoning: 'Plan: multiply boxes by eggs per box.\nSteps: 2 * 6 = 12.', answer: '12' },
  { id: 'p:2', problem: 'Sam had 10 coins and lost 3. How many are left?', reasoning: 'Strategy: subtract the lost coins.\n\n10 - 3 = 7\n#### 7', answer: '7' },
  { id: 'p:3', problem: 'Ann reads 5 pages a day for 4 days. How many pages?', reasoning: 'Plan: multiply pages by days.\nStep 1: 5 * 4 = 20.', answer: '20' },
];

let ctx: GpuContext; let decoder: Decoder; let tokenizer: HfTextTokenizer;
beforeAll(async () => { ctx = await nodeGpuContext(); ({ decoder, tokenizer } = await loadTinyModel(ctx)); });
afterAll(() => { decoder?.dispose(); ctx?.device.destroy(); });

const SPARSE: TrainSettings = {
  ...DEFAULT_TRAIN_SETTINGS, maxExamples: 4, seqLen: 96, steps: 8, lr: 2e-2, seed: 5, batchSize: 3, warmupSteps: 2, evalEvery: 4, checkpointEvery: 3,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], placement: { mode: 'importance', budget: 0.03, probeExamples: 2 },
  curriculum: { strategyFirst: 0.25 },
};

/** The record the worker stores (src/data/checkpoint-store.ts), through a structured clone as IndexedDB keeps it. */
function stored(c: TrainCheckpoint, spec: TrainSettings, placement: PlacementSummary): TrainCheckpointRecord {
  return structuredClone({ runId: 'run-test', createdAt: 0, updatedAt: 0, modelId: 'tiny', status: 'running' as const, spec: { ...spec, modules: placement.modules }, checkpoint: c });
}

describe('resume through the app-level training path', () => {
  it('a run stopped after a checkpoint and resumed from its stored record = the uninterrupted run (1e-6 relative)', async () => {
    const hooks = { baseParams: decoder.params, baseModel: 'tiny' };
    // trace 0 carries a teacher's top-2 in the student's own tokens: the KL term is on
    const toks = tokenizer.encode(TRACES[0].reasoning).map((id) => tokenizer.decode([id]));
    const traces = [{ ...TRACES[0], teacherTopK: { k: 2, tokens: toks.map((token) => ({ token, logprob: Math.log(0.8), top: [{ token, logprob: Math.log(0.8) }, { token: '4', logprob: Math.log(0.1) }] })) } }, ...TRACES.slice(1)];
    const seen: StepProgress[] = [];
    const full = await trainLoraOnTraces(ctx, decoder, tokenizer, traces, SPARSE, { ...hooks, onProgress: (p) => seen.push(p) });
    expect(full.summary.steps).toBe(8);
    expect(full.summary.placement.mode).toBe('importance');
    expect(full.summary.klPositions).toBeGreaterThan(10);
    expect(full.summary.valLosses.map((v) => v.step)).toEqual([0, 4, 8]);

    // the curriculum: strategy only through step floor(0.25 · 8) = 2, then every kind
    for (const p of seen) {
      if (p.step <= 2) { expect(p.lossByKind.strategy).toBeGreaterThan(0); expect(p.lossByKind.tactics).toBeNaN(); expect(p.lossByKind.answer).toBeNaN(); }
      else expect(Number.isFinite(p.lossByKind.tactics) || Number.isFinite(p.lossByKind.answer)).toBe(true);
    }

    // interrupted: the worker would lose the tab here; the record holds step 3 (and the solved placement)
    let rec: TrainCheckpointRecord | undefined; let placed: PlacementSummary | undefined; let stop = false;
    const first = await trainLoraOnTraces(ctx, decoder, tokenizer, traces, SPARSE, {
      ...hooks, onPlaced: (p) => { placed = p; }, onCheckpoint: (c) => { rec = stored(c, SPARSE, placed!); stop = true; }, isCancelled: () => stop,
    });
    expect(first.summary.cancelled).toBe(true);
    expect(rec!.checkpoint.step).toBe(3);

    // resumed as the worker does: the stored spec (with its modules, so no second probe) and checkpoint
    const spec = rec!.spec as unknown as TrainSettings;
    const resumed = await trainLoraOnTraces(ctx, decoder, tokenizer, traces, spec, { ...hooks, resumeFrom: rec!.checkpoint });
    expect(resumed.summary.resumedAt).toBe(3);
    expect(resumed.summary.placement.modules).toEqual(full.summary.placement.modules);
    expect(resumed.summary.losses).toHaveLength(8);
    const rel = resumed.summary.losses.map((l, i) => Math.abs(l - full.summary.losses[i]) / full.summary.losses[i]);
    console.log(`[train-resume] ${full.summary.placement.report}; losses ${full.summary.losses.map((l) => l.toFixed(5)).join(' ')}; resumed max rel diff ${Math.max(...rel).toExponential(2)}`);
    for (const d of rel) expect(d).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(resumed.summary.lossAfter - full.summary.lossAfter) / full.summary.lossAfter).toBeLessThanOrEqual(1e-6);
    expect(resumed.summary.lossBefore).toBe(full.summary.lossBefore); // carried in the checkpoint
    for (const [i, m] of resumed.adapter.modules.entries()) expect(m.B).toBeAllclose(full.adapter.modules[i].B, { atol: 1e-6, rtol: 1e-5 });
  });

  it('a pause stores a checkpoint at the step it begins, and the run goes on when it ends', async () => {
    const s: TrainSettings = { ...SPARSE, steps: 5, checkpointEvery: 0, placement: undefined, curriculum: undefined };
    let paused = false; let pausedChecks = 0;
    const steps: number[] = [];
    const r = await trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, s, {
      baseParams: decoder.params,
      onProgress: (p) => { if (p.step === 2) paused = true; },
      onCheckpoint: (c) => { steps.push(c.step); setTimeout(() => { paused = false; }, 120); },
      isPaused: () => { if (paused) pausedChecks++; return paused; },
    });
    expect(steps).toEqual([2]);
    expect(pausedChecks).toBeGreaterThan(1); // it waited
    expect(r.summary.steps).toBe(5);
    expect(r.summary.cancelled).toBe(false);
  });
});
