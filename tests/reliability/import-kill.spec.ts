// Kill cycles mid-import: a 2,000-row file is imported into a persistent profile and killed part way
// by closing the page, closing the context or SIGKILLing the browser process, in turn. After each
// kill: the reference pool is whole, the interrupted pool shows the count it really holds and holds
// a gap-free prefix of the file; choosing the same file again continues it from its last stored
// line. Rows lost / doubled are counted over every import that completes.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mulberry32 } from '../../src/lib/rng.ts';
import { browserPid, count, idbCounts, installHooks, launchProfile, newHooks, readHooks, report, watchPage } from './support.ts';

const CYCLES = Number(process.env.RB_KILL_CYCLES) || count(3, 100);
const ROWS = 2000;
const gsm = readFileSync(new URL('../../public/data/gsm8k_train.jsonl', import.meta.url), 'utf8').split('\n').filter(Boolean);

test('kill cycles mid-import lose no stored row and continue where they stopped', async () => {
  test.setTimeout(count(240_000, 900_000));
  const dir = mkdtempSync(join(tmpdir(), 'rb-kill-'));
  const profile = join(dir, 'profile');
  const file = join(dir, 'kill-cycles.jsonl');
  const refFile = join(dir, 'reference.jsonl');
  writeFileSync(file, gsm.slice(0, ROWS).join('\n'));
  writeFileSync(refFile, gsm.slice(ROWS, ROWS + 300).join('\n'));
  const want = gsm.slice(0, ROWS).map((l) => (JSON.parse(l) as { question: string }).question);
  const rnd = mulberry32(14);
  const hooks = newHooks();
  const modes = { page: 0, context: 0, process: 0 };
  let ctx: BrowserContext | null = null;
  let completed = 0, lost = 0, doubled = 0, wrongCount = 0, gaps = 0, resumed = 0, refBroken = 0;

  const open = async (): Promise<Page> => {
    if (!ctx) { ctx = await launchProfile(profile); await installHooks(ctx); }
    const page = await ctx.newPage();
    watchPage(page, hooks);
    if (process.env.RB_DEBUG) page.on('console', (m) => console.log('page:', m.text().slice(0, 200)));
    await page.goto('./?view=data');
    await expect(page.getByTestId('pool-list')).toBeVisible();
    return page;
  };

  // Every finished kill-cycles pool (the import may finish just before or while the kill lands):
  // check it whole, then delete it so the next import starts afresh.
  const verifyFinished = async (page: Page) => {
    for (const done of (await idbCounts(page)).pools.filter((p) => p.name === 'kill-cycles' && p.status === 'ready')) {
      const rows = (await idbCounts(page, done.id)).poolTraces!;
      const got = new Set(rows.map((r) => r.line));
      lost += want.filter((_, k) => !got.has(k + 1)).length;
      doubled += rows.length - got.size;
      if (rows.some((r) => r.problem !== want[r.line - 1])) lost++;
      completed++;
      await page.evaluate((id) => new Promise<void>((res) => {
        const r = indexedDB.open('reasonbridge');
        r.onsuccess = () => {
          const tx = r.result.transaction(['pools', 'traces'], 'readwrite');
          tx.objectStore('traces').delete(IDBKeyRange.bound(`${id}:`, `${id};`, false, true));
          tx.objectStore('pools').delete(id);
          tx.oncomplete = () => { r.result.close(); res(); };
        };
      }), done.id);
    }
  };

  try {
    // The reference pool: imported once, must stay whole through every kill.
    let page = await open();
    await page.getByTestId('import-file').setInputFiles(refFile);
    await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
    await page.getByTestId('import-start').click();
    await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    const refId = (await idbCounts(page)).pools.find((p) => p.name === 'reference')!.id;
    await page.close();

    for (let i = 0; i < CYCLES; i++) {
      page = await open();
      if (process.env.RB_DEBUG) console.log(`cycle ${i}: opened`);
      // Invariants after the previous kill.
      await verifyFinished(page);
      const db = await idbCounts(page);
      if (process.env.RB_DEBUG) console.log(`cycle ${i}: ${JSON.stringify(db.pools)}`);
      if (db.pools.find((p) => p.id === refId)?.traces !== 300) refBroken++;
      for (const p of db.pools.filter((x) => x.status === 'importing')) {
        const item = page.locator(`[data-testid="pool-item"][data-pool-id="${p.id}"]`);
        const ok = await expect(item).toContainText(`${p.traces.toLocaleString('en-US')} traces`, { timeout: 10_000 }).then(() => true, () => false);
        if (!ok) { wrongCount++; console.log(`cycle ${i}: pool ${p.id} holds ${p.traces}, shown: ${await item.innerText({ timeout: 1000 }).catch(() => '(not listed)')}`); }
        const rows = (await idbCounts(page, p.id)).poolTraces!;
        if (rows.some((r, k) => r.seq !== k || r.line !== k + 1 || r.problem !== want[k])) gaps++;
      }
      await page.getByTestId('import-file').setInputFiles(file);
      await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
      const resumable = await page.getByTestId('import-resumable').count();
      if (resumable) { resumed++; await page.getByTestId('import-resume').click(); } else await page.getByTestId('import-start').click();
      // Kill once the import has written a random share of the file (or it finished).
      const target = Math.floor(rnd() * ROWS);
      const t0 = Date.now();
      for (;;) {
        if (await page.getByTestId('import-status').count()) break;
        if (await page.getByTestId('import-error').count()) throw new Error(`cycle ${i}: import error: ${await page.getByTestId('import-error').innerText()}`);
        const txt = (await page.getByTestId('import-progress').innerText({ timeout: 500 }).catch(() => '')) ?? '';
        const m = /^([\d,]+) rows/.exec(txt.trim());
        if (m && Number(m[1].replace(/,/g, '')) >= target) break;
        if (Date.now() - t0 > 60_000) throw new Error('import made no progress in 60 s');
        await page.waitForTimeout(20);
      }
      if (await page.getByTestId('import-status').count()) await verifyFinished(page);
      await readHooks(page, hooks);
      const mode = (['page', 'context', 'process'] as const)[i % 3];
      modes[mode]++;
      if (process.env.RB_DEBUG) console.log(`cycle ${i}: ${mode}, target ${target}, resumed ${resumable}, ${Date.now() - t0} ms`);
      if (mode === 'page') await page.close();
      else if (mode === 'context') { await ctx!.close(); ctx = null; }
      else {
        const pid = browserPid(profile);
        expect(pid, 'browser process of the profile').toBeDefined();
        process.kill(pid!, 'SIGKILL');
        await ctx!.close().catch(() => {});
        ctx = null;
      }
    }
    // Finish the last interrupted import and check it whole.
    page = await open();
    await page.getByTestId('import-file').setInputFiles(file);
    await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
    if (await page.getByTestId('import-resumable').count()) { resumed++; await page.getByTestId('import-resume').click(); } else await page.getByTestId('import-start').click();
    await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', /ok|partial/, { timeout: 120_000 });
    await verifyFinished(page);
    if ((await idbCounts(page)).pools.find((p) => p.id === refId)?.traces !== 300) refBroken++;
    await readHooks(page, hooks);
    report('kill cycles mid-import', {
      cycles: CYCLES, 'page close': modes.page, 'context close': modes.context, 'process kill': modes.process,
      'continued imports': resumed, 'imports completed': completed, 'rows lost': lost, 'rows doubled': doubled,
      'wrong counts shown': wrongCount, 'pools with gaps': gaps, 'reference pool broken': refBroken, 'page errors': hooks.pageErrors.length,
    });
    expect({ lost, doubled, wrongCount, gaps, refBroken, errors: hooks.pageErrors }).toEqual({ lost: 0, doubled: 0, wrongCount: 0, gaps: 0, refBroken: 0, errors: [] });
  } finally {
    await (ctx as BrowserContext | null)?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
