// Teacher traces end to end: the app (one origin) talks to a real fake LLM server (another origin,
// started here on port 0, with CORS); a job is interrupted by a reload, resumed, and every trace is
// in the pool exactly once. The API key is then searched for everywhere it must not be.
import { expect, test, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';

const KEY = 'sk-e2e-SENTINEL-KEY-7f3a9c1d5e';
const PROBLEMS: [string, string][] = [
  ['Add 12 and 30.', '42'], ['Multiply 6 by 7.', '42'], ['Subtract 8 from 20.', '12'],
  ['Divide 81 by 9.', '9'], ['Square 5.', '25'], ['Halve 9.', '4.5'],
];
const SAMPLES = 2;
const TOTAL = PROBLEMS.length * SAMPLES;

let srv: FakeLlmServer;
test.beforeEach(async () => {
  // The fake teacher answers problem 2 wrongly (41 vs 42) to exercise the quality gate.
  srv = await startFakeLlmServer({ answers: { ...Object.fromEntries(PROBLEMS), 'Multiply 6 by 7.': '41', 'Halve 9.': '\\frac{9}{2}' }, chunkDelayMs: 60 });
});
test.afterEach(async () => { await srv.close(); });

/** Every record of every store of the app's database, read in the page. */
async function dumpDb(page: Page): Promise<Record<string, any[]>> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('reasonbridge'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const out: Record<string, unknown[]> = {};
    for (const name of Array.from(db.objectStoreNames)) {
      out[name] = await new Promise<unknown[]>((res, rej) => { const q = db.transaction(name).objectStore(name).getAll(); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    }
    db.close();
    return out;
  });
}

/** The panel is collapsed unless a job is unfinished: open it. */
async function openPanel(page: Page) {
  const panel = page.getByTestId('teacher-panel');
  await expect(panel).toHaveAttribute('data-ready', 'true');
  if (!(await panel.evaluate((d) => (d as HTMLDetailsElement).open))) await panel.getByTestId('teacher-summary').click();
  await expect(panel.getByTestId('teacher-start')).toBeVisible();
  return panel;
}

function progressDone(text: string | null): number {
  return Number(/(\d+) \/ \d+ traces/.exec(text ?? '')?.[1] ?? -1);
}

test('a job survives a reload mid-way, resumes, and lands every trace once; the key is nowhere', async ({ page }) => {
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  await page.goto('./?view=data');
  const panel = await openPanel(page);
  await panel.getByTestId('teacher-provider').selectOption('openai');
  await panel.getByTestId('teacher-base-url').fill(`${srv.url}/v1`);
  await panel.getByTestId('teacher-model').fill('gpt-4o-mini');
  await panel.getByTestId('teacher-key').fill(KEY);
  await panel.getByTestId('teacher-logprobs').fill('3');
  await panel.getByTestId('teacher-problems').fill(PROBLEMS.map(([p, a]) => `${p}\t${a}`).join('\n'));
  await panel.getByTestId('teacher-samples').fill(String(SAMPLES));
  await panel.getByTestId('teacher-concurrency').fill('2');
  // First request: a 500 whose body echoes the key (must be scrubbed from errors and logs); then a 429.
  srv.script({ kind: 'echo-key', status: 500 }, { kind: 'status', status: 429, retryAfter: '0' });
  await panel.getByTestId('teacher-start').click();

  const job = panel.getByTestId('teacher-job').first();
  await expect(job.getByTestId('teacher-job-status')).toHaveText('running');
  await expect.poll(async () => progressDone(await job.getByTestId('teacher-job-progress').textContent()), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);

  // Reload mid-job: the worker dies; the in-memory key is gone; the job shows as interrupted.
  await page.reload();
  const before = await dumpDb(page);
  const poolId: string = before.teacherJobs[0].poolId;
  const doneBefore = before.traces.filter((t) => t.poolId === poolId).length;
  expect(doneBefore).toBeGreaterThanOrEqual(3);
  expect(doneBefore).toBeLessThan(TOTAL);
  // An unfinished job opens the panel by itself.
  await expect(page.getByTestId('teacher-panel')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('teacher-start')).toBeVisible();
  const job2 = page.getByTestId('teacher-panel').getByTestId('teacher-job').first();
  await expect(job2.getByTestId('teacher-job-status')).toHaveText('interrupted');
  await expect(page.getByTestId('teacher-key')).toHaveValue('');
  // The form (not the key) survived the reload.
  await expect(page.getByTestId('teacher-base-url')).toHaveValue(`${srv.url}/v1`);

  srv.setChunkDelay(0);
  const postsBefore = srv.requests.filter((r) => r.method === 'POST').length;
  await page.getByTestId('teacher-key').fill(KEY);
  await job2.getByTestId('teacher-resume').click();
  await expect(job2.getByTestId('teacher-job-status')).toHaveText('done', { timeout: 60_000 });
  await expect(job2.getByTestId('teacher-job-progress')).toContainText(`${TOTAL} / ${TOTAL} traces`);
  // 5 of 6 problems answered correctly, 2 samples each.
  await expect(job2.getByTestId('teacher-job-progress')).toContainText('passed gate 10');

  // Resuming asked only for the units without a trace.
  expect(srv.requests.filter((r) => r.method === 'POST').length - postsBefore).toBe(TOTAL - doneBefore);

  const after = await dumpDb(page);
  const traces = after.traces.filter((t) => t.poolId === poolId);
  expect(traces).toHaveLength(TOTAL);
  expect(new Set(traces.map((t) => t.id)).size).toBe(TOTAL);
  expect(traces.map((t) => t.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  for (let i = 0; i < PROBLEMS.length; i++) {
    expect(traces.filter((t) => t.problem === PROBLEMS[i][0])).toHaveLength(SAMPLES);
  }
  expect(traces.every((t) => t.teacher === 'openai/gpt-4o-mini')).toBe(true);
  expect(traces.every((t) => t.teacherTopK?.k === 3 && t.teacherTopK.tokens.length > 0)).toBe(true);
  expect(traces[0].segments.map((s: { kind: string }) => s.kind)).toContain('strategy');
  const pool = after.pools.find((p) => p.id === poolId);
  expect(pool.counts.traces).toBe(TOTAL);
  expect(pool.source.kind).toBe('teacher');
  const jobRec = after.teacherJobs.find((j) => j.poolId === poolId);
  expect(jobRec.status).toBe('done');
  expect(jobRec.usage.outputTokens).toBeGreaterThan(0);
  expect(jobRec.cost).toBeGreaterThan(0);
  // The scripted faults were seen and recorded (scrubbed).
  expect(jobRec.errors.some((e: { message: string }) => e.message.includes('HTTP 500') && e.message.includes('[redacted]'))).toBe(true);
  expect(jobRec.errors.some((e: { message: string }) => e.message.includes('HTTP 429'))).toBe(true);
  // The server saw the key in the header (so it really was used), and the CORS preflight.
  expect(srv.requests.some((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);

  // ---- the key must be nowhere: export, stored records, logs, URL ----
  await job2.getByRole('button', { name: 'Prepare JSONL export' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), job2.getByTestId('teacher-export').click()]);
  const exported = await readFile((await download.path())!, 'utf8');
  expect(exported.trim().split('\n')).toHaveLength(TOTAL);
  expect(exported).toContain('\\\\boxed{42}');
  expect(exported).not.toContain('SENTINEL');
  // The Data view's own pool export (the pool list was loaded after the reload, so it lists the job's pool).
  await page.locator(`[data-testid="pool-item"][data-pool-id="${poolId}"] button.name`).click();
  const [download2] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pool').click()]);
  const exported2 = await readFile((await download2.path())!, 'utf8');
  expect(exported2.trim().split('\n')).toHaveLength(TOTAL);
  expect(exported2).not.toContain('SENTINEL');
  const { teacherKeys, ...rest } = after;
  expect(teacherKeys).toEqual([]); // not remembered: nothing on disk
  const stored = JSON.stringify(rest);
  expect(stored).toContain('[redacted]');
  expect(stored).not.toContain('SENTINEL');
  const webStorage = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage } }));
  expect(webStorage).not.toContain('SENTINEL');
  expect(page.url()).not.toContain('SENTINEL');
  expect(logs.some((l) => l.includes('teacher job'))).toBe(true); // the worker's log lines were captured
  expect(logs.join('\n')).not.toContain('SENTINEL');
});

