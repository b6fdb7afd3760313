// Adapter training end to end in Node on models/tiny: examples from in-memory traces through the
// real tokenizer's chat template (loss only on assistant tokens, hierarchical weights per kind),
// the engine's loop (mini-batches, warmup + cosine) lowers the validation loss, the PEFT export
// loads back with loadPeftAdapter and reproduces the trained adapter, and a cancel stops between steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPeftAdapter, loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { buildExample, buildExamples, exampleSequence, type TrainTrace } from '../../src/distill/examples.ts';
import { DEFAULT_TRAIN_SETTINGS } from '../../src/distill/settings.ts';
import { trainLoraOnTraces } from '../../src/distill/train.ts';
import { KIND_ANSWER, KIND_NONE, KIND_STRATEGY, type StepProgress } from '../../src/engine/adapter/train-loop.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import { loadTinyModel } from './helpers.ts';

const TRACES: TrainTrace[] = [
  { id: 'p:0', problem: 'Tom has 3 apples and buys 4 more. How many?', reasoning: 'Strategy: add the two amounts.\nStep 1: 3 + 4 = 7.\nFinal answer: 7', answer: '7' },
  { id: 'p:1', problem: 'A box holds 6 eggs. How many eggs in 2 boxes?', reasoning: 'Plan: multiply boxes by eggs per box.\nSteps: 2 * 6 = 12.', answer: '12' },
  { id: 'p:2', problem: 'Sam had 10 coins and lost 3. How many are left?', reasoning: 'Subtract the lost coins.\n\n10 - 3 = 7\n#### 7', answer: '7' },
];

let ctx: GpuContext; let decoder: Decoder; let config: ModelConfig; let tokenizer: HfTextTokenizer;
beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder, config, tokenizer } = await loadTinyModel(ctx));
});
afterAll(() => { decoder?.dispose(); ctx?.device.destroy(); });

describe('training examples', () => {
  it('prompt tokens carry no loss; each kind carries its lambda in total; padding to T', () => {
    const w = { strategy: 0.5, tactics: 1, answer: 2 };
    const ex = buildExample(tokenizer, TRACES[0], 128, w)!;
    const prompt = tokenizer.applyChatTemplate([{ role: 'user', content: TRACES[0].problem }]);
    expect(ex.promptTokens).toBe(prompt.length);
    expect(ex.batch.ids.slice(0, prompt.length)).toEqual(prompt);
    expect(ex.batch.ids).toHaveLength(128);
    // position t predicts token t+1: nothing before the last prompt position
    expect(ex.batch.weights.slice(0, prompt.length - 1).every((x) => x === 0)).toBe(true);
    expect(ex.batch.weights[prompt.length - 1]).toBeGreaterThan(0);
    const total = ex.batch.weights.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(w.strategy + w.tactics + w.answer, 5); // all three kinds present in trace 0
    expect(ex.truncated).toBe(0);
    expect(ex.batch.weights.filter((x) => x > 0)).toHaveLength(ex.targetTokens);
    // the end-of-turn token is the last target
    const lastT = ex.batch.weights.findLastIndex((x) => x > 0);
    expect(ex.batch.targets[lastT]).toBe(tokenizer.eosTokenIds[0]);
    // truncation: a short T keeps fewer targets, still weighted per kind
    const short = buildExample(tokenizer, TRACES[0], prompt.length + 5, w)!;
    expect(short.targetTokens).toBe(5);
    expect(short.truncated).toBe(ex.targetTokens - 5);
    // a prompt that fills T leaves no example
    expect(buildExample(tokenizer, TRACES[0], prompt.length, w)).toBeUndefined();
    expect(buildExamples(tokenizer, TRACES, prompt.length, w, 10).examples.length).toBeLessThan(3);
    // the loop's sequence: cut after the last weighted position, kinds where targets are
    const q = exampleSequence(ex);
    expect(q.ids).toHaveLength(lastT + 1);
    expect(q.weights).toEqual(ex.batch.weights.slice(0, lastT + 1));
    expect(Array.from(q.kinds!).every((k, t) => (k === KIND_NONE) === (q.targets[t] < 0))).toBe(true);
    expect(q.kinds![prompt.length - 1]).toBe(KIND_STRATEGY); // "Strategy: ..." opens the reply
    expect(q.kinds![lastT]).toBe(KIND_ANSWER); // end of turn counts with the answer
  });
});

