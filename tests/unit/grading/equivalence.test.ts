import { describe, expect, it } from 'vitest';
import { gradeAnswer } from '../../../src/grading/index.ts';
import { DIFFERENT, EQUAL } from './equivalence-cases.ts';

describe('equivalence cases from the reference graders', () => {
  it('has at least 150 cases', () => {
    expect(EQUAL.length + DIFFERENT.length).toBeGreaterThanOrEqual(150);
  });
  for (const [pred, ref, expected, note] of [...EQUAL, ...DIFFERENT]) {
    it(`${expected ? '==' : '!='} ${JSON.stringify(pred)} vs ${JSON.stringify(ref)} (${note})`, async () => {
      const v = await gradeAnswer(pred, ref);
      expect(v.correct, v.reason).toBe(expected);
      expect(v.reason).toMatch(expected ? /^(string|numeric|symbolic|elementwise): / : /^mismatch: /);
    });
  }
});

describe('verdict reasons', () => {
  it('says numeric for 0.5 vs 1/3-style values and symbolic for radicals', async () => {
    expect((await gradeAnswer('0.3333', '\\frac{1}{3}')).reason).toMatch(/^numeric: .* within 0\.0001/);
    expect((await gradeAnswer('\\sqrt{8}', '2\\sqrt{2}')).reason).toMatch(/^symbolic: \\sqrt\{8\} == 2\\sqrt\{2\}/);
    expect((await gradeAnswer('(1,2)', '[1,2]')).reason).toMatch(/brackets/);
    expect((await gradeAnswer(null, '5')).method).toBe('no-answer');
  });
  it('falls back cleanly when the CAS cannot decide (symbolic off)', async () => {
    const v = await gradeAnswer('\\sqrt{8}', '2\\sqrt{2}', { symbolic: false });
    expect(v.correct).toBe(false);
    expect(v.reason).toMatch(/^mismatch: /);
  });
  it('bounds a CAS comparison in time and returns a verdict', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `(x+${i})`).join('');
    const v = await gradeAnswer(`${big}^{7}`, `${big}^{7}+1`, { symbolicTimeoutMs: 50 });
    expect(v.correct).toBe(false);
    expect(v.reason).toMatch(/^mismatch: /);
  });
});
