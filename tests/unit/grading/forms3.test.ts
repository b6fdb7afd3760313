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

// Math-Verify's own test cases, ported as data (huggingface/Math-Verify @ 5d148cf, tests/*.py at
// default options; the gold read by our extractor). Measured 226/254 (6 false accepts, 22 false
// rejects; README "Grading"): floors so neither count can silently grow.
describe('Math-Verify test cases', () => {
  it('agree at least as measured', async () => {
    const { readFileSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const { extractAnswerText } = await import('../../../src/grading/index.ts');
    const rows = readFileSync(resolve(__dirname, '../../fixtures/grading/math-verify-cases.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as { response: string; reference: string; correct: boolean });
    let fa = 0, fr = 0;
    for (const c of rows) {
      const v = await gradeResponse(c.response, extractAnswerText(c.reference) ?? c.reference);
      if (v.correct && !c.correct) fa++;
      if (!v.correct && c.correct) fr++;
    }
    expect(rows).toHaveLength(254);
    expect(fa).toBeLessThanOrEqual(6);
    expect(fr).toBeLessThanOrEqual(22);
  }, 60_000);
});
