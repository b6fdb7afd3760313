// Teacher top-k rows for the KL term: a student position gets the teacher's distribution where the
// token it predicts starts at the same character and reads the same; top-k strings map to single
// student tokens (others dropped), duplicates merge by log-sum-exp; the appended answer has none.
import { describe, expect, it } from 'vitest';
import { buildExample } from '../../src/distill/examples.ts';
import { teacherRows, type TeacherTokenizer } from '../../src/distill/teacher-targets.ts';
import { trainSequences } from '../../src/distill/train.ts';
import { DEFAULT_TRAIN_SETTINGS } from '../../src/distill/settings.ts';
import type { TeacherTopK } from '../../src/domain/trace.ts';

// one token per character (code point + 10); "ab" and the eos id 1 are special
const tok: TeacherTokenizer = {
  encode: (s) => (s === 'ab' ? [2] : [...s].map((c) => c.charCodeAt(0) + 10)),
  decode: (ids) => ids.map((i) => (i === 1 ? '<eos>' : i === 2 ? 'ab' : String.fromCharCode(i - 10))).join(''),
  applyChatTemplate: () => [5, 6],
  eosTokenIds: [1],
};
const id = (c: string) => c.charCodeAt(0) + 10;

describe('teacher top-k rows', () => {
  const trace = { id: 't', problem: 'p', reasoning: 'Plan: x=1', answer: '7', segments: [] };
  // teacher tokens: "Pl" (coarser than the student's chars: no match), then one per character
  const topk: TeacherTopK = {
    k: 3, tokens: [
      { token: 'Pl', logprob: -0.1, top: [{ token: 'Pl', logprob: -0.1 }] },
      ...[...'an: x=1'].map((c) => ({ token: c, logprob: -0.2, top: [{ token: c, logprob: -0.2 }, { token: 'zz', logprob: -1 }, { token: 'q', logprob: -3 }, { token: 'q', logprob: -3 }] })),
    ],
  };

  it('aligns where the tokenizations agree, maps and merges the top-k, skips the rest', () => {
    const ex = buildExample(tok, trace, 64, { strategy: 1, tactics: 1, answer: 1 })!;
    const n = ex.batch.ids.length;
    const r = teacherRows(tok, topk, trace.reasoning, ex, n, 3)!;
    expect(r.aligned).toBe('an: x=1'.length); // "P" and "l" start inside / at a coarser teacher token: no KL
    const first = 2 + 2; // prompt [5, 6], reply "P", "l", then "a" at token index 4, predicted at position 3
    expect(ex.batch.ids[first]).toBe(id('a'));
    const row = first - 1;
    expect(Array.from(r.ids.slice(row * 3, row * 3 + 3))).toEqual([id('a'), id('q'), -1]); // "zz" is two student tokens: dropped
    expect(r.logprobs[row * 3]).toBeCloseTo(-0.2, 6);
    expect(r.logprobs[row * 3 + 1]).toBeCloseTo(-3 + Math.log(2), 6); // the two "q" entries merged
    // nothing for the prompt, "P", "l", or the appended "Final answer: 7"
    const rows = [...Array(n).keys()].filter((t) => r.ids[t * 3] >= 0);
    expect(rows[0]).toBe(row);
    expect(rows.at(-1)).toBe(row + 'an: x=1'.length - 1);
  });

  it('trainSequences gives the teacher rows to the loop, with k and lambda; lambda 0 turns it off', () => {
    const s = { ...DEFAULT_TRAIN_SETTINGS, seqLen: 64, loss: { strategy: 1, tactics: 1, answer: 1, kl: 0.5 } };
    const on = trainSequences(tok, [{ ...trace, teacherTopK: topk }, { ...trace, id: 'u' }], s);
    expect(on.kl).toEqual({ k: 3, lambda: 0.5 });
    expect(on.klPositions).toBe(7);
    expect(on.sequences[0].teacher!.ids.length).toBe(on.sequences[0].ids.length * 3);
    expect(on.sequences[1].teacher).toBeUndefined();
    const off = trainSequences(tok, [{ ...trace, teacherTopK: topk }], { ...s, loss: { ...s.loss, kl: 0 } });
    expect(off.kl).toBeUndefined();
    expect(off.sequences[0].teacher).toBeUndefined();
  });
});
