// The data worker: imports, selection and export run here so the page never stalls. The UI
// reaches it through comlink (src/app/data-client.ts; stores through src/app/storage-client.ts). Modules live in workers/data/.
import * as Comlink from 'comlink';
import { cancelJob, setBase } from './data/context.ts';
import { importApi } from './data/import-api.ts';
import { poolApi } from './data/pool-api.ts';
import { storeApi } from './data/store-api.ts';
import { worldApi } from './data/world-api.ts';

const api = {
  /** `base` = the app's base URL (document.baseURI), for the bundled files under data/. */
  init(base: string): void {
    setBase(base);
  },
  cancel(jobId: string): boolean {
    return cancelJob(jobId);
  },
  ...importApi,
  ...poolApi,
  ...storeApi,
  ...worldApi,
};

export type DataApi = typeof api;
Comlink.expose(api);
