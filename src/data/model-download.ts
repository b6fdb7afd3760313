// HTTP model sources (the hub, a URL base) as a FileAccess, through the model store (model-cache.ts)
// in the browser. A weight file downloads into the store in segments and is parsed from there; a
// connection that drops is resumed where it stopped with an HTTP range request (the hub allows them:
// 206 + Content-Range), and a download that gives up keeps the bytes it received, so the next load
// resumes from them ("resumed at 312 MiB of 988 MiB"). A server that ignores ranges gets the file
// again from the start. Each file is checked against the server's size and the hub's SHA-256
// (x-linked-etag) where it states one; a bad cached copy is deleted and fetched again.
import { formatBytes } from '../lib/bytes.ts';
import { sha256Stream } from '../lib/hash.ts';
import {
  CachedCopyError, filesAccess, LoadCancelledError, ModelSourceError,
  type FileAccess, type FileProbe, type ModelSource,
} from '../engine/model/sources.ts';
import {
  cacheStorage, deleteStored, listCachedModels, MODEL_CACHE_NAME, putSegment, readRecord, recordBytes, SEGMENT_BYTES, storedStream,
  recordKey, writeRecord as putRecord, type CachedFile, type ModelCacheRecord, type PartialFile,
} from './model-cache.ts';
import { isQuotaError } from './quota.ts';

export { CachedCopyError };
export const HUB_BASE = 'https://huggingface.co';
/** Tries in a row without a byte of progress before a dropped download gives up (progress resets it). */
const MAX_STALLED_TRIES = 5;

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
function verifier(file: string, label: string, expected: number | undefined, sha: string | undefined, onBytes?: (n: number) => void, strictSize = true, start = 0) {
  let n = start; // bytes of the file before this stream (a resumed download's kept part, hashed by the caller through .hasher)
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
    hasher,
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
  /** Milliseconds before the n-th retry of a dropped download (default 250 * 2^(n-1)). */
  retryDelayMs?: (n: number) => number;
  /** Where the source lists its files' SHA-256 (the hub's tree API: each LFS file's oid): used when a
   *  file's own headers do not carry it (a browser follows the hub's redirect and cannot read x-linked-etag). */
  listing?: string;
}

/** The hub's tree listing: file path -> { size, sha256 } of its LFS files. */
async function hubListing(url: string, doFetch: typeof fetch, signal?: AbortSignal): Promise<Map<string, { size?: number; sha256?: string }>> {
  const out = new Map<string, { size?: number; sha256?: string }>();
  try {
    const res = await doFetch(url, signal ? { signal } : {});
    if (!res.ok) return out;
    const list = (await res.json()) as Array<{ path?: unknown; size?: unknown; lfs?: { oid?: unknown; size?: unknown } }>;
    if (!Array.isArray(list)) return out;
    for (const f of list) {
      const sha = typeof f.lfs?.oid === 'string' && /^[0-9a-f]{64}$/.test(f.lfs.oid) ? f.lfs.oid : undefined;
      const size = typeof f.lfs?.size === 'number' ? f.lfs.size : typeof f.size === 'number' ? f.size : undefined;
      if (typeof f.path === 'string') out.set(f.path, { size, sha256: sha });
    }
  } catch {
    // no listing (offline, an older server): the headers' hashes only
  }
  return out;
}

/** The Cache API would not store a file (quota, "Unexpected internal error"): the load goes on without it. */
class CacheRefusedError extends Error {
  constructor(readonly refusal: unknown) {
    super(refusal instanceof Error ? refusal.message : String(refusal));
  }
}

/** A download that gave up: `kept` bytes of it are stored to resume from. */
class DownloadBrokeError extends ModelSourceError {
  constructor(message: string, readonly kept: number) {
    super(message);
  }
}

