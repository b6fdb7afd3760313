// Device layer: one GPUDevice with the adapter's maximum limits and every feature it offers.
// Plain TypeScript over the WebGPU API: runs in a worker, a page, or Node (npm `webgpu`).

export interface DeviceReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
  /** GPUAdapterInfo.memoryHeaps where the browser exposes them (Chrome's WebGPU developer features). */
  memoryHeaps?: { size: number; properties: number }[];
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  report: DeviceReport;
  has(feature: GPUFeatureName): boolean;
}

export class NoWebGpuError extends Error {
  constructor(readonly reason: 'no-api' | 'no-adapter' | 'device-failed', detail: string) {
    super(detail);
    this.name = 'NoWebGpuError';
  }
}

/** Limits worth reporting and requesting; requested at the adapter's maximum. */
const LIMIT_NAMES = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'minStorageBufferOffsetAlignment',
] as const;

function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of LIMIT_NAMES) out[k] = Number((limits as unknown as Record<string, number>)[k]);
  return out;
}

/** Asks `gpu` for an adapter and a device with the adapter's maximum limits and all its features. */
export async function requestGpuContext(
  gpu: GPU | undefined,
  options: GPURequestAdapterOptions = { powerPreference: 'high-performance' },
): Promise<GpuContext> {
  if (!gpu) {
    throw new NoWebGpuError('no-api', 'This browser does not expose WebGPU (navigator.gpu is missing).');
  }
  const adapter = await gpu.requestAdapter(options);
  if (!adapter) {
    throw new NoWebGpuError('no-adapter', 'WebGPU is present but no GPU adapter is available (it may be disabled or blocklisted).');
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMIT_NAMES) {
    if (k === 'minStorageBufferOffsetAlignment') continue; // a "better" value is smaller; keep default
    requiredLimits[k] = Number((adapter.limits as unknown as Record<string, number>)[k]);
  }
  const requiredFeatures = [...adapter.features] as GPUFeatureName[];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new NoWebGpuError('device-failed', `The GPU adapter refused a device: ${(e as Error).message}`);
  }
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const report: DeviceReport = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(
      (info as unknown as { isFallbackAdapter?: boolean })?.isFallbackAdapter ??
        (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...device.features].map(String).sort(),
    limits: readLimits(device.limits),
  };
  const heaps = (info as unknown as { memoryHeaps?: { size: number; properties: number }[] } | undefined)?.memoryHeaps;
  if (heaps?.length) report.memoryHeaps = [...heaps].map((h) => ({ size: Number(h.size), properties: Number(h.properties) }));
  return { device, adapter, report, has: (f) => device.features.has(f) };
}
