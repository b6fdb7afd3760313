// Parquet import through hyparquet: a file written with hyparquet-writer from real MATH500 rows,
// read back in row slices into the same pipeline as JSONL.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { importRows } from '../../../src/data/import/importer.ts';
import { blobBuffer, hfParquetFiles, parquetRows } from '../../../src/data/import/parquet.ts';
import { MemSink } from './mem-sink.ts';

const rows = readFileSync(new URL('../../../public/data/math500.jsonl', import.meta.url), 'utf8')
  .split('\n').filter(Boolean).slice(0, 120).map((l) => JSON.parse(l) as Record<string, string | number>);

describe('parquet importer', () => {
  it('imports real MATH500 rows from a Parquet file, slice by slice', async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'problem', data: rows.map((r) => r.problem), type: 'STRING' },
        { name: 'solution', data: rows.map((r) => r.solution), type: 'STRING' },
        { name: 'answer', data: rows.map((r) => r.answer), type: 'STRING' },
        { name: 'subject', data: rows.map((r) => r.subject), type: 'STRING' },
        { name: 'level', data: rows.map((r) => BigInt(r.level)), type: 'INT64' },
      ],
    });
    const sink = new MemSink();
    const res = await importRows(parquetRows(blobBuffer(new Blob([buf])), { sliceRows: 50 }), sink,
      { poolName: 'pq', source: { kind: 'file', name: 'm.parquet' }, onBadRows: 'keep-good', onCancel: 'rollback', poolId: 'p' });
    expect(res.status).toBe('ok');
    const ts = sink.poolTraces('p');
    expect(ts).toHaveLength(120);
    expect(ts[119].problem).toBe(rows[119].problem);
    expect(ts[119].referenceAnswer).toBe(rows[119].answer);
    expect(ts[119].level).toBe(rows[119].level);
    expect(ts[119].domain).toBe(rows[119].subject);
  });

  it('a file that is not Parquet gives a clear error', async () => {
    const sink = new MemSink();
    const res = await importRows(parquetRows(blobBuffer(new Blob(['{"a":1}\n']))), sink,
      { poolName: 'pq', source: { kind: 'file', name: 'x.parquet' }, onBadRows: 'keep-good', onCancel: 'rollback', poolId: 'p' });
    expect(res.status).toBe('failed');
    expect(res.issues[0].message).toMatch(/not a readable Parquet file/);
  });

  it('Hugging Face by id: unreachable network gives a clear message', async () => {
    const offlineFetch = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    await expect(hfParquetFiles('openai/gsm8k', offlineFetch)).rejects.toThrow(/cannot reach huggingface.co .*import a local file instead/);
    await expect(hfParquetFiles('not a dataset id!', offlineFetch)).rejects.toThrow(/not a Hugging Face dataset id/);
  });
});