/** The start and total of a 206 answer's Content-Range ("bytes 100-999/1000"). */
function contentRange(res: Response): { start: number; total?: number } | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(\d+|\*)\s*$/.exec(res.headers.get('content-range') ?? '');
  return m ? { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) } : undefined;
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
  const files = new Map<string, Omit<CachedFile, 'url'>>(); // url -> verified copy stored or used this load
  const partials = new Map<string, PartialFile>(); // url -> download cut short this load (kept to resume)
  const dropped = new Set<string>(); // urls whose stored copy or partial download this load deleted
  const absent = new Set<string>(); // urls the source answered 404 for
  const probes = new Map<string, FileProbe | undefined>();
  const fromCache = new Set<string>(); // file names read from the cache this load
  const urlOf = (file: string): string => (base.endsWith('/') ? base : `${base}/`) + file;
  const host = (url: string): string => { try { return new URL(url).host; } catch { return url; } };
  const retryDelay = opts.retryDelayMs ?? ((n: number) => 250 * 2 ** (n - 1));
  let listing: Promise<Map<string, { size?: number; sha256?: string }>> | undefined;

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
    if (record === undefined) record = await readRecord(cache, id);
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

  /** The network copy of `file` (undefined when absent); `from` > 0 asks for the rest from that byte. */
  async function fetchFile(file: string, from = 0): Promise<Response | undefined> {
    const res = await request(file, from > 0 ? { headers: { range: `bytes=${from}-` } } : {});
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
    const size = statedSize(res);
    let sha256 = statedSha256(res);
    if (!sha256 && opts.listing && file.endsWith('.safetensors')) {
      listing ??= hubListing(opts.listing, doFetch, opts.signal);
      const l = (await listing).get(file);
      if (l?.sha256 && (size === undefined || l.size === undefined || l.size === size)) sha256 = l.sha256;
    }
    return { size, sha256 };
  }

  /**
   * The body of `res` (which starts at byte `from` of `file`), resumed where it stopped when the
   * connection drops: a range request for the rest, or (a server that ignores ranges) the whole file
   * again with the bytes already passed on skipped. Gives up after MAX_STALLED_TRIES tries in a row
   * without progress, or at once when the size is unknown (a short file could not be told apart).
   */
  function resumingBody(file: string, res: Response, from: number, expected: number | undefined, stats: { network: number; resumes: number; restarts: number }): ReadableStream<Uint8Array> {
    let reader = (res.body ?? new ReadableStream<Uint8Array>()).getReader();
    let pos = from; // bytes of the file passed on
    let skip = 0; // bytes of the current body to drop (a whole-file answer to a range request)
    let stalled = 0;
    let lastError = '';
    const broke = (why: string): DownloadBrokeError => new DownloadBrokeError(`The download of ${file} of ${label} broke off at ${formatBytes(pos)}${expected ? ` of ${formatBytes(expected)}` : ''} (${why})`, pos);
    async function reopen(): Promise<void> {
      for (;;) {
        if (expected === undefined) throw broke(`${lastError}; the server states no size, so it cannot be resumed`);
        if (++stalled > MAX_STALLED_TRIES) throw broke(`${lastError}; ${MAX_STALLED_TRIES} tries to resume made no progress`);
        await new Promise((r) => setTimeout(r, retryDelay(stalled)));
        if (opts.signal?.aborted) throw new LoadCancelledError();
        let next: Response;
        try {
          next = await doFetch(urlOf(file), { headers: { range: `bytes=${pos}-` }, ...(opts.signal ? { signal: opts.signal } : {}) });
        } catch (e) {
          if (opts.signal?.aborted) throw new LoadCancelledError();
          lastError = (e as Error).message;
          continue;
        }
        const cr = contentRange(next);
        if (next.status === 206 && cr?.start === pos && (cr.total === undefined || cr.total === expected)) {
          stats.resumes++;
          skip = 0;
        } else if (next.status === 200 && statedSize(next) === expected) {
          stats.restarts++; // no range support: the whole file again, the part passed on skipped
          skip = pos;
        } else {
          await next.body?.cancel().catch(() => {});
          if (next.status >= 500 || next.status === 429 || next.status === 408) { lastError = `HTTP ${next.status}`; continue; }
          throw broke(`resuming it got HTTP ${next.status}${cr ? ` for ${next.headers.get('content-range')}` : ''}`);
        }
        reader = (next.body ?? new ReadableStream<Uint8Array>()).getReader();
        return;
      }
    }
    return new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        for (;;) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (e) {
            if (opts.signal?.aborted) throw new LoadCancelledError();
            lastError = (e as Error).message || String(e);
            await reopen();
            continue;
          }
          if (r.done) {
            if (expected !== undefined && pos < expected) { lastError = 'the body ended early'; await reopen(); continue; }
            ctrl.close();
            return;
          }
          let chunk = r.value;
          stats.network += chunk.byteLength;
          if (skip > 0) {
            const drop = Math.min(skip, chunk.byteLength);
            skip -= drop;
            chunk = chunk.subarray(drop);
          }
          if (!chunk.byteLength) continue;
          pos += chunk.byteLength;
          stalled = 0;
          ctrl.enqueue(chunk);
          return;
        }
      },
      cancel(reason) { return reader.cancel(reason); },
    });
  }

  /** Says how a file's download went when it was not in one piece. */
  function noteDownload(file: string, size: number | undefined, kept: number, stats: { network: number; resumes: number; restarts: number }): void {
    const parts: string[] = [];
    if (kept > 0) parts.push(`resumed at ${formatBytes(kept)}${size ? ` of ${formatBytes(size)}` : ''} (kept from an earlier download)`);
    if (stats.resumes) parts.push(`the connection dropped ${stats.resumes === 1 ? 'once' : `${stats.resumes} times`} and the download resumed where it stopped each time`);
    if (stats.restarts) parts.push(`the server does not resume downloads (no HTTP range support), so the file was fetched again from the start ${stats.restarts === 1 ? 'once' : `${stats.restarts} times`}`);
    if (!parts.length) return;
    warnings.push(`${file}: ${parts.join('; ')}; ${formatBytes(stats.network)} downloaded${size ? ` for a ${formatBytes(size)} file` : ''}.`);
  }

  /** The recorded, complete cached copy of `file`; 'absent' when the source was found not to have it. */
  async function cachedCopy(file: string): Promise<{ open: () => Promise<ReadableStream<Uint8Array> | undefined>; bytes: number; sha256?: string; parts?: number[] } | 'absent' | undefined> {
    const cache = await openCache();
    if (!cache) return undefined;
    const url = urlOf(file);
    const rec = await cachedRecord(cache);
    if (rec?.absent?.includes(url)) return 'absent';
    const entry = rec?.files.find((f) => f.url === url);
    if (!entry) return undefined; // a copy without a record entry was cut short: fetch again
    if (!(await cache.match(url))) return undefined;
    return { open: () => storedStream(cache, url, entry.parts), bytes: entry.bytes, sha256: entry.sha256, parts: entry.parts };
  }

  /** The stored partial download of `file`, if one was kept. */
  async function partialOf(file: string): Promise<PartialFile | undefined> {
    const url = urlOf(file);
    if (partials.has(url)) return partials.get(url);
    const cache = await openCache();
    if (!cache || dropped.has(url)) return undefined;
    return (await cachedRecord(cache))?.partial?.find((p) => p.url === url);
  }

  /** Deletes the stored copy and any partial download of `file`. */
  async function dropCached(file: string): Promise<void> {
    const url = urlOf(file);
    files.delete(url);
    partials.delete(url);
    dropped.add(url);
    fromCache.delete(file);
    const cache = await openCache() ?? (opts.cache === false ? undefined : await cacheStorage()?.open(MODEL_CACHE_NAME).catch(() => undefined));
    if (!cache) return;
    const rec = await cachedRecord(cache);
    const entry = rec?.files.find((f) => f.url === url);
    const part = rec?.partial?.find((p) => p.url === url);
    await deleteStored(cache, url, entry?.parts);
    if (part) await deleteStored(cache, url, part.parts);
    if (rec && (entry || part)) {
      const list = rec.files.filter((f) => f.url !== url);
      const partial = (rec.partial ?? []).filter((p) => p.url !== url);
      record = { ...rec, files: list, partial, bytes: recordBytes(list, partial), complete: false };
      await putRecord(cache, record).catch(() => {});
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

  /**
   * Streams `body` (bytes `kept.bytes`.. of `file`) into the cache in segments (to disk, not memory),
   * verifying size and hash; returns the stored copy. A download that breaks off keeps what arrived.
   */
  async function store(file: string, body: ReadableStream<Uint8Array>, kept: PartialFile | undefined, expected: number | undefined, sha: string | undefined, onBytes?: (n: number) => void): Promise<{ stream: ReadableStream<Uint8Array>; size: number }> {
    const url = urlOf(file);
    const cache = await openCache();
    if (!cache) throw new CacheRefusedError(new Error('the cache is not available'));
    const v = verifier(file, label, expected, sha, onBytes, true, kept?.bytes ?? 0);
    if (kept && v.hasher) { // the kept bytes are hashed again from the store
      const old = await storedStream(cache, url, kept.parts);
      if (!old) throw new Error(`the kept part of ${file} is gone from the browser cache`);
      for await (const c of old as unknown as AsyncIterable<Uint8Array>) v.hasher.update(c);
    }
    const parts = [...(kept?.parts ?? [])];
    let keptBytes = kept?.bytes ?? 0;
    let buf: Uint8Array[] = [];
    let bufBytes = 0;
    const flush = async (): Promise<void> => {
      if (!bufBytes) return;
      await putSegment(cache, url, parts.length, buf);
      parts.push(bufBytes);
      keptBytes += bufBytes;
      buf = [];
      bufBytes = 0;
      partials.set(url, { url, bytes: keptBytes, parts: [...parts], size: expected, sha256: sha });
      await writeRecord(cache, false);
    };
    const reader = body.pipeThrough(v.stream).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf.push(value.slice()); // a copy: the segment outlives the network's buffer
        bufBytes += value.byteLength;
        if (bufBytes >= SEGMENT_BYTES) await flush();
      }
      await flush();
    } catch (e) {
      await reader.cancel().catch(() => {});
      const writeFailed = !(e instanceof DownloadBrokeError || e instanceof LoadCancelledError || e instanceof ModelSourceError);
      if (writeFailed) { // the cache refused a segment: this file's part is dropped, nothing else
        await dropCached(file);
        throw new CacheRefusedError(e);
      }
      // The download broke off (or was cancelled): keep every byte received to resume from.
      try { await flush(); } catch { /* the storage refused the last segment: the earlier ones stay */ }
      if (e instanceof DownloadBrokeError) {
        throw new ModelSourceError(`${e.message}; ${keptBytes ? `the ${formatBytes(keptBytes)} received are kept in the browser cache: load again to resume from there` : 'load again to retry'}`);
      }
      throw e;
    }
    try {
      v.check();
    } catch (e) {
      await dropCached(file);
      throw e;
    }
    partials.delete(url);
    files.set(url, { bytes: v.bytes, sha256: sha, parts });
    try {
      await writeRecord(cache, false);
    } catch (e) {
      throw new CacheRefusedError(e);
    }
    const back = await storedStream(cache, url, parts);
    if (!back) throw new CacheRefusedError(new Error(`the browser cache dropped ${url}`));
    return { stream: back, size: v.bytes };
  }

  /** The model's entry in the cache list (complete after a successful load). */
  async function writeRecord(cache: Cache, complete: boolean): Promise<void> {
    const old = await readRecord(cache, id);
    const all = new Map((old?.files ?? []).filter((f) => !dropped.has(f.url) || files.has(f.url)).map((f) => [f.url, f]));
    for (const [u, f] of files) all.set(u, { url: u, ...f });
    const part = new Map((old?.partial ?? []).filter((p) => !dropped.has(p.url) || partials.has(p.url)).map((p) => [p.url, p]));
    for (const [u, p] of partials) part.set(u, p);
    for (const u of all.keys()) part.delete(u);
    const list = [...all.values()];
    const partial = [...part.values()];
    const next: ModelCacheRecord = {
      id, label, bytes: recordBytes(list, partial), date: old?.date ?? new Date().toISOString(),
      files: list, ...(partial.length ? { partial } : {}), absent: [...new Set([...(old?.absent ?? []), ...absent])].filter((u) => !all.has(u)),
      complete: complete || (old?.complete ?? false),
    };
    await putRecord(cache, next);
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
        const stream = await copy.open();
        if (stream) {
          fromCache.add(file);
          files.set(urlOf(file), { bytes: copy.bytes });
          return new Response(stream).text();
        }
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
        const stream = copy && copy !== 'absent' ? await copy.open() : undefined;
        if (copy && copy !== 'absent' && stream) {
          fromCache.add(file);
          files.set(urlOf(file), { bytes: copy.bytes, sha256: copy.sha256, parts: copy.parts });
          return { stream, size: copy.bytes, sizeHint: copy.bytes };
        }
      }
      // A download kept from an earlier load resumes where it stopped, if the server's file is the same.
      let kept = storage ? await partialOf(file) : undefined;
      const keptStream = kept ? await openCache().then((c) => c && storedStream(c, urlOf(file), kept!.parts)) : undefined;
      await keptStream?.cancel().catch(() => {});
      if (kept && (!keptStream || kept.bytes <= 0 || kept.size === undefined || kept.size !== p.size || kept.bytes >= kept.size || kept.sha256 !== p.sha256)) {
        await dropCached(file);
        kept = undefined;
      }
      let res = await fetchFile(file, kept?.bytes ?? 0);
      if (!res) return undefined;
      if (kept && !(res.status === 206 && contentRange(res)?.start === kept.bytes)) {
        // The server ignores ranges (200: the whole file): start again from byte 0.
        await dropCached(file);
        warnings.push(`${file}: the server does not resume downloads (no HTTP range support); the ${formatBytes(kept.bytes)} kept from an earlier download were dropped and the file fetched from the start.`);
        kept = undefined;
        if (res.status !== 200) { await res.body?.cancel().catch(() => {}); res = await fetchFile(file); if (!res) return undefined; }
      }
      const expected = p.size ?? (kept ? kept.size : statedSize(res));
      const from = kept?.bytes ?? 0;
      const stats = { network: 0, resumes: 0, restarts: 0 };
      const report = onDownload && ((n: number) => onDownload(n, expected));
      if (storage) {
        // Download into the cache first (the browser streams it to disk), then parse from there:
        // the parser never buffers the whole file, whichever side is faster.
        try {
          const { stream, size } = await store(file, resumingBody(file, res, from, expected, stats), kept, expected, p.sha256, report);
          noteDownload(file, expected, from, stats);
          return { stream, size, sizeHint: size };
        } catch (e) {
          if (!(e instanceof CacheRefusedError)) throw e;
          await cacheRefused(file, e.refusal, expected);
          res = await fetchFile(file); // the first body went to the cache: fetch it again to read directly
          if (!res) return undefined;
        }
      }
      const net = { network: 0, resumes: 0, restarts: 0 };
      const v = verifier(file, label, expected, p.sha256, undefined, false); // read while it downloads: the convert progress counts it
      const check = (): void => { noteDownload(file, expected, 0, net); v.check(); };
      return { stream: resumingBody(file, res, 0, expected, net).pipeThrough(v.stream), size: expected, sizeHint: expected, check };
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

  /** Keeps verified weight files and partial downloads (the next load resumes from them); drops a record holding neither. */
  async function dropUnresumable(): Promise<void> {
    if (opts.cache === false) return;
    const cache = await cacheStorage()?.open(MODEL_CACHE_NAME).catch(() => undefined);
    if (!cache) return;
    record = undefined; // re-read: this load may have written it
    const rec = await cachedRecord(cache);
    if (!rec || rec.complete) return;
    if (!rec.files.some((f) => f.url.endsWith('.safetensors')) && !rec.partial?.length) {
      for (const f of rec.files) await deleteStored(cache, f.url, f.parts);
      await cache.delete(recordKey(id)).catch(() => false);
      record = null;
    }
  }
  return access;
}

