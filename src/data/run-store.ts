// Guided runs (playground) in the `genRuns` store: save, list, load, delete. The full run sits
// under `run`; `seed` and `events` (the main sample's intervention events) are kept flat for listing.
import { openDb } from './db.ts';
import type { GuideRun, GuideRunRow } from '../domain/recipe.ts';

export async function saveGuideRun(run: GuideRun, dbName?: string): Promise<void> {
  const main = run.timeline.samples[run.timeline.main];
  const row: GuideRunRow = {
    id: run.id, createdAt: run.createdAt, seed: run.recipe.seed, events: main?.events ?? [], kind: 'guide', run,
    model: run.recipe.model, problem: run.problemText.slice(0, 200), finalAnswer: run.timeline.finalAnswer,
  };
  await (await openDb(dbName)).put('genRuns', row);
}

export async function loadGuideRun(id: string, dbName?: string): Promise<GuideRun | null> {
  const row = await (await openDb(dbName)).get('genRuns', id);
  return row && row.kind === 'guide' ? row.run : null;
}

/** Newest first; light rows (no timeline) for the list. */
export async function listGuideRuns(limit = 50, dbName?: string): Promise<{ id: string; createdAt: number; model: string; problem: string; finalAnswer: string | null }[]> {
  const db = await openDb(dbName);
  const out: { id: string; createdAt: number; model: string; problem: string; finalAnswer: string | null }[] = [];
  let cur = await db.transaction('genRuns').store.index('createdAt').openCursor(null, 'prev');
  while (cur && out.length < limit) {
    const r = cur.value;
    if (r.kind === 'guide') out.push({ id: r.id, createdAt: r.createdAt, model: r.model, problem: r.problem, finalAnswer: r.finalAnswer });
    cur = await cur.continue();
  }
  return out;
}

export async function deleteGuideRun(id: string, dbName?: string): Promise<void> {
  await (await openDb(dbName)).delete('genRuns', id);
}
