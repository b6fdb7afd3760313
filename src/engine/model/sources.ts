// Where a model comes from: a Hugging Face hub id, a URL base (the bundled tiny model), files the
// user picked, or (Node, see node-source.ts) a directory. Each is a FileAccess; openModel() reads
// config.json, sizes the model against the device before any weight is fetched, checks the
// tokenizer and every weight file is there (HEAD), and hands out the weights as a single-pass
// stream of packed-f16 tensors with one monotone progress fraction.
// Downloads go through the browser Cache API ("rb-models-v1"), so a model is fetched once; cached
// copies are checked against the server's size and SHA-256 (where the hub states them) before use,
// and a bad copy is deleted and fetched again. Cached models are listable and deletable.
import { sha256Stream } from '../../lib/hash.ts';
import { formatBytes } from '../../lib/bytes.ts';
import { parseModelConfig } from './config.ts';
import { checkFits, defaultBudgetBytes, estimateGpuBytes, type DeviceLimits, type MemoryEstimate } from './memory.ts';
import { parseShardIndex, readSafetensors, readShardedSafetensors, SafetensorsError, TruncatedFileError, type ByteSource } from './safetensors.ts';
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
  /** Exact byte size when certain (local file, counted into the cache, stated by the server): lets a short file fail early. */
  size?: number;
  /** A size for progress bars only (content-length, which may be of a compressed body). */
  sizeHint?: number;
  /** Throws if the bytes read did not match the stated size or hash (call after reading the file). */
  check?: () => void;
}

/** What a source says about a weight file before it is read. */
export interface FileProbe {
  /** Exact size where stated (File.size, the cached copy, the server's HEAD). */
  size?: number;
  /** The hub's SHA-256 of the file, where it gives one (checked while the file downloads). */
  sha256?: string;
  /** Read from the browser cache: no download. */
  cached?: boolean;
  /** Downloaded into the cache first, then read: its bytes pass twice (download, convert). */
  twoPass?: boolean;
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
  /** Whether a weight file exists, and its size/hash, without reading it (undefined: absent). */
  probe?(name: string): Promise<FileProbe | undefined>;
  /** Whether this load read `name` from the browser cache. */
  fromCache?(name: string): boolean;
  /** Deletes the cached copy of `name` (found bad). */
  discard?(name: string): Promise<void>;
  /** After a failed load: removes a cache entry that holds nothing worth resuming from. */
  abandon?(): Promise<void>;
  /** Called after a successful load (records the model in the cache list). */
  commit?(): Promise<void>;
  /** Problems that did not stop the load (the cache refused a file, a stale copy was replaced). */
  readonly warnings?: string[];
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
  /** Complete, verified copies only (a download cut short is never recorded). `sha256`: the hub's, checked. */
  files: { url: string; bytes: number; sha256?: string }[];
  /** Files the source does not have (404): a cached model loads offline without asking again. */
  absent?: string[];
  /** False until a load succeeded: the verified files so far stay cached and the next load resumes from them. */
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

/** The exact size a response states for its file: the hub's x-linked-size, a range's total, or an identity content-length. */
function statedSize(res: Response): number | undefined {
  const num = (h: string | null): number | undefined => (h !== null && /^\d+$/.test(h.trim()) ? Number(h.trim()) : undefined);
  const linked = num(res.headers.get('x-linked-size'));
  if (linked !== undefined) return linked;
  const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  if (res.status === 206) return range ? Number(range[1]) : undefined;
  const enc = res.headers.get('content-encoding');
  return enc && enc !== 'identity' ? undefined : num(res.headers.get('content-length'));
}

/** The hub's SHA-256 of a file (x-linked-etag, or an ETag that is 64 hex digits: a git-lfs oid), where given. */
function statedSha256(res: Response): string | undefined {
  for (const h of ['x-linked-etag', 'etag']) {
    const v = (res.headers.get(h) ?? '').replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
    if (/^[0-9a-f]{64}$/.test(v)) return v;
  }
  return undefined;
}


/**
 * Counts (and, given a SHA-256, hashes) the bytes of one file as they pass. check() afterwards throws
 * when the file came short of `expected` or does not match the hash.
 */
function verifier(file: string, label: string, expected: number | undefined, sha: string | undefined, onBytes?: (n: number) => void, strictSize = true) {
  let n = 0;
  let ended = false;
  const hasher = sha ? sha256Stream() : undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctrl) {
      n += chunk.byteLength;
      hasher?.update(chunk);
      onBytes?.(n);
      ctrl.enqueue(chunk);
    },
    flush() { ended = true; },
  });
  return {
    stream,
    get bytes() { return n; },
    get ended() { return ended; },
    /** Throws on a short/long file or a hash mismatch (call once the bytes have passed). */
    check(): void {
      if (expected !== undefined && n !== expected) {
        if (!strictSize) return; // read partly (the parser stops after the last tensor): nothing to hash
        throw new ModelSourceError(`${file} of ${label}: the download ${n < expected ? 'stopped' : 'ran on'} at ${n} of ${expected} bytes (${formatBytes(n)} of ${formatBytes(expected)}); the connection may have dropped: load again to retry`);
      }
      if (hasher && sha) {
        const got = hasher.hex();
        if (got !== sha) throw new ModelSourceError(`${file} of ${label} does not match the hub's SHA-256 (expected ${sha.slice(0, 12)}…, got ${got.slice(0, 12)}…): the download is corrupt or the file changed while downloading; load again to retry`);
      }
    },
  };
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

