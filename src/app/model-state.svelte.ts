// App-wide state of the engine's model: what is loaded, a load in progress, the last error, and the
// browser-cached downloads. Every action crosses comlink into workers/engine/model-api.ts.
import * as Comlink from 'comlink';
import { engine } from './engine-client.ts';
import type { LoadedModelInfo, LoadProgress, ModelCacheRecord, ModelSource } from '../../workers/engine.worker.ts';

export const model = $state<{
  info: LoadedModelInfo | null;
  loading: boolean;
  /** What is being loaded, for the progress line. */
  loadingLabel: string;
  progress: LoadProgress | null;
  error: string | null;
  cached: ModelCacheRecord[];
}>({ info: null, loading: false, loadingLabel: '', progress: null, error: null, cached: [] });

/** The tiny model bundled with the app (served from models/tiny next to index.html). */
export function bundledSource(): ModelSource {
  return { kind: 'url', base: new URL('models/tiny/', document.baseURI).href, id: 'bundled:tiny', label: 'the bundled tiny model', cache: false };
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/^Error: /, '');
}

export async function loadModel(source: ModelSource, label: string, contextLength?: number): Promise<void> {
  if (model.loading) return;
  model.loading = true;
  model.loadingLabel = label;
  model.progress = null;
  model.error = null;
  try {
    model.info = await engine().loadModel(source, Comlink.proxy((p: LoadProgress) => { model.progress = p; }), { contextLength });
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
