// Import jobs in the data worker: local files (JSONL/JSON/Parquet), the bundled GSM8K pool, a
// Hugging Face dataset by id (online). Streams, writes per batch, reports progress, cancellable.
import { BUNDLED_POOL, bundledUrl } from '../../src/data/bundled.ts';
import { openDb } from '../../src/data/db.ts';
import { formatFromName, importRows, jsonlRows, jsonRows, type ImportOptions, type ImportProgress, type ImportResult, type RawRow } from '../../src/data/import/importer.ts';
import { blobBuffer, hfBuffer, hfParquetFiles, parquetRows } from '../../src/data/import/parquet.ts';
import { detectShapeFromSample, SHAPE_SAMPLE_ROWS, type FieldMapping, type ShapeName } from '../../src/data/import/shapes.ts';
import { fileFingerprint } from '../../src/data/import/fingerprint.ts';
import { idbSink, interruptedImport, lastStored } from '../../src/data/pool-store.ts';
import { deletables, storageFullAdvice } from '../../src/data/storage-advice.ts';
import { baseUrl, endJob, evalIndex, startJob } from './context.ts';

export interface ImportRequest {
  poolName?: string;
  mapping?: FieldMapping;
  shape?: ShapeName;
  onBadRows: ImportOptions['onBadRows'];
  onCancel: ImportOptions['onCancel'];
  teacher?: string;
  /** Continue the interrupted import of the same file (by fingerprint) from its last stored line. */
  resumePoolId?: string;
}

export interface FilePreview {
  format: 'jsonl' | 'json' | 'parquet';
  /** The shape most rows of the sample have. */
  shape?: ShapeName;
  /** Rows of the sample per shape ('unknown' for rows of no known shape). */
  shapeCounts: Record<string, number>;
  sampleRows: number;
  /** Every field seen in the sample. */
  fields: string[];
  sample: unknown[];
  error?: string;
  fingerprint: string;
  /** An interrupted import of this same file: continue from its last stored line. */
  resumable?: { poolId: string; name: string; traces: number; afterLine: number };
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
    let resume: ImportOptions['resume'];
    let shape = req.shape;
    let mapping = req.mapping;
    if (req.resumePoolId) {
      const pool = await db.get('pools', req.resumePoolId);
      if (!pool || pool.status !== 'importing') throw new Error('that interrupted import is no longer stored (kept or deleted?): import the file anew');
      if (source.fingerprint && pool.source.fingerprint !== source.fingerprint) throw new Error(`this is not the file of the interrupted import "${pool.name}" (its fingerprint differs)`);
      resume = { pool, ...(await lastStored(pool.id, db)) };
      shape = (pool.source.shape as ShapeName | undefined) ?? shape;
      mapping = (pool.source.mapping as FieldMapping | undefined) ?? mapping;
    }
    // What could be deleted, listed now: after a disk-full failure the database may not open until space is freed.
    const before = await deletables(undefined, db).catch(() => []);
    const src = { ...source, ...(shape ? { shape } : {}), ...(mapping ? { mapping: { ...mapping } as Record<string, string> } : {}) };
    const res = await importRows(rows(signal), idbSink(db), {
      poolName: req.poolName || source.name, source: src, mapping, shape,
      onBadRows: req.onBadRows, onCancel: req.onCancel, teacher: req.teacher, signal,
      evalGuard: await guard(), onProgress, resume,
    }, total);
    if (res.storageFull) res.message = `${res.message}. ${await storageFullAdvice(res.storageFull.neededBytes, res.status === 'rolled-back' ? res.poolId : undefined, before)}`;
    return res;
  } finally {
    endJob(jobId);
  }
}

export const importApi = {
  /** Format, detected shape, field names and a few rows, for the field-mapping step. */
  /** Format, shape and fields from a sample of the first SHAPE_SAMPLE_ROWS rows, and an interrupted import of the same file. */
  async previewFile(file: File): Promise<FilePreview> {
    const format = formatFromName(file.name);
    const { sample, error } = await firstRows(rowsOf(file, file.name), SHAPE_SAMPLE_ROWS);
    const d = detectShapeFromSample(sample);
    const fingerprint = await fileFingerprint(file);
    const db = await openDb();
    const pool = await interruptedImport(fingerprint, db);
    const resumable = pool ? { poolId: pool.id, name: pool.name, traces: pool.counts.traces, afterLine: (await lastStored(pool.id, db)).afterLine } : undefined;
    return { format, shape: d.shape, shapeCounts: d.counts, sampleRows: d.rows, fields: d.fields, sample: sample.slice(0, 3), error, fingerprint, ...(resumable ? { resumable } : {}) };
  },

  async importFile(jobId: string, file: File, req: ImportRequest, onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
    const format = formatFromName(file.name);
    const fingerprint = await fileFingerprint(file);
    return run(jobId, (signal) => rowsOf(file, file.name, signal), req, { kind: 'file', name: file.name, format, fingerprint }, file.size, onProgress);
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
