// Training checkpoints in IndexedDB (store `trainCheckpoints`, one record per run, overwritten at
// every checkpoint): the engine's TrainCheckpoint (adapter, AdamW moments, step, RNG state, data
// cursor) plus what the worker needs to rebuild the run after a reload: the model id and the spec
// (record types: src/domain/train.ts).
import type { TrainCheckpointRecord, TrainRunStatus } from '../domain/train.ts';
import { type RBDatabase, openDb } from './db.ts';

export async function putCheckpoint(rec: TrainCheckpointRecord, db?: RBDatabase): Promise<void> {
  await (db ?? (await openDb())).put('trainCheckpoints', rec);
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
