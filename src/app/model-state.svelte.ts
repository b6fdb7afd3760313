// App-wide state of the engine's model: what is loaded, a load in progress, the last error, and the
// browser-cached downloads. Every action crosses comlink into workers/engine/model-api.ts. A device
// loss marks the model unloaded; recoverGpu() gets a new device and loads the model again.
import * as Comlink from 'comlink';
import { engine } from './engine-client.ts';
import { deviceBack, gpu, onGpuLost } from './gpu-status.svelte.ts';
import type { LoadedModelInfo, LoadOptions, LoadProgress, ModelCacheRecord, ModelSource } from '../../workers/engine.worker.ts';

export const model = $state<{
  info: LoadedModelInfo | null;
  loading: boolean;
  /** What is being loaded, for the progress line. */
  loadingLabel: string;
  progress: LoadProgress | null;
  error: string | null;
  cached: ModelCacheRecord[];
  /** The model a device loss unloaded (label), until it is loaded again. */
  lostLabel: string | null;
}>({ info: null, loading: false, loadingLabel: '', progress: null, error: null, cached: [], lostLabel: null });

onGpuLost(() => {
  model.lostLabel = model.info?.label ?? null;
  model.info = null;
  // A model loaded by another view is known to the worker only.
  void engine().lostModel().then((l) => { if (l && gpu.lost) model.lostLabel = l; }, () => {});
});

/** A load went through after a device loss: the worker opened a new device, so the banner goes. */
async function afterLossLoad(): Promise<void> {
  if (!gpu.lost) return;
  model.lostLabel = null;
  deviceBack(await engine().initDevice());
}

/** The banner's one click after a device loss: a new device, the lost model loaded again. */
export async function recoverGpu(): Promise<void> {
  if (model.loading) return;
  model.loading = true;
  model.loadingLabel = model.lostLabel ?? 'a new GPU device';
  model.progress = null;
  model.error = null;
  try {
    const r = await engine().recoverDevice(Comlink.proxy((p: LoadProgress) => { model.progress = p; }));
    deviceBack(r.status);
    if (!r.status.ok) model.error = `No new GPU device: ${r.status.message}`;
    if (r.model) { model.info = r.model; model.lostLabel = null; }
    if (r.reloadError) model.error = `A new GPU device is ready, but the model did not load again: ${r.reloadError}`;
  } catch (e) {
    model.error = `Reconnecting failed: ${message(e)}`;
  } finally {
    model.loading = false;
  }
}

/** The student bundled with the app (the tiny-world student, served from models/tiny-world next to index.html): its engine id and label. */
export const BUNDLED_MODEL = { id: 'bundled:tiny-world', label: 'the tiny-world student' } as const;

/** The bundled model's source. */
export function bundledSource(): ModelSource {
  return { kind: 'url', base: new URL('models/tiny-world/', document.baseURI).href, id: BUNDLED_MODEL.id, label: BUNDLED_MODEL.label, cache: false };
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/^Error: /, '');
}

/** Precision of the frozen base weights on the GPU (f16, or quantized at load: Q8_0 / Q4_0). */
export type BasePrecision = NonNullable<LoadOptions['precision']>;

export async function loadModel(source: ModelSource, label: string, contextLength?: number, precision?: BasePrecision): Promise<void> {
  if (model.loading) return;
  model.loading = true;
  model.loadingLabel = label;
  model.progress = null;
  model.error = null;
  try {
    model.info = await engine().loadModel(source, Comlink.proxy((p: LoadProgress) => { model.progress = p; }), { contextLength, precision });
    await afterLossLoad();
  } catch (e) {
    model.error = message(e);
    // A failed load may have replaced the previous model (after its checks passed): ask the worker.
    model.info = (await engine().modelInfo().catch(() => undefined)) ?? null;
  } finally {
    model.loading = false;
    await refreshCached();
  }
}

/** Re-reads the loaded model from the worker (another view may have loaded or replaced it). */
export async function refreshModelInfo(): Promise<void> {
  if (model.loading) return;
  try {
    const info = await engine().modelInfo();
    if (!model.loading) model.info = info ?? null;
  } catch {
    // the worker is down: the device panel says so
  }
}

export function cancelLoad(): void {
  void engine().cancelLoad();
}

export async function unloadModel(): Promise<void> {
  await engine().unload();
  model.info = null;
}

export async function refreshCached(): Promise<void> {
  try {
    model.cached = await engine().listCachedModels();
  } catch (e) {
    model.error = `Could not list cached models: ${message(e)}`;
  }
}

export async function deleteCached(id: string): Promise<void> {
  try {
    await engine().deleteCachedModel(id);
  } catch (e) {
    model.error = `Could not delete ${id} from the cache: ${message(e)}`;
  }
  await refreshCached();
}
