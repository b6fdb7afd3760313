// Parquet rows through hyparquet, read in row slices so a large file is never decoded whole.
// Local files come as Blob/File (random access by slice); Hugging Face datasets by id are listed
// through the datasets-server API and read by HTTP range requests (online only).
import { asyncBufferFromUrl, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import type { RawRow } from './importer.ts';

export function blobBuffer(blob: Blob): AsyncBuffer {
  return { byteLength: blob.size, slice: (s, e) => blob.slice(s, e).arrayBuffer() };
}

/** BigInt (INT64 columns) -> number, so rows can be stored and JSON-exported. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

export async function* parquetRows(file: AsyncBuffer, opts: { signal?: AbortSignal; sliceRows?: number } = {}): AsyncGenerator<RawRow> {
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    yield { line: 0, error: `not a readable Parquet file: ${(e as Error).message}`, bytes: 0 };
    return;
  }
  const total = Number(metadata.num_rows);
  const step = opts.sliceRows ?? 1000;
  for (let start = 0; start < total; start += step) {
    if (opts.signal?.aborted) return;
    const end = Math.min(total, start + step);
    const rows = await parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end });
    const bytes = Math.round((file.byteLength * end) / total);
    for (let i = 0; i < rows.length; i++) yield { line: start + i + 1, value: plain(rows[i]), bytes };
  }
}

export interface HfParquetFile {
  config: string;
  split: string;
  url: string;
  size: number;
}

/** Parquet files of a Hugging Face dataset (datasets-server). Offline -> a clear error. */
export async function hfParquetFiles(datasetId: string, fetchFn: typeof fetch = fetch): Promise<HfParquetFile[]> {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(datasetId)) throw new Error(`"${datasetId}" is not a Hugging Face dataset id (owner/name)`);
  if (typeof navigator !== 'undefined' && navigator.onLine === false) {
    throw new Error('offline: Hugging Face datasets need a network connection; import a local JSONL/JSON/Parquet file instead');
  }
  let res: Response;
  try {
    res = await fetchFn(`https://datasets-server.huggingface.co/parquet?dataset=${encodeURIComponent(datasetId)}`);
  } catch (e) {
    throw new Error(`cannot reach huggingface.co (offline or blocked: ${(e as Error).message}); import a local file instead`);
  }
  if (!res.ok) throw new Error(`Hugging Face datasets-server answered ${res.status} for "${datasetId}"`);
  const body = (await res.json()) as { parquet_files?: HfParquetFile[] };
  if (!body.parquet_files?.length) throw new Error(`dataset "${datasetId}" has no Parquet files`);
  return body.parquet_files;
}

export async function hfBuffer(url: string): Promise<AsyncBuffer> {
  return asyncBufferFromUrl({ url });
}
