// The optional two-phase curriculum of the hierarchical loss: for the first `strategyFirst` share of
// the optimiser steps only strategy tokens carry loss (each sequence's weights masked to its strategy
// positions: the hierarchical loss with lambda_tactics = lambda_answer = 0), then every kind as set.
// A function of the step alone, so a run resumed from a checkpoint follows it exactly.
import { KIND_STRATEGY, type TrainSequence } from '../engine/adapter/train-loop.ts';

/** Last step of phase 1 (strategy only) for `steps` optimiser steps. */
export function strategyPhaseSteps(strategyFirst: number, steps: number): number {
  return Math.floor(strategyFirst * steps);
}

/** Loss weights of sequence i at step `step` (1-based), for the loop's weightsAt hook. */
export function curriculumWeights(seqs: readonly TrainSequence[], strategyFirst: number, steps: number): (step: number, i: number) => readonly number[] {
  const until = strategyPhaseSteps(strategyFirst, steps);
  const masked = seqs.map((q) => q.weights.map((w, t) => (q.kinds?.[t] === KIND_STRATEGY ? w : 0)));
  return (step, i) => (step <= until ? masked[i] : seqs[i].weights);
}
