// Guided inference end to end on the bundled tiny model (real WebGPU engine in the worker):
// budget forcing shows its extension marker; the copied share link, opened in a new page,
// reruns to the same timeline; self-consistency's samples (one batch session) and their vote;
// a hostile hash gets a clear message and runs nothing.
import { expect, test, type Page } from '@playwright/test';
import { loadTinyWorldWithQwen3Template } from './flows.ts';

const fingerprint = (page: Page) => page.getByTestId('pg-fingerprint').textContent();
const events = (page: Page) => page.getByTestId('pg-events').innerText();

/** The first open (no share link) offers the bundled student's committed adapter, compares it with
 *  the base on a world problem, greedy, with no intervention; the tests below start from the base. */
async function firstOpenThenBase(page: Page): Promise<void> {
  await expect(page.getByTestId('pg-adapter')).not.toHaveValue('', { timeout: 60_000 });
  await expect(page.getByTestId('pg-adapter').locator('option:checked')).toContainText('Reason1K adapter (bundled)');
  await expect(page.getByTestId('pg-compare-with')).toHaveValue('adapter');
  await expect(page.getByTestId('pg-budget-on')).not.toBeChecked();
  await expect(page.getByTestId('pg-problem')).toHaveValue('Compute 62 - 13 - 20.');
  await page.getByTestId('pg-adapter').selectOption('');
  await page.getByTestId('pg-compare-with').selectOption('interventions');
  await page.getByLabel('temperature', { exact: true }).fill('0.8');
  await page.getByTestId('pg-budget-on').check();
}

async function runAndWait(page: Page): Promise<void> {
  await page.getByTestId('pg-run').click();
  await expect(page.getByTestId('pg-run')).toBeDisabled();
  await expect(page.getByTestId('pg-run')).toBeEnabled({ timeout: 110_000 });
  await expect(page.getByTestId('pg-error')).toHaveCount(0);
  await expect(page.getByTestId('pg-fingerprint')).not.toHaveText('');
}

test('budget forcing on the tiny model: extension marker, then the share link reproduces the timeline', async ({ page, context }) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('./?view=playground');
  await page.getByTestId('pg-load-bundled').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny', { timeout: 60_000 });
  await firstOpenThenBase(page);
  // the tiny world's template has no enable_thinking: no switch offered
  await expect(page.getByTestId('pg-thinking')).toHaveCount(0);

  await page.getByTestId('pg-problem').fill('What is 12 + 30?');
  await page.getByTestId('pg-reference').fill('42');
  await page.getByTestId('pg-min-thinking').fill('40');
  await page.getByTestId('pg-max-thinking').fill('80');
  await page.getByTestId('pg-max-tokens').fill('100');
  await page.getByTestId('pg-end-markers').fill('</think>');
  await expect(page.getByTestId('pg-budget-on')).toBeChecked();

  // Budget forcing only acts when the model tries to stop early; a random tiny model does that for
  // most seeds (see tests/kernel/guide-engine.test.ts). Take the first seed where it does.
  let found = false;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    await page.getByTestId('pg-seed').fill(String(seed));
    await runAndWait(page);
    if (await page.locator('[data-testid="pg-event"][data-kind="extend"]').count()) { found = true; break; }
  }
  expect(found).toBe(true);
  const ext = page.locator('[data-testid="pg-event"][data-kind="extend"]').first();
  await expect(ext).toContainText(/inserted " ?Wait"/); // no leading space when thinking is empty (the tiny-world student answers at once)
  await expect(ext).toContainText('minThinking=40');
  await expect(page.locator('[data-testid="pg-strip-marker"][data-kind="extend"]').first()).toBeVisible();
  await expect(page.getByTestId('pg-token-strip')).toContainText('Wait');
  await expect(page.getByTestId('pg-compare')).toBeVisible(); // side by side without interventions
  await expect(page.getByTestId('pg-answer-chart')).toBeVisible();

  // Hovering a token shows its alternatives as text.
  await page.locator('[data-testid="pg-token"]:not(.inserted)').first().hover(); // a sampled token (the first may be an inserted "Wait")
  await expect(page.getByTestId('pg-token-info')).toContainText('alternatives');

  // The scrubber replays step by step.
  const total = Number(await page.getByTestId('pg-scrubber').getAttribute('max'));
  expect(total).toBeGreaterThan(0);
  await page.getByTestId('pg-scrubber').fill('1');
  await expect(page.getByTestId('pg-scrub-pos')).toHaveText(`step 1 / ${total}`);
  const shownAt1 = Number(await page.getByTestId('pg-token-strip').getAttribute('data-count'));
  await page.getByTestId('pg-scrubber').fill(String(total));
  expect(Number(await page.getByTestId('pg-token-strip').getAttribute('data-count'))).toBeGreaterThan(shownAt1);

  const fp = await fingerprint(page);
  const evText = await events(page);
  await page.getByTestId('pg-copy').click();
  await expect(page.getByTestId('pg-copy')).toHaveText('Copied');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toBe(await page.getByTestId('pg-share-link').inputValue());
  expect(link).toMatch(/\?view=playground#r=1\./);
  expect(new URL(link).hash.length).toBeLessThan(2000);

  // A new page (new engine worker, no model): the link restores the settings and reruns.
  const page2 = await context.newPage();
  page2.on('pageerror', (e) => errors.push(e.message));
  await page2.goto(link);
  await expect(page2.getByTestId('pg-needs-model')).toContainText('bundled:tiny', { timeout: 30_000 });
  await expect(page2.getByTestId('pg-min-thinking')).toHaveValue('40');
  await page2.getByTestId('pg-load-rerun').click();
  await expect(page2.getByTestId('pg-fingerprint')).toHaveText(fp!, { timeout: 150_000 });
  expect(await events(page2)).toBe(evText);
  await expect(page2.locator('[data-testid="pg-event"][data-kind="extend"]').first()).toBeVisible();

  // The run was stored in IndexedDB and reopens without recomputing.
  await expect(page2.getByTestId('pg-saved').locator('li').first()).toBeVisible();
  expect(errors).toEqual([]);
});

