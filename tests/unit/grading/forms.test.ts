// The answer-forms corpus (forms-corpus.ts): every case graded from the whole response, with the
// expected verdict and a reason of the right kind.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allBoxed, gradeAnswer, gradeResponse, parseAnswer } from '../../../src/grading/index.ts';
import { FORMS } from './forms-corpus.ts';

describe('answer forms corpus', () => {
  it('covers every class with both verdicts', () => {
    for (const cls of ['unboxed', 'latex', 'relation', 'matrix', 'several', 'number', 'symbolic', 'wrong'] as const) {
      const cases = FORMS.filter((c) => c.cls === cls);
      expect(cases.length, cls).toBeGreaterThanOrEqual(7);
      if (cls !== 'wrong') expect(cases.some((c) => c.correct), cls).toBe(true);
      expect(cases.some((c) => !c.correct), cls).toBe(true);
    }
  });
  for (const c of FORMS) {
    it(`[${c.cls}] ${c.correct ? '==' : '!='} ${JSON.stringify(c.response.slice(-60))} vs ${JSON.stringify(c.reference)}: ${c.why}`, async () => {
      const v = await gradeResponse(c.response, c.reference);
      expect(v.correct, `${v.prediction} (${v.extraction}): ${v.reason}`).toBe(c.correct);
      expect(v.reason).toMatch(c.correct ? /^(string|numeric|symbolic|elementwise): / : /^mismatch: /);
    });
  }
});

// Real responses without a box: the MATH500 solutions with every \boxed{X} replaced by X. The
// answer must then be found in math mode (or by "the answer is") and graded equal.
// Measured 426/500 (the misses: solutions that go on after the answer with other numbers, or
// write it in words); a floor so the unboxed reading cannot silently regress.
const UNBOXED_FLOOR = { all: 420, head60: 45 };

describe('MATH500 solutions with the boxes removed', () => {
  const ROOT = resolve(__dirname, '../../..');
  const file = [resolve(ROOT, 'public/data/math500.jsonl'), resolve(ROOT, '../shared/data/math500.jsonl'), resolve(ROOT, 'tests/fixtures/grading/math500_head60.jsonl')].find((p) => existsSync(p))!;
  it('grade correct from the unboxed text', async () => {
    const rows = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { solution: string; answer: string });
    const failures: string[] = [];
    for (const [i, r] of rows.entries()) {
      let text = r.solution;
      for (const b of allBoxed(r.solution).reverse()) text = text.slice(0, b.start) + b.content + text.slice(b.end);
      const v = await gradeResponse(text, r.answer);
      if (!v.correct) failures.push(`${i}: ${JSON.stringify(v.prediction)} (${v.extraction}) vs ${JSON.stringify(r.answer)}: ${v.reason}`);
    }
    console.log(`unboxed MATH500 solutions graded correct: ${rows.length - failures.length}/${rows.length}`);
    for (const f of failures) console.log(`  ${f}`);
    expect(rows.length - failures.length).toBeGreaterThanOrEqual(rows.length >= 500 ? UNBOXED_FLOOR.all : UNBOXED_FLOOR.head60);
  }, 120_000);
});

describe('the parsed structure and the time limit', () => {
  it('parses each form into its kind', () => {
    const kinds: [string, string][] = [
      ['\\frac{3}{4}', 'number'], ['1\\,000', 'number'], ['x^2+1', 'expression'], ['\\text{east}', 'text'],
      ['x \\geq 5', 'relation'], ['z = 1+1 = 2', 'relation'], ['(3,4]', 'interval'], ['(-\\infty, 0) \\cup (1, 2)', 'interval'],
      ['(1,2)', 'tuple'], ['\\{1,2\\}', 'set'], ['3; 5', 'set'], ['\\pm 2', 'set'], ['\\begin{bmatrix}1&2\\end{bmatrix}', 'matrix'],
    ];
    for (const [text, kind] of kinds) expect(parseAnswer(text).kind, text).toBe(kind);
    expect(parseAnswer('x \\geq 5')).toMatchObject({ sides: ['x', '5'], ops: ['≥'] });
    expect(parseAnswer('1 \\pm \\sqrt{19}')).toMatchObject({ items: ['1+\\sqrt{19}', '1-\\sqrt{19}'] });
  });

  it('stops a pathological item at the per-item limit and says so', async () => {
    const a = Array.from({ length: 200 }, (_, i) => `\\sqrt{${i + 2}}x^{${i}}`).join(', ');
    const b = Array.from({ length: 200 }, (_, i) => `\\sqrt{${201 - i}}x^{${199 - i}}+1`).join(', ');
    const v = await gradeAnswer(a, b, { itemTimeoutMs: 300 });
    expect(v.correct).toBe(false);
    expect(v.reason).toMatch(/^mismatch: time limit of 300 ms for this item/);
  }, 20_000);
});
