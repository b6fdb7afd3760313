// The self-consistency vote. Extraction is the grader's (src/grading/extract.ts); the grader's
// equivalence is wired in by the workers, exactTrimmed is the fallback.
import type { VoteTally } from '../domain/guide.ts';

export type Extract = (text: string) => string | null;
export type Equivalent = (a: string, b: string) => boolean | Promise<boolean>;

/** Equivalence used when the grader is not available: exact match after trimming. */
export const exactTrimmed: Equivalent = (a, b) => a.trim() === b.trim();

/** Majority vote: answers grouped by `equivalent`; ties go to the group seen first. */
export async function majorityVote(answers: readonly (string | null)[], equivalent: Equivalent, equivalence: string): Promise<VoteTally> {
  const groups: { answer: string; count: number; samples: number[] }[] = [];
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i];
    if (a === null || a.trim() === '') continue;
    let g: (typeof groups)[number] | undefined;
    for (const cand of groups) {
      if (await equivalent(a, cand.answer)) { g = cand; break; }
    }
    if (g) { g.count++; g.samples.push(i); } else groups.push({ answer: a, count: 1, samples: [i] });
  }
  let best: (typeof groups)[number] | null = null;
  for (const g of groups) if (!best || g.count > best.count) best = g;
  return { answer: best ? best.answer : null, groups, equivalence };
}
