// Our engine's next-token log-probabilities against a llama.cpp fixture (scripts/llama/make-fixtures.ts):
// the top-1 agreement and the largest |Δ log-prob| over llama.cpp's top-k tokens at every position.
import type { LlamaFixture } from './make-fixtures.ts';

export interface LlamaAgreement {
  positions: number;
  /** positions where our argmax is llama.cpp's top-1 */
  top1Agree: number;
  /** first position that disagrees (-1: none), with both tokens */
  firstDisagreement: { pos: number; ours: number; llama: number } | null;
  /** max over positions and llama.cpp's top-k tokens of |ours - llama.cpp| (natural log) */
  maxAbsLogprob: number;
  /** the same over the top-1 token only */
  maxAbsTop1Logprob: number;
  /** smallest gap between llama.cpp's top-1 and top-2 log-probs over the positions */
  minLlamaMargin: number;
  /** disagreeing positions where llama.cpp's own top-2 gap exceeds `tie` (a near-tie cannot decide top-1) */
  decidedDisagreements: number;
}

/** `logits`: T x V row-major from our engine for fixture.ids. */
export function compareWithLlama(f: LlamaFixture, logits: Float32Array, vocab: number, tie = 0): LlamaAgreement {
  const T = f.ids.length;
  let top1Agree = 0;
  let firstDisagreement: LlamaAgreement['firstDisagreement'] = null;
  let maxAbs = 0;
  let maxTop1 = 0;
  let minMargin = Infinity;
  let decided = 0;
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let best = 0;
    let m = -Infinity;
    for (let j = 0; j < vocab; j++) if (row[j] > m) { m = row[j]; best = j; }
    let s = 0;
    for (let j = 0; j < vocab; j++) s += Math.exp(row[j] - m);
    const lse = m + Math.log(s);
    const margin = f.top_logprobs[t][0] - f.top_logprobs[t][1];
    minMargin = Math.min(minMargin, margin);
    if (best === f.top_ids[t][0]) top1Agree++;
    else {
      firstDisagreement ??= { pos: t, ours: best, llama: f.top_ids[t][0] };
      if (margin > tie) decided++;
    }
    f.top_ids[t].forEach((id, k) => {
      const d = Math.abs(row[id] - lse - f.top_logprobs[t][k]);
      maxAbs = Math.max(maxAbs, d);
      if (k === 0) maxTop1 = Math.max(maxTop1, d);
    });
  }
  return { positions: T, top1Agree, firstDisagreement, maxAbsLogprob: maxAbs, maxAbsTop1Logprob: maxTop1, minLlamaMargin: minMargin, decidedDisagreements: decided };
}