describe('LoRA training run on the tiny model', () => {
  it('steps lower the mean loss; the PEFT export loads back with the same weights', async () => {
    const seen: StepProgress[] = [];
    const s = { ...DEFAULT_TRAIN_SETTINGS, seqLen: 64, steps: 12, lr: 2e-2, seed: 3 };
    const { adapter, summary } = await trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, s, { onProgress: (p) => seen.push(p), baseParams: decoder.params, baseModel: 'tiny' });
    console.log(`[train-api] examples ${summary.examples}, params ${summary.params} (${summary.percentOfBase.toFixed(2)}% of ${summary.baseParams}), loss ${summary.lossBefore.toFixed(3)} -> ${summary.lossAfter.toFixed(3)}; step losses ${summary.losses.map((l) => l.toFixed(2)).join(' ')}`);
    expect(summary.examples).toBe(3);
    expect(seen.map((p) => p.step)).toEqual([...Array(12).keys()].map((i) => i + 1));
    expect(seen.every((p) => Number.isFinite(p.loss) && p.tokens > 0 && p.gradNorm > 0)).toBe(true);
    expect(summary.batchSize).toBe(4);
    expect(summary.valLosses[0].step).toBe(0);
    expect(summary.lossAfter).toBeLessThan(summary.lossBefore * 0.8);
    // q_proj (64 -> 64) and v_proj (64 -> 32) per layer, r = 4: r·(in + out)
    const expected = config.numLayers * 4 * ((64 + 64) + (64 + 32));
    expect(summary.params).toBe(expected);
    expect(summary.percentOfBase).toBeCloseTo((100 * expected) / decoder.params, 6);
    const ex = exportPeftAdapter(adapter);
    expect(JSON.parse(ex.adapterConfig)).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'tiny' });
    const back = loadPeftAdapter(config, ex.adapterConfig, ex.safetensors);
    expect(back.modules.map((m) => m.path)).toEqual(adapter.modules.map((m) => m.path));
    for (let i = 0; i < back.modules.length; i++) {
      expect(back.modules[i].A).toBeAllclose(adapter.modules[i].A, { atol: 0, rtol: 0 });
      expect(back.modules[i].B).toBeAllclose(adapter.modules[i].B.map((v) => v * adapter.modules[i].gate), { atol: 1e-7, rtol: 1e-6 });
    }
    expect(back.modules.some((m) => m.B.some((v) => v !== 0))).toBe(true); // B moved from its zero init
  });

  it('KL to the teacher top-k where a trace carries it: aligned positions, a larger loss at step 0, training still lowers it', async () => {
    // a teacher with the student's own tokenizer: its tokens are the student's, top-2 = the token (p 0.9) and "7" (p 0.05)
    const withTopK = TRACES.map((t) => {
      const toks = tokenizer.encode(t.reasoning).map((id) => tokenizer.decode([id]));
      return { ...t, teacherTopK: { k: 2, tokens: toks.map((token) => ({ token, logprob: Math.log(0.9), top: [{ token, logprob: Math.log(0.9) }, { token: '7', logprob: Math.log(0.05) }] })) } };
    });
    const s = { ...DEFAULT_TRAIN_SETTINGS, seqLen: 64, steps: 6, lr: 2e-2, seed: 3 };
    const plain = await trainLoraOnTraces(ctx, decoder, tokenizer, withTopK, { ...s, loss: { ...s.loss, kl: 0 } }, { baseParams: decoder.params });
    const kl = await trainLoraOnTraces(ctx, decoder, tokenizer, withTopK, { ...s, loss: { ...s.loss, kl: 1 } }, { baseParams: decoder.params });
    console.log(`[train-api kl] ${kl.summary.klPositions} KL positions; step-0 loss ${plain.summary.lossBefore.toFixed(3)} (CE) vs ${kl.summary.lossBefore.toFixed(3)} (CE + KL); after ${kl.summary.lossAfter.toFixed(3)}`);
    expect(plain.summary.klPositions).toBe(0);
    expect(kl.summary.klPositions).toBeGreaterThan(10);
    expect(kl.summary.lossBefore).toBeGreaterThan(plain.summary.lossBefore * 1.01);
    expect(kl.summary.lossAfter).toBeLessThan(kl.summary.lossBefore);
    expect(kl.summary.losses.every(Number.isFinite)).toBe(true);
  });

  it('a cancel stops between steps and still returns the adapter trained so far', async () => {
    let n = 0;
    const { summary } = await trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, { ...DEFAULT_TRAIN_SETTINGS, seqLen: 64, steps: 50 }, { onProgress: () => { n++; }, isCancelled: () => n >= 3, baseParams: decoder.params });
    expect(summary.cancelled).toBe(true);
    expect(summary.steps).toBe(3);
    expect(summary.valLosses.at(-1)!.step).toBe(3); // validated where it stopped
    expect(summary.lossAfter).toBe(summary.valLosses.at(-1)!.loss);
    expect(summary.lossAfter).toBeGreaterThan(0);
  });

  it('settings errors name the field', async () => {
    await expect(trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, { ...DEFAULT_TRAIN_SETTINGS, rank: 0 }, { baseParams: 1 })).rejects.toThrow(/"rank"/);
    await expect(trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, { ...DEFAULT_TRAIN_SETTINGS, seqLen: 8 }, { baseParams: 1 })).rejects.toThrow(/no training example fits seqLen 8/);
    await expect(trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, { ...DEFAULT_TRAIN_SETTINGS, maxExamples: 0 }, { baseParams: 1 })).rejects.toThrow(/"maxExamples"/);
    await expect(trainLoraOnTraces(ctx, decoder, tokenizer, [], DEFAULT_TRAIN_SETTINGS, { baseParams: 1 })).rejects.toThrow(/no traces to train on: the pool or selection is empty/);
    const T = config.maxPositionEmbeddings + 1;
    await expect(trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, { ...DEFAULT_TRAIN_SETTINGS, seqLen: T }, { baseParams: 1 })).rejects.toThrow(new RegExp(`sequences of ${T} tokens are longer than the model's context \\(${T - 1} tokens\\)`));
    await expect(trainLoraOnTraces(ctx, decoder, tokenizer, TRACES, { ...DEFAULT_TRAIN_SETTINGS, batchSize: 0 }, { baseParams: 1 })).rejects.toThrow(/"batchSize"/);
  });
});