test('self-consistency on the tiny model (the worker opens a batch session of 3 slots): three samples, their vote, the same timeline again', async ({ page }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('./?view=playground');
  await page.getByTestId('pg-load-bundled').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  await firstOpenThenBase(page);
  await page.getByTestId('pg-problem').fill('What is 2 + 3?');
  await page.getByTestId('pg-max-tokens').fill('24');
  await page.getByTestId('pg-compare-on').uncheck();
  await page.getByLabel('Self-consistency').check();
  await page.getByLabel('samples', { exact: true }).fill('3');
  await runAndWait(page);
  await expect(page.getByTestId('pg-sample')).toHaveCount(3);
  await expect(page.getByTestId('pg-vote')).toBeVisible();
  const fp = await fingerprint(page);
  await runAndWait(page);
  await expect(page.getByTestId('pg-fingerprint')).toHaveText(fp!);
  expect(errors).toEqual([]);
});

test('a broken or hostile share hash gives a clear message and runs nothing', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; void d.dismiss(); });
  await page.goto('./?view=playground#r=1.PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg');
  await expect(page.getByTestId('pg-link-error')).toContainText('This share link cannot be opened');
  await page.goto('./?view=playground#r=9.abc');
  await expect(page.getByTestId('pg-link-error')).toContainText('version "9" is not supported');
  await expect(page.getByTestId('pg-result')).toHaveCount(0);
  expect(dialogs).toBe(0);
  expect(errors).toEqual([]);
});

