// Data view end to end in Chromium with real IndexedDB: import a file (with bad rows), run a
// selection, reload, and the pool and selection are still there; an evaluation set is refused;
// a cancelled import is rolled back.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const DATA = new URL('../../public/data/', import.meta.url);
const lines = (f: string) => readFileSync(new URL(f, DATA), 'utf8').split('\n').filter(Boolean);

async function idbCount(page: Page, store: string): Promise<number> {
  return page.evaluate(async (s) => {
    // The app opens (and creates) the database from its data worker: wait for it, so this probe never creates an empty one.
    while (!(await indexedDB.databases()).some((d) => d.name === 'reasonbridge')) await new Promise((r) => setTimeout(r, 50));
    return new Promise<number>((resolve, reject) => {
      const req = indexedDB.open('reasonbridge');
      req.onsuccess = () => {
        const db = req.result;
        const c = db.transaction(s).objectStore(s).count();
        c.onsuccess = () => { resolve(c.result); db.close(); };
        c.onerror = () => reject(c.error);
      };
      req.onerror = () => reject(req.error);
    });
  }, store);
}

test('import a file, run a selection, reload: pool and selection persist', async ({ page }) => {
  const good = lines('gsm8k_train.jsonl').slice(0, 300);
  const body = [...good.slice(0, 100), good[100].slice(0, 50), ...good.slice(101, 200), '{"question": 7, "answer": "#### 1"}', ...good.slice(200)].join('\n');
  await page.goto('./?view=data');
  await page.getByTestId('import-file').setInputFiles({ name: 'gsm-sample.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(body) });
  await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
  await page.getByTestId('import-start').click();
  const status = page.getByTestId('import-status');
  await expect(status).toHaveAttribute('data-status', 'partial');
  await expect(status).toContainText('imported 299 rows; 2 bad rows skipped');
  const issues = page.getByTestId('import-issues');
  await expect(issues.locator('tbody tr')).toHaveCount(2);
  await expect(issues.locator('tbody tr').nth(0)).toContainText('101');
  await expect(issues.locator('tbody tr').nth(1)).toContainText('question');
  await expect(page.getByTestId('pool-item').filter({ hasText: 'gsm-sample' })).toContainText('299 traces');
  expect(await idbCount(page, 'traces')).toBe(299);

  // Virtual table: only a window of rows in the DOM.
  await expect(page.getByTestId('row-count')).toHaveText('299 of 299 traces');
  const domRows = await page.getByTestId('trace-row').count();
  expect(domRows).toBeGreaterThan(5);
  expect(domRows).toBeLessThan(60);

  await page.getByTestId('target-n').fill('50');
  await page.getByTestId('seed').fill('42');
  await page.getByTestId('run-selection').click();
  await expect(page.getByTestId('kept-count')).toHaveText('50', { timeout: 60_000 });
  await expect(page.getByTestId('drop-reasons')).toContainText('not-sampled');
  await expect(page.getByTestId('histogram')).toHaveCount(3);
  expect(await idbCount(page, 'selections')).toBe(1);

  // Export the selection as JSONL: 50 lines, each a trace with its segments.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-selection').click()]);
  const exported = readFileSync(await download.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(exported).toHaveLength(50);
  expect(new Set(exported.map((t) => t.id)).size).toBe(50);
  expect(exported[0]).toHaveProperty('problem');
  expect(exported[0]).toHaveProperty('segments');

  // Detail pane with KaTeX-free GSM8K text and segments.
  await page.getByTestId('filter-status').selectOption('kept');
  await expect(page.getByTestId('row-count')).toHaveText('50 of 299 traces');
  await page.getByTestId('trace-row').first().click();
  await expect(page.getByTestId('decision')).toContainText('kept');
  await expect(page.getByTestId('reasoning').locator('span.tactic').first()).toBeVisible();

  await page.reload();
  await expect(page.getByTestId('pool-item').filter({ hasText: 'gsm-sample' })).toContainText('299 traces');
  await expect(page.getByTestId('current-pool')).toContainText('gsm-sample');
  await expect(page.getByTestId('kept-count')).toHaveText('50');
  await expect(page.getByTestId('selection-summary')).toContainText('seed 42');
  expect(await idbCount(page, 'traces')).toBe(299);
});

test('an evaluation set is refused as a pool, and nothing stored is lost', async ({ page }) => {
  await page.goto('./?view=data');
  await page.getByTestId('import-file').setInputFiles({ name: 'keep.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(lines('gsm8k_train.jsonl').slice(0, 20).join('\n')) });
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'ok');
  await page.getByTestId('import-file').setInputFiles({ name: 'sneaky.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(lines('math500.jsonl').slice(0, 60).join('\n')) });
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'rolled-back');
  await expect(page.getByTestId('import-status')).toContainText('evaluation sets cannot be used as a pool');
  await expect(page.getByTestId('pool-item').filter({ hasText: 'sneaky' })).toHaveCount(0);
  expect(await idbCount(page, 'traces')).toBe(20);
  await expect(page.getByTestId('eval-sets')).toContainText('GAIR-NLP/LIMO');
});

test('a cancelled import rolls back', async ({ page }) => {
  const good = lines('gsm8k_train.jsonl');
  const big: string[] = [];
  while (big.length < 60_000) big.push(...good.slice(0, 60_000 - big.length));
  await page.goto('./?view=data');
  const before = await idbCount(page, 'traces').catch(() => 0);
  // A file on disk (a 30 MB buffer through the protocol would be slow).
  const path = join(mkdtempSync(join(tmpdir(), 'rb-e2e-')), 'big.jsonl');
  writeFileSync(path, big.join('\n'));
  await page.getByTestId('import-file').setInputFiles(path);
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-progress')).toContainText(/[1-9][\d,]* rows/);
  await page.getByTestId('import-cancel').click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'rolled-back');
  await expect(page.getByTestId('import-status')).toContainText('import cancelled');
  expect(await idbCount(page, 'traces')).toBe(before);
  expect(await idbCount(page, 'pools')).toBe(0);
});

test('detail pane: KaTeX for LaTeX, raw HTML shown as text, planted eval problem flagged, segment edit saved', async ({ page }) => {
  const math = lines('math500.jsonl').map((l) => JSON.parse(l) as Record<string, string>);
  const src = math.find((r) => r.problem.includes('\\frac') && r.problem.length > 120)!;
  const planted = { problem: src.problem.replace(/ /g, '  ').replace(/\\frac/g, '\\dfrac'), solution: src.solution, answer: src.answer, subject: src.subject, level: src.level };
  const evil = { problem: 'What is $1+1$? <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>', solution: 'We add: $1+1=2$. So the answer is $\\boxed{2}$.', answer: '2', subject: 'Prealgebra', level: 1 };
  const gsm = lines('gsm8k_train.jsonl').slice(0, 20).map((l) => JSON.parse(l) as Record<string, string>)
    .map((r) => ({ problem: r.question, solution: r.answer.split('####')[0], answer: r.answer.split('####')[1].trim(), subject: 'Arithmetic', level: 1 }));
  const body = [evil, planted, ...gsm].map((r) => JSON.stringify(r)).join('\n');
  await page.goto('./?view=data');
  await page.getByTestId('import-file').setInputFiles({ name: 'mixed.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(body) });
  await expect(page.getByTestId('detected-shape')).toHaveText('math');
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'ok');

  await page.getByTestId('run-selection').click();
  await expect(page.getByTestId('drop-reasons')).toContainText('contaminated');
  await page.getByTestId('filter-status').selectOption('contaminated');
  await expect(page.getByTestId('row-count')).toHaveText('1 of 22 traces');
  await page.getByTestId('trace-row').first().click();
  await expect(page.getByTestId('decision')).toContainText(`math500 ${src.unique_id}`);
  await expect(page.getByTestId('trace-detail').locator('.katex').first()).toBeVisible();

  await page.getByTestId('filter-status').selectOption('');
  await page.getByTestId('filter-text').fill('onerror');
  await page.getByTestId('trace-row').first().click();
  const detail = page.getByTestId('trace-detail');
  await expect(detail).toContainText('<img src=x onerror="window.__pwned=1">');
  await expect(detail.locator('img')).toHaveCount(0);
  await expect(detail.locator('script')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await expect(detail.locator('.katex').first()).toBeVisible();

  // Edit segments: move the strategy boundary and save; it persists across a reload.
  await page.getByTestId('edit-segments').click();
  await detail.locator('input[type=range]').first().fill('10');
  await detail.getByRole('button', { name: 'Save segments' }).click();
  await expect(detail).toContainText('segments saved');
  await expect(page.getByTestId('reasoning').locator('span.strategy').first()).toHaveAttribute('title', 'strategy (user)');
  await page.reload();
  await page.getByTestId('filter-text').fill('onerror');
  await page.getByTestId('trace-row').first().click();
  await expect(page.getByTestId('reasoning').locator('span.strategy').first()).toHaveAttribute('title', 'strategy (user)');
});

test('drag-and-drop import, and the database has every store at the schema version', async ({ page }) => {
  await page.goto('./?view=data');
  const body = lines('gsm8k_train.jsonl').slice(0, 12).join('\n');
  const dt = await page.evaluateHandle((text) => {
    const d = new DataTransfer();
    d.items.add(new File([text], 'dropped.jsonl', { type: 'application/jsonl' }));
    return d;
  }, body);
  await page.getByRole('region', { name: 'Drop a file to import' }).dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('detected-shape')).toHaveText('gsm8k');
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-status')).toContainText('imported 12 rows');
  const info = await page.evaluate(() => new Promise<{ version: number; stores: string[] }>((resolve) => {
    const req = indexedDB.open('reasonbridge');
    req.onsuccess = () => { resolve({ version: req.result.version, stores: [...req.result.objectStoreNames].sort() }); req.result.close(); };
  }));
  expect(info.version).toBeGreaterThanOrEqual(1);
  for (const s of ['evalItems', 'evalRuns', 'genRuns', 'pools', 'selections', 'settings', 'teacherJobs', 'teacherKeys', 'traces']) expect(info.stores).toContain(s);
  await expect(page.getByTestId('storage-usage')).not.toHaveText('?');
});

test('an import interrupted by a closed tab is offered to keep or delete', async ({ page }) => {
  await page.goto('./?view=data');
  await expect(page.getByTestId('pool-list')).toBeVisible();
  // What a tab closed mid-import leaves: a pool marked 'importing' with some traces written.
  await page.evaluate(() => new Promise<void>((resolve, reject) => {
    const req = indexedDB.open('reasonbridge');
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['pools', 'traces'], 'readwrite');
      tx.objectStore('pools').put({ id: 'crashed', name: 'crashed import', source: { kind: 'file', name: 'x.jsonl' }, createdAt: Date.now(), counts: { traces: 0, rejected: 0 }, status: 'importing' });
      for (let i = 0; i < 3; i++) {
        tx.objectStore('traces').put({ id: `crashed:${i}`, poolId: 'crashed', seq: i, problem: `p${i}`, reasoning: 'r', answer: '1', domain: '', source: 'x', teacher: 't', tokenCounts: { problem: 1, reasoning: 1, answer: 1, method: 'estimate' }, meta: {} });
      }
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
  await page.reload();
  const item = page.getByTestId('pool-item').filter({ hasText: 'crashed import' });
  await expect(item).toContainText('incomplete import');
  await item.getByRole('button', { name: 'keep rows' }).click();
  await expect(item).toContainText('3 traces');
  await expect(item).not.toContainText('incomplete import');
});
