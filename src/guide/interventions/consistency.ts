// Self-consistency: n samples of the same problem (each its own seeded stream), answered by a
// majority vote under the grader's equivalence. It acts on the run, not inside a sample: the run
// (src/guide/engine.ts) asks it how many samples to draw, votes, and shows the sample it names.
import type { Interventions, VoteTally } from '../../domain/guide.ts';

/** Samples to draw: consistency.n (at least 1), or 1 when self-consistency is off. */
export function sampleCount(iv: Interventions): number {
  return Math.max(1, Math.floor(iv.consistency?.n ?? 1));
}

/** The sample shown as the main line: the first one agreeing with the vote (0 without a vote or a winner). */
export function mainSample(vote: VoteTally | null): number {
  if (!vote || vote.answer === null) return 0;
  return vote.groups.find((g) => g.answer === vote.answer)?.samples[0] ?? 0;
}
