// One answer extractor for the whole app (DESIGN.md): the importers, the selection's correctness
// gate, guided inference, evaluation and the grader all use src/grading/extract.ts. Static checks
// (nobody else defines or re-implements one) and behavioural ones (same text -> same answer).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractAnswer, extractAnswerText, gradeAnswer } from '../../../src/grading/index.ts';
import { mapRow } from '../../../src/data/import/shapes.ts';
import { runSelection, DEFAULT_SELECTION } from '../../../src/selection/select.ts';
import type { Trace } from '../../../src/domain/trace.ts';

const ROOT = resolve(__dirname, '../../..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|svelte)$/.test(name)) out.push(p);
  }
  return out;
}

const SOURCES = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'workers'))].map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));
const outsideGrading = SOURCES.filter((f) => !f.path.startsWith('src/grading/'));
/** Code without comments and string literals that are prose (prompts, placeholders). */
const code = (t: string) => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '').replace(/\s\/\/ .*$/gm, '');

describe('one answer extractor', () => {
  it('no module outside src/grading defines an answer extractor', () => {
    const def = /(?:function|const|let)\s+(extract\w*Answer\w*|lastBoxed|lastNumber|defaultExtract|answersMatch|canonicalAnswer)\s*[=(<]/;
    const offenders = outsideGrading.filter((f) => {
      const m = def.exec(code(f.text));
      // shapes.ts may bind the grader's function under a local name (typing only), nothing else.
      if (m && f.path === 'src/data/import/shapes.ts' && /=\s*\(text: string\): string \| undefined => extractAnswerText\(/.test(f.text)) return false;
      return m !== null;
    }).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('no module outside src/grading reads the content of a \\boxed{}', () => {
    // Where \boxed is looked at for another purpose: segment.ts (where the answer span starts),
    // quality.ts (an unclosed \boxed{ means truncation). Neither takes the answer out.
    const allowed = new Set(['src/segment/segment.ts', 'src/selection/quality.ts']);
    const offenders = outsideGrading.filter((f) => /lastIndexOf\('\\\\boxed|\\\\boxed\{?\s*\(|indexOf\('\\\\boxed/.test(code(f.text)) && !allowed.has(f.path)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('each caller imports the grader\'s extractor', () => {
    const callers: Record<string, RegExp> = {
      'src/data/import/shapes.ts': /import \{[^}]*\bextractAnswerText\b[^}]*\} from '\.\.\/\.\.\/grading\/index\.ts'/,
      'src/selection/select.ts': /import \{[^}]*\bgradeAnswer\b[^}]*\} from '\.\.\/grading\/index\.ts'/,
      'src/eval/benchmarks.ts': /import \{[^}]*\bextractAnswer\b[^}]*\} from '\.\.\/grading\/(extract|index)\.ts'/,
      'src/eval/runner.ts': /import \{[^}]*\bextractAnswer\b[^}]*\} from '\.\.\/grading\/(extract|index)\.ts'/,
      'src/eval/grade-file.ts': /import \{[^}]*\bextractAnswer\b[^}]*\} from '\.\.\/grading\/(extract|index)\.ts'/,
      'workers/engine/guide-api.ts': /import \{[^}]*\bextractAnswer\b[^}]*\} from '\.\.\/\.\.\/src\/grading\/(extract|index)\.ts'/,
    };
    for (const [path, re] of Object.entries(callers)) {
      const f = SOURCES.find((s) => s.path === path);
      expect(f, `${path} exists`).toBeDefined();
      expect(f!.text, path).toMatch(re);
    }
    // Guided inference: the default extractor of the guide engine is the grader's.
    const guide = SOURCES.filter((f) => f.path.startsWith('src/guide/') && /deps\.extract\s*\?\?/.test(f.text));
    expect(guide.length).toBeGreaterThan(0);
    for (const f of guide) {
      expect(f.text, f.path).toMatch(/deps\.extract\s*\?\?\s*\(\(t: string\) => extractAnswerText\(t\)\)/);
      expect(f.text, f.path).toMatch(/import \{[^}]*\bextractAnswerText\b[^}]*\} from '\.\.\/(\.\.\/)?grading\/index\.ts'/);
    }
  });
});

// Responses where the old per-module extractors disagreed (precedence, \fbox, `\boxed 5`, later
// "Final Answer" after "the answer is", thousands separators).
const RESPONSES = [
  'So the answer is 3. Actually \\boxed{4}.',
  'We get \\fbox{x^{2}} at the end.',
  'The answer is 12. Final Answer: 13',
  'Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.',
  'work\n#### 1,234',
  '$\\boxed{\\{1,2\\}}$',
  'first \\boxed{1} then \\boxed{\\frac{1}{\\sqrt{2}}}',
];

describe('the same text gives the same answer everywhere', () => {
  it('importer (chat shape) == grader extraction (strict)', () => {
    for (const r of RESPONSES) {
      const row = mapRow({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: r }] }, 'chat');
      expect(row.answer, r).toBe(extractAnswerText(r, { strict: true }) ?? r);
    }
  });

  it('strict differs from the grader only by the last-number fallback', () => {
    for (const r of [...RESPONSES, 'it costs 5 dollars, then 7.']) {
      const a = extractAnswer(r, { strict: true });
      const b = extractAnswer(r);
      if (a) expect(b).toEqual(a);
      else expect(b?.method).toBe('last-number');
    }
  });

  it('selection gate verdict == grader verdict', async () => {
    const pairs: [string, string][] = [['\\frac{1}{2}', '0.5'], ['x = 3', '3'], ['1,234', '1234'], ['4', '5'], ['\\{1,2\\}', '\\{2,1\\}']];
    const topics = ['apples and pears', 'trains leaving a station', 'a rectangle with a diagonal', 'sums of primes', 'sets of integers'];
    const traces: Trace[] = pairs.map(([a, r], i) => ({
      id: `t${i}`, seq: i, poolId: 'p', problem: `Problem ${i}: a question about ${topics[i]}.`,
      reasoning: `Step one computes things carefully for problem ${i}. Step two checks them again.`, answer: a, referenceAnswer: r,
      domain: 'test', source: 'test', teacher: 'test', tokenCounts: { problem: 10, reasoning: 20, answer: 2, method: 'estimate' }, meta: {},
    }));
    const out = await runSelection({ traces, config: { ...DEFAULT_SELECTION, targetN: 10, minReasoningChars: 10 }, seed: 1 });
    for (const [i, [a, r]] of pairs.entries()) {
      const v = await gradeAnswer(a, r, { symbolic: false });
      expect(out.decisions[`t${i}`].reason === 'wrong-answer', `${a} vs ${r}: ${v.reason}`).toBe(!v.correct);
    }
  });
});