/** A cached file failed its checks while being read: it was deleted; loading again fetches a fresh copy. */
export class CachedCopyError extends ModelSourceError {
  constructor(readonly file: string, label: string, readonly detail: string) {
    super(`The cached copy of ${file} of ${label} is bad (${detail}); it was deleted from the browser cache`);
    this.name = 'CachedCopyError';
  }
}

/** The Cache API would not store a file (quota, "Unexpected internal error"): the load goes on without it. */
class CacheRefusedError extends Error {
  constructor(readonly refusal: unknown) {
    super(refusal instanceof Error ? refusal.message : String(refusal));
  }
}

function isQuotaError(e: unknown): boolean {
  const err = e as { name?: string; message?: string } | undefined;
  return err?.name === 'QuotaExceededError' || /quota|no space|disk full/i.test(err?.message ?? '');
}

/**
 * What a refused cache write means for this model: why (a full storage, or the cache's own error,
 * which on a full disk is often not a quota error), what caching needs, what the browser reports,
 * and which cached models could be deleted.
 */
async function cacheRefusedMessage(file: string, label: string, id: string, needBytes: number | undefined, e: unknown): Promise<string> {
  const est = await (globalThis.navigator as Navigator | undefined)?.storage?.estimate?.().catch(() => undefined);
  const others = (await listCachedModels().catch(() => [] as ModelCacheRecord[])).filter((m) => m.id !== id);
  const reason = e instanceof Error ? e.message : String(e);
  let msg = isQuotaError(e)
    ? `The browser's storage is full: ${file} of ${label} could not be kept in the browser cache`
    : `The browser cache refused ${file} of ${label} (${reason}; the storage may be full)`;
  if (needBytes) msg += `; caching this model needs ${formatBytes(needBytes)} more`;
  if (est?.usage !== undefined && est.quota) msg += ` (the browser reports ${formatBytes(est.usage)} used of a ${formatBytes(est.quota)} quota)`;
  msg += others.length
    ? `. To make room, delete cached models in Models / Device: ${others.slice(0, 5).map((m) => `${m.id} (${formatBytes(m.bytes)})`).join(', ')}; pools and runs in the Data view use this storage too`
    : '. No other model is cached: free space on the disk, or delete pools and runs in the Data view';
  return `${msg}. The model was loaded without caching (nothing stored was deleted) and downloads again next time.`;
}

