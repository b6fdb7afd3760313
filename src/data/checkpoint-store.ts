// Training checkpoints in IndexedDB (store `trainCheckpoints`, one record per run, overwritten at
// every checkpoint): the engine's TrainCheckpoint (adapter, AdamW moments, step, RNG state, data
// cursor) plus what the worker needs to rebuild the run after a reload: the model id and the spec
// (record types: src/domain/train.ts).
import type { TrainCheckpointRecord, TrainRunStatus } from '../domain/train.ts';
import type { IDBPTransaction } from 'idb';
import { type RBDatabase, type RBSchema, openDb, reopenDb } from './db.ts';
import { approxBytes, isQuotaError } from './quota.ts';
import { deletables, storageFullAdvice, type Deletable } from './storage-advice.ts';

/** A checkpoint that did not fit: the message says how much it needs and what can be deleted. */
export class StorageFullError extends Error {
  constructor(message: string, readonly neededBytes: number) {
    super(message);
    this.name = 'StorageFullError';
  }
}

/** What could be deleted, as last read while the disk had room (a full disk can leave the database
 *  unopenable, and the advice still names it), refreshed at most once a minute; the last stored step per run. */
let known: { at: number; list: Deletable[] } | undefined;
const storedStep = new Map<string, number>();

/** Stores a run's checkpoint. On a full disk the put fails whole (IndexedDB transactions are atomic), so
 *  the previous checkpoint stays; the StorageFullError names it, the space needed and what to delete. */
export async function putCheckpoint(rec: TrainCheckpointRecord, db?: RBDatabase): Promise<void> {
  let d: RBDatabase | undefined;
  let tx: IDBPTransaction<RBSchema, ['trainCheckpoints'], 'readwrite'> | undefined;
  try {
    d = db ?? (await openDb());
    const t = d.transaction('trainCheckpoints', 'readwrite');
    tx = t;
    await Promise.all([t.store.put(rec), t.done]);
  } catch (e) {
    // On a full disk Chromium fails the put with "The transaction was aborted" (the cause, quota or
    // FILE_ERROR_NO_SPACE, is the transaction's error), closes the connection, and cannot open the
    // database again ("Encountered full disk while opening backing store", then "Internal error
    // opening backing store") until space is freed.
    const cause = tx?.error ?? e;
    const full = isQuotaError(e) || isQuotaError(cause) || (!d && /backing store/i.test((e as Error)?.message ?? ''));
    if (!full) throw e;
    if (!db) reopenDb();
    const needed = approxBytes(rec);
    const prevStep = storedStep.get(rec.runId) ?? (await (db ?? (await openDb())).get('trainCheckpoints', rec.runId).catch(() => undefined))?.checkpoint.step;
    const kept = prevStep !== undefined ? ` The previous checkpoint (step ${prevStep}) is kept; training can go on from it.` : '';
    throw new StorageFullError(`Checkpoint at step ${rec.checkpoint.step} not saved. ${await storageFullAdvice(needed, undefined, known?.list)}${kept}`, needed);
  }
  storedStep.set(rec.runId, rec.checkpoint.step);
  if (!known || Date.now() - known.at > 60_000) {
    known = { at: Date.now(), list: known?.list ?? [] };
    void deletables(undefined, d).then((list) => { known = { at: Date.now(), list }; }, () => {});
  }
}

export async function getCheckpoint(runId: string, db?: RBDatabase): Promise<TrainCheckpointRecord | undefined> {
  return (db ?? (await openDb())).get('trainCheckpoints', runId);
}

/** Every run with a checkpoint, most recently updated first. */
export async function listCheckpoints(db?: RBDatabase): Promise<TrainCheckpointRecord[]> {
  return (await (db ?? (await openDb())).getAllFromIndex('trainCheckpoints', 'updatedAt')).reverse();
}

export async function setCheckpointStatus(runId: string, status: TrainRunStatus, db?: RBDatabase): Promise<void> {
  const d = db ?? (await openDb());
  const rec = await d.get('trainCheckpoints', runId);
  if (rec) await d.put('trainCheckpoints', { ...rec, status, updatedAt: Date.now() });
}

export async function deleteCheckpoint(runId: string, db?: RBDatabase): Promise<void> {
  await (db ?? (await openDb())).delete('trainCheckpoints', runId);
}
