// pass@k and maj@k against values worked by hand.
import { describe, expect, it } from 'vitest';
import { binomial, majAtK, MAJ_DRAWS, meanAtK, passAtK, reportKs } from '../../../src/eval/estimators.ts';

const S = (answer: string | null, correct: boolean) => ({ answer, correct });

describe('pass@k (Chen et al. 2021)', () => {
  it('matches 1 - C(n-c,k)/C(n,k) worked by hand', () => {
    expect(passAtK(5, 2, 2)).toBeCloseTo(1 - 3 / 10, 12); // C(3,2)=3, C(5,2)=10
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12); // C(7,5)=21, C(10,5)=252
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25, 12); // k = 1 is c/n
    expect(passAtK(16, 0, 8)).toBe(0);
    expect(passAtK(4, 2, 3)).toBe(1); // n - c < k: every 3-subset holds a correct sample
    expect(binomial(10, 5)).toBe(252);
  });
  it('refuses impossible counts with a clear message', () => {
    expect(() => passAtK(3, 4, 1)).toThrow(/0 <= c <= n/);
    expect(() => passAtK(3, 1, 4)).toThrow(/1 <= k <= n/);
  });
});

describe('maj@k (expected majority vote over k-subsets)', () => {
  it('matches hand enumeration with even tie-breaks', () => {
    // [A ok, A ok, B wrong], k=2: {A,A} -> 1, {A,B} twice -> 1/2 each: (1 + 1/2 + 1/2)/3 = 2/3.
    const s = [S('\\frac{1}{2}', true), S('\\frac12', true), S('3', false)];
    expect(majAtK(s, 2)).toBeCloseTo(2 / 3, 12);
    expect(majAtK(s, 3)).toBe(1);
    expect(majAtK(s, 1)).toBeCloseTo(2 / 3, 12);
  });
  it('lets a sample with no answer take a slot but never win', () => {
    // [A ok, none, B wrong, B wrong], k=2 over 6 subsets: {A,none} 1, {A,B}x2 1/2, {none,B}x2 0, {B,B} 0 -> 2/6.
    const s = [S('7', true), S(null, false), S('8', false), S('8', false)];
    expect(majAtK(s, 2)).toBeCloseTo(2 / 6, 12);
  });
  it('samples subsets (seeded) when there are too many, close to the exact value', () => {
    // 40 samples: 24 say "5" (correct), 16 say "6". k=20: C(40,20) > limit, so drawn.
    const s = [...Array.from({ length: 24 }, () => S('5', true)), ...Array.from({ length: 16 }, () => S('6', false))];
    const a = majAtK(s, 20, 3);
    expect(a).toBe(majAtK(s, 20, 3)); // reproducible
    // Exact: P(X > 10) + P(X = 10)/2 for X ~ Hypergeometric(40, 24, 20), computed here by the sum.
    let exact = 0;
    for (let x = 0; x <= 20; x++) {
      const p = (binomial(24, x) * binomial(16, 20 - x)) / binomial(40, 20);
      exact += x > 10 ? p : x === 10 ? p / 2 : 0;
    }
    expect(Math.abs(a - exact)).toBeLessThan(4 / Math.sqrt(MAJ_DRAWS));
  });
  it('averages over items and lists the ks to report', () => {
    const items = [[S('1', true), S('2', false)], [S('2', false), S('2', false)]];
    expect(meanAtK(items, 1)).toEqual({ pass: 0.25, maj: 0.25, n: 2 });
    expect(meanAtK(items, 2).pass).toBeCloseTo(0.5, 12); // item 1: pass@2 = 1; item 2: 0
    expect(reportKs(8)).toEqual([1, 2, 4, 8]);
    expect(reportKs(6)).toEqual([1, 2, 4, 6]);
  });
});
