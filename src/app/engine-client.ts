// Main-thread handle on the engine worker. The main thread never touches the GPU: every call
// crosses comlink into workers/engine.worker.ts.
import * as Comlink from 'comlink';
import type { EngineApi } from '../../workers/engine.worker.ts';

let remote: Comlink.Remote<EngineApi> | undefined;

export function engine(): Comlink.Remote<EngineApi> {
  if (!remote) {
    const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    remote = Comlink.wrap<EngineApi>(worker);
  }
  return remote;
}

export { Comlink };
