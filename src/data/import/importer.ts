// The import pipeline: a byte stream (file, fetch body) -> rows (JSONL lines / JSON items /
// Parquet rows) -> mapped Traces -> batches written through a TraceSink (IndexedDB in the app, an
// array in tests). Every import makes a new pool, so a failed or cancelled import can be rolled
// back by deleting that pool alone: nothing stored before is touched.
import type { ImportIssue, Pool, PoolSource, Trace } from '../../domain/trace.ts';
import { segmentReasoning } from '../../segment/segment.ts';
import { newId } from '../../lib/id.ts';
import { readLines } from './lines.ts';
import { readJsonItems } from './json-items.ts';
import { detectShape, mapRow, RowError, type FieldMapping, type ShapeName } from './shapes.ts';

export type ImportFormat = 'jsonl' | 'json' | 'parquet';

export interface RawRow {
  line: number;
  value?: unknown;
  error?: string;
  bytes: number;
}

export interface ImportOptions {
  poolName: string;
  source: PoolSource;
  /** Forced shape, or a field mapping ('mapped'); otherwise detected from the first object row. */
  shape?: ShapeName;
  mapping?: FieldMapping;
  /** 'keep-good': bad rows are listed and skipped; 'all-or-nothing': any bad row rolls back the import. */
  onBadRows: 'keep-good' | 'all-or-nothing';
  /** On cancel: delete what this import wrote, or keep the rows written so far as a pool. */
  onCancel: 'rollback' | 'keep-good';
  teacher?: string;
  batchSize?: number;
  signal?: AbortSignal;
  /** Returns the evaluation set a problem belongs to (exact normalised match), if any. */
  evalGuard?: (problem: string) => string | undefined;
  onProgress?: (p: ImportProgress) => void;
  /** Pool ids are random by default; tests pass a fixed one. */
  poolId?: string;
}

export interface ImportProgress {
  bytes: number;
  totalBytes?: number;
  rows: number;
  rejected: number;
}

export interface ImportResult {
  poolId: string;
  /** ok: all rows; partial: good rows kept, bad listed; rolled-back: nothing kept; failed: nothing readable. */
  status: 'ok' | 'partial' | 'rolled-back' | 'cancelled-kept' | 'failed';
  rows: number;
  rejected: number;
  issues: ImportIssue[];
  message: string;
  shape?: ShapeName;
}

export interface TraceSink {
  create(pool: Pool): Promise<void>;
  write(traces: Trace[]): Promise<void>;
  finish(pool: Pool): Promise<void>;
  /** Removes the pool and every trace it holds. */
  discard(poolId: string): Promise<void>;
}

export const MAX_ISSUES = 1000;

export function formatFromName(name: string): ImportFormat {
  const n = name.toLowerCase();
  if (n.endsWith('.parquet')) return 'parquet';
  if (n.endsWith('.json')) return 'json';
  return 'jsonl';
}

/** Rows of a JSONL stream: blank lines skipped, each line parsed alone. */
export async function* jsonlRows(stream: ReadableStream<Uint8Array>, signal?: AbortSignal, maxLineBytes?: number): AsyncGenerator<RawRow> {
  for await (const l of readLines(stream, { signal, maxLineBytes })) {
    if (l.error) {
      yield { line: l.line, error: l.error, bytes: l.bytes };
      continue;
    }
    const t = l.text!.trim();
    if (!t) continue;
    try {
      yield { line: l.line, value: JSON.parse(t), bytes: l.bytes };
    } catch (e) {
      yield { line: l.line, error: `invalid JSON: ${(e as Error).message}`, bytes: l.bytes };
    }
  }
}

