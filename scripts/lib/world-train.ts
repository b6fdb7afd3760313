// Adapter training for the experiment over traces, through the app's own trainer
// (src/distill/train.ts trainLoraOnTraces: examples with per-kind loss weights -> importance or
// uniform placement -> the engine's packed mini-batch loop with warmup, validation and checkpoint
// cadence) and the one recipe (src/world/recipe.ts worldTrainSettings): the code the Train view
// and the Pipeline run, so the README's numbers come from it.
import type { Trace } from '../../src/domain/trace.ts';
import type { LoraAdapter } from '../../src/engine/adapter/lora.ts';
import { type ExampleTokenizer, buildExamples, exampleSequence } from '../../src/distill/examples.ts';
import type { LossWeights } from '../../src/distill/settings.ts';
import { trainLoraOnTraces } from '../../src/distill/train.ts';
import type { TrainSequence } from '../../src/engine/adapter/train-loop.ts';
import { WORLD_RECIPE, type WorldRecipeOptions, worldTrainSettings } from '../../src/world/recipe.ts';
import type { NodeModel } from './node-model.ts';

/** Sequence length of the world's training examples (the recipe's). */
export const WORLD_SEQ_LEN = WORLD_RECIPE.seqLen;

/** The traces as the engine's loop trains on them: chat prompt + reply, per-kind weights, cut to their real length. */
export function worldSequences(tok: ExampleTokenizer, traces: readonly Trace[], loss: LossWeights, T = WORLD_SEQ_LEN): TrainSequence[] {
  const { examples } = buildExamples(tok, traces, T, loss, traces.length);
  if (!examples.length) throw new Error(`no trace fits ${T} tokens`);
  return examples.map(exampleSequence);
}

export interface WorldTrainOptions extends Omit<WorldRecipeOptions, 'maxExamples'> {
  onPlaced?: (report: string, seconds: number) => void;
  onStep?: (step: number, steps: number, loss: number, tokPerSec: number) => void;
}

export interface WorldTrainInfo { traces: number; sequences: number; steps: number; seconds: number; params: number; percent: number; report: string; lossFirst: number; lossLast: number; tokensPerSec: number; modules: number }

export async function trainOnTraces(m: NodeModel, traces: readonly Trace[], o: WorldTrainOptions): Promise<{ adapter: LoraAdapter; info: WorldTrainInfo }> {
  const tok = m.tokenizer as unknown as ExampleTokenizer;
  const s = worldTrainSettings({ ...o, maxExamples: traces.length });
  const t0 = performance.now();
  let placedAt = t0;
  const { adapter, summary: r } = await trainLoraOnTraces(m.ctx, m.decoder, tok, traces, s, {
    baseParams: m.decoder.params, baseModel: m.label,
    onPlaced: (p) => { placedAt = performance.now(); o.onPlaced?.(p.report, (placedAt - t0) / 1000); },
    onProgress: (p) => o.onStep?.(p.step, p.steps, p.loss, p.tokensPerSec),
  });
  const L = r.losses;
  return {
    adapter,
    info: {
      traces: traces.length, sequences: r.examples, steps: r.steps, seconds: (performance.now() - placedAt) / 1000, params: r.params, percent: r.percentOfBase,
      report: r.placement.report, lossFirst: L[0] ?? NaN, lossLast: L.length ? L.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, L.length) : NaN, tokensPerSec: r.tokensPerSec, modules: adapter.modules.length,
    },
  };
}
