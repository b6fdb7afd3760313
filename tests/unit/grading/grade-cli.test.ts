// Spawns scripts/grade.ts on temp JSONL files and checks the printed accuracy and the JSONL out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

function run(args: string[]) {
  const r = spawnSync(TSX, [resolve(ROOT, 'scripts/grade.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('npm run grade', () => {
  it('grades single responses, reports bad rows, writes verdict+reason per row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grade-'));
    const inp = join(dir, 'in.jsonl');
    const rows = [
      { resp: 'so \\boxed{\\frac{1}{2}}', gold: '0.5' },
      { resp: 'The answer is 7.', gold: '8' },
      { resp: 'x = 3', gold: { nested: true } },
      'not json',
      { resp: 'work\n#### 1,000', gold: '1000' },
    ];
    writeFileSync(inp, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
    const out = join(dir, 'out.jsonl');
    const r = run([inp, '--response', 'resp', '--answer', 'gold', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rows: 5 {2}graded: 3 {2}errors: 2/);
    expect(r.out).toMatch(/accuracy: 66\.67%/);
    expect(r.err).toMatch(/in\.jsonl:3: field "gold" is missing/);
    expect(r.err).toMatch(/in\.jsonl:4: invalid JSON/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ row: 1, ok: true, correct: true, prediction: '\\frac{1}{2}' });
    expect(lines[0].reason).toMatch(/^string: /);
    expect(lines[1]).toMatchObject({ row: 2, correct: false });
    expect(lines[1].reason).toMatch(/^mismatch: numeric 7 != 8/);
    expect(lines[4]).toMatchObject({ row: 5, correct: true });
  });

  it('grades a list field element by element and by majority vote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grade-'));
    const inp = join(dir, 'samples.jsonl');
    writeFileSync(inp, [
      { q: 1, samples: ['\\boxed{2}', '\\boxed{3}', '\\boxed{2.0}'], answer: '2' },
      { q: 2, samples: ['\\boxed{5}', '\\boxed{4}', '\\boxed{4}'], answer: '5' },
    ].map((r) => JSON.stringify(r)).join('\n'));
    const r = run([inp, '--response', 'samples', '--answer', 'answer']);
    expect(r.code).toBe(0);
    // pass@1 = mean(2/3, 1/3) = 50%; maj@3 = 1/2 (2 wins in row 1, 4 wins in row 2).
    expect(r.out).toMatch(/accuracy \(pass@1, mean over samples\): 50\.00%/);
    expect(r.out).toMatch(/maj@3: 50\.00%/);
    const lines = readFileSync(join(dir, 'samples.graded.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].samples.map((s: { correct: boolean }) => s.correct)).toEqual([true, false, true]);
    expect(lines[0].majority).toMatchObject({ prediction: '2', votes: 2, correct: true });
    expect(lines[1].majority).toMatchObject({ prediction: '4', votes: 2, correct: false });
  });

  it('exits 2 with usage on missing options', () => {
    const r = run(['x.jsonl']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--response FIELD is required/);
  });
});
