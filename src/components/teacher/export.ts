// JSONL export of a teacher job's pool (the traces as stored; they never hold the key).
import { openDb } from '../../data/db.ts';
import { tracesToJsonl } from '../../teacher/jsonl.ts';

export async function poolJsonl(poolId: string): Promise<string> {
  return tracesToJsonl(await (await openDb()).getAllFromIndex('traces', 'poolId', poolId));
}
