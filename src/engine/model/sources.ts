// Where a model comes from: a Hugging Face hub id, a URL base (the bundled tiny model), files the
// user picked, or (Node, see node-source.ts) a directory. Each is a FileAccess; openModel() reads
// config.json, sizes the model against the device before any weight is fetched, checks the
// tokenizer is there, and hands out the weights as a single-pass stream of packed-f16 tensors.
// Downloads go through the browser Cache API ("rb-models-v1"), so a model is fetched once; the
// cached models are listable and deletable.
import { parseModelConfig } from './config.ts';
import { checkFits, defaultBudgetBytes, estimateGpuBytes, type DeviceLimits, type MemoryEstimate } from './memory.ts';
import { parseShardIndex, readSafetensors, readShardedSafetensors, type ByteSource } from './safetensors.ts';
import type { HostTensor, LoadProgress, ModelConfig } from './types.ts';

export const MODEL_CACHE_NAME = 'rb-models-v1';
export const HUB_BASE = 'https://huggingface.co';
/** Cache key prefix of the per-model records (never fetched; .invalid cannot resolve). */
const META_PREFIX = 'https://rb-models.invalid/meta/';

/** A serialisable description of where to load from (crosses comlink: File objects clone). */
export type ModelSource =
  | { kind: 'hub'; id: string; revision?: string }
  | { kind: 'url'; base: string; id?: string; label?: string; cache?: boolean }
  | { kind: 'files'; files: File[] }
  | { kind: 'dir'; path: string };

export class ModelSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelSourceError';
  }
}

export interface OpenedStream {
  stream: ByteSource;
  /** Exact byte size when certain (local file, counted into the cache): lets a short file fail early. */
  size?: number;
  /** A size for progress bars only (content-length, which may be of a compressed body). */
  sizeHint?: number;
}

