// Teacher top-k targets for the KL term of the distillation loss, from a trace's teacherTopK (the
// teacher API's per-token top-k log-probs, as token strings). A student position gets the teacher's
// distribution where the two tokenizations agree: the student token it predicts starts at the same
// character of the reasoning as a teacher token and reads the same. Each top-k string maps to the
// one student token it encodes to (strings that need several student tokens are dropped); strings
// that map to the same id merge (log-sum-exp). Positions without a match carry no KL.
import type { TeacherTopK } from '../domain/trace.ts';
import type { ExampleTokenizer, TrainExample } from './examples.ts';

/** What alignment needs of a tokenizer beyond example building (HfTextTokenizer has it). */
export interface TeacherTokenizer extends ExampleTokenizer { decode(ids: readonly number[]): string }

export interface TeacherRows {
  /** n·k student ids (-1 = none) and log-probs, row t = the distribution of the token predicted at position t */
  ids: Int32Array;
  logprobs: Float32Array;
  /** positions that got the teacher's distribution */
  aligned: number;
}

const lse = (a: number, b: number) => { const m = Math.max(a, b); return m + Math.log(Math.exp(a - m) + Math.exp(b - m)); };

/** Rows for the first n positions of `ex` (of trace text `reasoning`), k entries each; undefined when nothing aligns. */
export function teacherRows(tok: TeacherTokenizer, topk: TeacherTopK, reasoning: string, ex: TrainExample, n: number, k: number): TeacherRows | undefined {
  const teacherText = topk.tokens.map((t) => t.token).join('');
  // teacher char offset = reasoning offset + shift (the reply may carry text around the reasoning)
  let shift = teacherText.indexOf(reasoning);
  if (shift < 0) { const at = reasoning.indexOf(teacherText); if (at < 0 || !teacherText) return undefined; shift = -at; }
  const starts = new Map<number, number>();
  let c = 0;
  topk.tokens.forEach((t, j) => { starts.set(c, j); c += t.token.length; });
  const single = new Map<string, number | null>();
  const idOf = (s: string): number | null => {
    if (!single.has(s)) { const e = tok.encode(s); single.set(s, e.length === 1 ? e[0] : null); }
    return single.get(s)!;
  };
  const ids = new Int32Array(n * k).fill(-1);
  const logprobs = new Float32Array(n * k);
  let aligned = 0;
  for (const p of ex.pieces) {
    if (p.from === null) continue;
    let off = p.from;
    for (let i = p.start; i < p.end; i++) {
      const text = tok.decode([ex.batch.ids[i]]);
      const j = starts.get(off + shift);
      off += text.length;
      const row = i - 1; // position i-1 predicts token i
      if (j === undefined || row >= n || topk.tokens[j].token !== text) continue;
      const merged = new Map<number, number>();
      for (const e of topk.tokens[j].top) {
        const id = idOf(e.token);
        if (id === null || !Number.isFinite(e.logprob)) continue;
        const lp = Math.min(0, e.logprob);
        merged.set(id, merged.has(id) ? Math.min(0, lse(merged.get(id)!, lp)) : lp);
      }
      const best = [...merged].sort((a, b) => b[1] - a[1]).slice(0, k);
      if (!best.length) continue;
      best.forEach(([id, lp], q) => { ids[row * k + q] = id; logprobs[row * k + q] = lp; });
      aligned++;
    }
  }
  return aligned ? { ids, logprobs, aligned } : undefined;
}
