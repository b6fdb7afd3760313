// Adapter training for the experiment over traces: examples (chat prompt + reply, per-kind loss
// weights) -> the sparse placement (importance probe + budget solver, or uniform) -> the packed
// mini-batch loop (src/engine/adapter/train-loop.ts). Sequences are cut to their real length, so
// the loop packs them without padding.
import { WORLD_RECIPE, worldWarmup } from '../../src/world/recipe.ts';
import type { Trace } from '../../src/domain/trace.ts';
import { type LoraAdapter, LORA_TARGETS, createLoraAdapter, loraParamCount } from '../../src/engine/adapter/lora.ts';
import { budgetReport } from '../../src/engine/adapter/placement.ts';
import { type ExampleTokenizer, buildExamples, exampleSequence } from '../../src/distill/examples.ts';
import { DEFAULT_TRAIN_SETTINGS, type LossWeights, type TrainSettings } from '../../src/distill/settings.ts';
import { planPlacementOnTraces } from '../../src/distill/train.ts';
import { DEFAULT_LOOP_SETTINGS, type TrainSequence, trainLora } from '../../src/engine/adapter/train-loop.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import type { NodeModel } from './node-model.ts';

/** Sequence length of the world's training examples (longer replies are cut, as buildExamples does). */
export const WORLD_SEQ_LEN = 192;

/** The traces as the engine's loop trains on them: chat prompt + reply, per-kind weights, cut to their real length. */
export function worldSequences(tok: ExampleTokenizer, traces: readonly Trace[], loss: LossWeights, T = WORLD_SEQ_LEN): TrainSequence[] {
  const { examples } = buildExamples(tok, traces, T, loss, traces.length);
  if (!examples.length) throw new Error(`no trace fits ${T} tokens`);
  return examples.map(exampleSequence);
}

export interface WorldTrainOptions {
  budget: number;
  mode: 'importance' | 'uniform';
  loss: LossWeights;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  seqLen?: number;
  /** rows of one packed micro-batch (default max(1024, seqLen)); larger ones amortise dispatch overhead */
  microBatchTokens?: number;
  /** examples of the importance probe (default 8) */
  probeExamples?: number;
  onPlaced?: (report: string, seconds: number) => void;
  onStep?: (step: number, steps: number, loss: number, tokPerSec: number) => void;
}

export interface WorldTrainInfo { traces: number; sequences: number; steps: number; seconds: number; params: number; percent: number; report: string; lossFirst: number; lossLast: number; tokensPerSec: number; modules: number }

export async function trainOnTraces(m: NodeModel, traces: readonly Trace[], o: WorldTrainOptions): Promise<{ adapter: LoraAdapter; info: WorldTrainInfo }> {
  const T = o.seqLen ?? WORLD_SEQ_LEN;
  const tok = m.tokenizer as unknown as ExampleTokenizer;
  const seqs = worldSequences(tok, traces, o.loss, T);
  const s: TrainSettings = { ...DEFAULT_TRAIN_SETTINGS, maxExamples: traces.length, seqLen: T, targetModules: [...LORA_TARGETS], rank: 4, alpha: 8, lr: o.lr, steps: o.steps, seed: o.seed, loss: o.loss, placement: { mode: o.mode, budget: o.budget, probeExamples: o.probeExamples ?? WORLD_RECIPE.probeExamples } };
  const tp = performance.now();
  const { plan } = await planPlacementOnTraces(m.ctx, m.decoder, tok, traces, s, m.decoder.params);
  o.onPlaced?.(plan.report, (performance.now() - tp) / 1000);
  const adapter = createLoraAdapter(m.decoder.config, { r: s.rank, alpha: s.alpha, modules: plan.modules, baseModel: m.label }, mulberry32(o.seed));
  const t0 = performance.now();
  const r = await trainLora(m.ctx, m.decoder, seqs, {
    ...DEFAULT_LOOP_SETTINGS, steps: o.steps, batchSize: o.batchSize, microBatchTokens: o.microBatchTokens ?? Math.max(1024, T), lr: o.lr, warmupSteps: worldWarmup(o.steps),
    evalEvery: 0, checkpointEvery: 0, seed: o.seed, lora: { r: s.rank, alpha: s.alpha, targetModules: [...LORA_TARGETS] },
  }, { adapter, baseModel: m.label, onProgress: (p) => o.onStep?.(p.step, p.steps, p.loss, p.tokensPerSec) });
  const params = loraParamCount(r.adapter);
  const L = r.summary.losses;
  return {
    adapter: r.adapter,
    info: {
      traces: traces.length, sequences: seqs.length, steps: r.summary.steps, seconds: (performance.now() - t0) / 1000, params, percent: (100 * params) / m.decoder.params,
      report: budgetReport(params, m.decoder.params), lossFirst: L[0] ?? NaN, lossLast: L.length ? L.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, L.length) : NaN, tokensPerSec: r.summary.tokensPerSec, modules: r.adapter.modules.length,
    },
  };
}

