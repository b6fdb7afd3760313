// The import pipeline: a byte stream (file, fetch body) -> rows (JSONL lines / JSON items /
// Parquet rows) -> mapped Traces -> batches written through a TraceSink (IndexedDB in the app, an
// array in tests). Every import makes a new pool, so a failed or cancelled import can be rolled
// back by deleting that pool alone: nothing stored before is touched.
import type { ImportIssue, Pool, PoolSource, Trace } from '../../domain/trace.ts';
import { segmentReasoning } from '../../segment/segment.ts';
import { newId } from '../../lib/id.ts';
import { formatBytes } from '../../lib/bytes.ts';
import { isQuotaError } from '../quota.ts';
import type { TraceSink } from '../sink.ts';
import { readLines } from './lines.ts';
import { readJsonItems } from './json-items.ts';
import { detectShapeFromSample, mapRow, problemField, RowError, SHAPE_SAMPLE_ROWS, type FieldMapping, type ShapeName } from './shapes.ts';

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
  /** Forced shape, or a field mapping ('mapped'); otherwise detected from the first SHAPE_SAMPLE_ROWS rows (rows that do not fit are rejected). */
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
  /** Continue an interrupted import into its pool: rows up to `afterLine` are skipped, seqs go on from `nextSeq`. */
  resume?: ResumeFrom;
}

export interface ResumeFrom {
  pool: Pool;
  /** Last source line already stored. */
  afterLine: number;
  nextSeq: number;
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
  /** Set when the import stopped because the browser's storage is full: about how much more the file needs. */
  storageFull?: { neededBytes: number };
}

