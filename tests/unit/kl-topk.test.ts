// KL to the teacher's top-k + tail bucket (src/engine/ops/kl-topk.ts): the float64 reference against
// finite differences, zero at the teacher's distribution, and bad input.
import { describe, expect, it } from 'vitest';
import { NO_TARGET } from '../../src/engine/ops/cross-entropy.ts';
import { type TopKTargets, checkTopKTargets, klTopKRef } from '../../src/engine/ops/kl-topk.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

/** A teacher's top-k of a random distribution over V (distinct ids, true log-probs), some ids missing. */
function targets(T: number, V: number, K: number, seed: number): TopKTargets {
  const r = mulberry32(seed);
  const ids: number[] = []; const logprobs: number[] = [];
  for (let t = 0; t < T; t++) {
    const z = Array.from({ length: V }, () => 3 * r());
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    const order = z.map((v, j) => j).sort((a, b) => z[b] - z[a]).slice(0, K);
    for (const [k, j] of order.entries()) { ids.push(k === K - 1 && t % 2 ? NO_TARGET : j); logprobs.push(z[j] - lse); }
  }
  return { k: K, ids, logprobs, weights: Array.from({ length: T }, (_, t) => (t === 2 ? 0 : 0.5 + t)) };
}

describe('KL top-k reference', () => {
  it('matches central finite differences on every logit of a few rows', () => {
    const T = 4; const V = 23; const K = 5;
    const tk = targets(T, V, K, 1);
    const r = mulberry32(2);
    const logits = Float64Array.from({ length: T * V }, () => (r() * 2 - 1) * 4);
    const ref = klTopKRef(logits, tk, T, V);
    const h = 1e-6;
    let worst = 0;
    for (let i = 0; i < T * V; i++) {
      const v0 = logits[i];
      logits[i] = v0 + h; const lp = klTopKRef(logits, tk, T, V).loss;
      logits[i] = v0 - h; const lm = klTopKRef(logits, tk, T, V).loss;
      logits[i] = v0;
      const fd = (lp - lm) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - ref.dlogits[i]));
      expect(Math.abs(fd - ref.dlogits[i]), `logit ${i}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(ref.dlogits[i]));
    }
    expect(ref.losses[2]).toBe(0); // weight 0 row
    expect(ref.dlogits.slice(2 * V, 3 * V).every((x) => x === 0)).toBe(true);
    for (const l of ref.losses) expect(l).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ref.dlogits.map(Math.abs))).toBeGreaterThan(1e-2);
  });

  it('is zero, with zero gradient, when the student already has the teacher distribution; chunk offset and accumulation', () => {
    const V = 17; const K = 4;
    const tk = targets(3, V, K, 5);
    // student logits = teacher's full distribution on row 0 (top-k exact, tail spread arbitrarily inside the tail)
    const logits = new Float64Array(3 * V).fill(-2);
    for (let k = 0; k < K; k++) logits[tk.ids[k]] = tk.logprobs[k];
    const pTop = Array.from(tk.logprobs).slice(0, K).reduce((s, v) => s + Math.exp(v), 0);
    const tailIds = [...Array(V).keys()].filter((j) => !Array.from(tk.ids).slice(0, K).includes(j));
    for (const j of tailIds) logits[j] = Math.log((1 - pTop) / tailIds.length) + (j % 3) * 0; // uniform tail
    const ref = klTopKRef(logits, tk, 3, V);
    expect(ref.losses[0]).toBeLessThan(1e-12);
    expect(Math.max(...ref.dlogits.slice(0, V).map(Math.abs))).toBeLessThan(1e-12);
    // rows 1..2 as a chunk with r0 = 1 accumulate onto existing dlogits
    const d0 = Float64Array.from({ length: 2 * V }, (_, i) => i / 100);
    const chunk = klTopKRef(logits.slice(V), tk, 2, V, 1, d0);
    for (let i = 0; i < 2 * V; i++) expect(chunk.dlogits[i]).toBeCloseTo(d0[i] + ref.dlogits[V + i], 12);
    expect(chunk.losses[0]).toBeCloseTo(ref.losses[1], 12);
  });

  it('bad targets: duplicate ids, out-of-range ids, positive log-probs, wrong lengths', () => {
    const ok = targets(2, 10, 3, 7);
    expect(() => checkTopKTargets(ok, 2, 10)).not.toThrow();
    expect(() => checkTopKTargets({ ...ok, ids: [1, 1, 2, 3, 4, 5] }, 2, 10)).toThrow(/row 0: token id 1 appears twice/);
    expect(() => checkTopKTargets({ ...ok, ids: [1, 2, 3, 4, 5, 10] }, 2, 10)).toThrow(/row 1: token id 10 outside 0..9/);
    expect(() => checkTopKTargets({ ...ok, logprobs: [0.5, -1, -2, -1, -2, -3] }, 2, 10)).toThrow(/row 0: log-prob 0.5/);
    expect(() => checkTopKTargets({ ...ok, weights: [1] }, 2, 10)).toThrow(/2 weights/);
  });
});
