// The engine worker owns the GPU. The UI reaches it only through comlink (src/app/engine-client.ts).
// Each concern lives in its own module under workers/engine/ and is merged here.
import * as Comlink from 'comlink';
import { deviceApi } from './engine/device-api.ts';
import { evalApi } from './engine/eval-api.ts';
import { modelApi } from './engine/model-api.ts';
import { guideApi } from './engine/guide-api.ts';
import { generateApi } from './engine/generate-api.ts';
import { difficultyApi } from './engine/difficulty-api.ts';
import { trainApi } from './engine/train-api.ts';
import { adapterApi } from './engine/adapter-api.ts';
import { clusterApi } from './engine/cluster-api.ts';

export type { GpuStatus } from './engine/device-api.ts';
export type { AdapterChoice, AdapterInfo, AdapterStatus } from './engine/adapter-api.ts';
export type { GenerateRequest, GenerateResult, StreamedToken } from './engine/generate-api.ts';
export type { LoadedModelInfo, LoadProgress, ModelCacheRecord, ModelSource } from './engine/model-api.ts';

const api = {
  ...deviceApi,
  ...evalApi,
  ...modelApi,
  ...guideApi,
  ...generateApi,
  ...difficultyApi,
  ...trainApi,
  ...adapterApi,
  ...clusterApi,
};

export type EngineApi = typeof api;
Comlink.expose(api);