test('"remember on this device" stores the key only after the warning is confirmed', async ({ page }) => {
  await page.goto('./?view=data');
  const panel = await openPanel(page);
  await panel.getByTestId('teacher-base-url').fill(`${srv.url}/v1`);
  await panel.getByTestId('teacher-key').fill(KEY);
  let warning = '';
  page.once('dialog', (d) => { warning = d.message(); void d.dismiss(); });
  await panel.getByTestId('teacher-remember').click(); // (check() would insist the box stays ticked)
  await expect(panel.getByTestId('teacher-remember')).not.toBeChecked();
  expect(warning).toMatch(/encrypted \(AES-GCM\)/);
  expect((await dumpDb(page)).teacherKeys).toEqual([]);

  page.once('dialog', (d) => void d.accept());
  await panel.getByTestId('teacher-remember').check();
  await expect(panel.getByTestId('teacher-remember')).toBeChecked();
  // Stored encrypted: a non-extractable AES-GCM CryptoKey, an IV and ciphertext; never the key itself.
  await expect.poll(async () => (await dumpDb(page)).teacherKeys.length).toBe(1);
  const rec = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('reasonbridge'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const all = await new Promise<Record<string, unknown>[]>((res) => { const q = db.transaction('teacherKeys').objectStore('teacherKeys').getAll(); q.onsuccess = () => res(q.result); });
    db.close();
    const k = all[0].cryptoKey as CryptoKey;
    let exported = 'refused';
    try { await crypto.subtle.exportKey('raw', k); exported = 'exported'; } catch { /* non-extractable */ }
    const data = new Uint8Array(all[0].data as ArrayBuffer);
    return { fields: Object.keys(all[0]).sort(), isKey: k instanceof CryptoKey, extractable: k.extractable, alg: (k.algorithm as AesKeyAlgorithm).name, exported, bytes: Array.from(data) };
  });
  expect(rec).toMatchObject({ isKey: true, extractable: false, alg: 'AES-GCM', exported: 'refused' });
  expect(rec.fields).not.toContain('key');
  expect(Buffer.from(rec.bytes).toString('latin1')).not.toContain(KEY.slice(0, 12));
  expect(JSON.stringify((await dumpDb(page)).teacherKeys)).not.toContain(KEY);
  await page.reload();
  await openPanel(page);
  await expect(page.getByTestId('teacher-key')).toHaveValue(KEY);
  await expect(page.getByTestId('teacher-remember')).toBeChecked();
  await page.getByTestId('teacher-remember').uncheck();
  await expect.poll(async () => (await dumpDb(page)).teacherKeys).toEqual([]);
});

