// npm run bench:data — data-layer figures (printed, never asserted):
//  1. selection over 10,000 traces in Node (GSM8K train + number-varied copies), eval index included
//  2. import of a generated 50 MB JSONL in the built app in Chromium (real IndexedDB, data worker),
//     and the page's longest main-thread stall meanwhile (Long Tasks API and requestAnimationFrame gaps).
// Targets (issue 4): selection <= 10 s on the 2-core machine; longest stall < 100 ms.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from '../playwright.config.ts';
import { EVAL_SETS } from '../src/data/bundled.ts';
import { importRows, jsonlRows, type TraceSink } from '../src/data/import/importer.ts';
import type { Trace } from '../src/domain/trace.ts';
import { EvalIndex, evalItemsFromJsonl } from '../src/selection/eval-index.ts';
import { DEFAULT_SELECTION, runSelection } from '../src/selection/select.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const DATA = join(ROOT, 'public/data');
const PORT = Number(process.env.BENCH_PORT ?? process.env.E2E_PORT ?? 4203);
const OUTDIR = process.env.BENCH_OUTDIR ?? 'dist-bench-data';
const ms = (x: number) => `${x.toFixed(0)} ms`;

function gsmLines(): string[] {
  return readFileSync(join(DATA, 'gsm8k_train.jsonl'), 'utf8').split('\n').filter(Boolean);
}

/** Same row with every number shifted: a new problem of the same template (not a near-duplicate by text identity). */
function vary(line: string, k: number): string {
  const r = JSON.parse(line) as { question: string; answer: string };
  const bump = (s: string) => s.replace(/\d+/g, (d) => String(Number(d) + k));
  return JSON.stringify({ question: bump(r.question), answer: bump(r.answer) });
}

async function benchSelection(): Promise<void> {
  const base = gsmLines();
  const lines = [...base];
  for (let k = 0; lines.length < 10_000; k++) lines.push(vary(base[k], 3 + (k % 5)));
  const traces: Trace[] = [];
  const sink: TraceSink = { create: async () => {}, write: async (t) => { traces.push(...t); }, finish: async () => {}, discard: async () => {} };
  const t0 = performance.now();
  await importRows(jsonlRows(new Blob([lines.join('\n')]).stream()), sink, { poolName: 'bench', source: { kind: 'file', name: 'bench' }, onBadRows: 'keep-good', onCancel: 'rollback', poolId: 'b' });
  const tImport = performance.now() - t0;
  const t1 = performance.now();
  const items = EVAL_SETS.flatMap((s) => evalItemsFromJsonl(s.id, readFileSync(join(DATA, s.file), 'utf8')));
  const idx = new EvalIndex(items, DEFAULT_SELECTION.decontamN);
  const tIndex = performance.now() - t1;
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const out = await runSelection({ traces, config: DEFAULT_SELECTION, seed: 1, evalIndex: idx });
  const tSel = performance.now() - t2;
  const cpu = process.cpuUsage(c2);
  console.log(`selection: ${traces.length} traces (parsed in ${ms(tImport)}), eval index of ${idx.size} items in ${ms(tIndex)}`);
  console.log(`selection: run over ${traces.length} traces -> ${out.counts.kept} kept in ${ms(tSel)} (index + run ${ms(tIndex + tSel)}; target <= 10000 ms); CPU time of the run ${ms((cpu.user + cpu.system) / 1000)}`);
  console.log(`selection: dropped ${JSON.stringify(out.counts.dropped)}`);
}

function makeJsonl(path: string, targetBytes: number): number {
  // s1K-shaped rows with long reasoning built from real GSM8K text.
  const base = gsmLines().map((l) => JSON.parse(l) as { question: string; answer: string });
  const parts: string[] = [];
  let bytes = 0;
  let rows = 0;
  for (let i = 0; bytes < targetBytes; i++) {
    const r = base[i % base.length];
    const steps: string[] = [];
    for (let k = 0; k < 8; k++) steps.push(base[(i * 7 + k) % base.length].answer.split('####')[0]);
    const row = JSON.stringify({ question: `${r.question} (variant ${i})`, thinking_trajectories: [`Let me plan this first.\n\n${steps.join('\nWait, let me check another way.\n')}`], attempt: `Final Answer: \\boxed{${r.answer.split('####')[1].trim()}}`, solution: r.answer }) + '\n';
    parts.push(row);
    bytes += Buffer.byteLength(row);
    rows++;
  }
  writeFileSync(path, parts.join(''));
  return rows;
}

