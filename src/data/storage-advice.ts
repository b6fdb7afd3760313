// What to say when the browser's storage is full: how much more is needed, and what is stored
// that could be deleted (pools with their size, cached models, evaluation and playground runs).
// Reads only: it never deletes anything itself.
import { openDb, type RBDatabase } from './db.ts';
import { formatBytes } from '../lib/bytes.ts';
import { listPools, poolBytes } from './pool-store.ts';
import { listCachedModels } from './model-cache.ts';

export interface Deletable {
  kind: 'pool' | 'model' | 'eval-runs' | 'guide-runs';
  /** Pool id (pools only). */
  id?: string;
  name: string;
  bytes?: number;
  where: string;
}

/** Stored things a user could delete to make room, largest first (pools and models sized). */
export async function deletables(exceptPoolId?: string, db?: RBDatabase): Promise<Deletable[]> {
  const d = db ?? (await openDb());
  const out: Deletable[] = [];
  for (const p of await listPools(d).catch(() => [])) {
    if (p.id === exceptPoolId) continue;
    out.push({ kind: 'pool', id: p.id, name: `pool "${p.name}" (${p.counts.traces.toLocaleString('en-US')} traces)`, bytes: await poolBytes(p, d).catch(() => undefined), where: 'Data view, Pools (✕)' });
  }
  for (const m of await listCachedModels().catch(() => [])) out.push({ kind: 'model', name: `cached model ${m.label || m.id}`, bytes: m.bytes, where: 'Models view, cached models (Delete)' });
  const evalRuns = await d.count('evalRuns').catch(() => 0);
  if (evalRuns) out.push({ kind: 'eval-runs', name: `${evalRuns} evaluation run${evalRuns === 1 ? '' : 's'}`, where: 'Evaluate view, runs table' });
  const guideRuns = await d.count('genRuns').catch(() => 0);
  if (guideRuns) out.push({ kind: 'guide-runs', name: `${guideRuns} saved playground run${guideRuns === 1 ? '' : 's'}`, where: 'Playground, saved runs' });
  return out.sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0));
}

/** One paragraph: needed space, the browser's estimate, and what can be deleted (at most 6 items). */
export async function storageFullAdvice(neededBytes: number, exceptPoolId?: string, known?: Deletable[]): Promise<string> {
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  // A full disk can leave the database unopenable until space is freed: then use the list taken before.
  const fresh = await deletables(exceptPoolId).catch(() => []);
  const list = fresh.length || !known ? fresh : known.filter((x) => x.id === undefined || x.id !== exceptPoolId);
  const items = list.slice(0, 6).map((x) => `${x.name}${x.bytes ? `, about ${formatBytes(x.bytes)}` : ''} (${x.where})`);
  const usage = est?.usage !== undefined ? ` The browser reports ${formatBytes(est.usage)} used${est.quota ? ` of a ${formatBytes(est.quota)} quota, but the disk itself is full` : ''}.` : '';
  return `Storage is full: about ${formatBytes(neededBytes)} more is needed.${usage} `
    + (items.length ? `You can free space by deleting: ${items.join('; ')}${list.length > 6 ? `; and ${list.length - 6} more` : ''}.` : 'Nothing of this app is stored to delete: free space on the disk or in the browser\'s site data.')
    + ' Nothing stored before was lost. After freeing space, reload the page.';
}
