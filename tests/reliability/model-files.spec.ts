// Broken, truncated, stale and missing model files, a server without CORS, and progress, all over a
// real HTTP server on 127.0.0.1 (tests/support/model-server.ts; another port = another origin) with
// the bundled tiny model's weights split in two shards, through the browser's real Cache API.
import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { formatBytes } from '../../src/lib/bytes.ts';
import { bigModelFiles, startModelServer, tinyModelFiles, type ModelServer } from '../support/model-server.ts';
import { count, FULL, report } from './support.ts';

const S1 = 'model-00001-of-00002.safetensors';
const S2 = 'model-00002-of-00002.safetensors';
let srv: ModelServer;
let good: Record<string, Uint8Array | string>;

test.beforeAll(async () => {
  good = await tinyModelFiles({ shards: 2 });
  srv = await startModelServer({});
});
test.afterAll(async () => { await srv.close(); });

async function openModels(page: Page): Promise<void> {
  await page.goto('./?view=models');
  await expect(page.getByTestId('selftest')).toContainText('passed', { timeout: 60_000 });
}

async function loadUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('model-url').fill(url);
  await page.getByTestId('load-url').click();
  await expect(page.getByTestId('model-progress')).toHaveCount(0, { timeout: 90_000 });
}

const cachedKeys = (page: Page) => page.evaluate(async () => (await (await caches.open('rb-models-v1')).keys()).map((r) => r.url));
const gets = (model: string, file: string) => srv.requests.filter((r) => r.model === model && r.file === file && r.method === 'GET').length;

function serve(model: string, files: Record<string, Uint8Array | string | undefined>): string {
  for (const [f, b] of Object.entries(files)) srv.set(model, f, b);
  return srv.folder(model);
}

test('a truncated shard fails naming it and is not kept; once the server is fixed, Load fetches only that shard again', async ({ page }) => {
  const s2 = good[S2] as Uint8Array;
  const url = serve('cut', { ...good, [S2]: s2.subarray(0, s2.byteLength - 300) });
  await openModels(page);
  await loadUrl(page, url);
  await expect(page.getByTestId('model-error')).toContainText(`${S2} is truncated: expected ${s2.byteLength} bytes, got ${s2.byteLength - 300}`);
  await expect(page.getByTestId('no-model')).toBeVisible();
  // The verified first shard stays (the next load resumes from it); the cut one is not in the cache.
  let keys = await cachedKeys(page);
  expect(keys).toContain(`${url}${S1}`);
  expect(keys).not.toContain(`${url}${S2}`);
  await expect(page.getByTestId('cached-model')).toContainText('(incomplete: 1 weight file kept, Load resumes)');

  srv.set('cut', S2, s2); // the server is fixed
  const before = { s1: gets('cut', S1), s2: gets('cut', S2) };
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  expect(gets('cut', S1) - before.s1).toBe(0); // resumed: the first shard came from the cache
  expect(gets('cut', S2) - before.s2).toBe(1);
  await expect(page.getByTestId('cached-model')).not.toContainText('incomplete');
  keys = await cachedKeys(page);
  expect(keys).toContain(`${url}${S2}`);
  report('truncated shard', { 'loads failed on the cut shard': 1, 'bad copies kept in the cache': 0, 'shards fetched again after the fix': gets('cut', S2) - before.s2 });
});

test('a cached copy that is cut short, or stale on the server, is found, said, and fetched again', async ({ page }) => {
  const url = serve('stale', good);
  await openModels(page);
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();

  // Corrupt the cached first shard in the browser's Cache API (a disk error, an older app's bug).
  await page.evaluate(async (u) => {
    const c = await caches.open('rb-models-v1');
    const bytes = new Uint8Array(await (await c.match(u))!.arrayBuffer());
    await c.put(u, new Response(bytes.slice(0, 1000)));
  }, `${url}${S1}`);
  const s1Before = gets('stale', S1);
  await page.getByTestId('unload').click();
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();
  await expect(page.getByTestId('model-warnings')).toContainText(`The cached copy of ${S1} of ${url} is bad (${S1} is truncated`);
  await expect(page.getByTestId('model-warnings')).toContainText('it was deleted from the browser cache; it was downloaded again.');
  expect(gets('stale', S1) - s1Before).toBe(1);

  // The server's shard changes (same size, other bytes: a new revision): the hub's SHA-256 says so.
  const s2 = new Uint8Array(good[S2] as Uint8Array);
  s2[s2.byteLength - 1] ^= 1;
  srv.set('stale', S2, s2);
  const s2Before = gets('stale', S2);
  await page.getByTestId('unload').click();
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();
  await expect(page.getByTestId('model-warnings')).toContainText(new RegExp(`The cached copy of ${S2.replace(/\./g, '\\.')} \\(SHA-256 [0-9a-f]{12}…, the hub's is [0-9a-f]{12}…\\) was out of date; it was replaced by a fresh download\\.`));
  expect(gets('stale', S2) - s2Before).toBe(1);

  // Offline (the server gone), the cached copy loads as it is.
  srv.set('stale', S1, undefined);
  srv.set('stale', S2, undefined);
  srv.setCors(false);
  await page.getByTestId('unload').click();
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();
  srv.setCors(true);
  report('cached copies', { 'cut copies found and fetched again': 1, 'stale copies replaced': 1, 'offline loads from the cache': 1 });
});