/** FileAccess over `${base}${file}` URLs, through the Cache API unless opts.cache is false. */
export function httpAccess(base: string, id: string, label: string, opts: HttpAccessOptions = {}): FileAccess {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  let storage = opts.cache === false ? undefined : cacheStorage();
  const warnings: string[] = [];
  const files = new Map<string, { bytes: number; sha256?: string }>(); // url -> verified copy stored or used this load
  const absent = new Set<string>(); // urls the source answered 404 for
  const probes = new Map<string, FileProbe | undefined>();
  const fromCache = new Set<string>(); // file names read from the cache this load
  const urlOf = (file: string): string => (base.endsWith('/') ? base : `${base}/`) + file;
  const metaKey = META_PREFIX + encodeURIComponent(id);
  const host = (url: string): string => { try { return new URL(url).host; } catch { return url; } };

  async function openCache(): Promise<Cache | undefined> {
    if (!storage) return undefined;
    try {
      return await storage.open(MODEL_CACHE_NAME);
    } catch (e) {
      storage = undefined;
      warnings.push(`The browser cache could not be opened (${(e as Error).message}); the model loads without caching.`);
      return undefined;
    }
  }

  let record: ModelCacheRecord | null | undefined; // this model's cache record (null: none)
  async function cachedRecord(cache: Cache): Promise<ModelCacheRecord | null> {
    if (record === undefined) {
      const r = await cache.match(metaKey);
      record = r ? ((await r.json()) as ModelCacheRecord) : null;
    }
    return record;
  }

  /** A network error, told apart: a server that answers without CORS headers, or no network at all. */
  async function unreachable(file: string, url: string, e: Error): Promise<Error> {
    let answered = false;
    try {
      // Without CORS the same request gives an opaque response if the server is up.
      await doFetch(url, { method: 'HEAD', mode: 'no-cors', cache: 'no-store', signal: opts.signal });
      answered = true;
    } catch {
      // no answer at all
    }
    if (opts.signal?.aborted) return new LoadCancelledError();
    const origin = (globalThis as { location?: Location }).location?.origin;
    const cross = answered && origin !== undefined && origin !== 'null' && (() => { try { return new URL(url).origin !== origin; } catch { return false; } })();
    const needs = `"Access-Control-Allow-Origin: ${origin}" (or "*") with its files (and "Access-Control-Expose-Headers: Content-Length, Content-Range, ETag" for size checks)`;
    if (cross) {
      return new ModelSourceError(`${host(url)} answered, but the browser did not let this page read ${file} of ${label}: the server may not allow cross-origin requests. It needs to send the header ${needs}. Load the files with "local files" instead, or serve them from this page's origin.`);
    }
    const otherOrigin = origin !== undefined && origin !== 'null' && (() => { try { return new URL(url).origin !== origin; } catch { return false; } })();
    // A cross-origin-isolated page (COEP) cannot make the no-cors request either: both causes stay open.
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    if (otherOrigin && isolated) {
      return new ModelSourceError(`Could not reach ${host(url)} for ${file} of ${label} (${e.message}). Are you offline? If not, the server may not allow cross-origin requests: it needs to send the header ${needs}. Cached models and the bundled tiny model still load.`);
    }
    return new ModelSourceError(`Could not reach ${host(url)} for ${file} of ${label} (${e.message}). Are you offline? Cached models and the bundled tiny model still load.`);
  }

  async function request(file: string, init: RequestInit = {}): Promise<Response> {
    const url = urlOf(file);
    if (opts.signal?.aborted) throw new LoadCancelledError();
    try {
      return await doFetch(url, opts.signal ? { ...init, signal: opts.signal } : init);
    } catch (e) {
      if (opts.signal?.aborted) throw new LoadCancelledError();
      throw await unreachable(file, url, e as Error);
    }
  }

  /** A single-page-app server (vite preview, many static hosts) answers a missing file with its
   *  index.html and status 200: no model file is HTML, so that is "absent" too. */
  function isAbsent(res: Response): boolean {
    const html = /^text\/html\b/i.test(res.headers.get('content-type') ?? '');
    return res.status === 404 || (res.ok && html);
  }

  /** The network copy of `file` (undefined when absent). */
  async function fetchFile(file: string): Promise<Response | undefined> {
    const res = await request(file);
    if (isAbsent(res)) {
      await res.body?.cancel().catch(() => {});
      absent.add(urlOf(file));
      return undefined;
    }
    if (!res.ok) throw new ModelSourceError(httpStatusMessage(file, label, urlOf(file), res.status));
    return res;
  }

  /** What the server says about `file` without sending it: HEAD, or a one-byte range GET where HEAD is refused. */
  async function ask(file: string): Promise<{ size?: number; sha256?: string } | undefined> {
    let res = await request(file, { method: 'HEAD' });
    if (res.status === 405 || res.status === 501) {
      res = await request(file, { headers: { range: 'bytes=0-0' } });
      await res.body?.cancel().catch(() => {});
    }
    if (isAbsent(res)) return undefined;
    if (!res.ok && res.status !== 206) throw new ModelSourceError(httpStatusMessage(file, label, urlOf(file), res.status));
    return { size: statedSize(res), sha256: statedSha256(res) };
  }

  /** The recorded, complete cached copy of `file`; 'absent' when the source was found not to have it. */
  async function cachedCopy(file: string): Promise<{ res: Response; bytes: number; sha256?: string } | 'absent' | undefined> {
    const cache = await openCache();
    if (!cache) return undefined;
    const url = urlOf(file);
    const rec = await cachedRecord(cache);
    if (rec?.absent?.includes(url)) return 'absent';
    const entry = rec?.files.find((f) => f.url === url);
    if (!entry) return undefined; // a copy without a record entry was cut short: fetch again
    const hit = await cache.match(url);
    return hit ? { res: hit, bytes: entry.bytes, sha256: entry.sha256 } : undefined;
  }

  async function dropCached(file: string): Promise<void> {
    const url = urlOf(file);
    files.delete(url);
    fromCache.delete(file);
    const cache = await openCache();
    if (!cache) return;
    await cache.delete(url).catch(() => false);
    const rec = await cachedRecord(cache);
    if (rec?.files.some((f) => f.url === url)) {
      const list = rec.files.filter((f) => f.url !== url);
      record = { ...rec, files: list, bytes: list.reduce((a, f) => a + f.bytes, 0), complete: false };
      await cache.put(metaKey, new Response(JSON.stringify(record), { headers: { 'content-type': 'application/json' } })).catch(() => {});
    }
  }

  /** The bytes still to cache for this model (the probed files not stored yet), for a storage-full message. */
  function stillToCache(): number {
    let n = 0;
    for (const [file, p] of probes) if (p?.size && !files.has(urlOf(file))) n += p.size;
    return n;
  }

  /** The cache refused a file: say so (with what a full storage needs) and stop caching for this load. */
  let refused = false;
  async function cacheRefused(file: string, e: unknown, bytes: number | undefined): Promise<void> {
    storage = undefined;
    refused = true;
    warnings.push(await cacheRefusedMessage(file, label, id, stillToCache() || bytes, e));
  }

  /** Streams `res` into the cache (to disk, not memory), verifying size and hash; returns the cached copy. */
  async function store(file: string, res: Response, expected: number | undefined, sha: string | undefined, onBytes?: (n: number) => void): Promise<{ res: Response; size: number }> {
    const url = urlOf(file);
    const cache = await openCache();
    if (!cache) throw new CacheRefusedError(new Error('the cache is not available'));
    const v = verifier(file, label, expected, sha, onBytes);
    const body = (res.body ?? new ReadableStream<Uint8Array>()).pipeThrough(v.stream);
    const headers = new Headers({ 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' });
    try {
      await cache.put(url, new Response(body, { headers })); // resolves once the whole body is stored
    } catch (e) {
      if (opts.signal?.aborted) throw new LoadCancelledError();
      await cache.delete(url).catch(() => false);
      // The body itself failed (connection dropped): a download error, not the cache's.
      if (!v.ended && !isQuotaError(e) && (e as Error).name === 'TypeError') {
        throw new ModelSourceError(`The download of ${file} of ${label} broke off after ${formatBytes(v.bytes)}${expected ? ` of ${formatBytes(expected)}` : ''} (${(e as Error).message}); load again to retry`);
      }
      throw new CacheRefusedError(e);
    }
    try {
      v.check();
    } catch (e) {
      await cache.delete(url).catch(() => false);
      throw e;
    }
    files.set(url, { bytes: v.bytes, sha256: sha });
    try {
      await writeRecord(cache, false);
    } catch (e) {
      throw new CacheRefusedError(e);
    }
    const back = await cache.match(url);
    if (!back) throw new CacheRefusedError(new Error(`the browser cache dropped ${url}`));
    return { res: back, size: v.bytes };
  }

  /** The model's entry in the cache list (complete after a successful load). */
  async function writeRecord(cache: Cache, complete: boolean): Promise<void> {
    const prev = await cache.match(metaKey);
    const old = prev ? ((await prev.json()) as ModelCacheRecord) : undefined;
    const all = new Map((old?.files ?? []).map((f) => [f.url, f]));
    for (const [u, f] of files) all.set(u, { url: u, ...f });
    const list = [...all.values()];
    const next: ModelCacheRecord = {
      id, label, bytes: list.reduce((a, f) => a + f.bytes, 0), date: old?.date ?? new Date().toISOString(),
      files: list, absent: [...new Set([...(old?.absent ?? []), ...absent])].filter((u) => !all.has(u)),
      complete: complete || (old?.complete ?? false),
    };
    await cache.put(metaKey, new Response(JSON.stringify(next), { headers: { 'content-type': 'application/json' } }));
    record = next;
  }

  const access: FileAccess = {
    id,
    label,
    warnings,
    async readText(file) {
      const copy = await cachedCopy(file);
      if (copy === 'absent') return undefined;
      if (copy) {
        fromCache.add(file);
        files.set(urlOf(file), { bytes: copy.bytes });
        return copy.res.text();
      }
      const res = await fetchFile(file);
      if (!res) return undefined;
      const text = await res.text();
      const cache = await openCache();
      if (cache) {
        try {
          await cache.put(urlOf(file), new Response(text, { headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } }));
          files.set(urlOf(file), { bytes: new TextEncoder().encode(text).byteLength });
          await writeRecord(cache, false);
        } catch (e) {
          await cacheRefused(file, e, text.length);
        }
      }
      return text;
    },
    async probe(file) {
      if (probes.has(file)) return probes.get(file);
      const copy = await cachedCopy(file);
      let out: FileProbe | undefined;
      if (copy === 'absent') {
        out = undefined;
      } else if (copy) {
        // Online, the cached copy is compared with what the server says now (a stale or cut copy is
        // replaced); offline it is used as it is.
        let server: { size?: number; sha256?: string } | undefined;
        let online = true;
        try {
          server = await ask(file);
        } catch (e) {
          if (e instanceof LoadCancelledError) throw e;
          online = false;
        }
        const sizeDiffers = server?.size !== undefined && server.size !== copy.bytes;
        const hashDiffers = server?.sha256 !== undefined && copy.sha256 !== undefined && server.sha256 !== copy.sha256;
        if (online && server && (sizeDiffers || hashDiffers)) {
          warnings.push(`The cached copy of ${file} (${sizeDiffers ? `${formatBytes(copy.bytes)}, the server's is ${formatBytes(server.size!)}` : `SHA-256 ${copy.sha256!.slice(0, 12)}…, the hub's is ${server.sha256!.slice(0, 12)}…`}) was out of date; it was replaced by a fresh download.`);
          await dropCached(file);
          out = { size: server.size, sha256: server.sha256, twoPass: storage !== undefined };
        } else {
          out = { size: copy.bytes, sha256: copy.sha256, cached: true };
        }
      } else {
        const server = await ask(file);
        if (!server) absent.add(urlOf(file));
        out = server ? { ...server, twoPass: storage !== undefined } : undefined;
      }
      probes.set(file, out);
      return out;
    },
    async openStream(file, onDownload) {
      const p = await access.probe!(file);
      if (!p) return undefined;
      if (p.cached) {
        const copy = await cachedCopy(file);
        if (copy && copy !== 'absent') {
          fromCache.add(file);
          files.set(urlOf(file), { bytes: copy.bytes, sha256: copy.sha256 });
          return { stream: copy.res.body ?? new ReadableStream(), size: copy.bytes, sizeHint: copy.bytes };
        }
      }
      let res = await fetchFile(file);
      if (!res) return undefined;
      const expected = p.size ?? statedSize(res);
      const report = onDownload && ((n: number) => onDownload(n, expected));
      if (storage) {
        // Download into the cache first (the browser streams it to disk), then parse from there:
        // the parser never buffers the whole file, whichever side is faster.
        try {
          const { res: cached, size } = await store(file, res, expected, p.sha256, report);
          return { stream: cached.body ?? new ReadableStream(), size, sizeHint: size };
        } catch (e) {
          if (!(e instanceof CacheRefusedError)) throw e;
          await cacheRefused(file, e.refusal, expected);
          res = await fetchFile(file); // the first body went to the cache: fetch it again to read directly
          if (!res) return undefined;
        }
      }
      const v = verifier(file, label, expected, p.sha256, undefined, false); // read while it downloads: the convert progress counts it
      return { stream: (res.body ?? new ReadableStream<Uint8Array>()).pipeThrough(v.stream), size: expected, sizeHint: expected, check: () => v.check() };
    },
    fromCache(file) {
      return fromCache.has(file);
    },
    async discard(file) {
      await dropCached(file);
    },
    async abandon() {
      await dropUnresumable();
    },
    async commit() {
      // Where the cache refused a file the copy is partial: kept only if it holds a weight file to resume from.
      if (refused) return dropUnresumable();
      const cache = await openCache();
      if (cache && files.size) await writeRecord(cache, true);
    },
  };

  /** Keeps verified weight files (the next load resumes from them); drops a record holding none. */
  async function dropUnresumable(): Promise<void> {
    if (opts.cache === false) return;
    const cache = await cacheStorage()?.open(MODEL_CACHE_NAME).catch(() => undefined);
    if (!cache) return;
    record = undefined; // re-read: this load may have written it
    const rec = await cachedRecord(cache);
    if (!rec || rec.complete) return;
    if (!rec.files.some((f) => f.url.endsWith('.safetensors'))) {
      for (const f of rec.files) await cache.delete(f.url).catch(() => false);
      await cache.delete(metaKey).catch(() => false);
      record = null;
    }
  }
  return access;
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
    async probe(name) {
      const f = byName.get(name);
      return f ? { size: f.size } : undefined;
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

/** Content errors of a file (cut short, unreadable header): for a cached copy, a reason to fetch it again. */
function isContentError(e: unknown): e is Error {
  return e instanceof TruncatedFileError || e instanceof SafetensorsError;
}

/** Reads and checks everything but the weights; weights stream on tensors(). */
export async function openModel(access: FileAccess, opts: OpenModelOptions = {}): Promise<OpenedModel> {
  const { label } = access;
  const emit = opts.onProgress ?? (() => {});
  const configText = await access.readText('config.json');
  if (configText === undefined) throw new ModelSourceError(`config.json not found in ${label}`);
  const config = parseModelConfig(parseJson(configText, 'config.json', label), `config.json of ${label}`);

  const contextLength = Math.min(opts.contextLength ?? 2048, config.maxPositionEmbeddings);
  const estimate = estimateGpuBytes(config, contextLength);
  if (opts.limits) {
    const mem = (globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory;
    checkFits(label, config, estimate, opts.limits, opts.budgetBytes ?? defaultBudgetBytes(mem));
  }

  emit({ phase: 'tokenizer', file: 'tokenizer.json', loadedBytes: 0, totalBytes: 0, fraction: 0 });
  const tokenizerJson = await access.readText('tokenizer.json');
  if (tokenizerJson === undefined) throw new ModelSourceError(`tokenizer.json not found in ${label}`);
  const tokenizerConfig = await access.readText('tokenizer_config.json');

  const eos = new Set(config.eosTokenIds);
  const gen = await access.readText('generation_config.json');
  if (gen !== undefined) {
    const g = parseJson(gen, 'generation_config.json', label) as { eos_token_id?: unknown };
    for (const v of [g.eos_token_id].flat()) if (typeof v === 'number' && Number.isInteger(v)) eos.add(v);
  }

  // Weights: one file, or an index naming shards. Every file is checked to exist before any is read.
  const indexText = await access.readText('model.safetensors.index.json');
  const index = indexText !== undefined ? parseShardIndex(parseJson(indexText, 'model.safetensors.index.json', label)) : undefined;
  const names = index ? index.shards : ['model.safetensors'];
  const plan = new Map<string, FileProbe>();
  let single: OpenedStream | undefined;
  if (access.probe) {
    emit({ phase: 'probe', loadedBytes: 0, totalBytes: names.length, fraction: 0 });
    const missing: string[] = [];
    for (const f of names) {
      const p = await access.probe(f);
      if (p) plan.set(f, p);
      else missing.push(f);
    }
    if (missing.length && !index) throw new ModelSourceError(`model.safetensors (or model.safetensors.index.json) not found in ${label}`);
    if (missing.length) {
      throw new ModelSourceError(`${missing.join(', ')} (named in model.safetensors.index.json) ${missing.length > 1 ? 'are' : 'is'} not found in ${label}; checked before downloading any weights (${names.length - missing.length} of ${names.length} shards present)`);
    }
  } else if (!index) {
    single = await access.openStream('model.safetensors');
    if (!single) throw new ModelSourceError(`model.safetensors (or model.safetensors.index.json) not found in ${label}`);
    plan.set('model.safetensors', { size: single.size ?? single.sizeHint });
  }
  const stated = [...plan.values()].map((p) => p.size);
  const weightBytes = stated.length === names.length && stated.every((n) => n !== undefined)
    ? stated.reduce((a: number, b) => a + b!, 0)
    : index?.totalSize ?? stated[0];

  // One monotone fraction over the bytes to download (files fetched into the cache first) and to convert.
  const guess = (f: string): number => plan.get(f)?.size ?? (index?.totalSize ? index.totalSize / names.length : 0);
  const units = (f: string): number => guess(f) * (plan.get(f)?.twoPass ? 2 : 1);
  const totalUnits = names.reduce((a, f) => a + units(f), 0);
  let before = 0; // units of finished files
  let fraction = 0;
  const progress = (phase: LoadProgress['phase'], file: string, loaded: number, total: number, unitsNow: number): void => {
    if (totalUnits > 0) fraction = Math.max(fraction, Math.min(0.99, unitsNow / totalUnits));
    emit({ phase, file, loadedBytes: loaded, totalBytes: Math.max(total, loaded), fraction });
  };

  const warnings: string[] = [];
  const onWarning = (m: string): void => { if (warnings.length < 20) warnings.push(m); };
  let used = false;
  async function open(file: string): Promise<OpenedStream> {
    const s = await access.openStream(file, (n, total) => progress('download', file, n, total ?? guess(file), before + n));
    if (!s) throw new ModelSourceError(`${file}${index ? ' (named in model.safetensors.index.json)' : ''} not found in ${label}`);
    return s;
  }
  async function* tensors(): AsyncGenerator<HostTensor, void, undefined> {
    if (used) throw new Error('tensors() streams the weights once; open the model again to re-read them');
    used = true;
    let current = names[0];
    let opened: OpenedStream | undefined;
    const finish = (): void => { // the file just read: check its size and hash, move the fraction on
      opened?.check?.();
      before += units(current);
      opened = undefined;
    };
    const convert = (file: string, n: number, size: number | undefined) => {
      const p = plan.get(file);
      const sz = size ?? p?.size ?? guess(file);
      progress('convert', file, n, sz, before + (p?.twoPass ? sz : 0) + n);
    };
    try {
      if (!index) {
        opened = single ?? await open('model.safetensors');
        yield* readSafetensors(opened.stream, { fileName: 'model.safetensors', size: opened.size, onWarning, onBytes: (n) => convert('model.safetensors', n, opened?.size ?? opened?.sizeHint) });
        finish();
      } else {
        yield* readShardedSafetensors(index, async (file) => {
          if (opened) finish();
          current = file;
          opened = await open(file);
          return opened;
        }, { onWarning, onBytes: (file, n, size) => convert(file, n, size) });
        finish();
      }
    } catch (e) {
      // A file cut short or unreadable is never kept: a cached copy is fetched again (CachedCopyError),
      // a download is deleted so the next load fetches it afresh.
      if (isContentError(e)) {
        const cached = access.fromCache?.(current) ?? false;
        await access.discard?.(current);
        if (cached) throw new CachedCopyError(current, label, e.message);
      }
      throw e;
    }
  }

  return { access, config, contextLength, estimate, tokenizerJson, tokenizerConfig, eosTokenIds: [...eos], weightBytes, tensors, warnings };
}
