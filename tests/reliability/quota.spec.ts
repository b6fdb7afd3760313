// Storage full: a Chromium profile on a 64 MB tmpfs (as root: mount -t tmpfs -o size=64m), filled
// with random bytes, then an import that cannot fit. The failure must say how much space is
// needed and what can be deleted, every pool stored before must be whole, and once space is freed
// the same import succeeds. Skipped (with the reason) where tmpfs cannot be mounted.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { idbCounts, installHooks, launchProfile, newHooks, readHooks, report, watchPage } from './support.ts';

const gsm = readFileSync(new URL('../../public/data/gsm8k_train.jsonl', import.meta.url), 'utf8').split('\n').filter(Boolean);

function mountTmpfs(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'pipe' }); return null; } catch (e) { return `mount failed: ${(e as Error).message.slice(0, 200)}`; }
}

/** Fills the file system of `dir` with random bytes until `leave` bytes are free. */
function fill(path: string, leave: number): number {
  const free = () => { const s = statfsSync(path); return s.bavail * s.bsize; };
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1 << 20);
  let wrote = 0;
  try {
    while (free() > leave + buf.length) { randomFillSync(buf); writeSync(fd, buf); wrote += buf.length; }
  } finally { closeSync(fd); }
  return wrote;
}

test('an import on a full disk says what it needs and what to delete; nothing stored is lost', async () => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'rb-quota-'));
  const why = mountTmpfs(dir);
  test.skip(why !== null, why ?? '');
  const hooks = newHooks();
  const files = mkdtempSync(join(tmpdir(), 'rb-quota-files-'));
  const small = join(files, 'before.jsonl');
  const big = join(files, 'too-big.jsonl');
  writeFileSync(small, gsm.slice(0, 300).join('\n'));
  writeFileSync(big, gsm.join('\n')); // 7,473 rows, ~4 MB of JSONL
  const ctx = await launchProfile(join(dir, 'profile'));
  try {
    await installHooks(ctx);
    const page = await ctx.newPage();
    watchPage(page, hooks);
    await page.goto('./?view=data');
    await page.getByTestId('import-file').setInputFiles(small);
    await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
    await page.getByTestId('import-start').click();
    await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    const before = (await idbCounts(page)).pools.find((p) => p.name === 'before')!;
    const filled = fill(join(dir, 'filler.bin'), 2 << 20);

    await page.getByTestId('import-file').setInputFiles(big);
    await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
    await page.getByTestId('import-start').click();
    const status = page.getByTestId('import-status');
    await expect(status).toHaveAttribute('data-status', /rolled-back|cancelled-kept|failed/, { timeout: 120_000 });
    const msg = await status.innerText();
    console.log('quota message:', msg);
    const saysNeeded = /about [\d.]+ (B|KiB|MiB|GiB) more/.test(msg);
    const saysDelete = msg.includes('pool "before" (300 traces') && msg.includes('Data view');

    // Free the space (a full disk can leave the database unopenable until then): the earlier pool is
    // whole, and the same import now succeeds.
    rmSync(join(dir, 'filler.bin'));
    await page.reload();
    const after = await idbCounts(page);
    const beforeWhole = after.pools.find((p) => p.id === before.id)?.traces === 300;
    await page.getByTestId('import-file').setInputFiles(big);
    await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
    if (await page.getByTestId('import-resumable').count()) await page.getByTestId('import-resume').click();
    else await page.getByTestId('import-start').click();
    await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', /ok|partial/, { timeout: 120_000 });
    const retried = (await idbCounts(page)).pools.find((p) => p.name === 'too-big' && p.status === 'ready')?.traces ?? 0;
    await readHooks(page, hooks);
    report('storage full (import)', {
      'tmpfs MB': 64, 'filler MB': Math.round(filled / 1e6), 'says space needed': saysNeeded ? 'yes' : 'no', 'says what to delete': saysDelete ? 'yes' : 'no',
      'earlier pool whole': beforeWhole ? 'yes' : 'no', 'rows after freeing space': retried, 'page errors': hooks.pageErrors.length,
    });
    expect({ saysNeeded, saysDelete, beforeWhole, retried, errors: hooks.pageErrors }).toEqual({ saysNeeded: true, saysDelete: true, beforeWhole: true, retried: gsm.length, errors: [] });
  } finally {
    await ctx.close().catch(() => {});
    try { execFileSync('umount', [dir]); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  }
});
