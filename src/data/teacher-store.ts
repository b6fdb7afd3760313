// Typed IndexedDB helpers for teacher jobs (store `teacherJobs`), remembered keys (`teacherKeys`)
// and the pools/traces the jobs fill. Used by workers/teacher.worker.ts and the Teacher panel.
import { openDb } from './db.ts';
import type { Pool, Trace } from '../domain/trace.ts';
import type { JobStore } from '../teacher/job-runner.ts';
import type { JobProblem, TeacherJobRecord } from '../domain/teacher.ts';

export async function createJobWithPool(job: TeacherJobRecord, pool: Pool, dbName?: string): Promise<void> {
  const db = await openDb(dbName);
  const tx = db.transaction(['teacherJobs', 'pools'], 'readwrite');
  await Promise.all([tx.objectStore('pools').add(pool), tx.objectStore('teacherJobs').add(job), tx.done]);
}

export async function getJob(id: string, dbName?: string): Promise<TeacherJobRecord | undefined> {
  return (await openDb(dbName)).get('teacherJobs', id);
}

export async function putJob(job: TeacherJobRecord, dbName?: string): Promise<void> {
  await (await openDb(dbName)).put('teacherJobs', job);
}

/** Newest first. */
export async function listJobs(dbName?: string): Promise<TeacherJobRecord[]> {
  const all = await (await openDb(dbName)).getAllFromIndex('teacherJobs', 'createdAt');
  return all.reverse();
}

/** Seqs of the traces already stored in a pool (trace id = `${poolId}:${seq}`). */
export async function doneSeqs(poolId: string, dbName?: string): Promise<Set<number>> {
  const keys = await (await openDb(dbName)).getAllKeysFromIndex('traces', 'poolId', poolId);
  return new Set(keys.map((k) => Number(String(k).slice(poolId.length + 1))));
}

/** Trace + job counters + pool count in one transaction; a trace id already present is left alone. */
export async function commitTrace(jobId: string, trace: Trace, update: (job: TeacherJobRecord) => void, dbName?: string): Promise<{ added: boolean; job: TeacherJobRecord }> {
  const db = await openDb(dbName);
  const tx = db.transaction(['traces', 'teacherJobs', 'pools'], 'readwrite');
  const traces = tx.objectStore('traces');
  const jobs = tx.objectStore('teacherJobs');
  const job = await jobs.get(jobId);
  if (!job) { tx.abort(); throw new Error(`Teacher job ${jobId} is gone (deleted?).`); }
  if ((await traces.getKey(trace.id)) !== undefined) { await tx.done; return { added: false, job }; }
  await traces.add(trace);
  update(job);
  await jobs.put(job);
  const pools = tx.objectStore('pools');
  const pool = await pools.get(trace.poolId);
  if (pool) { pool.counts.traces++; await pools.put(pool); }
  await tx.done;
  return { added: true, job };
}

export function idbJobStore(dbName?: string): JobStore {
  return {
    getJob: (id) => getJob(id, dbName),
    putJob: (job) => putJob(job, dbName),
    doneSeqs: (poolId) => doneSeqs(poolId, dbName),
    commitTrace: (jobId, trace, update) => commitTrace(jobId, trace, update, dbName),
  };
}

/** Problems from a pool's traces: reference = the trace's reference answer, else its answer
 *  (an imported dataset's answer is the reference). Evaluation sets are never pools. */
export async function problemsFromPool(poolId: string, dbName?: string, limit = Infinity): Promise<JobProblem[]> {
  const db = await openDb(dbName);
  const out: JobProblem[] = [];
  let cursor = await db.transaction('traces').store.index('poolSeq').openCursor(IDBKeyRange.bound([poolId, -Infinity], [poolId, Infinity]));
  while (cursor && out.length < limit) {
    const t = cursor.value;
    const ref = t.referenceAnswer ?? (t.answer || undefined);
    out.push({ problem: t.problem, reference: ref, domain: t.domain, level: t.level, origin: t.id });
    cursor = await cursor.continue();
  }
  return out;
}

// ---- remembered keys: only after the user confirmed the warning in the panel ----
/** Keys are remembered per provider and API origin, e.g. "openai@https://openrouter.ai". */
export function keySlot(provider: string, baseUrl: string): string {
  let origin = baseUrl;
  try { origin = new URL(baseUrl).origin; } catch { /* keep as typed */ }
  return `${provider}@${origin}`;
}

// A remembered key is stored encrypted (AES-GCM, 256 bits) under its own WebCrypto key, generated
// non-extractable: IndexedDB keeps the CryptoKey object, whose bytes no script can read back, and
// the ciphertext, so the plain key never reaches the disk. Forgetting deletes the record: both.
export async function getRememberedKey(slot: string, dbName?: string): Promise<string | undefined> {
  const db = await openDb(dbName);
  const rec = await db.get('teacherKeys', slot);
  if (!rec) return undefined;
  if (typeof rec.key === 'string') {
    // Written by an older version in plain text: re-store it encrypted.
    const plain = rec.key;
    await rememberKey(slot, plain, dbName);
    return plain;
  }
  const { cryptoKey, iv, data } = rec;
  if (!cryptoKey || !iv || !data) return undefined;
  try {
    return new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as BufferSource }, cryptoKey, data));
  } catch {
    return undefined; // corrupt record: treated as not remembered
  }
}

export async function rememberKey(slot: string, key: string, dbName?: string): Promise<void> {
  const cryptoKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, cryptoKey, new TextEncoder().encode(key));
  await (await openDb(dbName)).put('teacherKeys', { provider: slot, cryptoKey, iv, data, savedAt: Date.now(), scheme: 'aes-gcm-256' as const });
}

export async function forgetKey(slot: string, dbName?: string): Promise<void> {
  await (await openDb(dbName)).delete('teacherKeys', slot);
}