async function waitForServer(url: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (proc.exitCode !== null) throw new Error('preview server exited');
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no server at ${url}`);
}

async function benchImport(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bench-'));
  const file = join(dir, 'bench-50mb.jsonl');
  const rows = makeJsonl(file, 50 * 1024 * 1024);
  const size = statSync(file).size;
  console.log(`import: generated ${file} (${(size / 1e6).toFixed(1)} MB, ${rows} rows)`);
  const b = spawnSync('npx', ['vite', 'build', '--outDir', OUTDIR, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('vite build failed');
  const server = spawn('npx', ['vite', 'preview', '--outDir', OUTDIR, '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { cwd: ROOT, stdio: 'ignore', detached: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: BASE_ARGS });
  try {
    const url = `http://127.0.0.1:${PORT}/`;
    await waitForServer(url, server);
    const page = await browser.newPage();
    // A string, not a function: tsx would wrap named functions in a helper the page lacks.
    await page.addInitScript(`
      window.__longTasks = []; window.__ltAt = []; window.__t0 = 0; window.__gaps = []; window.__lags = []; window.__measure = false;
      new PerformanceObserver((l) => { if (window.__measure) for (const e of l.getEntries()) { window.__longTasks.push(e.duration); window.__ltAt.push(Math.round(e.startTime - window.__t0) + ':' + Math.round(e.duration)); } }).observe({ type: 'longtask', buffered: false });
      // Event-loop probe: a 10 ms timer; its lateness is how long the main thread was busy.
      let due = performance.now() + 10;
      setInterval(() => { const now = performance.now(); if (window.__measure) window.__lags.push(Math.max(0, now - due)); due = now + 10; }, 10);
      let last = performance.now();
      requestAnimationFrame(function tick(t) { if (window.__measure) window.__gaps.push(t - last); last = t; requestAnimationFrame(tick); });
    `);
    await page.goto(`${url}?view=data`);
    await page.getByTestId('import-file').setInputFiles(file);
    await page.getByTestId('import-start').waitFor();
    await page.evaluate(`window.__t0 = performance.now(); window.__measure = true;`);
    const t0 = Date.now();
    await page.getByTestId('import-start').click();
    await page.getByTestId('import-status').waitFor({ timeout: 600_000 });
    const tImport = Date.now() - t0;
    const during = await page.evaluate(() => {
      const w = window as unknown as { __longTasks: number[]; __gaps: number[]; __lags: number[]; __measure: boolean };
      const r = { long: [...w.__longTasks], gaps: [...w.__gaps], lags: [...w.__lags] };
      w.__longTasks = [];
      w.__gaps = [];
      w.__lags = [];
      return r;
    });
    const status = await page.getByTestId('import-status').textContent();
    const ltAt = await page.evaluate(`[window.__ltAt.slice(), Math.round(performance.now() - window.__t0)]`) as [string[], number];
    // The view then loads the new pool's rows into the table; measured separately.
    await page.getByTestId('row-count').filter({ hasText: /[1-9]/ }).waitFor({ timeout: 120_000 });
    await page.waitForTimeout(500);
    const after = await page.evaluate(() => {
      const w = window as unknown as { __longTasks: number[]; __gaps: number[]; __lags: number[] };
      return { long: [...w.__longTasks], gaps: [...w.__gaps], lags: [...w.__lags] };
    });
    const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
    const raf = (g: number[]) => (g.length ? `longest rAF gap ${ms(max(g))} over ${g.length} frames` : 'no rAF frames (headless)');
    // Scroll the virtual table through the whole pool in 60 wheel steps (after the page settles).
    await page.waitForTimeout(2000);
    await page.evaluate(() => {
      const w = window as unknown as { __longTasks: number[]; __gaps: number[]; __lags: number[] };
      w.__longTasks = []; w.__gaps = []; w.__lags = [];
    });
    const vp = page.getByTestId('table-viewport');
    await vp.scrollIntoViewIfNeeded();
    const box = await vp.boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const rowsHeight = await vp.evaluate((el) => el.scrollHeight);
    for (let i = 0; i < 60; i++) {
      await page.mouse.wheel(0, rowsHeight / 60);
      await page.waitForTimeout(16);
    }
    const scrolled = await vp.evaluate((el) => el.scrollTop);
    const domRows = await page.getByTestId('trace-row').count();
    const scroll = await page.evaluate(() => {
      const w = window as unknown as { __longTasks: number[]; __lags: number[] };
      return { long: [...w.__longTasks], lags: [...w.__lags] };
    });
    console.log(`import: ${(size / 1e6).toFixed(1)} MB JSONL in Chromium -> ${status?.trim()} in ${ms(tImport)} (${((size / 1e6) / (tImport / 1000)).toFixed(1)} MB/s)`);
    console.log(`import: main thread during import: longest long task ${ms(max(during.long))} (${during.long.length} long tasks), ${raf(during.gaps)}, longest 10 ms-timer lateness ${ms(max(during.lags))} over ${during.lags.length} ticks (target < 100 ms)`);
    if (ltAt[0].length) console.log(`import: long tasks at start:duration ms after the click (import done at ~${ltAt[1]} ms): ${ltAt[0].join(', ')}`);
    console.log(`import: then loading ${rows} rows into the table: longest long task ${ms(max(after.long))}, ${raf(after.gaps)}, longest timer lateness ${ms(max(after.lags))}`);
    console.log(`table: scrolled ${rows} rows (${(scrolled / 1000).toFixed(0)}k px) in 60 wheel steps with ${domRows} row elements in the DOM: longest long task ${ms(max(scroll.long))}, longest timer lateness ${ms(max(scroll.lags))}`);
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`machine: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other processes share the CPUs: wall times and stalls grow with load; CPU time does not)`);
await benchSelection();
if (!process.argv.includes('--selection-only')) await benchImport();