test('an Anthropic job runs from the browser (CORS preflight with the browser-access headers) and keeps thinking', async ({ page }) => {
  await page.goto('./?view=data');
  const panel = await openPanel(page);
  await panel.getByTestId('teacher-provider').selectOption('anthropic');
  await panel.getByTestId('teacher-base-url').fill(srv.url);
  await panel.getByTestId('teacher-model').fill('claude-3-5-haiku-latest');
  await panel.getByTestId('teacher-key').fill(KEY);
  await panel.getByTestId('teacher-problems').fill('Add 12 and 30.\t42\nSquare 5.\t25');
  await panel.getByTestId('teacher-samples').fill('1');
  srv.setChunkDelay(0);
  await panel.getByTestId('teacher-start').click();
  const job = panel.getByTestId('teacher-job').first();
  await expect(job.getByTestId('teacher-job-status')).toHaveText('done', { timeout: 60_000 });
  await expect(job.getByTestId('teacher-job-progress')).toContainText('2 / 2 traces');
  await expect(job.getByTestId('teacher-job-progress')).toContainText('passed gate 2');
  const preflight = srv.requests.find((r) => r.method === 'OPTIONS');
  expect(String(preflight?.headers['access-control-request-headers'])).toMatch(/anthropic-dangerous-direct-browser-access.*x-api-key|x-api-key.*anthropic-dangerous/);
  const post = srv.requests.filter((r) => r.method === 'POST');
  expect(post.length).toBe(2);
  expect(post.every((r) => r.path === '/v1/messages' && r.headers['x-api-key'] === KEY && r.headers['anthropic-dangerous-direct-browser-access'] === 'true')).toBe(true);
  const db = await dumpDb(page);
  const traces = db.traces.filter((t) => t.teacher === 'anthropic/claude-3-5-haiku-latest');
  expect(traces).toHaveLength(2);
  expect(traces.every((t) => typeof t.meta.thinking === 'string' && t.meta.thinking.length > 0)).toBe(true);
  expect(JSON.stringify(db.teacherJobs)).not.toContain('SENTINEL');
});

test('pause, resume and cancel from the panel', async ({ page }) => {
  await page.goto('./?view=data');
  const panel = await openPanel(page);
  await panel.getByTestId('teacher-base-url').fill(`${srv.url}/v1`);
  await panel.getByTestId('teacher-model').fill('unpriced-local-model');
  await panel.getByTestId('teacher-problems').fill(PROBLEMS.map(([p, a]) => `${p} => ${a}`).join('\n'));
  await panel.getByTestId('teacher-samples').fill('1');
  await panel.getByTestId('teacher-concurrency').fill('1');
  // No key: a local OpenAI-compatible server (vLLM, llama.cpp) needs none.
  srv.setRequireKey(false);
  await panel.getByTestId('teacher-start').click();
  const job = panel.getByTestId('teacher-job').first();
  await expect.poll(async () => progressDone(await job.getByTestId('teacher-job-progress').textContent()), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
  await job.getByTestId('teacher-pause').click();
  await expect(job.getByTestId('teacher-job-status')).toHaveText('paused');
  const pausedAt = progressDone(await job.getByTestId('teacher-job-progress').textContent());
  expect(pausedAt).toBeLessThan(PROBLEMS.length);
  await expect(job.getByTestId('teacher-job-progress')).toContainText('cost unknown');
  await job.getByTestId('teacher-resume').click();
  await expect(job.getByTestId('teacher-job-status')).toHaveText('running');
  await job.getByTestId('teacher-cancel').click();
  await expect(job.getByTestId('teacher-job-status')).toHaveText('cancelled');
  await expect(job.getByTestId('teacher-resume')).toHaveCount(0);
  const db = await dumpDb(page);
  const poolId = db.teacherJobs[0].poolId;
  const n = db.traces.filter((t) => t.poolId === poolId).length;
  expect(n).toBeGreaterThanOrEqual(pausedAt);
  expect(n).toBeLessThan(PROBLEMS.length);
  expect(db.teacherJobs[0].status).toBe('cancelled');
  expect(srv.requests.filter((r) => r.method === 'POST').every((r) => r.headers.authorization === undefined)).toBe(true);
});
