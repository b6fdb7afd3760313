import { describe, expect, it } from 'vitest';
import { wordDiff } from '../../../src/guide/diff.ts';
import { TfIdfIndex, planOf } from '../../../src/guide/strategy.ts';

describe('word diff', () => {
  it('marks inserted and deleted words and rebuilds both texts', () => {
    const a = 'Add 2 and 3. That gives 5.';
    const b = 'Add 2 and 3. Wait let me check. That gives 5.';
    const d = wordDiff(a, b);
    expect(d.filter((p) => p.op === 'add').map((p) => p.text)).toEqual(['Wait let me check. ']);
    expect(d.filter((p) => p.op === 'del')).toEqual([]);
    for (const [x, y] of [[a, b], ['one two three', 'one 2 three four'], ['', 'x y'], ['p q', '']]) {
      const parts = wordDiff(x, y);
      expect(parts.filter((p) => p.op !== 'add').map((p) => p.text).join('').trim()).toBe(x.trim());
      expect(parts.filter((p) => p.op !== 'del').map((p) => p.text).join('').trim()).toBe(y.trim());
    }
    expect(wordDiff('one two three', 'one 2 three').map((p) => p.op)).toEqual(['same', 'del', 'add', 'same']);
  });
});

describe('strategy retrieval', () => {
  const traces = [
    { id: 't1', problem: 'Find the area of a circle with radius 3.', reasoning: 'Use the formula for the area of a circle, pi r^2.\n\nr = 3 so area = 9 pi.' },
    { id: 't2', problem: 'How many ways can 5 people sit in a row?', reasoning: 'Count permutations: 5! orderings.\n\n5! = 120.' },
    {
      id: 't3', problem: 'Solve the quadratic equation x^2 - 5x + 6 = 0.', reasoning: 'We will factor. Then check roots.\n\n(x-2)(x-3)=0.',
      segments: [{ kind: 'strategy' as const, start: 0, end: 15 }],
    },
  ];
  it('finds the nearest trace by TF-IDF and takes its plan', () => {
    const idx = new TfIdfIndex(traces);
    expect(idx.nearest('In how many ways can 7 people sit in a row of chairs?')!.traceId).toBe('t2');
    const c = idx.nearest('What is the area of a circle of radius 10?')!;
    expect(c.traceId).toBe('t1');
    expect(c.plan).toBe('Use the formula for the area of a circle, pi r^2.');
    expect(c.similarity).toBeGreaterThan(0);
    expect(c.similarity).toBeLessThanOrEqual(1 + 1e-9);
    expect(planOf(traces[2])).toBe('We will factor.');
    expect(idx.nearest('zzz qqq')).toBeNull();
  });
});
