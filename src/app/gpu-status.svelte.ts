// App-wide WebGPU status, filled once by asking the engine worker to open the device. A device
// loss sets `lost` (the banner) and tells the listeners (model state marks the model unloaded).
import * as Comlink from 'comlink';
import { engine } from './engine-client.ts';
import type { GpuStatus } from '../../workers/engine.worker.ts';

export const gpu = $state<{ status: GpuStatus | null; lost: string | null }>({ status: null, lost: null });

let started = false;
const lostListeners: ((reason: string) => void)[] = [];

/** Runs on every device loss (after `gpu.lost` is set). */
export function onGpuLost(cb: (reason: string) => void): void {
  lostListeners.push(cb);
}

export function initGpu(): void {
  if (started) return;
  started = true;
  const api = engine();
  api
    .onDeviceLost(Comlink.proxy((reason: string) => {
      gpu.lost = reason;
      for (const cb of lostListeners) cb(reason);
    }))
    .then((): Promise<GpuStatus> => api.initDevice())
    .then((s: GpuStatus) => { gpu.status = s; })
    .catch((e: unknown) => {
      gpu.status = { ok: false, reason: 'worker-failed', message: `The engine worker failed to start: ${String(e)}` };
    });
}

/** After a new device opened (reconnect, or a load that opened one): clear the banner, show the new device. */
export function deviceBack(status: GpuStatus): void {
  gpu.status = status;
  if (status.ok) gpu.lost = null;
}
