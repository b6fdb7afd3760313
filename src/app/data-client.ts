// Main-thread handle on the data worker (imports, selection, export).
import * as Comlink from 'comlink';
import type { DataApi } from '../../workers/data.worker.ts';
import { newId } from '../lib/id.ts';

let remote: Comlink.Remote<DataApi> | undefined;

export function dataWorker(): Comlink.Remote<DataApi> {
  if (!remote) {
    const worker = new Worker(new URL('../../workers/data.worker.ts', import.meta.url), { type: 'module', name: 'data' });
    remote = Comlink.wrap<DataApi>(worker);
    void remote.init(document.baseURI);
  }
  return remote;
}

/** Id of a data-worker job (for progress and cancel). */
export function newJobId(): string {
  return newId('job');
}

export { Comlink };
