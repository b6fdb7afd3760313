// Adapter records in IndexedDB (store `adapters`, keyed by content hash; record type: src/domain/adapter.ts).
import type { AdapterRecord } from '../domain/adapter.ts';
import { type RBDatabase, openDb } from './db.ts';

/** Saves `rec`; an adapter already stored under the same hash keeps its name and creation time. */
export async function putAdapter(rec: AdapterRecord, db?: RBDatabase): Promise<AdapterRecord> {
  const d = db ?? (await openDb());
  const old = await d.get('adapters', rec.sha256);
  const out = old ? { ...rec, name: old.name, createdAt: old.createdAt, updatedAt: Date.now() } : rec;
  await d.put('adapters', out);
  return out;
}

export async function getAdapter(sha256: string, db?: RBDatabase): Promise<AdapterRecord | undefined> {
  return (db ?? (await openDb())).get('adapters', sha256);
}

/** Every stored adapter, newest first (optionally only those for one base model). */
export async function listAdapters(baseModel?: string, db?: RBDatabase): Promise<AdapterRecord[]> {
  const all = (await (db ?? (await openDb())).getAllFromIndex('adapters', 'createdAt')).reverse();
  return baseModel === undefined ? all : all.filter((a) => a.baseModel === baseModel);
}

export async function renameAdapter(sha256: string, name: string, db?: RBDatabase): Promise<void> {
  const n = name.trim();
  if (!n) throw new Error('an adapter name cannot be empty');
  if (n.length > 200) throw new Error(`an adapter name has at most 200 characters, got ${n.length}`);
  const d = db ?? (await openDb());
  const rec = await d.get('adapters', sha256);
  if (!rec) throw new Error(`adapter ${sha256.slice(0, 12)}… is not stored`);
  await d.put('adapters', { ...rec, name: n, updatedAt: Date.now() });
}

export async function deleteAdapter(sha256: string, db?: RBDatabase): Promise<void> {
  await (db ?? (await openDb())).delete('adapters', sha256);
}
