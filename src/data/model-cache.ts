// The model store: downloaded model files in the browser's Cache API ("rb-models-v1"), one record
// per model. A weight file is kept in segments of SEGMENT_BYTES (segment 0 under the file's own URL,
// the rest under part keys), so a download cut short keeps every byte it received and the next load
// resumes from there. Small files (config, tokenizer) are one entry. Nothing here fetches.

export const MODEL_CACHE_NAME = 'rb-models-v1';
/** Cache key prefixes (never fetched; .invalid cannot resolve). */
const META_PREFIX = 'https://rb-models.invalid/meta/';
const PART_PREFIX = 'https://rb-models.invalid/part/';
/** Bytes of one stored segment: a cut download loses at most the segment it was writing when the
 *  page itself is killed (a dropped connection keeps every byte). */
export const SEGMENT_BYTES = 16 << 20;

export interface CachedFile {
  url: string;
  bytes: number;
  /** The hub's SHA-256, checked while it downloaded. */
  sha256?: string;
  /** Byte length of each stored segment in order; absent: one entry under `url`. */
  parts?: number[];
}

/** A download cut short: the segments received so far, and what the server said the file is. */
export interface PartialFile {
  url: string;
  bytes: number;
  parts: number[];
  /** The server's size and SHA-256 when it started: a resume needs the same file. */
  size?: number;
  sha256?: string;
}

export interface ModelCacheRecord {
  id: string;
  label: string;
  /** Bytes of all cached files of the model, partial downloads included. */
  bytes: number;
  /** ISO date of the first download. */
  date: string;
  /** Complete, verified copies only. `sha256`: the hub's, checked. */
  files: CachedFile[];
  /** Downloads cut short, kept to resume from. */
  partial?: PartialFile[];
  /** Files the source does not have (404): a cached model loads offline without asking again. */
  absent?: string[];
  /** False until a load succeeded: the verified files so far stay cached and the next load resumes from them. */
  complete: boolean;
}

export function cacheStorage(): CacheStorage | undefined {
  return typeof caches !== 'undefined' ? caches : undefined;
}

export const recordKey = (id: string): string => META_PREFIX + encodeURIComponent(id);

/** Where segment `i` of `url` is stored (segment 0 is the URL itself). */
export const partKey = (url: string, i: number): string => (i === 0 ? url : `${PART_PREFIX}${encodeURIComponent(url)}/${i}`);

export async function readRecord(cache: Cache, id: string): Promise<ModelCacheRecord | null> {
  const r = await cache.match(recordKey(id));
  return r ? ((await r.json()) as ModelCacheRecord) : null;
}

export async function writeRecord(cache: Cache, rec: ModelCacheRecord): Promise<void> {
  await cache.put(recordKey(rec.id), new Response(JSON.stringify(rec), { headers: { 'content-type': 'application/json' } }));
}

/** Sum of a record's bytes on disk. */
export function recordBytes(files: CachedFile[], partial: PartialFile[] = []): number {
  return files.reduce((a, f) => a + f.bytes, 0) + partial.reduce((a, f) => a + f.bytes, 0);
}

/** Deletes the entries of a stored file (`parts` segments; one entry when undefined). */
export async function deleteStored(cache: Cache, url: string, parts?: number[]): Promise<void> {
  const n = Math.max(1, parts?.length ?? 1);
  for (let i = 0; i < n; i++) await cache.delete(partKey(url, i)).catch(() => false);
}

/** Stores one segment of `url`. */
export async function putSegment(cache: Cache, url: string, i: number, chunks: Uint8Array[]): Promise<void> {
  await cache.put(partKey(url, i), new Response(new Blob(chunks as BlobPart[]), { headers: { 'content-type': 'application/octet-stream' } }));
}

/** A stored file's bytes as one stream, its segments in order (the reader checks the total size).
 *  Undefined when an entry is gone. */
export async function storedStream(cache: Cache, url: string, parts?: number[]): Promise<ReadableStream<Uint8Array> | undefined> {
  if (!parts || parts.length <= 1) return (await cache.match(url))?.body ?? undefined;
  for (let i = 0; i < parts.length; i++) if (!(await cache.match(partKey(url, i)))) return undefined;
  let i = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      for (;;) {
        if (!reader) {
          if (i >= parts.length) { ctrl.close(); return; }
          const body = (await cache.match(partKey(url, i)))?.body;
          if (!body) { ctrl.close(); return; } // deleted meanwhile: the reader sees a short file
          reader = body.getReader();
        }
        const { done, value } = await reader.read();
        if (done) { reader = undefined; i++; continue; }
        ctrl.enqueue(value);
        return;
      }
    },
    cancel(reason) { return reader?.cancel(reason); },
  });
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

/** Removes a cached model's files, partial downloads and record. Returns false if it was not cached. */
export async function deleteCachedModel(id: string): Promise<boolean> {
  const storage = cacheStorage();
  if (!storage) return false;
  const cache = await storage.open(MODEL_CACHE_NAME);
  const record = await readRecord(cache, id);
  if (!record) return false;
  for (const f of [...record.files, ...(record.partial ?? [])]) await deleteStored(cache, f.url, f.parts);
  await cache.delete(recordKey(id));
  return true;
}
