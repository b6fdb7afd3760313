// Kill cycles mid-training: a Train-view run (the bundled tiny-world student, a checkpoint every
// step) in a persistent profile is killed at a random moment by closing the page, closing the
// context or SIGKILLing the browser process, in turn, and resumed from the Train view's unfinished
// runs after each kill; a finished run starts the next one afresh. Counted: checkpoints lost (the
// stored step behind the last checkpoint the page was told was stored), runs that cannot resume
// (not listed, refused, or no "resumed after step"), and the largest relative difference between
// the trajectory (every stored checkpoint's losses, every step the resumed runs report) and an
// uninterrupted run's. The Pipeline's training stage is killed too (checkpoints every 10 steps),
// resumed from the Train view and compared with an uninterrupted pipeline run of the same seed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mulberry32 } from '../../src/lib/rng.ts';
import { tinyModelAndBundledPool } from '../e2e/flows.ts';
import { browserPid, count, installHooks, launchProfile, newHooks, readHooks, report, watchPage, type Hooks } from './support.ts';

const CYCLES = Number(process.env.RB_TRAIN_KILL_CYCLES) || count(6, 100);
/** Pipeline kills: its training stage (batches of 16, a probe) takes minutes here, so only at full counts. */
const PIPELINE_KILLS = Number(process.env.RB_TRAIN_KILL_PIPELINE ?? count(0, 1));
const debug = (...a: unknown[]) => { if (process.env.RB_DEBUG) console.log(...a); };
const STEPS = 24;
/** Longest wait (ms) after start / resume before the kill: about 7 steps on SwiftShader (a run of 24 steps spans ~5 cycles). */
const MAX_DELAY = 2500;

interface TrainSeen { steps: Array<[number, number]>; ck: number; started: number; runId: string | null; done: boolean }

/** Records, in the page, every training event the engine worker sends the main thread (Comlink calls
 *  on a MessagePort: {type: 'APPLY', argumentList: [{value: TrainEvent}]}) at full precision. */
async function hookTraining(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(() => {
    const seen = { steps: [] as Array<[number, number]>, ck: 0, started: -1, runId: null as string | null, done: false };
    (window as unknown as { __train: typeof seen }).__train = seen;
    const add = MessagePort.prototype.addEventListener;
    MessagePort.prototype.addEventListener = function (this: MessagePort, type: string, fn: EventListenerOrEventListenerObject, o?: boolean | AddEventListenerOptions) {
      if (type !== 'message' || typeof fn !== 'function') return add.call(this, type, fn, o);
      return add.call(this, type, function (this: MessagePort, ev: Event) {
        const v = ((ev as MessageEvent).data as { argumentList?: Array<{ value?: { kind?: string; step?: number; resumedAt?: number; runId?: string; progress?: { step: number; steps: number; loss: number } } }> })?.argumentList?.[0]?.value;
        if (v?.kind === 'step' && v.progress) { seen.steps.push([v.progress.step, v.progress.loss]); if (v.progress.step === v.progress.steps) seen.done = true; }
        else if (v?.kind === 'checkpoint') seen.ck = Math.max(seen.ck, v.step ?? 0);
        else if (v?.kind === 'started') { seen.started = v.resumedAt ?? 0; seen.runId = v.runId ?? null; }
        return fn.call(this, ev);
      }, o);
    } as typeof MessagePort.prototype.addEventListener;
  });
}

const seen = (page: Page) => page.evaluate(() => (window as unknown as { __train: TrainSeen }).__train);

/** The stored runs (trainCheckpoints) and adapters, read in the page. */
async function stored(page: Page): Promise<{ runs: Array<{ runId: string; status: string; step: number; losses: number[]; spec: Record<string, unknown> }>; adapters: string[] }> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('reasonbridge'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const req = <T>(q: IDBRequest<T>) => new Promise<T>((res, rej) => { q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    const tx = db.transaction(['trainCheckpoints', 'adapters']);
    const recs = (await req(tx.objectStore('trainCheckpoints').getAll())) as Array<{ runId: string; status: string; spec: Record<string, unknown>; checkpoint: { step: number; losses: number[] } }>;
    const adapters = ((await req(tx.objectStore('adapters').getAll())) as Array<{ sha256: string; name: string }>).map((a) => `${a.sha256} (${a.name})`);
    db.close();
    return { runs: recs.map((r) => ({ runId: r.runId, status: r.status, step: r.checkpoint.step, losses: r.checkpoint.losses, spec: r.spec })), adapters };
  });
}

