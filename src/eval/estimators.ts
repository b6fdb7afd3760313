// pass@k and maj@k from n >= k samples per item, with the standard unbiased estimators.
//  - pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"):
//      1 - C(n-c, k) / C(n, k), computed as the product prod_{i=n-c+1..n} (1 - k/i) (numerically stable).
//  - maj@k: the expected correctness of the majority vote over a k-subset drawn uniformly without
//    replacement from the n samples (ties split evenly among the tied answers: a uniform tie-break;
//    samples with no answer take a slot but never win). Exact over every k-subset when there are at
//    most MAJ_EXACT_LIMIT of them, else the mean over MAJ_DRAWS seeded random subsets.
import { SeededRng } from '../lib/rng.ts';
import { normalizeAnswer } from '../grading/normalize.ts';

/** Unbiased pass@k for one item: n samples, c of them correct (0 <= c <= n, 1 <= k <= n). */
export function passAtK(n: number, c: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new Error(`passAtK: need integers 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  let miss = 1; // C(n-c, k) / C(n, k)
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

/** C(n, k) as a float (exact for the sizes the estimator enumerates). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - i + 1)) / i;
  return Math.round(r);
}

export const MAJ_EXACT_LIMIT = 20_000;
export const MAJ_DRAWS = 4_000;

/** One sample as the vote sees it: its extracted answer (null: none) and its verdict. */
export interface VoteSample { answer: string | null; correct: boolean }

/**
 * maj@k for one item from its n samples. Answers are grouped by normalised form (the vote of
 * metrics.majorityVote); a group counts as correct when its first sample was graded correct.
 */
export function majAtK(samples: readonly VoteSample[], k: number, seed = 1): number {
  const n = samples.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`majAtK: need 1 <= k <= n (${n}), got k=${k}`);
  const groupOf = new Map<string, number>();
  const groupCorrect: boolean[] = [];
  const g = samples.map((s) => {
    if (s.answer === null || s.answer.trim() === '') return -1;
    const key = normalizeAnswer(s.answer);
    let id = groupOf.get(key);
    if (id === undefined) { id = groupCorrect.length; groupOf.set(key, id); groupCorrect.push(s.correct); }
    return id;
  });
  const counts = new Array<number>(groupCorrect.length).fill(0);
  // Expected correctness of the vote over the subset `idx`.
  const vote = (idx: ArrayLike<number>): number => {
    counts.fill(0);
    for (let i = 0; i < idx.length; i++) if (g[idx[i]] >= 0) counts[g[idx[i]]]++;
    let best = 0, tied = 0, right = 0;
    for (let j = 0; j < counts.length; j++) {
      if (counts[j] === 0) continue;
      if (counts[j] > best) { best = counts[j]; tied = 1; right = groupCorrect[j] ? 1 : 0; }
      else if (counts[j] === best) { tied++; if (groupCorrect[j]) right++; }
    }
    return tied === 0 ? 0 : right / tied;
  };
  const total = binomial(n, k);
  if (total <= MAJ_EXACT_LIMIT) {
    const idx = Array.from({ length: k }, (_, i) => i);
    let sum = 0;
    for (;;) {
      sum += vote(idx);
      let i = k - 1;
      while (i >= 0 && idx[i] === n - k + i) i--;
      if (i < 0) break;
      idx[i]++;
      for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
    }
    return sum / total;
  }
  const rng = new SeededRng(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  let sum = 0;
  for (let d = 0; d < MAJ_DRAWS; d++) {
    for (let i = 0; i < k; i++) { // partial Fisher-Yates: the first k are a uniform k-subset
      const j = i + Math.floor(rng.next() * (n - i));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    sum += vote(perm.slice(0, k));
  }
  return sum / MAJ_DRAWS;
}

/** The k values worth reporting for n samples: 1, 2, 4, ... up to n (and n itself). */
export function reportKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

/** Mean pass@k and maj@k over items (each item with n_i >= k samples; items with fewer are skipped). */
export function meanAtK(items: readonly (readonly VoteSample[])[], k: number): { pass: number; maj: number; n: number } {
  let pass = 0, maj = 0, m = 0;
  for (const s of items) {
    if (s.length < k) continue;
    pass += passAtK(s.length, s.filter((x) => x.correct).length, k);
    maj += majAtK(s, k);
    m++;
  }
  return { pass: m ? pass / m : 0, maj: m ? maj / m : 0, n: m };
}
