// Storage full for a model download: a Chromium profile on a 64 MB tmpfs (as root), a cached small
// model, the disk filled with random bytes, then an 8 MB model from a real HTTP server on 127.0.0.1.
// The load must still succeed (without caching), say how much space caching needs and which cached
// models could be deleted, and lose nothing stored: the small model still loads from the cache with
// its server gone. Once space is freed the same model is cached. Skipped where tmpfs cannot be mounted.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { bigModelFiles, modelBytes, randomModelFiles, startModelServer, tinyModelFiles } from '../support/model-server.ts';
import { formatBytes } from '../../src/lib/bytes.ts';
import { tinyModelAndBundledPool } from '../e2e/flows.ts';
import { FULL, idbCounts, launchProfile, report } from './support.ts';

function mountTmpfs(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'pipe' }); return null; } catch (e) { return `mount failed: ${(e as Error).message.slice(0, 200)}`; }
}

/** Fills the file system of `path` with random bytes until about `leave` bytes are free. */
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

async function loadUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('model-url').fill(url);
  await page.getByTestId('load-url').click();
  await expect(page.getByTestId('model-progress')).toHaveCount(0, { timeout: 120_000 });
}

test('a model download on a full disk loads without caching, says what it needs and what to delete, and loses nothing stored', async () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'rb-model-quota-'));
  const why = mountTmpfs(dir);
  test.skip(why !== null, why ?? '');
  // 4 layers of width 256: about 8 MB of random f16 weights (incompressible).
  const big = randomModelFiles({ hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64 }, { seed: 7 });
  const srv = await startModelServer({ small: await tinyModelFiles(), big });
  const ctx = await launchProfile(join(dir, 'profile'));
  try {
    const page = await ctx.newPage();
    await page.goto('./?view=models');
    await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
    await loadUrl(page, srv.folder('small'));
    await expect(page.getByTestId('model-info')).toBeVisible();
    await expect(page.getByTestId('cached-model')).toHaveCount(1);

    const filled = fill(join(dir, 'filler.bin'), 3 << 20);
    await loadUrl(page, srv.folder('big'));
    await expect(page.getByTestId('model-info')).toBeVisible();
    await expect(page.getByTestId('model-label')).toHaveText(srv.folder('big'));
    const warn = (await page.getByTestId('model-warnings').textContent()) ?? '';
    console.log(`warning shown: ${warn}`);
    const quota = /The browser's storage is full/.test(warn);
    expect(warn).toMatch(/(The browser's storage is full: model\.safetensors of \S+ could not be kept in the browser cache|The browser cache refused model\.safetensors of \S+ \(.*; the storage may be full\)); caching this model needs [\d.]+ [KMG]iB more/);
    expect(warn).toContain(`To make room, delete cached models in Models / Device: ${srv.folder('small')} (`);
    expect(warn).toContain('The model was loaded without caching (nothing stored was deleted)');
    // Nothing stored was lost: the small model is listed whole and loads with its server gone.
    const rows = page.getByTestId('cached-model');
    await expect(rows.filter({ hasText: srv.folder('small') })).not.toContainText('incomplete');
    await expect(rows.filter({ hasText: srv.folder('big') })).toHaveCount(0);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) srv.set('small', f, undefined);
    await rows.filter({ hasText: srv.folder('small') }).getByRole('button', { name: 'Load' }).click();
    await expect(page.getByTestId('model-label')).toHaveText(srv.folder('small'), { timeout: 90_000 });
    await expect(page.getByTestId('model-error')).toHaveCount(0);

    // Space freed: the same model is cached now.
    rmSync(join(dir, 'filler.bin'));
    await loadUrl(page, srv.folder('big'));
    await expect(page.getByTestId('model-info')).toBeVisible();
    await expect(page.getByTestId('model-warnings')).toHaveCount(0);
    await expect(rows.filter({ hasText: srv.folder('big') })).not.toContainText('incomplete');
    report('model download on a full disk', {
      'filler MiB': Math.round(filled / 2 ** 20), 'model MiB': (modelBytes(big) / 2 ** 20).toFixed(1),
      'error kind': quota ? 'quota' : 'cache refused', 'loads that failed': 0, 'cached models lost': 0,
    });
  } finally {
    await ctx.close().catch(() => {});
    await srv.close();
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model of real size (hundreds of MB in the full campaign) on a disk too small for it: loads uncached, says what it needs and what to delete, leaves no part of itself and loses nothing', async () => {
  test.setTimeout(FULL ? 900_000 : 300_000);
  const dir = mkdtempSync(join(tmpdir(), 'rb-model-quota-big-'));
  const why = mountTmpfs(dir);
  test.skip(why !== null, why ?? '');
  const big = bigModelFiles(FULL ? 'full' : 'small', 11);
  const size = modelBytes(big);
  const srv = await startModelServer({ small: await tinyModelFiles(), big });
  const ctx = await launchProfile(join(dir, 'profile'));
  try {
    const page = await ctx.newPage();
    await page.goto('./?view=models');
    await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
    await loadUrl(page, srv.folder('small'));
    await expect(page.getByTestId('model-info')).toBeVisible();
    const filled = fill(join(dir, 'filler.bin'), 8 << 20);

    await loadUrl(page, srv.folder('big'));
    await expect(page.getByTestId('model-info')).toBeVisible();
    await expect(page.getByTestId('model-label')).toHaveText(srv.folder('big'));
    const warn = (await page.getByTestId('model-warnings').textContent()) ?? '';
    console.log(`warning shown: ${warn}`);
    const need = /caching this model needs ([\d.]+ [KMG]iB) more/.exec(warn)?.[1];
    expect(warn).toMatch(/(The browser's storage is full: model\.safetensors of \S+ could not be kept in the browser cache|The browser cache refused model\.safetensors of \S+ \(.*; the storage may be full\)); caching this model needs [\d.]+ [KMG]iB more/);
    // What it needs is the weight file (the small files went in before the disk refused it).
    expect(need).toBe(formatBytes((big['model.safetensors'] as Uint8Array).byteLength));
    expect(warn).toContain(`To make room, delete cached models in Models / Device: ${srv.folder('small')} (`);
    expect(warn).toContain('The model was loaded without caching (nothing stored was deleted)');
    // No segment of the refused file stays behind to fill the disk.
    const keys = await page.evaluate(async () => (await (await caches.open('rb-models-v1')).keys()).map((r) => r.url));
    const leftovers = keys.filter((k) => k.includes(encodeURIComponent(`${srv.folder('big')}model.safetensors`)) || k === `${srv.folder('big')}model.safetensors`);
    expect(leftovers).toEqual([]);
    // Nothing stored was lost: the small model is listed whole and loads with its server gone.
    const rows = page.getByTestId('cached-model');
    await expect(rows.filter({ hasText: srv.folder('small') })).not.toContainText('incomplete');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) srv.set('small', f, undefined);
    await rows.filter({ hasText: srv.folder('small') }).getByRole('button', { name: 'Load' }).click();
    await expect(page.getByTestId('model-label')).toHaveText(srv.folder('small'), { timeout: 120_000 });
    await expect(page.getByTestId('model-error')).toHaveCount(0);
    report('large model on a full disk', {
      'model MiB': (size / 2 ** 20).toFixed(1), 'disk MiB': 64, 'filler MiB': Math.round(filled / 2 ** 20), 'needed (said)': need ?? '?',
      'loads that failed': 0, 'segments left behind': leftovers.length, 'cached models lost': 0,
    });
  } finally {
    await ctx.close().catch(() => {});
    await srv.close();
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Fills the file system of `path` to the last byte (1 MiB, then 4 KiB writes until ENOSPC). */
function fillAll(path: string): number {
  let wrote = fill(path, 0);
  const fd = openSync(`${path}.tail`, 'w');
  const buf = Buffer.alloc(4096);
  try { for (;;) { randomFillSync(buf); writeSync(fd, buf); wrote += buf.length; } } catch { /* ENOSPC: full */ } finally { closeSync(fd); }
  return wrote;
}

test('a training checkpoint on a full disk: says what it needs and what to delete, keeps the previous one, and training goes on', async () => {
  test.setTimeout(420_000);
  const dir = mkdtempSync(join(tmpdir(), 'rb-ckpt-quota-'));
  const why = mountTmpfs(dir);
  test.skip(why !== null, why ?? '');
  const ctx = await launchProfile(join(dir, 'profile'));
  try {
    const page = await ctx.newPage();
    await page.goto('./?view=train');
    await tinyModelAndBundledPool(page);
    const before = await idbCounts(page);
    await page.getByTestId('train-examples').fill('3');
    await page.getByTestId('train-seqlen').fill('160');
    await page.getByTestId('train-steps').fill('2000');
    await page.getByTestId('train-lr').fill('0.05');
    await page.getByTestId('train-batch').fill('2');
    await page.getByTestId('train-checkpoint-every').fill('2');
    await page.getByTestId('train-start').click();
    const ck = page.getByTestId('train-checkpoint');
    await expect(ck).toContainText(/checkpoint at step \d+ stored/, { timeout: 180_000 });

    const filled = fillAll(join(dir, 'filler.bin'));
    const warn = page.getByTestId('train-checkpoint-warning');
    await expect(warn).toContainText(/^Checkpoint at step \d+ not saved\. Storage is full: about [\d.]+ [KMG]?i?B more is needed\./, { timeout: 120_000 });
    const text = (await warn.textContent()) ?? '';
    console.log(`checkpoint warning: ${text}`);
    expect(text).toContain('You can free space by deleting: pool "');
    const keptStep = Number((await ck.textContent())?.match(/checkpoint at step (\d+)/)?.[1] ?? 0);
    expect(keptStep).toBeGreaterThan(0);

    // Space freed: the next checkpoint is stored, the pool stored before is whole.
    rmSync(join(dir, 'filler.bin'));
    rmSync(join(dir, 'filler.bin.tail'));
    await expect.poll(async () => Number((await ck.textContent())?.match(/checkpoint at step (\d+) stored/)?.[1] ?? 0), { timeout: 120_000 }).toBeGreaterThan(keptStep);
    await expect(warn).toHaveCount(0);
    const after = await idbCounts(page);
    expect(after.pools.map((p) => [p.name, p.traces])).toEqual(before.pools.map((p) => [p.name, p.traces]));
    await page.getByTestId('train-cancel').click().catch(() => {});
    report('checkpoint on a full disk', {
      'filler MiB': Math.round(filled / 2 ** 20), 'says what it needs and what to delete': 'yes', 'checkpoint kept (step)': keptStep,
      'stored again after freeing space': 'yes', 'pools lost': 0,
    });
  } finally {
    await ctx.close().catch(() => {});
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