async function fillForm(page: Page): Promise<void> {
  await page.getByTestId('train-examples').fill('2');
  await page.getByTestId('train-seqlen').fill('160');
  await page.getByTestId('train-steps').fill(String(STEPS));
  await page.getByTestId('train-lr').fill('0.05');
  await page.getByTestId('train-batch').fill('2');
  await page.getByTestId('train-checkpoint-every').fill('1');
}

async function loadModel(page: Page): Promise<void> {
  await page.getByTestId('train-load-bundled').click();
  await expect(page.getByTestId('train-model')).toContainText('bundled:tiny-world', { timeout: 90_000 });
}

/** Largest relative difference of `got` (step -> loss) from the reference trajectory. */
function relDiff(got: Iterable<[number, number]>, ref: readonly number[]): number {
  let d = 0;
  for (const [step, loss] of got) {
    const r = ref[step - 1];
    d = Math.max(d, r === undefined || !Number.isFinite(loss) ? Infinity : Math.abs(loss - r) / Math.max(Math.abs(r), 1e-12));
  }
  return d;
}

test('kill cycles mid-training lose no checkpoint and resume on the uninterrupted trajectory', async () => {
  test.setTimeout(count(300_000, 1_200_000) + (PIPELINE_KILLS ? 300_000 + PIPELINE_KILLS * 200_000 : 0));
  const dir = mkdtempSync(join(tmpdir(), 'rb-train-kill-'));
  const profile = join(dir, 'profile');
  const rnd = mulberry32(26);
  const hooks = newHooks();
  const modes = { page: 0, context: 0, process: 0 };
  let ctx: BrowserContext | null = null;
  let lost = 0, cannotResume = 0, resumed = 0, completed = 0, adaptersDiffer = 0, maxRel = 0, stepsChecked = 0, pipelineKills = 0;
  const t0 = Date.now();

  const open = async (h: Hooks, url = './?view=train'): Promise<Page> => {
    if (!ctx) { ctx = await launchProfile(profile); await installHooks(ctx); await hookTraining(ctx); }
    const page = await ctx.newPage();
    watchPage(page, h);
    if (process.env.RB_DEBUG) page.on('console', (m) => console.log('page:', m.text().slice(0, 200)));
    await page.goto(url);
    return page;
  };
  const kill = async (page: Page, i: number) => {
    await readHooks(page, hooks);
    const mode = (['page', 'context', 'process'] as const)[i % 3];
    modes[mode]++;
    if (mode === 'page') await page.close();
    else if (mode === 'context') { await ctx!.close(); ctx = null; }
    else {
      const pid = browserPid(profile);
      expect(pid, 'browser process of the profile').not.toBeUndefined();
      process.kill(pid!, 'SIGKILL');
      await ctx!.close().catch(() => {});
      ctx = null;
    }
  };
  /** After a kill: the stored run is at (or past) the last checkpoint the page saw stored; its losses on the reference. */
  const checkStored = async (page: Page, ref: readonly number[], ackStep: number, runId: string | null, i: number) => {
    const rec = (await stored(page)).runs.find((r) => r.runId === runId);
    const step = rec?.step ?? 0;
    if (ackStep > 0 && step < ackStep) { lost++; console.log(`cycle ${i}: run ${runId} stored at step ${step}, the page saw step ${ackStep} stored`); }
    if (rec) {
      maxRel = Math.max(maxRel, relDiff(rec.losses.map((l, k) => [k + 1, l] as [number, number]), ref));
      stepsChecked += rec.losses.length;
    }
    return rec;
  };

  try {
    // The uninterrupted run: its trajectory (every step's loss) and adapter.
    let page = await open(hooks);
    await tinyModelAndBundledPool(page);
    const before = (await stored(page)).adapters;
    await fillForm(page);
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('train-summary')).toBeVisible({ timeout: 180_000 });
    await expect(page.getByTestId('train-error')).toHaveCount(0);
    const refSeen = await seen(page);
    const ref = refSeen.steps.map(([, l]) => l);
    expect(refSeen.steps.map(([s]) => s)).toEqual(Array.from({ length: STEPS }, (_, k) => k + 1));
    const known = (await stored(page)).adapters;
    const refAdapter = known.filter((a) => !before.includes(a)).map((a) => a.split(' ')[0]);
    expect(refAdapter, `adapters before the run: ${before.join(', ')}; after: ${known.join(', ')}`).toHaveLength(1);
    /** A finished run stores the uninterrupted run's adapter again (same hash), so the stored set stays `known`. */
    const sameAdapters = (ads: string[]) => ads.length === known.length && known.every((a) => ads.some((b) => b.split(' ')[0] === a.split(' ')[0]));
    const refMs = Date.now() - t0;
    debug(`uninterrupted run: ${refMs} ms, adapter ${refAdapter[0]}`);
    await page.close();

    let runId: string | null = null;
    let ack = 0;
    for (let i = 0; i < CYCLES; i++) {
      const c0 = Date.now();
      page = await open(hooks);
      if (runId) await checkStored(page, ref, ack, runId, i);
      const c1 = Date.now();
      await loadModel(page);
      const c2 = Date.now();
      const unfinished = (await stored(page)).runs.filter((r) => r.status !== 'done' && r.status !== 'cancelled');
      const rec = unfinished.find((r) => r.runId === runId);
      if (rec) {
        const item = page.locator(`[data-testid="unfinished-run"][data-run="${runId}"]`);
        const listed = await expect(item).toHaveAttribute('data-step', String(rec.step), { timeout: 15_000 }).then(() => true, () => false);
        if (!listed) { cannotResume++; console.log(`cycle ${i}: run ${runId} (step ${rec.step}) not listed to resume`); }
        else {
          await item.getByTestId('unfinished-resume').click({ timeout: 15_000 });
          const ok = await expect(page.getByTestId('train-checkpoint')).toContainText(`resumed after step ${rec.step}`, { timeout: 60_000 }).then(() => true, () => false);
          if (!ok) { cannotResume++; console.log(`cycle ${i}: resume of ${runId} at step ${rec.step} failed: ${await page.getByTestId('train-error').innerText({ timeout: 1000 }).catch(() => '(no message)')}`); }
          else resumed++;
        }
      }
      if (!rec || (await seen(page)).started < 0) {
        // a fresh run (the first cycle, a run killed before its first checkpoint, or one that finished)
        for (const r of unfinished.filter((x) => x !== rec)) { cannotResume++; console.log(`cycle ${i}: a stored run ${r.runId} at step ${r.step} was left behind`); }
        await fillForm(page);
        await page.getByTestId('train-start').click();
        await expect.poll(async () => (await seen(page)).started, { timeout: 60_000 }).toBe(0);
      }
      const c3 = Date.now();
      // Kill after a random delay: before the first step, mid-run, or after the run finished.
      await page.waitForTimeout(Math.floor(rnd() * MAX_DELAY));
      const s = await seen(page);
      runId = s.runId;
      maxRel = Math.max(maxRel, relDiff(s.steps, ref)); stepsChecked += s.steps.length;
      if (s.done) {
        // finished before the kill: nothing left to resume, and its adapter is the uninterrupted run's
        await expect(page.getByTestId('train-summary')).toBeVisible({ timeout: 30_000 });
        await expect.poll(async () => (await stored(page)).runs.length, { timeout: 10_000 }).toBe(0);
        const ads = (await stored(page)).adapters;
        if (!sameAdapters(ads)) { adaptersDiffer++; console.log(`cycle ${i}: adapters ${ads.join(', ')}, the uninterrupted run's ${refAdapter[0]}`); }
        completed++;
        runId = null;
      }
      ack = runId ? (await seen(page)).ck : 0;
      debug(`cycle ${i}: run ${runId}, steps seen ${s.steps.map(([k]) => k).join(',')}, checkpoint ${ack}, done ${s.done}; open ${c1 - c0} ms, model ${c2 - c1} ms, start ${c3 - c2} ms, ran ${Date.now() - c3} ms`);
      await kill(page, i);
    }

    // Finish the last run and compare its adapter.
    page = await open(hooks);
    if (runId) await checkStored(page, ref, ack, runId, CYCLES);
    await loadModel(page);
    const last = (await stored(page)).runs.find((r) => r.runId === runId);
    if (runId && last) {
      debug(`last run ${runId} at step ${last.step}: resuming to the end`);
      await page.locator(`[data-testid="unfinished-run"][data-run="${runId}"]`).getByTestId('unfinished-resume').click({ timeout: 15_000 });
      await expect(page.getByTestId('train-summary')).toBeVisible({ timeout: 180_000 });
      const s = await seen(page);
      maxRel = Math.max(maxRel, relDiff(s.steps, ref)); stepsChecked += s.steps.length;
      const ads = (await stored(page)).adapters;
      if (!sameAdapters(ads)) { adaptersDiffer++; console.log(`last run: adapters ${ads.join(', ')}, the uninterrupted run's ${refAdapter[0]}`); }
      completed++;
    }
    await readHooks(page, hooks);
    await page.close();
    const trainMs = Date.now() - t0;

    // The Pipeline's training stage: an uninterrupted run, then the same seed killed mid-training
    // (after its checkpoint at step 10) and resumed from the Train view.
    let pipeRel = 0, pipeLost = 0, pipeCannot = 0, pipeSteps = 0;
    const PIPE = './?view=pipeline&pool=40&select=12&steps=14&test=2&seed=5';
    if (PIPELINE_KILLS > 0) {
      page = await open(hooks, PIPE);
      await page.getByTestId('pipeline-run').click();
      await expect(page.getByTestId('stage-training')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
      const pipeRef = (await seen(page)).steps.map(([, l]) => l);
      expect(pipeRef).toHaveLength(14);
      debug(`pipeline reference: ${Date.now() - t0} ms`);
      await page.getByTestId('pipeline-cancel').click({ timeout: 2000 }).catch(() => {}); // its evaluations are not needed
      await page.close();
      for (let k = 0; k < PIPELINE_KILLS; k++) {
        page = await open(hooks, PIPE);
        await page.getByTestId('pipeline-run').click();
        await expect.poll(async () => (await seen(page)).ck, { timeout: 300_000 }).toBeGreaterThanOrEqual(10);
        await page.waitForTimeout(Math.floor(rnd() * MAX_DELAY));
        const s = await seen(page);
        pipeRel = Math.max(pipeRel, relDiff(s.steps, pipeRef)); pipeSteps += s.steps.length;
        const ack = s.ck;
        const done = s.done;
        await kill(page, k);
        pipelineKills++;
        page = await open(hooks);
        await loadModel(page);
        const rec = (await stored(page)).runs.find((r) => r.status === 'running' || r.status === 'paused');
        if (done) { await page.close(); continue; }
        if (!rec || rec.step < ack) { pipeLost++; console.log(`pipeline kill ${k}: stored ${rec?.step ?? 'nothing'}, the page saw step ${ack} stored`); await page.close(); continue; }
        pipeRel = Math.max(pipeRel, relDiff(rec.losses.map((l, j) => [j + 1, l] as [number, number]), pipeRef)); pipeSteps += rec.losses.length;
        const item = page.locator(`[data-testid="unfinished-run"][data-run="${rec.runId}"]`);
        const ok = await item.getByTestId('unfinished-resume').click({ timeout: 15_000 }).then(() => expect(page.getByTestId('train-summary')).toBeVisible({ timeout: 300_000 })).then(() => true, () => false);
        if (!ok) { pipeCannot++; console.log(`pipeline kill ${k}: run ${rec.runId} did not resume: ${await page.getByTestId('train-error').innerText({ timeout: 1000 }).catch(() => '(no message)')}`); }
        const r = await seen(page);
        pipeRel = Math.max(pipeRel, relDiff(r.steps, pipeRef)); pipeSteps += r.steps.length;
        await readHooks(page, hooks);
        await page.close();
      }
    }
    debug(`pipeline: ${Date.now() - t0} ms`);
    lost += pipeLost; cannotResume += pipeCannot;

    report('kill cycles mid-training', {
      cycles: CYCLES, 'page close': modes.page, 'context close': modes.context, 'process kill': modes.process,
      'resumed runs': resumed, 'runs completed': completed, 'checkpoints lost': lost, 'runs that cannot resume': cannotResume,
      'max relative loss difference': maxRel.toExponential(2), 'steps compared': stepsChecked + pipeSteps, 'final adapters differing': adaptersDiffer,
      'pipeline training kills': pipelineKills, 'pipeline max relative difference': pipeRel.toExponential(2),
      'uninterrupted run s': (refMs / 1000).toFixed(0), 'train cycles s': ((trainMs - refMs) / 1000).toFixed(0), 'page errors': hooks.pageErrors.length,
    });
    expect({ lost, cannotResume, adaptersDiffer, errors: hooks.pageErrors }).toEqual({ lost: 0, cannotResume: 0, adaptersDiffer: 0, errors: [] });
    expect(Math.max(maxRel, pipeRel)).toBeLessThanOrEqual(1e-6);
    expect(completed).toBeGreaterThan(0);
    expect(resumed).toBeGreaterThan(0);
  } finally {
    await (ctx as BrowserContext | null)?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
