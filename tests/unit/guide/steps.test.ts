import { describe, expect, it } from 'vitest';
import { splitSteps, stepBoundaries, stepEndToken } from '../../../src/guide/steps.ts';
import { stepConfidence } from '../../../src/guide/confidence.ts';
import type { TokenRecord } from '../../../src/domain/guide.ts';

describe('step boundaries', () => {
  it('splits at blank lines, "Step n" heads and sentence ends', () => {
    const t = 'We add. Then 3.5 stays\n\nStep 2 multiply\nStep 3: done';
    const b = stepBoundaries(t);
    expect(b.map((o) => t.slice(o, o + 6))).toEqual([' Then ', 'Step 2', 'Step 3']);
  });
  it('does not split decimals, enumerations or a trailing end that nothing follows yet', () => {
    expect(stepBoundaries('x = 3.5 and\n1. first')).toEqual([]);
    expect(stepBoundaries('It is 5.\n\n')).toEqual([]);
    expect(stepBoundaries('It is 5. ')).toEqual([]);
  });
  it('maps the boundary to a token index and splits a whole text', () => {
    const texts = ['It', ' is', ' 5', '.', ' So', ' done', '.\n\n', 'Next'];
    expect(stepEndToken(texts, 0)).toBe(4);
    expect(stepEndToken(texts, 4)).toBe(7);
    expect(stepEndToken(texts, 7)).toBe(-1);
    expect(splitSteps(texts)).toEqual([[0, 4], [4, 7], [7, 8]]);
  });
});

describe('step confidence', () => {
  const t = (logprob: number | null, entropy: number | null, source: 'model' | 'inserted' = 'model'): TokenRecord =>
    ({ id: 0, text: 'x', source, logprob, entropy, alternatives: [], phase: 'thinking' });
  it('combines mean log-prob and normalised entropy, ignoring inserted tokens', () => {
    const c = stepConfidence([t(Math.log(0.5), 0), t(Math.log(0.5), 0), t(null, null, 'inserted')], 100)!;
    expect(c.tokens).toBe(2);
    expect(c.meanLogprob).toBeCloseTo(Math.log(0.5), 10);
    expect(c.score).toBeCloseTo(Math.sqrt(0.5), 10);
    const uncertain = stepConfidence([t(Math.log(0.01), Math.log(100))], 100)!;
    expect(uncertain.score).toBe(0);
    expect(stepConfidence([t(null, null, 'inserted')], 100)).toBeNull();
  });
});
