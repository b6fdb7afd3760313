// The engine worker owns the GPU. The UI reaches it only through comlink (src/app/engine-client.ts).
// Each concern lives in its own module under workers/engine/; they are composed here: modules that
// need another's services get them as arguments (evaluation: the loaded model and the adapter merge).
import * as Comlink from 'comlink';
import { asDeviceLoss, deviceApi } from './engine/device-api.ts';
import { createEvalApi } from './engine/eval-api.ts';
import { evalModel, modelApi } from './engine/model-api.ts';
import { guideApi } from './engine/guide-api.ts';
import { generateApi } from './engine/generate-api.ts';
import { difficultyApi } from './engine/difficulty-api.ts';
import { trainApi } from './engine/train-api.ts';
import { adapterApi, withAdapter } from './engine/adapter-api.ts';
import { clusterApi } from './engine/cluster-api.ts';
import { ggufApi } from './engine/gguf-api.ts';

export type { GpuStatus } from './engine/device-api.ts';
export type { AdapterChoice, AdapterInfo, AdapterStatus } from './engine/adapter-api.ts';
export type { GenerateRequest, GenerateResult, StreamedToken } from './engine/generate-api.ts';
export type { LoadedModelInfo, LoadOptions, LoadProgress, ModelCacheRecord, ModelSource, RecoveryResult } from './engine/model-api.ts';

/** Every call's failure after a device loss reads as one clear message, not the raw GPU error. */
function guarded<T extends Record<string, unknown>>(mods: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(mods)) {
    out[name] = typeof fn !== 'function' ? fn : async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        throw await asDeviceLoss(e);
      }
    };
  }
  return out as T;
}

const api = guarded({
  ...deviceApi,
  ...createEvalApi({ model: evalModel, withAdapter }),
  ...modelApi,
  ...guideApi,
  ...generateApi,
  ...difficultyApi,
  ...trainApi,
  ...adapterApi,
  ...clusterApi,
  ...ggufApi,
});

export type EngineApi = typeof api;
Comlink.expose(api);
