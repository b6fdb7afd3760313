// Final-answer extraction and the self-consistency vote. The grader (src/grading/) supplies the
// real extraction and equivalence; these defaults are used where it is not wired in.
import type { VoteTally } from '../domain/guide.ts';

export type Extract = (text: string) => string | null;
export type Equivalent = (a: string, b: string) => boolean | Promise<boolean>;

/** Fallback extraction: last \boxed{..}, text after "Final Answer:", "the answer is X", "#### X", last number. */
export function defaultExtract(text: string): string | null {
  const boxed = text.lastIndexOf('\\boxed{');
  if (boxed >= 0) {
    let depth = 0;
    for (let i = boxed + 6; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) return text.slice(boxed + 7, i).trim();
    }
  }
  const fa = /final answer\s*[:：]\s*([^\n]+)/gi;
  let last: string | null = null;
  for (const m of text.matchAll(fa)) last = m[1];
  if (last !== null) return cleanAnswer(last);
  const ia = /the answer is\s*[:：]?\s*([^\n]+)/gi;
  for (const m of text.matchAll(ia)) last = m[1];
  if (last !== null) return cleanAnswer(last);
  const hash = /####\s*([^\n]+)/g;
  for (const m of text.matchAll(hash)) last = m[1];
  if (last !== null) return cleanAnswer(last);
  const nums = text.match(/-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?/g);
  return nums ? nums[nums.length - 1].replace(/,/g, '') : null;
}

function cleanAnswer(s: string): string {
  return s.trim().replace(/^\$+|\$+$/g, '').replace(/[.。]\s*$/, '').trim();
}

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
