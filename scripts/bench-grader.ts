// Grader agreement and speed on answer-form corpora (JSONL: response, reference, correct[, problem, cls, why]):
//   npm run bench:grader -- [FILE.jsonl ...] [--verbose]   (default: the held-out forms)
// Prints, per file: agreement with the expected verdicts, false accepts / false rejects, and the
// median / p95 time per item (whole response graded: extraction + equivalence). Speed is measured
// here, never asserted in tests.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { extractAnswerText, gradeResponse } from '../src/grading/index.ts';

interface Case { response: string; reference: string; correct: boolean; problem?: string; cls?: string; why?: string; reference_is_text?: boolean }

const ROOT = resolve(import.meta.dirname, '..');
const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const verbose = process.argv.includes('--verbose');
if (files.length === 0) files.push(resolve(ROOT, 'tests/fixtures/grading/heldout-forms.jsonl'));

const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

for (const file of files) {
  if (!existsSync(file)) { console.error(`bench-grader: ${file} not found`); process.exit(2); }
  const cases: Case[] = readFileSync(file, 'utf8').split('\n').map((l, i) => ({ l, i })).filter(({ l }) => l.trim() !== '').map(({ l, i }) => {
    const c = JSON.parse(l) as Case;
    if (typeof c.response !== 'string' || typeof c.reference !== 'string' || typeof c.correct !== 'boolean') throw new Error(`${file}:${i + 1}: needs response, reference (strings) and correct (boolean)`);
    return c;
  });
  // Warm the CAS once so its lazy import is not counted in the first item.
  await gradeResponse('\\boxed{x+1}', '1+x');
  const times: number[] = [];
  let agree = 0, fa = 0, fr = 0;
  const byCls = new Map<string, { n: number; ok: number }>();
  for (const c of cases) {
    const t0 = performance.now();
    // A reference written as text ("$x >= 5$", "$$\\boxed{2}, \\boxed{3}$$", Math-Verify's golds) is read by the same extractor.
    const reference = c.reference_is_text ? extractAnswerText(c.reference) ?? c.reference : c.reference;
    const v = await gradeResponse(c.response, reference, c.problem ? { problem: c.problem } : undefined);
    times.push(performance.now() - t0);
    const g = byCls.get(c.cls ?? '-') ?? { n: 0, ok: 0 };
    g.n++;
    if (v.correct === c.correct) { agree++; g.ok++; } else {
      if (v.correct) fa++; else fr++;
      if (verbose) console.log(`  ${v.correct ? 'FALSE ACCEPT' : 'FALSE REJECT'} [${c.cls}] ${JSON.stringify(c.response.slice(-80))} vs ${JSON.stringify(c.reference)}: ${v.prediction} (${v.extraction}) ${v.reason}`);
    }
    byCls.set(c.cls ?? '-', g);
  }
  const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
  console.log(`${file.replace(ROOT + '/', '')}: agreement ${agree}/${cases.length} = ${pct(agree, cases.length)}  false accepts ${fa}  false rejects ${fr}`);
  console.log(`  by class: ${[...byCls.entries()].map(([k, g]) => `${k} ${g.ok}/${g.n}`).join(', ')}`);
  console.log(`  time per item: median ${quantile(times, 0.5).toFixed(2)} ms  p95 ${quantile(times, 0.95).toFixed(2)} ms`);
}
