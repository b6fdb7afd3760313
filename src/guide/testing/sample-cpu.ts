// Reference sampler on the CPU: logits -> SampledToken under SamplingOptions, with the same
// semantics the GPU engine promises (log-prob and entropy at temperature 1 before suppression,
// top-k alternatives best first, the caller's uniform `u` picks the token).
import type { SampledToken, SamplingOptions } from '../../engine/generation/types.ts';

export function sampleFromLogits(logits: ArrayLike<number>, opts: SamplingOptions): SampledToken {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let z = 0;
  for (let i = 0; i < n; i++) z += Math.exp(logits[i] - max);
  const logZ = max + Math.log(z);
  const lp = new Float64Array(n);
  let entropy = 0;
  for (let i = 0; i < n; i++) {
    lp[i] = logits[i] - logZ;
    const p = Math.exp(lp[i]);
    if (p > 0) entropy -= p * lp[i];
  }
  // Order by log-prob desc, id asc: one deterministic order for top-k, top-p and the CDF walk.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lp[b] - lp[a] || a - b);
  const alternatives = order.slice(0, Math.max(0, opts.topK)).map((id) => ({ id, logprob: lp[id] }));

  const banned = new Set(opts.suppress ?? []);
  const allowed = order.filter((i) => !banned.has(i));
  if (allowed.length === 0) throw new Error('every token is suppressed');
  let id: number;
  if (opts.temperature <= 0) {
    id = allowed[0];
  } else {
    const t = opts.temperature;
    const top = lp[allowed[0]];
    const w = allowed.map((i) => Math.exp((lp[i] - top) / t));
    const total = w.reduce((a, b) => a + b, 0);
    // Nucleus: the smallest prefix whose mass reaches topP.
    let keep = allowed.length;
    if (opts.topP < 1) {
      let cum = 0;
      for (let j = 0; j < w.length; j++) {
        cum += w[j] / total;
        if (cum >= opts.topP) { keep = j + 1; break; }
      }
    }
    let mass = 0;
    for (let j = 0; j < keep; j++) mass += w[j];
    let target = Math.min(Math.max(opts.u, 0), 1 - 1e-12) * mass;
    id = allowed[keep - 1];
    for (let j = 0; j < keep; j++) {
      target -= w[j];
      if (target < 0) { id = allowed[j]; break; }
    }
  }
  return { id, logprob: lp[id], entropy, alternatives };
}
