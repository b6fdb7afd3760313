// The strategy-first curriculum's weights: only strategy positions carry loss through step
// floor(fraction · steps), each sequence's own weights from the next step on.
import { describe, expect, it } from 'vitest';
import { curriculumWeights, strategyPhaseSteps } from '../../src/distill/curriculum.ts';
import { KIND_ANSWER, KIND_NONE, KIND_STRATEGY, KIND_TACTICS, type TrainSequence } from '../../src/engine/adapter/train-loop.ts';

const SEQ: TrainSequence = {
  ids: [1, 2, 3, 4, 5, 6], targets: [-1, 3, 4, 5, 6, -1], weights: [0, 0.25, 0.25, 0.5, 1, 0],
  kinds: [KIND_NONE, KIND_STRATEGY, KIND_STRATEGY, KIND_TACTICS, KIND_ANSWER, KIND_NONE],
};

describe('strategy-first curriculum', () => {
  it('switches from strategy-only weights to all at the phase step', () => {
    expect(strategyPhaseSteps(0.3, 10)).toBe(3);
    const w = curriculumWeights([SEQ], 0.3, 10);
    for (const step of [1, 2, 3]) expect(w(step, 0)).toEqual([0, 0.25, 0.25, 0, 0, 0]);
    for (const step of [4, 10]) expect(w(step, 0)).toEqual(SEQ.weights);
  });

  it('a zero fraction is the plain run from step 1', () => {
    expect(curriculumWeights([SEQ], 0, 10)(1, 0)).toEqual(SEQ.weights);
  });
});