test('a missing shard is found before any weight is downloaded, and leaves no cache entry', async ({ page }) => {
  const url = serve('missing', { ...good, [S2]: undefined });
  await openModels(page);
  await loadUrl(page, url);
  await expect(page.getByTestId('model-error')).toContainText(`${S2} (named in model.safetensors.index.json) is not found in ${url}; checked before downloading any weights (1 of 2 shards present)`);
  expect(gets('missing', S1)).toBe(0);
  await expect(page.getByTestId('cache-empty')).toBeVisible();
  expect((await cachedKeys(page)).length).toBe(0);
  report('missing shard', { 'weight bytes downloaded before the error': 0, 'cache entries left': 0 });
});

test('a server without CORS headers is named as such, with the header it needs', async ({ page }) => {
  const url = serve('nocors', good);
  srv.setCors(false);
  try {
    await openModels(page);
    const origin = new URL(page.url()).origin;
    const header = `"Access-Control-Allow-Origin: ${origin}" (or "*")`;
    // The app is cross-origin isolated here (COEP): a server sending neither CORS nor CORP headers
    // cannot be told apart from no network, so both causes are named, with the header.
    await loadUrl(page, url);
    const err = page.getByTestId('model-error');
    await expect(err).toContainText(`Are you offline? If not, the server may not allow cross-origin requests: it needs to send the header ${header}`);
    // A server that answers no-cors requests (CORP) but sends no CORS headers: named exactly.
    srv.setCorp(true);
    await loadUrl(page, url);
    await expect(err).toContainText(`127.0.0.1:${new URL(url).port} answered, but the browser did not let this page read config.json of ${url}: the server may not allow cross-origin requests. It needs to send the header ${header}`);
    await expect(err).not.toContainText('offline');
  } finally {
    srv.setCors(true);
    srv.setCorp(false);
  }
});

