// Evaluation metrics: Wilson 95% interval, majority vote over extracted answers, pass@1/maj@k,
// breakdowns by level/subject. Pure functions over per-item results.
import { normalizeAnswer } from '../grading/normalize.ts';
import type { Interval, Score } from '../domain/eval.ts';
import { meanAtK, reportKs } from './estimators.ts';

/** Wilson score interval for k successes out of n (z = 1.96 gives 95%). n = 0 gives [0, 1]. */
export function wilson(k: number, n: number, z = 1.96): Interval {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface Vote { answer: string | null; votes: number; index: number }

/**
 * Majority vote over extracted answers: answers are grouped by their normalised form; ties go to
 * the group seen first. `index` is the first sample of the winning group. Null answers never win
 * unless every sample is null.
 */
export function majorityVote(answers: readonly (string | null)[]): Vote {
  const groups = new Map<string, { count: number; first: number; raw: string }>();
  answers.forEach((a, i) => {
    if (a === null || a.trim() === '') return;
    const k = normalizeAnswer(a);
    const g = groups.get(k);
    if (g) g.count++;
    else groups.set(k, { count: 1, first: i, raw: a });
  });
  let best: { count: number; first: number; raw: string } | undefined;
  for (const g of groups.values()) if (!best || g.count > best.count || (g.count === best.count && g.first < best.first)) best = g;
  return best ? { answer: best.raw, votes: best.count, index: best.first } : { answer: null, votes: 0, index: -1 };
}

/** One graded item as the metrics see it. */
export interface ScoredItem {
  /** Correctness of each sample (length k >= 1). */
  samples: boolean[];
  /** Correctness of the majority-voted answer (equals samples[0] when k = 1). */
  majority: boolean;
  tokens: number[];
  /** Extracted answer of each sample (for maj@k); absent in old records. */
  answers?: (string | null)[];
  level?: string | number;
  subject?: string;
}

export function score(items: readonly ScoredItem[]): Score {
  const n = items.length;
  let p1 = 0;
  let maj = 0;
  let toks = 0;
  let tokCount = 0;
  let k = 0;
  for (const it of items) {
    const s = it.samples.length;
    k = Math.max(k, s);
    p1 += s === 0 ? 0 : it.samples.filter(Boolean).length / s;
    if (it.majority) maj++;
    for (const t of it.tokens) { toks += t; tokCount++; }
  }
  const pass1 = n === 0 ? 0 : p1 / n;
  // Wilson over sample-level successes: each sample is a Bernoulli trial of pass@1.
  const trials = items.reduce((a, it) => a + it.samples.length, 0);
  const successes = items.reduce((a, it) => a + it.samples.filter(Boolean).length, 0);
  return {
    n, pass1, pass1Interval: wilson(successes, trials), majK: n === 0 ? 0 : maj / n, majInterval: wilson(maj, n), k,
    meanTokens: tokCount === 0 ? 0 : toks / tokCount,
    ...(k > 1 ? { atK: atK(items) } : {}),
  };
}

/** pass@k and maj@k (unbiased, estimators.ts) for the ks every item has samples for. */
function atK(items: readonly ScoredItem[]): { k: number; pass: number; maj: number }[] {
  if (items.length === 0 || items.some((it) => !it.answers || it.answers.length !== it.samples.length)) return [];
  const minN = Math.min(...items.map((it) => it.samples.length));
  const votes = items.map((it) => it.samples.map((c, i) => ({ answer: it.answers![i], correct: c })));
  return reportKs(minN).map((k) => { const m = meanAtK(votes, k); return { k, pass: m.pass, maj: m.maj }; });
}

/** Scores grouped by a key (level, subject); groups sorted by key. */
export function breakdown(items: readonly ScoredItem[], by: 'level' | 'subject'): { key: string; score: Score }[] {
  const groups = new Map<string, ScoredItem[]>();
  for (const it of items) {
    const v = it[by];
    if (v === undefined || v === '') continue;
    const key = String(v);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(it);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([key, g]) => ({ key, score: score(g) }));
}

/** Estimated remaining ms from the mean time per finished item. */
export function eta(done: number, total: number, elapsedMs: number): number | null {
  if (done === 0 || total <= done) return done >= total ? 0 : null;
  return (elapsedMs / done) * (total - done);
}