export async function* jsonRows(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<RawRow> {
  for await (const it of readJsonItems(stream, { signal })) {
    yield { line: it.line || it.index, value: it.value, error: it.error, bytes: it.bytes };
  }
}

export function estimateTokens(s: string): number {
  return Math.ceil(s.length / 4);
}

export async function importRows(rows: AsyncIterable<RawRow>, sink: TraceSink, opts: ImportOptions, totalBytes?: number): Promise<ImportResult> {
  const poolId = opts.poolId ?? newId('pool');
  const batchSize = opts.batchSize ?? 500;
  const issues: ImportIssue[] = [];
  let rejected = 0;
  let seq = 0;
  let written = 0;
  let bytes = 0;
  let shape = opts.mapping ? 'mapped' : opts.shape;
  let evalHits = 0;
  const evalSets = new Map<string, number>();
  let batch: Trace[] = [];
  let lastProgress = 0;
  const pool: Pool = {
    id: poolId, name: opts.poolName, source: opts.source, createdAt: Date.now(),
    counts: { traces: 0, rejected: 0 }, status: 'importing',
  };
  const issue = (i: ImportIssue) => {
    rejected++;
    if (issues.length < MAX_ISSUES) issues.push(i);
  };
  const progress = (force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < 100) return;
    lastProgress = now;
    opts.onProgress?.({ bytes, totalBytes, rows: seq, rejected });
  };
  const flush = async () => {
    if (!batch.length) return;
    const b = batch;
    batch = [];
    await sink.write(b);
    written += b.length;
    progress();
  };
  const result = (status: ImportResult['status'], message: string): ImportResult => ({ poolId, status, rows: status === 'rolled-back' || status === 'failed' ? 0 : seq, rejected, issues, message, shape });

  await sink.create(pool);
  try {
    for await (const r of rows) {
      bytes = r.bytes;
      if (opts.signal?.aborted) throw abort();
      if (r.error !== undefined) {
        issue({ line: r.line, message: r.error });
        continue;
      }
      if (!shape) {
        shape = detectShape(r.value);
        if (!shape) {
          const fields = r.value && typeof r.value === 'object' ? Object.keys(r.value as object).join(', ') : typeof r.value;
          await sink.discard(poolId);
          return result('failed', `line ${r.line}: unrecognised row shape (fields: ${fields}); choose a field mapping`);
        }
      }
      try {
        const m = mapRow(r.value, shape, opts.mapping);
        if (!m.problem.trim()) throw new RowError(undefined, 'empty problem');
        const set = opts.evalGuard?.(m.problem);
        if (set) {
          evalHits++;
          evalSets.set(set, (evalSets.get(set) ?? 0) + 1);
        }
        const t: Trace = {
          id: `${poolId}:${seq}`, poolId, seq,
          problem: m.problem, reasoning: m.reasoning, answer: m.answer,
          domain: m.domain ?? '', source: opts.source.name, teacher: m.teacher ?? opts.teacher ?? 'unknown',
          tokenCounts: { problem: estimateTokens(m.problem), reasoning: estimateTokens(m.reasoning), answer: estimateTokens(m.answer), method: 'estimate' },
          segments: segmentReasoning(m.reasoning),
          meta: { ...m.meta, line: r.line },
        };
        if (m.referenceAnswer !== undefined) t.referenceAnswer = m.referenceAnswer;
        if (m.level !== undefined) t.level = m.level;
        batch.push(t);
        seq++;
      } catch (e) {
        const field = e instanceof RowError ? e.field : undefined;
        issue({ line: r.line, field, message: (e as Error).message });
        continue;
      }
      if (batch.length >= batchSize) await flush();
    }
    if (opts.signal?.aborted) throw abort();
    await flush();
  } catch (e) {
    // Cancelled, or a read/write failed: keep the batches already written, or roll back, as chosen.
    const cancelled = (e as Error).name === 'AbortError';
    const what = cancelled ? 'import cancelled' : `import failed (${(e as Error).message})`;
    if (opts.onCancel === 'keep-good') {
      if (cancelled) {
        try {
          await flush();
        } catch {
          /* that batch is lost; earlier batches stay */
        }
      }
      if (written > 0) {
        seq = written;
        await sink.finish({ ...pool, counts: { traces: written, rejected }, status: 'ready', issues: issues.slice(0, 200) });
        return result('cancelled-kept', `${what}: kept the ${written} rows written so far`);
      }
    }
    await sink.discard(poolId);
    return result('rolled-back', `${what}: rolled back, nothing was kept`);
  }
  progress(true);
  if (seq === 0) {
    await sink.discard(poolId);
    if (rejected === 0) issues.push({ line: 0, message: 'empty file: no rows' });
    return result('failed', rejected === 0 ? 'empty file: no rows to import' : `no valid rows (${rejected} rejected)`);
  }
  if (evalHits > 0 && evalHits >= 0.5 * seq) {
    await sink.discard(poolId);
    const names = [...evalSets.keys()].join(', ');
    return result('rolled-back', `${evalHits} of ${seq} problems are items of the evaluation set(s) ${names}: evaluation sets cannot be used as a pool`);
  }
  if (rejected > 0 && opts.onBadRows === 'all-or-nothing') {
    await sink.discard(poolId);
    return result('rolled-back', `${rejected} bad rows: import rolled back (all-or-nothing)`);
  }
  await sink.finish({ ...pool, counts: { traces: seq, rejected }, status: 'ready', issues: issues.slice(0, 200) });
  return result(rejected ? 'partial' : 'ok', rejected ? `imported ${seq} rows; ${rejected} bad rows skipped` : `imported ${seq} rows`);
}

function abort(): Error {
  const e = new Error('import cancelled');
  e.name = 'AbortError';
  return e;
}