/** The FileAccess for a source (not 'dir': that one is Node-only, in node-model.ts). */
export function accessFor(src: ModelSource, opts: { hubBase?: string; fetch?: typeof fetch; signal?: AbortSignal; retryDelayMs?: (n: number) => number } = {}): FileAccess {
  switch (src.kind) {
    case 'hub': {
      const id = src.id.trim();
      if (!HUB_ID.test(id)) throw new ModelSourceError(`"${src.id}" is not a Hugging Face model id (expected owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct)`);
      const rev = src.revision ?? 'main';
      const hub = opts.hubBase ?? HUB_BASE;
      return httpAccess(`${hub}/${id}/resolve/${encodeURIComponent(rev)}/`, rev === 'main' ? id : `${id}@${rev}`, id, {
        fetch: opts.fetch, signal: opts.signal, retryDelayMs: opts.retryDelayMs, listing: `${hub}/api/models/${id}/tree/${encodeURIComponent(rev)}`,
      });
    }
    case 'url': {
      let base: URL;
      try {
        base = new URL(src.base);
      } catch {
        throw new ModelSourceError(`"${src.base}" is not an absolute URL`);
      }
      const href = base.href.endsWith('/') ? base.href : `${base.href}/`;
      return httpAccess(href, src.id ?? href, src.label ?? src.id ?? href, { cache: src.cache, fetch: opts.fetch, signal: opts.signal, retryDelayMs: opts.retryDelayMs });
    }
    case 'files':
      return filesAccess(src.files);
    case 'dir':
      throw new ModelSourceError('A directory source only works in Node (use openNodeDir from node-source.ts)');
  }
}

