// App-wide WebGPU status, filled once by asking the engine worker to open the device.
import * as Comlink from 'comlink';
import { engine } from './engine-client.ts';
import type { GpuStatus } from '../../workers/engine.worker.ts';

export const gpu = $state<{ status: GpuStatus | null; lost: string | null }>({ status: null, lost: null });

let started = false;

export function initGpu(): void {
  if (started) return;
  started = true;
  const api = engine();
  api
    .onDeviceLost(Comlink.proxy((reason: string) => { gpu.lost = reason; }))
    .then((): Promise<GpuStatus> => api.initDevice())
    .then((s: GpuStatus) => { gpu.status = s; })
    .catch((e: unknown) => {
      gpu.status = { ok: false, reason: 'worker-failed', message: `The engine worker failed to start: ${String(e)}` };
    });
}
