// Import jobs in the data worker: local files (JSONL/JSON/Parquet), the bundled GSM8K pool, a
// Hugging Face dataset by id (online). Streams, writes per batch, reports progress, cancellable.
import { BUNDLED_POOL, bundledUrl } from '../../src/data/bundled.ts';
import { openDb } from '../../src/data/db.ts';
import { formatFromName, importRows, jsonlRows, jsonRows, type ImportOptions, type ImportProgress, type ImportResult, type RawRow } from '../../src/data/import/importer.ts';
import { blobBuffer, hfBuffer, hfParquetFiles, parquetRows } from '../../src/data/import/parquet.ts';
import { detectShape, type FieldMapping, type ShapeName } from '../../src/data/import/shapes.ts';
import { idbSink } from '../../src/data/pool-store.ts';
import { baseUrl, endJob, evalIndex, startJob } from './context.ts';

export interface ImportRequest {
  poolName?: string;
  mapping?: FieldMapping;
  shape?: ShapeName;
  onBadRows: ImportOptions['onBadRows'];
  onCancel: ImportOptions['onCancel'];
  teacher?: string;
}

export interface FilePreview {
  format: 'jsonl' | 'json' | 'parquet';
  shape?: ShapeName;
  fields: string[];
  sample: unknown[];
  error?: string;
}

async function firstRows(rows: AsyncIterable<RawRow>, n: number): Promise<{ sample: unknown[]; error?: string }> {
  const sample: unknown[] = [];
  let error: string | undefined;
  for await (const r of rows) {
    if (r.error) error ??= `line ${r.line}: ${r.error}`;
    else sample.push(r.value);
    if (sample.length >= n) break;
  }
  return { sample, error };
}

function rowsOf(file: Blob, name: string, signal?: AbortSignal): AsyncIterable<RawRow> {
  const fmt = formatFromName(name);
  if (fmt === 'parquet') return parquetRows(blobBuffer(file), { signal });
  if (fmt === 'json') return jsonRows(file.stream(), signal);
  return jsonlRows(file.stream(), signal);
}

async function guard() {
  const idx = await evalIndex(8);
  return (problem: string) => idx.exactMatch(problem)?.set;
}

async function run(jobId: string, rows: (signal: AbortSignal) => AsyncIterable<RawRow>, req: ImportRequest, source: ImportOptions['source'], total: number | undefined, onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
  const signal = startJob(jobId);
  try {
    const db = await openDb();
    return await importRows(rows(signal), idbSink(db), {
      poolName: req.poolName || source.name, source, mapping: req.mapping, shape: req.shape,
      onBadRows: req.onBadRows, onCancel: req.onCancel, teacher: req.teacher, signal,
      evalGuard: await guard(), onProgress,
    }, total);
  } finally {
    endJob(jobId);
  }
}

export const importApi = {
  /** Format, detected shape, field names and a few rows, for the field-mapping step. */
  async previewFile(file: File): Promise<FilePreview> {
    const format = formatFromName(file.name);
    const { sample, error } = await firstRows(rowsOf(file, file.name), 3);
    const first = sample.find((x) => x && typeof x === 'object') as Record<string, unknown> | undefined;
    return { format, shape: first ? detectShape(first) : undefined, fields: first ? Object.keys(first) : [], sample, error };
  },

  async importFile(jobId: string, file: File, req: ImportRequest, onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
    const format = formatFromName(file.name);
    return run(jobId, (signal) => rowsOf(file, file.name, signal), req, { kind: 'file', name: file.name, format }, file.size, onProgress);
  },

  async importBundledPool(jobId: string, onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
    const res = await fetch(bundledUrl(baseUrl(), BUNDLED_POOL.file));
    if (!res.ok || !res.body) throw new Error(`cannot load ${BUNDLED_POOL.file}: HTTP ${res.status}`);
    const total = Number(res.headers.get('content-length')) || undefined;
    const body = res.body;
    return run(jobId, (signal) => jsonlRows(body, signal), { poolName: BUNDLED_POOL.title, onBadRows: 'keep-good', onCancel: 'rollback', teacher: 'human (GSM8K)' },
      { kind: 'bundled', name: BUNDLED_POOL.title, format: 'jsonl', provenance: `${BUNDLED_POOL.provenance} (${BUNDLED_POOL.licence})` }, total, onProgress);
  },

  async importHf(jobId: string, datasetId: string, split: string, req: ImportRequest, onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
    const files = await hfParquetFiles(datasetId);
    const f = files.find((x) => x.split === split) ?? files[0];
    const buf = await hfBuffer(f.url);
    return run(jobId, (signal) => parquetRows(buf, { signal }), req, { kind: 'huggingface', name: `${datasetId} (${f.config}/${f.split})`, format: 'parquet' }, buf.byteLength, onProgress);
  },
};
