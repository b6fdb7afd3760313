// Fuzzed import lines: a seeded mix of valid GSM8K rows (some carrying hostile text, odd Unicode,
// CRLF, extra or __proto__ keys) and broken ones (truncated, random or invalid-UTF-8 bytes, wrong
// types, missing or empty fields, non-objects, deep nesting), with blank lines between. Every valid
// row must be kept in order, every broken line named, and nothing the rows hold may run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { mulberry32 } from '../../src/lib/rng.ts';
import { count, idbCounts, installHooks, newHooks, readHooks, report, watchPage } from './support.ts';

const LINES = count(1000, 10_000);
const gsm = readFileSync(new URL('../../public/data/gsm8k_train.jsonl', import.meta.url), 'utf8').split('\n').filter(Boolean);
const HOSTILE = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '$\\href{javascript:alert(1)}{x}$', '<svg onload=alert(1)>', '"><iframe src=javascript:alert(1)>', '\u202Eevil\u202C', 'a\u200Bb\uFEFF', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧮', '$' + '{'.repeat(300) + 'x' + '}'.repeat(300) + '$'];

export function fuzzFile(n: number, seed: number): { bytes: Buffer; valid: string[]; bad: number[] } {
  const rnd = mulberry32(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const parts: Buffer[] = [];
  const valid: string[] = [];
  const bad: number[] = [];
  let line = 0;
  const push = (b: Buffer | string, ok: string | null) => {
    line++;
    parts.push(typeof b === 'string' ? Buffer.from(b) : b);
    if (ok !== null) valid.push(ok); else bad.push(line);
  };
  for (let i = 0; i < n; i++) {
    const row = JSON.parse(pick(gsm)) as { question: string; answer: string };
    const r = rnd();
    if (rnd() < 0.05) { line++; parts.push(Buffer.from('   ')); } // blank line: not a row
    if (r < 0.55) push(JSON.stringify(row), row.question);
    else if (r < 0.60) { const q = `${row.question} ${pick(HOSTILE)}`; push(JSON.stringify({ ...row, question: q }), q); }
    else if (r < 0.63) push(JSON.stringify({ ...row, x_note: pick(HOSTILE) }), row.question);
    else if (r < 0.65) push(`${JSON.stringify(row)}\r`, row.question);
    else if (r < 0.67) push(`{"__proto__":{"polluted":1},${JSON.stringify(row).slice(1)}`, row.question);
    else if (r < 0.70) push(`  ${JSON.stringify(row)}\t`, row.question);
    else {
      const s = JSON.stringify(row);
      const k = Math.floor(rnd() * 12);
      const broken: (Buffer | string)[] = [
        s.slice(0, 1 + Math.floor(rnd() * (s.length - 2))),
        Buffer.from([0x23, ...Array.from({ length: Math.floor(rnd() * 200) }, () => { let b = Math.floor(rnd() * 256); if (b === 10) b = 11; return b; })]),
        Buffer.concat([Buffer.from(s.slice(0, 20)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(s.slice(20))]),
        JSON.stringify({ ...row, question: Math.floor(rnd() * 1e6) }),
        JSON.stringify({ ...row, question: [1, 2, 3] }),
        JSON.stringify({ ...row, question: { text: row.question } }),
        JSON.stringify({ ...row, question: null }),
        JSON.stringify({ question: row.question }),
        JSON.stringify({ ...row, question: ' \t ' }),
        pick(['[1,2,3]', '"just a string"', '42', 'null', 'true']),
        `{"question":${'['.repeat(5000)}${']'.repeat(5000)},"answer":"#### 1"}`,
        `${s.slice(0, 10)}\u0000${s.slice(10)}`,
      ];
      push(broken[k], null);
    }
  }
  const joined: Buffer[] = [];
  parts.forEach((p, i) => { joined.push(p); if (i < parts.length - 1) joined.push(Buffer.from('\n')); });
  return { bytes: Buffer.concat(joined), valid, bad };
}

test('fuzzed import lines: every valid row kept in order, every bad line named, nothing runs', async ({ page }) => {
  test.setTimeout(count(180_000, 600_000));
  const dir = mkdtempSync(join(tmpdir(), 'rb-fuzz-'));
  const { bytes, valid, bad } = fuzzFile(LINES, 7);
  const file = join(dir, 'fuzz.jsonl');
  writeFileSync(file, bytes);
  const hooks = newHooks();
  await installHooks(page);
  watchPage(page, hooks);
  try {
    await page.goto('./?view=data');
    await page.getByTestId('import-file').setInputFiles(file);
    await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
    await page.getByTestId('import-start').click();
    await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'partial', { timeout: count(120_000, 500_000) });
    const db = await idbCounts(page);
    const pool = db.pools.find((p) => p.name === 'fuzz')!;
    const rows = (await idbCounts(page, pool.id)).poolTraces!;
    const kept = rows.map((r) => r.problem);
    const lostValid = valid.length - kept.filter((q, i) => q === valid[i]).length;
    const listed = await page.getByTestId('import-issues').locator('tbody tr td:first-child').allInnerTexts();
    const listedLines = listed.map(Number);
    const wantListed = bad.slice(0, 1000);
    const misnamed = listedLines.filter((l, i) => l !== wantListed[i]).length + Math.abs(listedLines.length - wantListed.length);
    await expect(page.getByTestId('import-status')).toContainText(`${bad.length} bad rows skipped`);
    // Open the first traces (hostile text among them) in the detail view.
    const n = Math.min(30, await page.getByTestId('trace-row').count());
    for (let i = 0; i < n; i++) {
      await page.getByTestId('trace-row').nth(i).click();
      await expect(page.getByTestId('trace-detail').locator('h3')).toBeVisible();
    }
    await readHooks(page, hooks);
    const polluted = await page.evaluate(() => 'polluted' in ({} as object));
    report('fuzzed import lines', {
      lines: LINES, 'valid rows': valid.length, 'bad lines': bad.length, 'valid rows lost': lostValid, 'rows stored': kept.length,
      'bad lines listed': listedLines.length, 'listed lines misnamed': misnamed, 'script executions': hooks.alerts + hooks.injected + hooks.dialogs, 'page errors': hooks.pageErrors.length,
    });
    expect({ lostValid, stored: kept.length, misnamed, exec: hooks.alerts + hooks.injected + hooks.dialogs, errors: hooks.pageErrors, polluted })
      .toEqual({ lostValid: 0, stored: valid.length, misnamed: 0, exec: 0, errors: [], polluted: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
