// "Run the whole pipeline" in Debian's Chromium as a person clicks it (the built app, real workers,
// IndexedDB and WebGPU), at the view's defaults or the given settings; prints each stage's time and
// the table the view shows. A figure of this machine's browser, not a test.
//
//   npm run bench:pipeline [-- --pool N --select N --steps N --test N --seed S] [--port P]
import { spawn } from 'node:child_process';
import { chromium } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from '../playwright.config.ts';

const argv = process.argv.slice(2);
const opt = (k: string) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : undefined; };
const port = Number(opt('port') ?? 4179);
const query = new URLSearchParams({ view: 'pipeline' });
// the view's settings (src/app/pipeline.svelte.ts PipelineSettings; that module uses runes, so not imported here)
const KEYS = ['pool', 'select', 'steps', 'test', 'seed'] as const;
for (const k of KEYS) { const v = opt(k); if (v !== undefined) query.set(k, v); }

const run = (cmd: string, args: string[]) => new Promise<void>((res, rej) => {
  const p = spawn(cmd, args, { stdio: 'inherit' });
  p.on('exit', (c) => (c === 0 ? res() : rej(new Error(`${cmd} ${args.join(' ')} exited ${c}`))));
});
await run('npx', ['vite', 'build', '--outDir', 'build/bench-pipeline', '--emptyOutDir', '--logLevel', 'warn']);
const server = spawn('npx', ['vite', 'preview', '--outDir', 'build/bench-pipeline', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
const stop = () => { try { process.kill(-server.pid!); } catch { /* already gone */ } };
const base = `http://127.0.0.1:${port}/`;
for (let i = 0; ; i++) {
  try { if ((await fetch(base)).ok) break; } catch { /* not up yet */ }
  if (i > 120) { stop(); throw new Error(`vite preview did not answer on ${base}`); }
  await new Promise((r) => setTimeout(r, 500));
}

const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...BASE_ARGS, '--enable-unsafe-webgpu'] });
try {
  const page = await browser.newPage();
  await page.goto(`${base}?${query}`);
  const adapter = await page.evaluate(async () => {
    const a = await (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> } }).gpu?.requestAdapter();
    return a?.info ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() : 'no WebGPU adapter';
  });
  const settings = Object.fromEntries(await Promise.all(KEYS.map(async (k) => [k, await page.getByTestId(`pipeline-${k}`).inputValue()])));
  console.log(`pipeline: ${JSON.stringify(settings)} on ${adapter}`);
  await page.getByTestId('pipeline-run').click({ timeout: 120_000 });
  const t0 = Date.now();
  const seen = new Set<string>();
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    for (const li of await page.locator('[data-testid^="stage-"][data-status]').all()) {
      const status = await li.getAttribute('data-status');
      const name = (await li.getAttribute('data-testid'))!.slice('stage-'.length);
      if (status === 'done' || status === 'failed' || status === 'cancelled') {
        if (seen.has(name)) continue;
        seen.add(name);
        const secs = Number(await page.getByTestId(`stage-time-${name}`).getAttribute('data-seconds'));
        console.log(`  ${name.padEnd(13)} ${status.padEnd(9)} ${secs.toFixed(1).padStart(7)} s  ${(await li.locator('.detail').innerText()).slice(0, 120)}`);
      }
    }
    const running = await page.getByTestId('pipeline-cancel').isEnabled();
    if (!running && seen.size > 0) break;
  }
  const err = page.getByTestId('pipeline-error');
  if (await err.count()) console.log(`error: ${await err.innerText()}`);
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const tr of await page.getByTestId('pipeline-table').locator('tbody tr').all()) {
    const [name, acc, ci, n] = await tr.locator('td').allInnerTexts();
    console.log(`  ${name.padEnd(28)} ${acc.padStart(6)} ${ci}  (n ${n})`);
  }
} finally {
  await browser.close();
  stop();
}