test('a run exports as JSON and imports in a page without a model; cancel stops a long run', async ({ page, context }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('./?view=playground');
  await page.getByTestId('pg-load-bundled').click();
  await expect(page.getByTestId('pg-model')).toContainText('bundled:tiny', { timeout: 90_000 });
  await firstOpenThenBase(page);

  // A problem from a bundled evaluation set: the link carries its id, not its text.
  await page.getByLabel('evaluation set').check();
  await page.getByTestId('pg-bench-set').selectOption('gsm8k_test');
  await expect(page.getByTestId('pg-bench-item').locator('option')).toHaveCount(1319);
  await page.getByTestId('pg-max-tokens').fill('24');
  await page.getByTestId('pg-compare-on').uncheck();
  await runAndWait(page);
  const fp = await fingerprint(page);
  const link = await page.getByTestId('pg-share-link').inputValue();
  expect(new URL(link).hash.length).toBeLessThan(400);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('pg-export').click()]);
  const file = await download.path();

  const page2 = await context.newPage();
  page2.on('pageerror', (e) => errors.push(e.message));
  await page2.goto('./?view=playground');
  await expect(page2.getByTestId('pg-model')).toContainText('none loaded');
  await page2.getByTestId('pg-import').setInputFiles(file);
  await expect(page2.getByTestId('pg-fingerprint')).toHaveText(fp!);
  await expect(page2.getByTestId('pg-bench-set')).toHaveValue('gsm8k_test');

  // A broken file: a clear message naming the file, nothing replaced.
  await page2.getByTestId('pg-import').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"reasonbridge-run","version":1,"run":{}}') });
  await expect(page2.getByTestId('pg-error')).toContainText('broken.json: run.recipe must be an object');
  await expect(page2.getByTestId('pg-fingerprint')).toHaveText(fp!);

  // Cancel: a long run stops early and says so.
  // (budget forcing with a large minimum keeps the model from stopping on its own)
  await page.getByTestId('pg-max-tokens').fill('1800');
  await page.getByTestId('pg-max-thinking').fill('0');
  await page.getByTestId('pg-min-thinking').fill('1700');
  await expect(page.getByTestId('pg-cancel')).toBeDisabled();
  await page.getByTestId('pg-run').click();
  // The run must be under way before it can be cancelled; if it ended at once, say how.
  const state = async () => (await page.getByTestId('pg-error').count())
    ? `error: ${await page.getByTestId('pg-error').innerText()}`
    : (await page.getByTestId('pg-cancel').isEnabled()) ? 'running' : (await page.getByTestId('pg-run').isEnabled()) ? 'ended on its own' : 'starting';
  await expect.poll(state, { timeout: 30_000, intervals: [50] }).toBe('running');
  await expect(page.getByTestId('pg-progress')).toContainText('tokens', { timeout: 30_000 });
  await page.getByTestId('pg-cancel').click();
  await expect(page.getByTestId('pg-error')).toContainText('Run cancelled', { timeout: 60_000 });
  await expect(page.getByTestId('pg-run')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('Reason1K: a problem from the newest selection, and the nearest trace plan for strategy injection', async ({ page }) => {
  await page.goto('./?view=playground');
  // A tiny Reason1K selection written straight into the app's IndexedDB (the Data view makes real ones).
  await page.evaluate(async () => {
    // Wait for the app to create (and upgrade) its database before opening it at that version.
    while (!(await indexedDB.databases()).some((d) => d.name === 'reasonbridge')) await new Promise((r) => setTimeout(r, 50));
    const db: IDBDatabase = await new Promise((res, rej) => {
      const r = indexedDB.open('reasonbridge');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const tx = db.transaction(['pools', 'traces', 'selections'], 'readwrite');
    const trace = (seq: number, problem: string, reasoning: string, answer: string) => ({
      id: `e2e:${seq}`, poolId: 'e2e', seq, problem, reasoning, answer, referenceAnswer: answer, domain: 'math', source: 'e2e', teacher: 'e2e',
      tokenCounts: { problem: 10, reasoning: 20, answer: 1, method: 'estimate' }, meta: {},
    });
    tx.objectStore('pools').put({ id: 'e2e', name: 'e2e pool', source: { kind: 'file', name: 'e2e.jsonl' }, createdAt: Date.now(), counts: { traces: 2, rejected: 0 }, status: 'ready' });
    tx.objectStore('traces').put(trace(0, 'How many ways can 5 people sit in a row of chairs?', 'Count the orderings of the people: permutations.\n\n5! = 120.', '120'));
    tx.objectStore('traces').put(trace(1, 'Find the area of a circle with radius 3.', 'Use the area formula of a circle.\n\nArea = 9 pi.', '9\\pi'));
    tx.objectStore('selections').put({ id: 'e2e-sel', poolId: 'e2e', name: 'e2e Reason1K', createdAt: Date.now(), config: {}, seed: 1, ids: ['e2e:0', 'e2e:1'], decisions: {}, counts: { pool: 2, kept: 2, dropped: {} }, difficultySource: 'heuristic' });
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
    db.close();
  });
  await page.getByTestId('pg-r1k-load').click();
  await page.getByTestId('pg-r1k-pick').selectOption('e2e:1');
  await expect(page.getByTestId('pg-problem')).toHaveValue('Find the area of a circle with radius 3.');
  await expect(page.getByTestId('pg-reference')).toHaveValue('9\\pi');

  await page.getByTestId('pg-problem').fill('In how many ways can 7 people sit in a row?');
  await page.getByRole('button', { name: 'Nearest Reason1K plan' }).click();
  await expect(page.getByTestId('pg-plan')).toHaveValue('Count the orderings of the people: permutations.');
  await expect(page.getByTestId('pg-retrieval')).toContainText('Nearest trace e2e:0 in "e2e Reason1K"');
});

test("a model whose chat template reads enable_thinking (Qwen3's): the switch is offered, on by default; off prefills the closed thinking; a picked-files model runs but gets no share link", async ({ page }) => {
  test.setTimeout(240_000);
  await loadTinyWorldWithQwen3Template(page);
  await page.locator('nav a[data-view="playground"]').click();
  const sw = page.getByTestId('pg-thinking');
  await expect(sw).toBeChecked({ timeout: 30_000 }); // the template's default: on
  await sw.uncheck();
  if (await page.getByTestId('pg-budget-on').isChecked()) await page.getByTestId('pg-budget-on').uncheck();
  await page.getByTestId('pg-compare-on').uncheck();
  await page.getByTestId('pg-adapter').selectOption('');
  await page.getByTestId('pg-max-tokens').fill('12');
  // (12 tokens of the tiny student: the run may end before the button is seen disabled)
  await page.getByTestId('pg-run').click();
  await expect(page.getByTestId('pg-prompt-thinking')).toContainText('closed an empty', { timeout: 110_000 });
  await expect(page.getByTestId('pg-error')).toHaveCount(0);
  const fpOff = await fingerprint(page);
  // a model from picked files runs here but cannot travel in a link: the page says so
  await expect(page.getByTestId('pg-share-error')).toContainText('No share link: model');
  // on again: the template adds nothing, the timeline has no prompt thinking
  await sw.check();
  await page.getByTestId('pg-run').click();
  await expect(page.getByTestId('pg-fingerprint')).not.toHaveText(fpOff!, { timeout: 110_000 });
  await expect(page.getByTestId('pg-prompt-thinking')).toHaveCount(0);
  await expect(page.getByTestId('pg-error')).toHaveCount(0);
});
