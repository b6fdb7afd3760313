// How many traces a training length T cuts, and by how many tokens; the T that keeps a chosen share
// of them whole. A trace's length is its prompt (the problem) plus its reply (reasoning + answer), in
// the tokens its tokenCounts hold (the tokenizer's, or the chars/4 estimate of an import), plus the
// chat template's own tokens (`overhead`). Used by the Train view and the cluster export's README.
import type { TokenCounts } from '../domain/trace.ts';

/** Chat-template tokens around a single-turn prompt and reply (role markers, turn ends): a round figure. */
export const TEMPLATE_OVERHEAD = 16;

export interface CutReport {
  traces: number;
  /** traces longer than T */
  cut: number;
  /** tokens beyond T, summed over the cut traces */
  tokensCut: number;
  /** tokens of all traces (the share cut is tokensCut / tokens) */
  tokens: number;
  longest: number;
}

/** Tokens of one trace at training time: problem + reasoning + answer + the template's overhead. */
export function traceTokens(t: { tokenCounts: TokenCounts }, overhead = TEMPLATE_OVERHEAD): number {
  const c = t.tokenCounts;
  return c.problem + c.reasoning + c.answer + overhead;
}

/** What training at length T does to traces of `lengths` tokens. */
export function countCuts(lengths: readonly number[], T: number): CutReport {
  if (!(Number.isInteger(T) && T >= 1)) throw new Error(`T must be a positive integer, got ${T}`);
  let cut = 0; let tokensCut = 0; let tokens = 0; let longest = 0;
  for (const n of lengths) {
    tokens += n; longest = Math.max(longest, n);
    if (n > T) { cut++; tokensCut += n - T; }
  }
  return { traces: lengths.length, cut, tokensCut, tokens, longest };
}

/** The smallest T, a multiple of `step`, that keeps at least `share` (0..1] of the traces whole
 *  (0 when there are no traces). */
export function lengthForShare(lengths: readonly number[], share: number, step = 256): number {
  if (!(share > 0 && share <= 1)) throw new Error(`share must be in (0, 1], got ${share}`);
  if (!(Number.isInteger(step) && step >= 1)) throw new Error(`step must be a positive integer, got ${step}`);
  if (lengths.length === 0) return 0;
  const sorted = [...lengths].sort((a, b) => a - b);
  const need = sorted[Math.ceil(share * sorted.length) - 1]; // the k-th shortest must fit, k = ceil(share·n)
  return Math.max(step, Math.ceil(need / step) * step);
}

/** One line: "T = 1024 cuts 12 of 200 traces (6%) by 3,456 tokens (4% of all); T = 4096 keeps 95% whole". */
export function describeCuts(lengths: readonly number[], T: number, share = 0.95, step = 256): string {
  const r = countCuts(lengths, T);
  if (r.traces === 0) return 'no traces';
  const pct = (a: number, b: number) => `${Math.round((100 * a) / Math.max(1, b))}%`;
  const head = r.cut === 0 ? `T = ${T} keeps all ${r.traces} traces whole (longest ${r.longest.toLocaleString('en-US')} tokens)` : `T = ${T} cuts ${r.cut} of ${r.traces} traces (${pct(r.cut, r.traces)}) by ${r.tokensCut.toLocaleString('en-US')} tokens (${pct(r.tokensCut, r.tokens)} of all; longest ${r.longest.toLocaleString('en-US')})`;
  return `${head}; T = ${lengthForShare(lengths, share, step)} keeps ${Math.round(share * 100)}% whole`;
}
