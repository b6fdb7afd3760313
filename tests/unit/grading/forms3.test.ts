// The third edition's forms (forms3-corpus.ts): every class with both verdicts, each case graded
// from the whole response with a reason of the right kind.
import { describe, expect, it } from 'vitest';
import { gradeResponse } from '../../../src/grading/index.ts';
import { FORMS3 } from './forms3-corpus.ts';

describe('answer forms, third edition', () => {
  it('covers every class with both verdicts', () => {
    for (const cls of ['fraction', 'matrix', 'prose', 'runon', 'number', 'letter', 'structure'] as const) {
      const cases = FORMS3.filter((c) => c.cls === cls);
      expect(cases.length, cls).toBeGreaterThanOrEqual(5);
      expect(cases.some((c) => c.correct), cls).toBe(true);
      expect(cases.some((c) => !c.correct), cls).toBe(true);
    }
  });
  for (const c of FORMS3) {
    it(`[${c.cls}] ${c.correct ? '==' : '!='} ${JSON.stringify(c.response.slice(-60))} vs ${JSON.stringify(c.reference)}: ${c.why}`, async () => {
      const v = await gradeResponse(c.response, c.reference, c.problem ? { problem: c.problem } : undefined);
      expect(v.correct, `${v.prediction} (${v.extraction}): ${v.reason}`).toBe(c.correct);
      expect(v.reason).toMatch(c.correct ? /^(string|numeric|symbolic|elementwise): / : /^mismatch: /);
    });
  }
});
