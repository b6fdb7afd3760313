// Per-position targets and weights of a training loss: loss = Σ_t w_t · CE(logits_t, target_t).
// The hierarchical distillation loss l_s·CE(strategy) + l_t·CE(tactics) + l_a·CE(answer) is a
// choice of weights: each segment's tokens get lambda / (segment length).
import type { TopKTargets } from '../ops/kl-topk.ts';

export interface TrainBatch {
  ids: number[];
  /** target id predicted at position t (usually ids[t+1]); -1 = no loss at t */
  targets: number[];
  /** per-position weight (0 where targets[t] = -1) */
  weights: number[];
  /** KL to the teacher's top-k at each position (ops/kl-topk.ts; weights = lambda_KL·row weight), where a trace carries it */
  teacher?: TopKTargets;
}

/** HF ForCausalLMLoss: mean next-token CE over positions 0..T-2. */
export function causalLmBatch(ids: readonly number[]): TrainBatch {
  const T = ids.length;
  if (T < 2) throw new Error(`causal LM loss needs at least 2 tokens, got ${T}`);
  return { ids: [...ids], targets: ids.map((_, t) => (t + 1 < T ? ids[t + 1] : -1)), weights: ids.map((_, t) => (t + 1 < T ? 1 / (T - 1) : 0)) };
}

/** A span of target tokens ids[start..end) weighted lambda in total (mean CE over the span · lambda). */
export interface LossSegment { start: number; end: number; lambda: number }

/** Weights for Σ_seg lambda_seg · mean CE over the segment's tokens (the token at i is predicted at i-1). */
export function segmentBatch(ids: readonly number[], segments: readonly LossSegment[]): TrainBatch {
  const T = ids.length;
  const targets = new Array<number>(T).fill(-1);
  const weights = new Array<number>(T).fill(0);
  for (const s of segments) {
    if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 1 && s.end <= T && s.start < s.end)) {
      throw new Error(`loss segment [${s.start}, ${s.end}) must lie within tokens 1..${T} and be non-empty (token 0 has no prediction)`);
    }
    for (let i = s.start; i < s.end; i++) {
      if (targets[i - 1] !== -1) throw new Error(`loss segments overlap at token ${i}`);
      targets[i - 1] = ids[i];
      weights[i - 1] = s.lambda / (s.end - s.start);
    }
  }
  return { ids: [...ids], targets, weights };
}
