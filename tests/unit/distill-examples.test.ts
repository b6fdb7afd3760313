// Reply pieces and per-kind loss weights of training examples (src/distill/examples.ts)
// with a character-level stand-in tokenizer, so every boundary is exact.
import { describe, expect, it } from 'vitest';
import { buildExample, buildExamples, replyPieces, type ExampleTokenizer } from '../../src/distill/examples.ts';

// one token per character (code point + 10); the "template" wraps the user turn in <u>…</u>
const tok: ExampleTokenizer = {
  encode: (s) => [...s].map((ch) => ch.codePointAt(0)! + 10),
  applyChatTemplate: (m) => [1, ...[...m[0].content].map((ch) => ch.codePointAt(0)! + 10), 2],
  eosTokenIds: [3],
};

describe('replyPieces', () => {
  it('follows the segments, fills gaps as tactics and appends the answer when the reasoning lacks it', () => {
    const reasoning = 'Plan: add.\nStep 1: 2 + 3 = 5.';
    const pieces = replyPieces({ id: 'a', problem: 'p', reasoning, answer: '5', segments: [
      { kind: 'strategy', start: 0, end: 10, source: 'user' }, { kind: 'answer', start: 27, end: 29, source: 'user' },
    ] });
    expect(pieces).toEqual([
      { kind: 'strategy', text: 'Plan: add.', from: 0 },
      { kind: 'tactic', text: '\nStep 1: 2 + 3 = ', from: 10 },
      { kind: 'answer', text: '5.', from: 27 },
      { kind: 'answer', text: '\n\nFinal answer: 5', from: null }, // not from the reasoning
    ]);
    expect(pieces.map((p) => p.text).join('').startsWith(reasoning)).toBe(true);
  });

  it('does not repeat an answer the reasoning already ends with', () => {
    const pieces = replyPieces({ id: 'a', problem: 'p', reasoning: 'So 3 - 1 = 2.\n#### 2', answer: '2' });
    expect(pieces.map((p) => p.text).join('')).toBe('So 3 - 1 = 2.\n#### 2');
    expect(pieces.at(-1)!.kind).toBe('answer');
  });
});

describe('replyPieces with a boxed answer', () => {
  it('does not append "Final answer" when the reasoning ends with \\boxed{answer}', () => {
    const reasoning = 'Plan: add.\nStep 1: 2 + 3 = 5\nFinal Answer: \\boxed{5}';
    expect(replyPieces({ id: 'a', problem: 'p', reasoning, answer: '5' }).map((p) => p.text).join('')).toBe(reasoning);
    expect(replyPieces({ id: 'a', problem: 'p', reasoning, answer: '6' }).map((p) => p.text).join('')).toBe(`${reasoning}\n\nFinal answer: 6`);
  });
});

describe('buildExample', () => {
  const trace = { id: 't', problem: 'q?', reasoning: 'ab', answer: 'c', segments: [{ kind: 'strategy' as const, start: 0, end: 1, source: 'user' as const }, { kind: 'tactic' as const, start: 1, end: 2, source: 'user' as const }] };
  it('weights: lambda_kind over the kind tokens, zero on the prompt and the padding', () => {
    // prompt [1,q,?,2] (4) + reply a | b | "\n\nFinal answer: c" + eos  -> 1 + 1 + 17 + 1 tokens
    const ex = buildExample(tok, trace, 40, { strategy: 2, tactics: 3, answer: 4 })!;
    expect(ex.promptTokens).toBe(4);
    expect(ex.targetTokens).toBe(20);
    expect(ex.batch.ids).toHaveLength(40);
    expect(ex.batch.weights.slice(0, 3)).toEqual([0, 0, 0]);
    expect(ex.batch.weights[3]).toBeCloseTo(2); // predicts 'a' (the only strategy token)
    expect(ex.batch.targets[3]).toBe('a'.codePointAt(0)! + 10);
    expect(ex.batch.weights[4]).toBeCloseTo(3); // predicts 'b'
    const answerW = ex.batch.weights.slice(5, 23);
    expect(answerW.every((w) => Math.abs(w - 4 / 18) < 1e-12)).toBe(true);
    expect(ex.batch.targets[22]).toBe(3); // end of turn
    expect(ex.batch.weights.slice(23).every((w) => w === 0)).toBe(true);
    expect(ex.batch.ids.slice(24).every((id) => id === 3)).toBe(true); // padded with eos
  });

  it('truncates to T, drops zero-weight kinds, and skips prompts that fill T', () => {
    const ex = buildExample(tok, trace, 6, { strategy: 1, tactics: 0, answer: 1 })!;
    expect(ex.targetTokens).toBe(2);
    expect(ex.truncated).toBe(18);
    expect(ex.batch.weights).toEqual([0, 0, 0, 1, 0, 0]);
    expect(buildExample(tok, trace, 4, { strategy: 1, tactics: 1, answer: 1 })).toBeUndefined();
    const r = buildExamples(tok, [trace, { ...trace, id: 'long', problem: 'x'.repeat(50) }, trace], 20, { strategy: 1, tactics: 1, answer: 1 }, 5);
    expect(r.examples.map((e) => e.traceId)).toEqual(['t', 't']);
    expect(r.skipped).toBe(1);
  });
});

describe('plain cross-entropy', () => {
  it('gives every reply token the same weight 1/N, whatever the lambdas', () => {
    const trace = { id: 't', problem: 'q?', reasoning: 'abc', answer: 'c', segments: [{ kind: 'strategy' as const, start: 0, end: 1, source: 'user' as const }, { kind: 'tactic' as const, start: 1, end: 3, source: 'user' as const }] };
    const ex = buildExample(tok, trace, 40, { strategy: 5, tactics: 0, answer: 9, mode: 'plain' })!;
    const w = ex.batch.weights.filter((x) => x > 0);
    expect(w.length).toBe(ex.targetTokens);
    for (const x of w) expect(x).toBeCloseTo(1 / ex.targetTokens, 12);
    const hier = buildExample(tok, trace, 40, { strategy: 5, tactics: 0, answer: 9 })!;
    expect(hier.batch.weights.filter((x) => x > 0).length).toBeLessThan(w.length); // tactics weight 0 drops those tokens
  });
});