/** Read access to one model's files, whatever the source. */
export interface FileAccess {
  /** Stable id (hub id, URL, "local:...", path): the cache and the UI key on it. */
  readonly id: string;
  /** For messages: "HuggingFaceTB/SmolLM2-135M-Instruct", "the picked files", a path. */
  readonly label: string;
  /** A small file's text, or undefined when the source has no such file. */
  readText(name: string): Promise<string | undefined>;
  /** A large file as a byte stream; undefined when absent. `onDownload` reports network bytes. */
  openStream(name: string, onDownload?: (loaded: number, total: number | undefined) => void): Promise<OpenedStream | undefined>;
  /** Called after a successful load (records the model in the cache list). */
  commit?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// HTTP (hub and URL base), optionally through the Cache API.

export interface ModelCacheRecord {
  id: string;
  label: string;
  /** Bytes of all cached files of the model. */
  bytes: number;
  /** ISO date of the first download. */
  date: string;
  files: { url: string; bytes: number }[];
  /** Files the source does not have (404): a cached model loads offline without asking again. */
  absent?: string[];
  /** False while (or if) a download did not finish: the files so far stay cached for the next try. */
  complete: boolean;
}

function cacheStorage(): CacheStorage | undefined {
  return typeof caches !== 'undefined' ? caches : undefined;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

function httpStatusMessage(file: string, label: string, url: string, status: number): string {
  if (status === 404) return `${file} not found in ${label} (HTTP 404 at ${url})`;
  if (status === 401 || status === 403) {
    return `${file} in ${label}: HTTP ${status} at ${url}; the repository does not exist, is private, or is gated (accept its licence on huggingface.co; this app sends no token)`;
  }
  return `${file} in ${label}: HTTP ${status} at ${url}`;
}

/** Counts bytes flowing through a stream; `onBytes` after each chunk. */
function counting(onBytes: (loaded: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let loaded = 0;
  return new TransformStream({
    transform(chunk, ctrl) {
      loaded += chunk.byteLength;
      onBytes(loaded);
      ctrl.enqueue(chunk);
    },
  });
}

function contentLength(res: Response): number | undefined {
  const h = res.headers.get('content-length');
  return h !== null && /^\d+$/.test(h) ? Number(h) : undefined;
}

export interface HttpAccessOptions {
  /** Cache downloads in the Cache API (default true where it exists). */
  cache?: boolean;
  fetch?: typeof fetch;
  /** Aborts downloads in flight (a cancelled load stops the network at once, not after the file). */
  signal?: AbortSignal;
}

export class LoadCancelledError extends Error {
  constructor() {
    super('Loading was cancelled');
    this.name = 'LoadCancelledError';
  }
}

/** FileAccess over `${base}${file}` URLs, through the Cache API unless opts.cache is false. */
export function httpAccess(base: string, id: string, label: string, opts: HttpAccessOptions = {}): FileAccess {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const storage = opts.cache === false ? undefined : cacheStorage();
  const files = new Map<string, number>(); // url -> exact bytes, of files this load used from the cache
  const absent = new Set<string>(); // urls the source answered 404 for
  const urlOf = (file: string): string => (base.endsWith('/') ? base : `${base}/`) + file;
  const metaKey = META_PREFIX + encodeURIComponent(id);

  let record: ModelCacheRecord | null | undefined; // this model's cache record (null: none)
  async function cachedRecord(cache: Cache): Promise<ModelCacheRecord | null> {
    if (record === undefined) {
      const r = await cache.match(metaKey);
      record = r ? ((await r.json()) as ModelCacheRecord) : null;
    }
    return record;
  }

  /** The cached copy (with its exact size), or a network response (undefined on 404). */
  async function get(file: string): Promise<{ res: Response; cached: boolean; size?: number } | undefined> {
    const url = urlOf(file);
    if (storage) {
      const cache = await storage.open(MODEL_CACHE_NAME);
      const rec = await cachedRecord(cache);
      if (rec?.absent?.includes(url)) {
        absent.add(url);
        return undefined;
      }
      const hit = await cache.match(url);
      const size = hit ? rec?.files.find((f) => f.url === url)?.bytes : undefined;
      if (hit && size !== undefined) { // a copy without a record entry was cut short: fetch again
        files.set(url, size);
        return { res: hit, cached: true, size };
      }
    }
    let res: Response;
    if (opts.signal?.aborted) throw new LoadCancelledError();
    try {
      res = await doFetch(url, opts.signal ? { signal: opts.signal } : undefined);
    } catch (e) {
      if (opts.signal?.aborted) throw new LoadCancelledError();
      const host = (() => { try { return new URL(url).host; } catch { return url; } })();
      throw new ModelSourceError(`Could not reach ${host} for ${file} of ${label} (${(e as Error).message}). Are you offline? Cached models and the bundled tiny model still load.`);
    }
    // A single-page-app server (vite preview, many static hosts) answers a missing file with its
    // index.html and status 200: no model file is HTML, so that is "absent" too.
    const html = /^text\/html\b/i.test(res.headers.get('content-type') ?? '');
    if (res.status === 404 || (res.ok && html)) {
      await res.body?.cancel().catch(() => {});
      absent.add(url);
      return undefined;
    }
    if (!res.ok) throw new ModelSourceError(httpStatusMessage(file, label, url, res.status));
    return { res, cached: false };
  }

  /** Streams `res` into the cache (to disk, not memory), counting bytes; returns the cached copy and its size. */
  async function store(file: string, res: Response, onBytes?: (loaded: number) => void): Promise<{ res: Response; size: number }> {
    const url = urlOf(file);
    const cache = await storage!.open(MODEL_CACHE_NAME);
    let n = 0;
    const body = (res.body ?? new ReadableStream<Uint8Array>()).pipeThrough(counting((loaded) => { n = loaded; onBytes?.(loaded); }));
    const headers = new Headers({ 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' });
    try {
      await cache.put(url, new Response(body, { headers })); // resolves once the whole body is stored
    } catch (e) {
      if (opts.signal?.aborted) throw new LoadCancelledError();
      throw new ModelSourceError(`Downloading ${file} of ${label} into the browser cache failed: ${(e as Error).message}`);
    }
    files.set(url, n);
    await writeRecord(cache, false);
    const back = await cache.match(url);
    if (!back) throw new ModelSourceError(`The browser cache dropped ${url} (storage full?)`);
    return { res: back, size: n };
  }

  /** The model's entry in the cache list (complete after a successful load). */
  async function writeRecord(cache: Cache, complete: boolean): Promise<void> {
    const prev = await cache.match(metaKey);
    const old = prev ? ((await prev.json()) as ModelCacheRecord) : undefined;
    const all = new Map((old?.files ?? []).map((f) => [f.url, f.bytes]));
    for (const [u, b] of files) all.set(u, b);
    const list = [...all].map(([url, bytes]) => ({ url, bytes }));
    const next: ModelCacheRecord = {
      id, label, bytes: list.reduce((a, f) => a + f.bytes, 0), date: old?.date ?? new Date().toISOString(),
      files: list, absent: [...new Set([...(old?.absent ?? []), ...absent])].filter((u) => !all.has(u)),
      complete: complete || (old?.complete ?? false),
    };
    record = next;
    await cache.put(metaKey, new Response(JSON.stringify(next), { headers: { 'content-type': 'application/json' } }));
  }

  return {
    id,
    label,
    async readText(file) {
      const got = await get(file);
      if (!got) return undefined;
      const res = storage && !got.cached ? (await store(file, got.res)).res : got.res;
      return res.text();
    },
    async openStream(file, onDownload) {
      const got = await get(file);
      if (!got) return undefined;
      const hint = got.size ?? contentLength(got.res);
      if (storage) {
        // Download into the cache first (the browser streams it to disk), then parse from there:
        // the parser never buffers the whole file, whichever side is faster.
        const { res, size } = got.cached ? { res: got.res, size: got.size } : await store(file, got.res, onDownload && ((n) => onDownload(n, hint)));
        return { stream: res.body ?? new ReadableStream(), size, sizeHint: size };
      }
      const body = got.res.body ?? new ReadableStream<Uint8Array>();
      return { stream: onDownload ? body.pipeThrough(counting((n) => onDownload(n, hint))) : body, sizeHint: hint };
    },
    async commit() {
      if (storage && files.size) await writeRecord(await storage.open(MODEL_CACHE_NAME), true);
    },
  };
}

/** The models in the browser cache, newest first. */
export async function listCachedModels(): Promise<ModelCacheRecord[]> {
  const storage = cacheStorage();
  if (!storage) return [];
  const cache = await storage.open(MODEL_CACHE_NAME);
  const out: ModelCacheRecord[] = [];
  for (const req of await cache.keys()) {
    if (!req.url.startsWith(META_PREFIX)) continue;
    const r = await cache.match(req);
    if (r) out.push((await r.json()) as ModelCacheRecord);
  }
  return out.sort((a, b) => b.date.localeCompare(a.date));
}

/** Removes a cached model's files and record. Returns false if it was not cached. */
export async function deleteCachedModel(id: string): Promise<boolean> {
  const storage = cacheStorage();
  if (!storage) return false;
  const cache = await storage.open(MODEL_CACHE_NAME);
  const key = META_PREFIX + encodeURIComponent(id);
  const r = await cache.match(key);
  if (!r) return false;
  const record = (await r.json()) as ModelCacheRecord;
  for (const f of record.files) await cache.delete(f.url);
  await cache.delete(key);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Files the user picked.

/** FileAccess over picked File objects, matched by base name (folders picked whole work too). */
export function filesAccess(files: readonly File[]): FileAccess {
  const byName = new Map<string, File>();
  for (const f of files) byName.set(f.name.split('/').pop()!, f);
  const names = [...byName.keys()].sort();
  const label = `the picked files (${names.join(', ') || 'none'})`;
  return {
    id: `local:${names.join(',')}`,
    label,
    async readText(name) {
      return byName.get(name)?.text();
    },
    async openStream(name) {
      const f = byName.get(name);
      return f ? { stream: f.stream() as ReadableStream<Uint8Array>, size: f.size, sizeHint: f.size } : undefined;
    },
  };
}

/** The FileAccess for a source (not 'dir': that one is Node-only, in node-source.ts). */
export function accessFor(src: ModelSource, opts: { hubBase?: string; fetch?: typeof fetch; signal?: AbortSignal } = {}): FileAccess {
  switch (src.kind) {
    case 'hub': {
      const id = src.id.trim();
      if (!HUB_ID.test(id)) throw new ModelSourceError(`"${src.id}" is not a Hugging Face model id (expected owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct)`);
      const rev = src.revision ?? 'main';
      return httpAccess(`${opts.hubBase ?? HUB_BASE}/${id}/resolve/${encodeURIComponent(rev)}/`, rev === 'main' ? id : `${id}@${rev}`, id, { fetch: opts.fetch, signal: opts.signal });
    }
    case 'url': {
      let base: URL;
      try {
        base = new URL(src.base);
      } catch {
        throw new ModelSourceError(`"${src.base}" is not an absolute URL`);
      }
      const href = base.href.endsWith('/') ? base.href : `${base.href}/`;
      return httpAccess(href, src.id ?? href, src.label ?? src.id ?? href, { cache: src.cache, fetch: opts.fetch, signal: opts.signal });
    }
    case 'files':
      return filesAccess(src.files);
    case 'dir':
      throw new ModelSourceError('A directory source only works in Node (use openNodeDir from node-source.ts)');
  }
}

// ---------------------------------------------------------------------------------------------
// Opening a model.

export interface OpenModelOptions {
  /** Context to size the KV cache for; default min(max_position_embeddings, 2048). */
  contextLength?: number;
  /** Device limits (GpuContext.report.limits); without them no fit check runs. */
  limits?: DeviceLimits;
  /** GPU memory budget; default defaultBudgetBytes(navigator.deviceMemory). */
  budgetBytes?: number;
  onProgress?: (p: LoadProgress) => void;
}

export interface OpenedModel {
  access: FileAccess;
  config: ModelConfig;
  contextLength: number;
  estimate: MemoryEstimate;
  /** tokenizer.json / tokenizer_config.json text (config may be undefined), for loadTokenizer. */
  tokenizerJson: string;
  tokenizerConfig: string | undefined;
  /** eos ids of config.json and generation_config.json. */
  eosTokenIds: number[];
  /** Total weight file bytes when known up front. */
  weightBytes: number | undefined;
  /** The weights, converted while they stream in. Single pass. */
  tensors(): AsyncGenerator<HostTensor, void, undefined>;
  /** Filled while tensors() runs: problems that did not stop the load (f16 overflow). */
  warnings: string[];
}

function parseJson(text: string, file: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelSourceError(`${file} in ${label} is not valid JSON (${(e as Error).message})`);
  }
}

/** Reads and checks everything but the weights; weights stream on tensors(). */
export async function openModel(access: FileAccess, opts: OpenModelOptions = {}): Promise<OpenedModel> {
  const { label } = access;
  const progress = opts.onProgress ?? (() => {});
  const configText = await access.readText('config.json');
  if (configText === undefined) throw new ModelSourceError(`config.json not found in ${label}`);
  const config = parseModelConfig(parseJson(configText, 'config.json', label), `config.json of ${label}`);

  const contextLength = Math.min(opts.contextLength ?? 2048, config.maxPositionEmbeddings);
  const estimate = estimateGpuBytes(config, contextLength);
  if (opts.limits) {
    const mem = (globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory;
    checkFits(label, config, estimate, opts.limits, opts.budgetBytes ?? defaultBudgetBytes(mem));
  }

  progress({ phase: 'tokenizer', file: 'tokenizer.json', loadedBytes: 0, totalBytes: 0 });
  const tokenizerJson = await access.readText('tokenizer.json');
  if (tokenizerJson === undefined) throw new ModelSourceError(`tokenizer.json not found in ${label}`);
  const tokenizerConfig = await access.readText('tokenizer_config.json');

  const eos = new Set(config.eosTokenIds);
  const gen = await access.readText('generation_config.json');
  if (gen !== undefined) {
    const g = parseJson(gen, 'generation_config.json', label) as { eos_token_id?: unknown };
    for (const v of [g.eos_token_id].flat()) if (typeof v === 'number' && Number.isInteger(v)) eos.add(v);
  }

  // Weights: one file, or an index naming shards.
  const indexText = await access.readText('model.safetensors.index.json');
  let single: OpenedStream | undefined;
  let weightBytes: number | undefined;
  const onDownload = (file: string) => (loaded: number, total: number | undefined) =>
    progress({ phase: 'download', file, loadedBytes: loaded, totalBytes: total ?? 0 });
  if (indexText === undefined) {
    single = await access.openStream('model.safetensors', onDownload('model.safetensors'));
    if (!single) throw new ModelSourceError(`model.safetensors (or model.safetensors.index.json) not found in ${label}`);
    weightBytes = single.size ?? single.sizeHint;
  }
  const index = indexText !== undefined ? parseShardIndex(parseJson(indexText, 'model.safetensors.index.json', label)) : undefined;
  if (index) weightBytes = index.totalSize;

  const warnings: string[] = [];
  const onWarning = (m: string): void => { if (warnings.length < 20) warnings.push(m); };
  let used = false;
  async function* tensors(): AsyncGenerator<HostTensor, void, undefined> {
    if (used) throw new Error('tensors() streams the weights once; open the model again to re-read them');
    used = true;
    if (single) {
      const { size, sizeHint } = single;
      yield* readSafetensors(single.stream, {
        fileName: 'model.safetensors',
        size,
        onWarning,
        onBytes: (n) => progress({ phase: 'convert', file: 'model.safetensors', loadedBytes: n, totalBytes: Math.max(n, sizeHint ?? 0) }),
      });
    } else if (index) {
      let done = 0; // bytes of finished shards
      let current = 0;
      yield* readShardedSafetensors(index, async (file) => {
        done += current;
        current = 0;
        const s = await access.openStream(file, onDownload(file));
        if (!s) throw new ModelSourceError(`${file} (named in model.safetensors.index.json) not found in ${label}`);
        return s;
      }, {
        onWarning,
        onBytes: (file, n) => {
          current = n;
          progress({ phase: 'convert', file, loadedBytes: done + n, totalBytes: Math.max(index.totalSize ?? 0, done + n) });
        },
      });
    }
  }

  return { access, config, contextLength, estimate, tokenizerJson, tokenizerConfig, eosTokenIds: [...eos], weightBytes, tensors, warnings };
}