export type { TraceSink } from '../sink.ts';

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
  const resume = opts.resume;
  const poolId = resume?.pool.id ?? opts.poolId ?? newId('pool');
  const batchSize = opts.batchSize ?? 500;
  const issues: ImportIssue[] = [];
  const firstSeq = resume?.nextSeq ?? 0;
  const afterLine = resume?.afterLine ?? 0;
  let rejected = resume?.pool.counts.rejected ?? 0;
  let seq = firstSeq;
  let written = firstSeq;
  let bytes = 0;
  let shape = opts.mapping ? 'mapped' : opts.shape;
  let evalHits = 0;
  const evalSets = new Map<string, number>();
  let batch: Trace[] = [];
  let lastProgress = 0;
  let storedChars = 0; // about what the written traces hold, to estimate the space the rest needs
  const pool: Pool = resume
    ? { ...resume.pool, status: 'importing' }
    : { id: poolId, name: opts.poolName, source: opts.source, createdAt: Date.now(), counts: { traces: 0, rejected: 0 }, status: 'importing' };
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
    for (const t of b) storedChars += t.problem.length + t.reasoning.length + t.answer.length + 300;
    progress();
  };
  // A resumed pool holds rows from before: failures leave it as it was (interrupted), never delete it.
  const drop = async () => {
    if (resume) await sink.finish({ ...pool, counts: { traces: written, rejected }, status: 'importing' });
    else await sink.discard(poolId);
  };
  const result = (status: ImportResult['status'], message: string, storageFull?: ImportResult['storageFull']): ImportResult => ({
    poolId, status, rows: status === 'rolled-back' || status === 'failed' ? 0 : seq, rejected, issues, message, shape, ...(storageFull ? { storageFull } : {}),
  });

  try {
    await sink.create(pool);
  } catch (e) {
    return result('failed', `import failed before any row was written (${describeWriteError(e)})`, isQuotaError(e) ? { neededBytes: totalBytes ?? 0 } : undefined);
  }
  try {
    const it = rows[Symbol.asyncIterator]();
    // The shape comes from a sample of rows, not from the first one.
    const pending: RawRow[] = [];
    if (!shape) {
      const sample: unknown[] = [];
      while (sample.length < SHAPE_SAMPLE_ROWS) {
        const n = await it.next();
        if (n.done) break;
        pending.push(n.value);
        if (n.value.error === undefined && (!resume || n.value.line > afterLine)) sample.push(n.value.value);
      }
      const d = detectShapeFromSample(sample);
      if (d.rows > 0 && !d.shape) {
        await drop();
        return result('failed', `unrecognised row shape in the first ${d.rows} rows (fields: ${d.fields.slice(0, 30).join(', ')}); choose a field mapping`);
      }
      shape = d.shape;
    }
    const all = async function* (): AsyncGenerator<RawRow> {
      yield* pending;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    };
    for await (const r of all()) {
      bytes = r.bytes;
      if (opts.signal?.aborted) throw abort();
      if (resume && r.line <= afterLine) continue;
      if (r.error !== undefined) {
        issue({ line: r.line, message: r.error });
        continue;
      }
      try {
        const m = mapRow(r.value, shape!, opts.mapping);
        if (!m.problem.trim()) {
          const f = problemField(shape!, opts.mapping);
          throw new RowError(f, `empty problem (field "${f}")`);
        }
        const set = opts.evalGuard?.(m.problem);
        if (set) {
          evalHits++;
          evalSets.set(set, (evalSets.get(set) ?? 0) + 1);
        }
        const t: Trace = {
          id: `${poolId}:${seq}`, poolId, seq,
          problem: m.problem, reasoning: m.reasoning, answer: m.answer,
          domain: m.domain ?? '', source: pool.source.name, teacher: m.teacher ?? opts.teacher ?? 'unknown',
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
    const full = isQuotaError(e);
    // Space the rest of the file needs: stored bytes per source byte so far (UTF-16, x2) times what is left.
    const neededBytes = full ? Math.ceil(totalBytes && bytes ? (totalBytes - bytes) * Math.max(1, (2 * storedChars) / Math.max(1, bytes)) : 2 * storedChars || 1e6) : 0;
    const what = cancelled ? 'import cancelled' : full
      ? `import failed: the browser's storage is full; the rest of this file needs about ${formatBytes(neededBytes)} more`
      : `import failed (${describeWriteError(e)})`;
    const fullInfo = full ? { neededBytes } : undefined;
    if (opts.onCancel === 'keep-good' || resume) {
      if (cancelled) {
        try {
          await flush();
        } catch {
          /* that batch is lost; earlier batches stay */
        }
      }
      if (written > 0) {
        seq = written;
        try {
          await sink.finish({ ...pool, counts: { traces: written, rejected }, status: 'ready', issues: issues.slice(0, 200) });
        } catch {
          /* the pool record stays 'importing': its rows are still offered (keep rows / continue) */
        }
        return result('cancelled-kept', `${what}: kept the ${written} rows written so far`, fullInfo);
      }
    }
    try {
      await drop();
    } catch {
      /* nothing more can be written (disk full): the pool stays 'importing' and is offered for cleanup */
    }
    return result('rolled-back', `${what}: rolled back, nothing of this file was kept (every other pool is untouched)`, fullInfo);
  }
  progress(true);
  const added = seq - firstSeq;
  if (added === 0 && !resume) {
    await sink.discard(poolId);
    if (rejected === 0) issues.push({ line: 0, message: 'empty file: no rows' });
    return result('failed', rejected === 0 ? 'empty file: no rows to import' : `no valid rows (${rejected} rejected)`);
  }
  if (!resume && evalHits > 0 && evalHits >= 0.5 * seq) {
    await sink.discard(poolId);
    const names = [...evalSets.keys()].join(', ');
    return result('rolled-back', `${evalHits} of ${seq} problems are items of the evaluation set(s) ${names}: evaluation sets cannot be used as a pool`);
  }
  if (!resume && rejected > 0 && opts.onBadRows === 'all-or-nothing') {
    await sink.discard(poolId);
    return result('rolled-back', `${rejected} bad rows: import rolled back (all-or-nothing)`);
  }
  await sink.finish({ ...pool, counts: { traces: seq, rejected }, status: 'ready', issues: issues.slice(0, 200) });
  const from = resume ? `continued after line ${afterLine}: ` : '';
  return result(rejected ? 'partial' : 'ok', rejected ? `${from}imported ${added} rows; ${rejected} bad rows skipped` : `${from}imported ${added} rows`);
}

/** A write error in words; a full disk says so (QuotaExceededError). */
export function describeWriteError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (isQuotaError(e)) return `the browser's storage is full: ${msg}`.slice(0, 400);
  return msg.slice(0, 400);
}

function abort(): Error {
  const e = new Error('import cancelled');
  e.name = 'AbortError';
  return e;
}
