// Engine worker: the GPU device (open once, report, loss).
import { NoWebGpuError, requestGpuContext, type DeviceReport, type GpuContext } from '../../src/engine/device/gpu-context.ts';
import { vectorAddSelfTest, type SelfTestResult } from '../../src/engine/selftest.ts';

export type GpuStatus =
  | { ok: true; report: DeviceReport; selfTest: SelfTestResult }
  | { ok: false; reason: 'no-api' | 'no-adapter' | 'device-failed' | 'worker-failed'; message: string };

let ctx: GpuContext | undefined;
let pending: Promise<GpuStatus> | undefined;
let lostListener: ((reason: string) => void) | undefined;

async function open(): Promise<GpuStatus> {
  try {
    ctx = await requestGpuContext((self.navigator as Navigator & { gpu?: GPU }).gpu);
  } catch (e) {
    if (e instanceof NoWebGpuError) return { ok: false, reason: e.reason, message: e.message };
    return { ok: false, reason: 'device-failed', message: String(e) };
  }
  const opened = ctx;
  void opened.device.lost.then((info) => {
    if (ctx === opened) { ctx = undefined; pending = undefined; }
    lostListener?.(`${info.reason}: ${info.message}`);
  });
  const selfTest = await vectorAddSelfTest(opened.device);
  return { ok: true, report: opened.report, selfTest };
}

/** The open GPU context, for the other engine-worker modules. Throws a clear error without one. */
export async function gpuContext(): Promise<GpuContext> {
  const s = await deviceApi.initDevice();
  if (!s.ok || !ctx) throw new Error(s.ok ? 'The GPU device was lost; reload to reconnect.' : `No WebGPU device: ${s.message}`);
  return ctx;
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
  /** For tests and the device panel: destroys the device as a real loss would. */
  simulateDeviceLoss(): void {
    ctx?.device.destroy();
  },
};
