// bench:engine's self-consistency line: the guided run (src/guide/engine.ts) at maj@N on a model
// with its tokenizer, its N samples drawn one after another over a DecodeSession and together over
// a batch session of N slots, same seed: wall time, sampled tokens/s, the ratio, and whether the
// two gave the same samples (token ids) and vote. Printed, never asserted.
import type { Decoder } from '../../../src/engine/model/decoder.ts';
import type { TextTokenizer } from '../../../src/engine/generation/types.ts';
import { runGuided } from '../../../src/guide/engine.ts';
import type { GuideSettings, Interventions, Timeline } from '../../../src/domain/guide.ts';

export interface ScBench { n: number; tokens: number; seqMs: number; batchMs: number; same: boolean }

/** Sampled tokens of a timeline (inserted tokens excluded, discarded branches included). */
const sampled = (t: Timeline) => t.samples.reduce((a, s) => a + s.tokens.filter((x) => x.source === 'model').length + s.branches.reduce((b, br) => b + br.tokens.length, 0), 0);

export async function benchSelfConsistency(dec: Decoder, tok: TextTokenizer, o: { n: number; maxNewTokens: number; interventions?: Interventions; problem?: string }): Promise<ScBench> {
  const settings: GuideSettings = {
    seed: 3, sampling: { temperature: 0.7, topP: 0.95, topK: 0, maxNewTokens: o.maxNewTokens }, interventions: { ...o.interventions, consistency: { n: o.n } },
  };
  const problem = o.problem ?? 'What is 27 + 15?';
  const len = tok.applyChatTemplate([{ role: 'user', content: problem }]).length + o.maxNewTokens + 64;
  const once = async (batched: boolean) => {
    const session = batched ? dec.newBatchSession(o.n, len) : dec.newSession(len);
    try {
      const t0 = performance.now();
      const t = await runGuided({ problem, settings }, { session, tokenizer: tok });
      return { t, ms: performance.now() - t0 };
    } finally { session.dispose(); }
  };
  await once(false); await once(true); // warm-up: pipelines compile on first use
  const seq = await once(false);
  const bat = await once(true);
  const ids = (t: Timeline) => JSON.stringify([t.samples.map((s) => s.tokens.map((x) => x.id)), t.vote]);
  return { n: o.n, tokens: sampled(seq.t), seqMs: seq.ms, batchMs: bat.ms, same: ids(seq.t) === ids(bat.t) };
}

export function printSelfConsistency(name: string, r: ScBench): void {
  const tps = (ms: number) => (r.tokens / (ms / 1000)).toFixed(1);
  console.log(`\n== self-consistency (guided run, maj@${r.n}, ${name}; ${r.tokens} sampled tokens) ==`);
  console.log(`self-consistency maj@${r.n}: sequential ${tps(r.seqMs)} tok/s (${r.seqMs.toFixed(0)} ms) | batched ${tps(r.batchMs)} tok/s (${r.batchMs.toFixed(0)} ms) | batched/sequential ${(r.seqMs / r.batchMs).toFixed(2)}x | same samples and vote: ${r.same ? 'yes' : 'NO'}`);
}
