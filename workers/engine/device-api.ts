// Engine worker: the GPU device (open once, report, loss, reconnect). After a loss every GPU error
// reads as one clear message (asDeviceLoss), worker modules drop what lived on the old device
// (onDeviceLostInWorker), and reconnect() opens a new one; onDeviceRecovered lets a module resume
// its work there (a training run from its last checkpoint, once checkpoints exist).
import { NoWebGpuError, requestGpuContext, type DeviceReport, type GpuContext } from '../../src/engine/device/gpu-context.ts';
import { deviceBudget, type MemoryBudget } from '../../src/engine/model/memory.ts';
import { vectorAddSelfTest, type SelfTestResult } from '../../src/engine/selftest.ts';

export type GpuStatus =
  | { ok: true; report: DeviceReport; selfTest: SelfTestResult; budget: MemoryBudget }
  | { ok: false; reason: 'no-api' | 'no-adapter' | 'device-failed' | 'worker-failed'; message: string };

let ctx: GpuContext | undefined;
let pending: Promise<GpuStatus> | undefined;
let lostListener: ((reason: string) => void) | undefined;
/** The last loss ("unknown: ..."), until a new device opens. */
let lost: string | undefined;
const lostHooks: ((reason: string) => void)[] = [];
const recoveredHooks: ((ctx: GpuContext) => Promise<void> | void)[] = [];

/** A worker module's reaction to a device loss (drop GPU objects of the old device). */
export function onDeviceLostInWorker(cb: (reason: string) => void): void {
  lostHooks.push(cb);
}

/** Runs after reconnect() opened a new device (e.g. resume training from the last checkpoint). */
export function onDeviceRecovered(cb: (ctx: GpuContext) => Promise<void> | void): void {
  recoveredHooks.push(cb);
}

/** The loss, if the device is lost and no new one is open. */
export function deviceLost(): string | undefined {
  return lost;
}

const LOST_TEXT = /device (was |is )?lost|devicelost|instance dropped|destroyed device|device.*destroyed/i;
/** Errors a loss can surface as before the device's lost promise has settled. */
const GPU_TEXT = /mapAsync|GPUBuffer|GPUDevice|destroyed|unmapped|aborted/i;
let lostSignal: Promise<unknown> | undefined;

/**
 * A GPU error after a loss ("Failed to execute 'mapAsync' on 'GPUBuffer': The Device was lost") as
 * one clear message; other errors unchanged. A GPU-looking error waits briefly for the loss to be
 * reported (the rejected mapAsync can arrive first).
 */
export async function asDeviceLoss(e: unknown): Promise<unknown> {
  const text = e instanceof Error ? e.message : String(e);
  if (!lost && GPU_TEXT.test(text) && lostSignal) await Promise.race([lostSignal, new Promise((r) => setTimeout(r, 500))]);
  if (!lost && !LOST_TEXT.test(text)) return e;
  const err = new Error(`The GPU device was lost${lost ? ` (${lost})` : ''}, so this stopped; the model was unloaded. Use "Reconnect and reload" in the banner at the top to get a new device and load the model again.`);
  err.name = 'DeviceLostError';
  return err;
}

async function open(): Promise<GpuStatus> {
  try {
    ctx = await requestGpuContext((self.navigator as Navigator & { gpu?: GPU }).gpu);
  } catch (e) {
    if (e instanceof NoWebGpuError) return { ok: false, reason: e.reason, message: e.message };
    return { ok: false, reason: 'device-failed', message: String(e) };
  }
  const opened = ctx;
  lost = undefined;
  lostSignal = opened.device.lost;
  void opened.device.lost.then((info) => {
    if (ctx !== opened) return; // an old device, already replaced
    ctx = undefined;
    pending = undefined;
    lost = `${info.reason}: ${info.message}`;
    for (const h of lostHooks) { try { h(lost); } catch { /* keep going */ } }
    lostListener?.(lost);
  });
  const selfTest = await vectorAddSelfTest(opened.device);
  const mem = (self.navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  return { ok: true, report: opened.report, selfTest, budget: deviceBudget(opened.report, mem) };
}

/** The open GPU context, for the other engine-worker modules. Throws a clear error without one. */
export async function gpuContext(): Promise<GpuContext> {
  const s = await deviceApi.initDevice();
  if (!s.ok || !ctx) throw new Error(s.ok ? 'The GPU device was lost; use "Reconnect and reload" in the banner.' : `No WebGPU device: ${s.message}`);
  return ctx;
}

/** The budget of the open device (after initDevice). */
export async function deviceMemoryBudget(): Promise<MemoryBudget | undefined> {
  const s = await deviceApi.initDevice();
  return s.ok ? s.budget : undefined;
}

export const deviceApi = {
  /** Opens (once) the GPU device and runs the vector-add self-test on it. */
  initDevice(): Promise<GpuStatus> {
    pending ??= open();
    return pending;
  },
  onDeviceLost(cb: (reason: string) => void): void {
    lostListener = cb;
  },
  /** Opens a new device after a loss (or returns the open one), then runs the recovery hooks. */
  async reconnectDevice(): Promise<GpuStatus> {
    const s = await deviceApi.initDevice();
    if (s.ok && ctx) for (const h of recoveredHooks) await h(ctx);
    return s;
  },
  /** For tests and the device panel: destroys the device as a real loss would. */
  simulateDeviceLoss(): void {
    ctx?.device.destroy();
  },
};
