// Training checkpoints in IndexedDB (store `trainCheckpoints`, one record per run, overwritten at
// every checkpoint): the engine's TrainCheckpoint (adapter, AdamW moments, step, RNG state, data
// cursor) plus what the worker needs to rebuild the run after a reload: the model id and the spec
// (record types: src/domain/train.ts).
import type { TrainCheckpointRecord, TrainRunStatus } from '../domain/train.ts';
import { type RBDatabase, openDb } from './db.ts';
import { approxBytes, isQuotaError } from './quota.ts';
import { storageFullAdvice } from './storage-advice.ts';

/** A checkpoint that did not fit: the message says how much it needs and what can be deleted. */
export class StorageFullError extends Error {
  constructor(message: string, readonly neededBytes: number) {
    super(message);
    this.name = 'StorageFullError';
  }
}

/** Stores a run's checkpoint. On a full disk the put fails whole (IndexedDB transactions are atomic), so
 *  the previous checkpoint stays; the StorageFullError names it, the space needed and what to delete. */
export async function putCheckpoint(rec: TrainCheckpointRecord, db?: RBDatabase): Promise<void> {
  const d = db ?? (await openDb());
  try {
    await d.put('trainCheckpoints', rec);
  } catch (e) {
    if (!isQuotaError(e)) throw e;
    const needed = approxBytes(rec);
    const prev = await d.get('trainCheckpoints', rec.runId).catch(() => undefined);
    const kept = prev ? ` The previous checkpoint (step ${prev.checkpoint.step}) is kept; training can go on from it.` : '';
    throw new StorageFullError(`Checkpoint at step ${rec.checkpoint.step} not saved. ${await storageFullAdvice(needed)}${kept}`, needed);
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
