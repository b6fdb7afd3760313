// Import robustness: the shape from a sample (one odd first line decides nothing), every sampled field
// listed, a forced shape, "empty problem" naming its field, continuing an interrupted import after its
// last stored line, and a full disk reported with the space the rest of the file needs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importRows, jsonlRows, type ImportOptions } from '../../../src/data/import/importer.ts';
import { detectShapeFromSample } from '../../../src/data/import/shapes.ts';
import { MemSink } from './mem-sink.ts';
import type { Trace } from '../../../src/domain/trace.ts';

const DATA = new URL('../../../public/data/', import.meta.url);
const math = readFileSync(new URL('math500.jsonl', DATA), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
// s1K-shaped rows built from real MATH500 rows (question, thinking_trajectories, attempt, solution)
const s1k = math.slice(0, 500).map((r) => ({ question: r.problem, thinking_trajectories: [r.solution], attempt: `\\boxed{${r.answer}}`, solution: r.answer, cot_type: 'math' }));

const stream = (text: string) => new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new TextEncoder().encode(text)); c.close(); } });
const opts = (o: Partial<ImportOptions> = {}): ImportOptions => ({ poolName: 't', source: { kind: 'file', name: 't.jsonl' }, onBadRows: 'keep-good', onCancel: 'rollback', poolId: 'p1', ...o });
const run = (text: string, o: Partial<ImportOptions> = {}, sink = new MemSink()) => importRows(jsonlRows(stream(text)), sink, opts(o), text.length).then((res) => ({ res, sink }));

describe('shape from a sample', () => {
  it('one odd first line: 500 s1K rows import, only the odd line is rejected (the issue\'s file)', async () => {
    const text = [JSON.stringify({ junk: 1, other: 'x' }), ...s1k.map((r) => JSON.stringify(r))].join('\n');
    const d = detectShapeFromSample(text.split('\n').slice(0, 200).map((l) => JSON.parse(l)));
    expect(d.shape).toBe('s1k');
    expect(d.counts).toEqual({ unknown: 1, s1k: 199 });
    expect(d.fields).toEqual(['junk', 'other', 'question', 'thinking_trajectories', 'attempt', 'solution', 'cot_type']);
    const { res, sink } = await run(text);
    expect(res.shape).toBe('s1k');
    expect(res.status).toBe('partial');
    expect(res.rows).toBe(500);
    expect(res.rejected).toBe(1);
    expect(res.issues[0]).toMatchObject({ line: 1, field: 'question' });
    expect(sink.poolTraces('p1')[0].problem).toBe(math[0].problem);
  });

  it('a forced shape is used as given; rows that do not fit are rejected, not the file', async () => {
    const gsmLike = s1k.slice(0, 5).map((r) => ({ question: r.question, answer: `work\n#### ${r.solution}` }));
    const text = [...gsmLike, ...s1k.slice(0, 5)].map((r) => JSON.stringify(r)).join('\n');
    const { res } = await run(text, { shape: 'gsm8k' });
    expect(res.shape).toBe('gsm8k');
    expect(res.rows).toBe(5);
    expect(res.issues.map((i) => i.field)).toEqual(Array(5).fill('answer'));
  });

  it('"empty problem" names the field it read', async () => {
    const { res } = await run([JSON.stringify({ question: '  ', answer: '#### 1' }), JSON.stringify({ question: 'q', answer: '#### 2' })].join('\n'));
    expect(res.issues[0]).toMatchObject({ line: 1, field: 'question', message: 'empty problem (field "question")' });
  });
});

describe('continue an interrupted import', () => {
  it('skips rows up to the last stored line and goes on with the next seq; no row lost or doubled', async () => {
    const lines = s1k.slice(0, 120).map((r) => JSON.stringify(r));
    lines.splice(10, 0, '{bad json');
    const text = lines.join('\n');
    const sink = new MemSink();
    // a first import that died after 50 rows: the pool is left 'importing' with seqs 0..49
    const first = await run(lines.slice(0, 51).join('\n'), {}, sink);
    expect(first.res.rows).toBe(50);
    const pool = { ...sink.pools.get('p1')!, status: 'importing' as const };
    const last = sink.poolTraces('p1').at(-1)!;
    const res = (await run(text, { shape: 's1k', resume: { pool, afterLine: Number(last.meta.line), nextSeq: last.seq + 1 } }, sink)).res;
    expect(res.status).toBe('partial'); // the bad line 11 of the first run stays counted
    expect(res.message).toBe('continued after line 51: imported 70 rows; 1 bad rows skipped');
    const all = sink.poolTraces('p1');
    expect(all.map((t) => t.seq)).toEqual([...Array(120).keys()]);
    expect(all.map((t) => t.problem)).toEqual(s1k.slice(0, 120).map((r) => r.question));
    expect(sink.pools.get('p1')).toMatchObject({ status: 'ready', counts: { traces: 120, rejected: 1 } });
  });
});

describe('storage full', () => {
  it('a quota failure says how much the rest needs and keeps or rolls back as chosen', async () => {
    const text = s1k.map((r) => JSON.stringify(r)).join('\n');
    const full = new MemSink();
    full.failOnBatch = 3;
    const quota = () => { const e = new Error('The quota has been exceeded.'); e.name = 'QuotaExceededError'; return e; };
    full.write = (async function (this: MemSink, ts: Trace[]) {
      this.batches++;
      if (this.batches >= this.failOnBatch) throw quota();
      for (const t of ts) this.traces.set(t.id, t);
    }).bind(full);
    const kept = await run(text, { batchSize: 100, onCancel: 'keep-good' }, full);
    expect(kept.res.status).toBe('cancelled-kept');
    expect(kept.res.rows).toBe(200);
    expect(kept.res.storageFull!.neededBytes).toBeGreaterThan(0);
    expect(kept.res.message).toMatch(/storage is full; the rest of this file needs about [\d.]+ (B|KiB|MiB|GiB) more: kept the 200 rows/);
    full.batches = 0;
    full.pools.clear();
    full.traces.clear();
    const rolled = await run(text, { batchSize: 100, poolId: 'p2' }, full);
    expect(rolled.res.status).toBe('rolled-back');
    expect(full.poolTraces('p2')).toHaveLength(0);
  });
});
