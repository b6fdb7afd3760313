// The Train view's and the cluster export's count of traces a training length T cuts.
import { describe, expect, it } from 'vitest';
import { TEMPLATE_OVERHEAD, countCuts, describeCuts, lengthForShare, traceTokens } from '../../../src/share/trace-cuts.ts';

const lens = [100, 900, 1024, 1025, 3000, 5000, 12000, 16000, 40, 700];

describe('trace cuts at a training length T', () => {
  it('counts traces longer than T and the tokens beyond it', () => {
    const r = countCuts(lens, 1024);
    expect(r).toEqual({ traces: 10, cut: 5, tokensCut: 1 + 1976 + 3976 + 10976 + 14976, tokens: lens.reduce((a, b) => a + b, 0), longest: 16000 });
    expect(countCuts(lens, 16000).cut).toBe(0); // exactly T is whole
    expect(countCuts([], 512)).toEqual({ traces: 0, cut: 0, tokensCut: 0, tokens: 0, longest: 0 });
    expect(() => countCuts(lens, 0)).toThrow(/positive integer/);
  });

  it('offers the smallest T (a multiple of the step) that keeps a share whole', () => {
    expect(lengthForShare(lens, 1)).toBe(16128); // 16000 rounded up to 256s
    expect(lengthForShare(lens, 0.9)).toBe(12032); // 9 of 10: the 9th shortest (12000) fits
    expect(lengthForShare(lens, 0.5)).toBe(1024); // 5 of 10: 1024 fits exactly
    expect(lengthForShare(lens, 0.5, 1000)).toBe(2000);
    expect(lengthForShare([10], 1)).toBe(256); // never below one step
    expect(lengthForShare([], 0.9)).toBe(0);
    expect(() => lengthForShare(lens, 0)).toThrow(/share/);
    // the offered T keeps at least the share whole, one step less does not
    for (const share of [0.3, 0.6, 0.8, 0.95]) {
      const T = lengthForShare(lens, share);
      expect(lens.length - countCuts(lens, T).cut).toBeGreaterThanOrEqual(Math.ceil(share * lens.length));
      if (T > 256) expect(lens.length - countCuts(lens, T - 256).cut).toBeLessThan(Math.ceil(share * lens.length));
    }
  });

  it('a trace is its problem, reasoning and answer tokens plus the template', () => {
    expect(traceTokens({ tokenCounts: { problem: 50, reasoning: 4000, answer: 10, method: 'estimate' } })).toBe(4060 + TEMPLATE_OVERHEAD);
    expect(traceTokens({ tokenCounts: { problem: 1, reasoning: 2, answer: 3, method: 'x' } }, 0)).toBe(6);
  });

  it('describes the cut in one line', () => {
    expect(describeCuts(lens, 1024, 0.9)).toBe('T = 1024 cuts 5 of 10 traces (50%) by 31,905 tokens (80% of all; longest 16,000); T = 12032 keeps 90% whole');
    expect(describeCuts(lens, 16384)).toBe('T = 16384 keeps all 10 traces whole (longest 16,000 tokens); T = 16128 keeps 95% whole');
    expect(describeCuts([], 100)).toBe('no traces');
  });
});