test('progress on a sharded load is one bar that never goes back, with the stage named; "loaded" after a warm-up', async ({ page }) => {
  const url = serve('paced', good);
  srv.setPace({ chunkBytes: 8192, delayMs: 40 });
  try {
    await openModels(page);
    await page.evaluate(() => {
      const w = window as unknown as { __bar: number[]; __phases: string[] };
      w.__bar = [];
      w.__phases = [];
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid="model-bar"]') as HTMLProgressElement | null;
        const phase = document.querySelector('[data-testid="model-phase"]')?.textContent ?? '';
        if (bar && bar.hasAttribute('value')) w.__bar.push(bar.value);
        if (phase && w.__phases[w.__phases.length - 1] !== phase) w.__phases.push(phase);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await loadUrl(page, url);
    await expect(page.getByTestId('model-info')).toBeVisible();
    const { bar, phases } = await page.evaluate(() => {
      const w = window as unknown as { __bar: number[]; __phases: string[] };
      return { bar: w.__bar, phases: w.__phases };
    });
    const backwards = bar.filter((v, i) => i > 0 && v < bar[i - 1]).length;
    report('progress', { samples: bar.length, 'steps backwards': backwards, 'stages seen': phases.length });
    expect(bar.length).toBeGreaterThan(10);
    expect(backwards).toBe(0);
    expect(phases).toEqual(expect.arrayContaining(['Checking the weight files', 'Downloading', 'Converting to f16 and uploading to the GPU', 'Warming up (one token through every layer)']));
    await expect(page.getByTestId('model-info')).toContainText(/including a [\d.]+ s one-token warm-up/);
  } finally {
    srv.setPace(undefined);
  }
});


/** SHA-256 of a cached file as the app stored it (its segments in order), computed in the page. */
async function cachedSha256(page: Page, id: string, url: string): Promise<string | undefined> {
  return page.evaluate(async ({ id, url }) => {
    const c = await caches.open('rb-models-v1');
    const rec = await (await c.match(`https://rb-models.invalid/meta/${encodeURIComponent(id)}`))?.json() as { files: { url: string; parts?: number[] }[] } | undefined;
    const f = rec?.files.find((x) => x.url === url);
    if (!f) return undefined;
    const n = Math.max(1, f.parts?.length ?? 1);
    const bufs: ArrayBuffer[] = [];
    for (let i = 0; i < n; i++) bufs.push(await (await c.match(i === 0 ? url : `https://rb-models.invalid/part/${encodeURIComponent(url)}/${i}`))!.arrayBuffer());
    const all = new Uint8Array(bufs.reduce((a, b) => a + b.byteLength, 0));
    let off = 0;
    for (const b of bufs) { all.set(new Uint8Array(b), off); off += b.byteLength; }
    return [...new Uint8Array(await crypto.subtle.digest('SHA-256', all))].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, { id, url });
}

test('a download dropped at random bytes resumes where it stopped, in the load and in the next one, and the stored model equals the source', async ({ page }) => {
  test.setTimeout(FULL ? 900_000 : 240_000);
  // Hundreds of MB in the full campaign, tens in the small one (several 16 MiB segments either way).
  const files = bigModelFiles(FULL ? 'full' : 'small');
  const W = 'model.safetensors';
  const weights = files[W] as Uint8Array;
  const size = weights.byteLength;
  const sha = createHash('sha256').update(weights).digest('hex');
  const url = serve('resume', files);
  const drops = count(8, 40);
  await openModels(page);

  // 1. Dropped many times during one load: resumed with range requests each time.
  let sent0 = srv.sent('resume', W);
  const drops0 = srv.drops.length;
  srv.setDrops(drops);
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();
  const warn = page.getByTestId('model-warnings');
  await expect(warn).toContainText(`${W}: the connection dropped ${drops} times and the download resumed where it stopped each time; ${formatBytes(size)} downloaded for a ${formatBytes(size)} file.`);
  expect(srv.drops.length - drops0).toBe(drops);
  const sentInLoad = srv.sent('resume', W) - sent0;
  expect(await cachedSha256(page, url, `${url}${W}`)).toBe(sha);

  // 2. Dropped, then the server gone: the load fails saying what was kept; the next load resumes there.
  await page.getByTestId('delete-cached').click();
  await expect(page.getByTestId('cache-empty')).toBeVisible();
  await page.getByTestId('unload').click();
  sent0 = srv.sent('resume', W);
  srv.setDrops(1, true);
  await loadUrl(page, url);
  const err = page.getByTestId('model-error');
  await expect(err).toContainText(new RegExp(`The download of ${W.replace('.', '\\.')} of \\S+ broke off at [\\d.]+ [KMG]?i?B of ${formatBytes(size).replace('.', '\\.')} \\(HTTP 503; 5 tries to resume made no progress\\); the [\\d.]+ [KMG]?i?B received are kept in the browser cache: load again to resume from there`));
  // What the page kept (the bytes sent before the drop that reached it; a few may be lost in flight).
  const kept = await page.evaluate(async (id) => {
    const rec = await (await (await caches.open('rb-models-v1')).match(`https://rb-models.invalid/meta/${encodeURIComponent(id)}`))?.json() as { partial?: { bytes: number }[] } | undefined;
    return rec?.partial?.[0]?.bytes ?? 0;
  }, url);
  const cutAt = srv.drops[srv.drops.length - 1].sent;
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThanOrEqual(cutAt);
  await expect(page.getByTestId('cached-model')).toContainText(`${formatBytes(kept)} of a download kept, Load resumes`);
  srv.setDown(false);
  const sentBefore = srv.sent('resume', W);
  await loadUrl(page, url);
  await expect(page.getByTestId('model-info')).toBeVisible();
  await expect(warn).toContainText(`${W}: resumed at ${formatBytes(kept)} of ${formatBytes(size)} (kept from an earlier download); ${formatBytes(size - kept)} downloaded for a ${formatBytes(size)} file.`);
  const sentResume = srv.sent('resume', W) - sentBefore;
  expect(sentResume).toBe(size - kept); // only the rest came over the network
  expect(await cachedSha256(page, url, `${url}${W}`)).toBe(sha);
  report('resumed downloads', {
    'file MiB': (size / 2 ** 20).toFixed(1), 'drops in one load': drops, 'bytes sent for it': sentInLoad, 'file bytes': size,
    'cut at': cutAt, 'kept after a failed load': kept, 'sent on the next load': sentResume, 'loads equal to the source (SHA-256)': 2,
  });
  console.log(`resumed downloads: ${drops} drops in one load, ${sentInLoad} bytes sent for a ${size}-byte file (${(sentInLoad / size).toFixed(4)}x); after a failed load cut at ${cutAt}, ${kept} kept, ${sentResume} sent to finish`);
});
