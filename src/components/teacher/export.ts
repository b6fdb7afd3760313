// JSONL export of a teacher job's pool (the traces as stored; they never hold the key).
import { openDb } from '../../data/db.ts';

export async function poolJsonl(poolId: string): Promise<string> {
  const db = await openDb();
  const traces = await db.getAllFromIndex('traces', 'poolId', poolId);
  traces.sort((a, b) => a.seq - b.seq);
  return traces.map((t) => JSON.stringify(t)).join('\n') + (traces.length ? '\n' : '');
}
