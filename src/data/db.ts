// The one IndexedDB database of the app ("reasonbridge"), opened through idb from the page or any
// worker. Schema changes: bump DB_VERSION and append ONE function to MIGRATIONS (MIGRATIONS[v-1]
// upgrades version v-1 to v). Never edit a migration that has shipped; later steps may change
// what earlier ones made. Each helper keeps its typed helpers in its own module (src/data/*.ts);
// the record types are the domain's (src/domain/).
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { EvalItemRecord, EvalRunRecord } from '../domain/eval.ts';
import type { GuideRunRow } from '../domain/recipe.ts';
import type { TeacherJobRecord, TeacherKey } from '../domain/teacher.ts';
import type { Pool, Trace } from '../domain/trace.ts';
import type { Selection } from '../domain/selection.ts';
import type { TrainCheckpointRecord } from '../domain/train.ts';
import type { AdapterRecord } from '../domain/adapter.ts';

export const DB_NAME = 'reasonbridge';

export interface RBSchema extends DBSchema {
  pools: { key: string; value: Pool; indexes: { createdAt: number } };
  traces: { key: string; value: Trace; indexes: { poolId: string; poolSeq: [string, number] } };
  selections: { key: string; value: Selection; indexes: { poolId: string; createdAt: number } };
  evalRuns: { key: string; value: EvalRunRecord; indexes: { createdAt: number; evalSet: string } };
  evalItems: { key: [string, string]; value: EvalItemRecord; indexes: { runId: string } };
  genRuns: { key: string; value: GuideRunRow; indexes: { createdAt: number } };
  teacherJobs: { key: string; value: TeacherJobRecord; indexes: { createdAt: number; status: string } };
  teacherKeys: { key: string; value: TeacherKey };
  settings: { key: string; value: Setting };
  trainCheckpoints: { key: string; value: TrainCheckpointRecord; indexes: { updatedAt: number } };
  adapters: { key: string; value: AdapterRecord; indexes: { createdAt: number; baseModel: string } };
}

/** A row of the `settings` store. */
export interface Setting {
  key: string;
  value: unknown;
}

export type RBDatabase = IDBPDatabase<RBSchema>;
export type RBStore = StoreNames<RBSchema>;
type UpgradeTx = IDBPTransaction<RBSchema, RBStore[], 'versionchange'>;
type Migration = (db: RBDatabase, tx: UpgradeTx) => void;

const MIGRATIONS: Migration[] = [
  // v1: every store of the first release.
  (db) => {
    const pools = db.createObjectStore('pools', { keyPath: 'id' });
    pools.createIndex('createdAt', 'createdAt');
    const traces = db.createObjectStore('traces', { keyPath: 'id' });
    traces.createIndex('poolId', 'poolId');
    traces.createIndex('poolSeq', ['poolId', 'seq']);
    const sel = db.createObjectStore('selections', { keyPath: 'id' });
    sel.createIndex('poolId', 'poolId');
    sel.createIndex('createdAt', 'createdAt');
    const runs = db.createObjectStore('evalRuns', { keyPath: 'id' });
    runs.createIndex('createdAt', 'createdAt');
    runs.createIndex('evalSet', 'evalSet');
    const items = db.createObjectStore('evalItems', { keyPath: ['runId', 'itemKey'] });
    items.createIndex('runId', 'runId');
    db.createObjectStore('genRuns', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
    const jobs = db.createObjectStore('teacherJobs', { keyPath: 'id' });
    jobs.createIndex('createdAt', 'createdAt');
    jobs.createIndex('status', 'status');
    db.createObjectStore('teacherKeys', { keyPath: 'provider' });
    db.createObjectStore('settings', { keyPath: 'key' });
  },
  // v2: training checkpoints (resume after a reload), one record per run.
  (db) => {
    db.createObjectStore('trainCheckpoints', { keyPath: 'runId' }).createIndex('updatedAt', 'updatedAt');
  },
  // v3: adapters (trained or imported), by content hash, so they survive a reload.
  (db) => {
    const s = db.createObjectStore('adapters', { keyPath: 'sha256' });
    s.createIndex('createdAt', 'createdAt');
    s.createIndex('baseModel', 'baseModel');
  },
];

export const DB_VERSION = MIGRATIONS.length;

const opened = new Map<string, Promise<RBDatabase>>();

/** Opens (once per name) and upgrades the database. `name` is for tests only. */
export function openDb(name: string = DB_NAME): Promise<RBDatabase> {
  let p = opened.get(name);
  if (!p) {
    p = openDB<RBSchema>(name, DB_VERSION, {
      upgrade(db, oldVersion, _newVersion, tx) {
        // A database someone else created empty (a versionless indexedDB.open, as a test's probe does
        // before the app opened it) is at version 1 without the stores: build it from the start.
        const from = db.objectStoreNames.contains('pools') ? oldVersion : 0;
        for (let v = from; v < DB_VERSION; v++) MIGRATIONS[v](db, tx);
      },
      // Another tab (or a worker) opened a newer version: let it upgrade, reopen next time.
      blocking() {
        void p?.then((db) => db.close());
        opened.delete(name);
      },
      // The browser closed the connection (a full disk can do it): the next call opens a new one.
      terminated() {
        opened.delete(name);
      },
    });
    opened.set(name, p);
    p.catch(() => opened.delete(name));
  }
  return p;
}

/** Closes the shared connection so the next openDb() opens a new one (after a full disk closed it under us). */
export function reopenDb(name: string = DB_NAME): void {
  const p = opened.get(name);
  opened.delete(name);
  void p?.then((db) => db.close()).catch(() => {});
}

export async function getSetting<T>(key: string, fallback: T): Promise<T> {
  const row = await (await openDb()).get('settings', key);
  return row === undefined ? fallback : (row.value as T);
}

export async function putSetting(key: string, value: unknown): Promise<void> {
  await (await openDb()).put('settings', { key, value });
}
