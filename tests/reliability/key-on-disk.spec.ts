// A remembered teacher key never reaches the disk in plain text: remember it, close the browser,
// scan every file of the profile (UTF-8 and UTF-16LE, the encoding LevelDB logs hold strings in);
// forget it, close, scan again. Both scans must find nothing; the reload in between must still
// read the remembered key back (it is stored, encrypted).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { launchProfile, report } from './support.ts';

const KEY = 'sk-test-RELIABILITY-4f9c2a7e1b3d5f60a8c9e7d2';

function hits(dir: string): number {
  let n = 0;
  const needles = [Buffer.from(KEY, 'utf8'), Buffer.from(KEY, 'utf16le'), Buffer.from(KEY.slice(8), 'utf8'), Buffer.from(KEY.slice(8), 'utf16le')];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 256 << 20) {
        const b = readFileSync(p);
        for (const x of needles) if (b.includes(x)) { n++; console.log('key found in', p.slice(dir.length)); break; }
      }
    }
  };
  walk(dir);
  return n;
}

async function panel(page: Page) {
  await page.goto('./?view=data');
  const p = page.getByTestId('teacher-panel');
  await expect(p).toHaveAttribute('data-ready', 'true');
  if (!(await p.evaluate((d) => (d as HTMLDetailsElement).open))) await p.getByTestId('teacher-summary').click();
  await expect(p.getByTestId('teacher-start')).toBeVisible();
  return p;
}

test('a remembered key is ciphertext on disk, and forgetting leaves no trace of it', async () => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'rb-keys-'));
  try {
    let ctx = await launchProfile(dir);
    let page = await ctx.newPage();
    let p = await panel(page);
    await p.getByTestId('teacher-base-url').fill('https://api.example.invalid/v1');
    await p.getByTestId('teacher-key').fill(KEY);
    page.once('dialog', (d) => void d.accept());
    await p.getByTestId('teacher-remember').check();
    await expect(p.getByTestId('teacher-remember')).toBeChecked();
    await page.waitForTimeout(500);
    await ctx.close();
    const whileRemembered = hits(dir);

    ctx = await launchProfile(dir);
    page = await ctx.newPage();
    p = await panel(page);
    await p.getByTestId('teacher-base-url').fill('https://api.example.invalid/v1');
    await p.getByTestId('teacher-base-url').dispatchEvent('change');
    await expect(p.getByTestId('teacher-key')).toHaveValue(KEY);
    await p.getByTestId('teacher-remember').uncheck();
    await page.waitForTimeout(500);
    await ctx.close();
    const afterForget = hits(dir);
    report('remembered key on disk', { 'plain-text hits while remembered': whileRemembered, 'plain-text hits after forgetting': afterForget });
    expect({ whileRemembered, afterForget }).toEqual({ whileRemembered: 0, afterForget: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
