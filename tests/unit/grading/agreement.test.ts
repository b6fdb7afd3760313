// Agreement of the grader with reference labels and reference answers.
// - GSM8K: 5,276 model solutions with the authors' is_correct labels. The whole file is used when
//   it is present (the project's shared data folder, or $GSM8K_SOLUTIONS); a committed 50-question
//   head (200 solutions) always runs. Disagreements must equal the committed, explained list.
// - MATH500: every reference answer equals itself and the last \boxed{} of its own solution.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractAnswer, gradeAnswer, gradeResponse, lastBoxed } from '../../../src/grading/index.ts';

const ROOT = resolve(__dirname, '../../..');
const FIX = resolve(ROOT, 'tests/fixtures/grading');
const MODELS = ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'] as const;

interface Disagreement { row: number; model: string; label: boolean; reason: string }
const EXPLAINED: Disagreement[] = JSON.parse(readFileSync(resolve(FIX, 'gsm8k-disagreements.json'), 'utf8')).items;

function firstExisting(paths: (string | undefined)[]): string | undefined {
  return paths.find((p): p is string => !!p && existsSync(p));
}

async function disagreements(file: string): Promise<{ total: number; found: (Disagreement & { verdict: string })[] }> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const found: (Disagreement & { verdict: string })[] = [];
  let total = 0;
  for (let row = 0; row < lines.length; row++) {
    const r = JSON.parse(lines[row]);
    const ref = extractAnswer(r.ground_truth);
    expect(ref, `row ${row}: ground truth has an answer line`).not.toBeNull();
    for (const m of MODELS) {
      total++;
      const v = await gradeResponse(r[m].solution, ref!.answer);
      if (v.correct !== r[m].is_correct) found.push({ row, model: m, label: r[m].is_correct, reason: '', verdict: v.reason });
    }
  }
  return { total, found };
}

const key = (d: { row: number; model: string }) => `${d.row}:${d.model}`;

describe('GSM8K model solutions vs the authors\' labels', () => {
  it('agrees on the committed 50-question head (200 solutions)', async () => {
    const { total, found } = await disagreements(resolve(FIX, 'gsm8k_solutions_head50.jsonl'));
    expect(total).toBe(200);
    const explained = EXPLAINED.filter((d) => d.row < 50).map(key).sort();
    expect(found.map(key).sort()).toEqual(explained);
  });

  const full = firstExisting([process.env.GSM8K_SOLUTIONS, resolve(ROOT, '../shared/data/gsm8k_test_model_solutions.jsonl'), resolve(ROOT, 'public/data/gsm8k_test_model_solutions.jsonl')]);
  it.skipIf(!full)('agrees on all 5,276 solutions except the explained list', async () => {
    const { total, found } = await disagreements(full!);
    expect(total).toBe(5276);
    const agreement = (total - found.length) / total;
    console.log(`GSM8K agreement: ${total - found.length}/${total} = ${(agreement * 100).toFixed(2)}%`);
    for (const d of found) console.log(`  disagreement row ${d.row} ${d.model} label=${d.label}: ${d.verdict}`);
    expect(found.map(key).sort()).toEqual(EXPLAINED.map(key).sort());
  }, 120_000);
});

describe('MATH500 reference answers', () => {
  const full = firstExisting([resolve(ROOT, 'public/data/math500.jsonl'), resolve(ROOT, '../shared/data/math500.jsonl')]);
  const file = full ?? resolve(FIX, 'math500_head60.jsonl');
  it(`each answer equals itself and the \\boxed{} of its solution (${full ? 'all 500' : 'first 60'})`, async () => {
    const rows = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    const failures: string[] = [];
    for (const [i, r] of rows.entries()) {
      const self = await gradeAnswer(r.answer, r.answer);
      if (!self.correct) failures.push(`${i} self: ${self.reason}`);
      const boxed = lastBoxed(r.solution);
      const v = await gradeAnswer(boxed, r.answer);
      if (!v.correct) failures.push(`${i} boxed ${JSON.stringify(boxed)}: ${v.reason}`);
    }
    expect(failures).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(60);
  }, 120_000);

  it('distinct reference answers do not match each other (false-positive probe)', async () => {
    const rows = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    const matches: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      for (const d of [1, 7, 31]) {
        const a = rows[i].answer as string;
        const b = rows[(i + d) % rows.length].answer as string;
        if (a.replace(/\s|x=/g, '') === b.replace(/\s|x=/g, '')) continue;
        const v = await gradeAnswer(a, b);
        if (v.correct) matches.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${v.reason}`);
      }
    }
    expect(matches).toEqual([]);
  }, 120_000);
});
