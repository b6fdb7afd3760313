// Step confidence from the model's own numbers: mean token log-prob and mean entropy over the
// model-sampled tokens of a step (inserted tokens carry no measurement).
import type { Confidence, TokenRecord } from '../domain/guide.ts';

/**
 * score = sqrt(p_geo * certainty) in [0, 1], where p_geo = exp(mean logprob) (geometric-mean token
 * probability) and certainty = 1 - mean entropy / ln(vocabSize). Null when the step has no model tokens.
 */
export function stepConfidence(tokens: readonly TokenRecord[], vocabSize: number): Confidence | null {
  let lp = 0;
  let ent = 0;
  let n = 0;
  for (const t of tokens) {
    if (t.source !== 'model' || t.logprob === null || t.entropy === null) continue;
    lp += t.logprob;
    ent += t.entropy;
    n++;
  }
  if (n === 0) return null;
  const meanLogprob = lp / n;
  const meanEntropy = ent / n;
  const certainty = Math.min(1, Math.max(0, 1 - meanEntropy / Math.log(Math.max(2, vocabSize))));
  const score = Math.sqrt(Math.exp(meanLogprob) * certainty);
  return { meanLogprob, meanEntropy, score, tokens: n };
}
