// Importers on real rows from the bundled data (public/data, copied from ../shared/data) and on
// malformed input. The pipeline writes through an in-memory sink here; IndexedDB is tested in e2e.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importRows, jsonlRows, jsonRows, type ImportOptions, type RawRow } from '../../../src/data/import/importer.ts';
import { detectShape } from '../../../src/data/import/shapes.ts';
import { EvalIndex, evalItemsFromJsonl } from '../../../src/selection/eval-index.ts';
import { MemSink } from './mem-sink.ts';

const DATA = new URL('../../../public/data/', import.meta.url);
const realLines = (file: string, n: number) => readFileSync(new URL(file, DATA), 'utf8').split('\n').filter(Boolean).slice(0, n);
const realRows = (file: string, n: number) => realLines(file, n).map((l) => JSON.parse(l) as Record<string, unknown>);

function stream(...parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

const opts = (o: Partial<ImportOptions> = {}): ImportOptions => ({
  poolName: 'test', source: { kind: 'file', name: 'test.jsonl' }, onBadRows: 'keep-good', onCancel: 'rollback', poolId: 'p1', ...o,
});

async function importJsonl(text: string | Uint8Array, o: Partial<ImportOptions> = {}, sink = new MemSink()) {
  const res = await importRows(jsonlRows(stream(text), o.signal), sink, opts(o));
  return { res, sink };
}

describe('importers on real rows', () => {
  it('GSM8K rows: reasoning before ####, answer after', async () => {
    const lines = realLines('gsm8k_train.jsonl', 50);
    const { res, sink } = await importJsonl(lines.join('\n') + '\n');
    expect(res.status).toBe('ok');
    expect(res.shape).toBe('gsm8k');
    const ts = sink.poolTraces('p1');
    expect(ts).toHaveLength(50);
    expect(ts[0].problem).toMatch(/^Natalia sold clips/);
    expect(ts[0].answer).toBe('72');
    expect(ts[0].referenceAnswer).toBe('72');
    expect(ts[0].reasoning).not.toContain('####');
    expect(ts[0].segments?.length).toBeGreaterThan(0);
    expect(sink.pools.get('p1')?.counts.traces).toBe(50);
  });

  it('MATH500 rows: subject -> domain, level parsed, boxed answer', async () => {
    const { res, sink } = await importJsonl(realLines('math500.jsonl', 20).join('\n'), { evalGuard: undefined });
    expect(res.status).toBe('ok');
    expect(res.shape).toBe('math');
    const t = sink.poolTraces('p1')[0];
    expect(t.domain).toBe('Precalculus');
    expect(t.level).toBe(2);
    expect(t.referenceAnswer).toBe('\\left( 3, \\frac{\\pi}{2} \\right)');
    expect(t.answer).toBe(t.referenceAnswer);
  });

  it('AIME and AMC rows (numeric answers)', async () => {
    const { res, sink } = await importJsonl(realLines('amc23.jsonl', 5).join('\n'));
    expect(res.status).toBe('ok');
    expect(sink.poolTraces('p1')[0].referenceAnswer).toBe('27');
    const aime = await importJsonl(realLines('aime24.jsonl', 3).join('\n'));
    expect(aime.res.rows).toBe(3);
    expect(aime.sink.poolTraces('p1')[0].referenceAnswer).toBe(String(realRows('aime24.jsonl', 1)[0].answer));
  });

  it('s1K/LIMO, OpenAI chat and ShareGPT shapes built from real MATH500 rows', async () => {
    const m = realRows('math500.jsonl', 3);
    const s1 = m.map((r) => ({ question: r.problem, thinking_trajectories: [r.solution], attempt: `Final Answer: \\boxed{${r.answer}}`, solution: r.solution, cot_type: 'math' }));
    const limo = m.map((r) => ({ question: r.problem, solution: r.solution, answer: r.answer }));
    const chat = m.map((r) => ({ messages: [{ role: 'user', content: r.problem }, { role: 'assistant', content: `<think>${r.solution}</think>The answer is $\\boxed{${r.answer}}$.` }] }));
    const share = m.map((r) => ({ conversations: [{ from: 'human', value: r.problem }, { from: 'gpt', value: r.solution }] }));
    for (const [rows, shape] of [[s1, 's1k'], [limo, 'limo'], [chat, 'chat'], [share, 'sharegpt']] as const) {
      expect(detectShape(rows[0])).toBe(shape);
      const { res, sink } = await importJsonl(rows.map((r) => JSON.stringify(r)).join('\n'));
      expect(res.status, shape).toBe('ok');
      const t = sink.poolTraces('p1')[1];
      expect(t.problem).toBe(m[1].problem);
      expect(t.answer, shape).toBe(m[1].answer);
      expect(t.reasoning.length).toBeGreaterThan(20);
    }
  });

  it('JSON array file, streamed in small chunks, and {"data": [...]}', async () => {
    const rows = realRows('gsm8k_test.jsonl', 30);
    const text = JSON.stringify(rows, null, 2);
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += 97) parts.push(text.slice(i, i + 97));
    const sink = new MemSink();
    const res = await importRows(jsonRows(stream(...parts)), sink, opts());
    expect(res.status).toBe('ok');
    expect(sink.poolTraces('p1').map((t) => t.problem)).toEqual(rows.map((r) => r.question));
    const sink2 = new MemSink();
    const res2 = await importRows(jsonRows(stream(JSON.stringify({ data: rows.slice(0, 4) }))), sink2, opts());
    expect(res2.rows).toBe(4);
  });

  it('a field mapping for an unknown shape', async () => {
    const rows = realRows('math500.jsonl', 2).map((r) => ({ prompt: r.problem, work: r.solution, gold: r.answer, lvl: r.level }));
    const { res: bad } = await importJsonl(rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(bad.status).toBe('failed');
    expect(bad.message).toContain('unrecognised row shape in the first 2 rows (fields: prompt, work, gold, lvl)');
    const { res, sink } = await importJsonl(rows.map((r) => JSON.stringify(r)).join('\n'), { mapping: { problem: 'prompt', reasoning: 'work', referenceAnswer: 'gold', level: 'lvl' } });
    expect(res.status).toBe('ok');
    expect(sink.poolTraces('p1')[0].referenceAnswer).toBe(rows[0].gold);
    expect(sink.poolTraces('p1')[0].level).toBe(2);
  });
});

describe('malformed input', () => {
  const good = realLines('gsm8k_train.jsonl', 4);

  it('truncated JSON line and wrong types are reported by line and field; good rows kept', async () => {
    const lines = [good[0], good[1].slice(0, 40), good[2], JSON.stringify({ question: 42, answer: 'x #### 1' }), JSON.stringify({ question: 'q', answer: ['a', 3] }), good[3]];
    const { res, sink } = await importJsonl(lines.join('\n'));
    expect(res.status).toBe('partial');
    expect(res.rows).toBe(3);
    expect(res.issues.map((i) => i.line)).toEqual([2, 4, 5]);
    expect(res.issues[0].message).toMatch(/invalid JSON/);
    expect(res.issues[1]).toMatchObject({ field: 'question' });
    expect(res.issues[1].message).toContain('expected string, got number');
    expect(res.issues[2]).toMatchObject({ field: 'answer' });
    expect(sink.poolTraces('p1').map((t) => t.meta.line)).toEqual([1, 3, 6]);
  });

  it('all-or-nothing rolls back on a bad row, leaving earlier pools untouched', async () => {
    const sink = new MemSink();
    await importJsonl(good.join('\n'), { poolId: 'old' }, sink);
    const { res } = await importJsonl([good[0], '{"question": "x"'].join('\n'), { onBadRows: 'all-or-nothing', poolId: 'new' }, sink);
    expect(res.status).toBe('rolled-back');
    expect(sink.pools.has('new')).toBe(false);
    expect(sink.poolTraces('new')).toHaveLength(0);
    expect(sink.poolTraces('old')).toHaveLength(4);
  });

  it('truncated JSON file (array never closes)', async () => {
    const text = JSON.stringify(realRows('gsm8k_train.jsonl', 3)).slice(0, -30);
    const sink = new MemSink();
    const res = await importRows(jsonRows(stream(text)), sink, opts());
    expect(res.rows).toBe(2);
    expect(res.issues).toHaveLength(1);
    expect(res.issues[0].message).toMatch(/truncated JSON: item 3/);
  });

  it('a 10 MB line is imported; a line over the limit is reported, not held in memory', async () => {
    const big = JSON.stringify({ question: 'Long one?', answer: 'step '.repeat(2_000_000) + '\n#### 5' });
    expect(big.length).toBeGreaterThan(10_000_000);
    const parts: string[] = [good[0] + '\n'];
    for (let i = 0; i < big.length; i += 65536) parts.push(big.slice(i, i + 65536));
    parts.push('\n' + good[1] + '\n');
    const sink = new MemSink();
    const res = await importRows(jsonlRows(stream(...parts)), sink, opts());
    expect(res.status).toBe('ok');
    expect(res.rows).toBe(3);
    expect(sink.poolTraces('p1')[1].answer).toBe('5');
    const sink2 = new MemSink();
    const res2 = await importRows(jsonlRows(stream(...parts), undefined, 4_000_000), sink2, opts());
    expect(res2.rows).toBe(2);
    expect(res2.issues[0]).toMatchObject({ line: 2 });
    expect(res2.issues[0].message).toContain('longer than 4000000 bytes');
  });

  it('invalid UTF-8 fails only its line, with the byte offset', async () => {
    const enc = new TextEncoder();
    const bad = new Uint8Array([...enc.encode('{"question": "caf'), 0xc3, 0x28, ...enc.encode('", "answer": "#### 1"}\n')]);
    const sink = new MemSink();
    const res = await importRows(jsonlRows(stream(good[0] + '\n', bad, good[1])), sink, opts());
    expect(res.rows).toBe(2);
    expect(res.issues).toEqual([{ line: 2, message: 'invalid UTF-8 at byte 17 of the line' }]);
  });

  it('an empty file fails with a clear message and stores nothing', async () => {
    const { res, sink } = await importJsonl('');
    expect(res.status).toBe('failed');
    expect(res.message).toBe('empty file: no rows to import');
    expect(sink.pools.size).toBe(0);
    const { res: blank } = await importJsonl('\n\n  \n');
    expect(blank.status).toBe('failed');
  });

  it('cancel: rollback removes the partial pool; keep-good keeps written batches', async () => {
    const lines = realLines('gsm8k_train.jsonl', 300);
    const ctl = new AbortController();
    let n = 0;
    async function* rows(): AsyncGenerator<RawRow> {
      for await (const r of jsonlRows(stream(lines.join('\n')))) {
        if (++n === 250) ctl.abort();
        yield r;
      }
    }
    const sink = new MemSink();
    const res = await importRows(rows(), sink, opts({ signal: ctl.signal, batchSize: 100 }));
    expect(res.status).toBe('rolled-back');
    expect(sink.traces.size).toBe(0);
    expect(sink.pools.size).toBe(0);
    const ctl2 = new AbortController();
    let k = 0;
    async function* rows2(): AsyncGenerator<RawRow> {
      for await (const r of jsonlRows(stream(lines.join('\n')))) {
        if (++k === 250) ctl2.abort();
        yield r;
      }
    }
    const res2 = await importRows(rows2(), sink, opts({ signal: ctl2.signal, batchSize: 100, onCancel: 'keep-good' }));
    expect(res2.status).toBe('cancelled-kept');
    expect(res2.rows).toBe(249);
    expect(sink.poolTraces('p1')).toHaveLength(249);
    expect(sink.pools.get('p1')?.status).toBe('ready');
  });

  it('a failed write rolls the import back (or keeps written batches if asked)', async () => {
    const lines = realLines('gsm8k_train.jsonl', 300).join('\n');
    const sink = new MemSink();
    sink.failOnBatch = 2;
    const res = await importRows(jsonlRows(stream(lines)), sink, opts({ batchSize: 100 }));
    expect(res.status).toBe('rolled-back');
    expect(res.message).toContain("the browser's storage is full");
    expect(sink.traces.size).toBe(0);
    const sink2 = new MemSink();
    sink2.failOnBatch = 2;
    const res2 = await importRows(jsonlRows(stream(lines)), sink2, opts({ batchSize: 100, onCancel: 'keep-good' }));
    expect(res2.status).toBe('cancelled-kept');
    expect(sink2.poolTraces('p1')).toHaveLength(100);
  });

  it('an evaluation set is refused as a pool', async () => {
    const idx = new EvalIndex(evalItemsFromJsonl('math500', readFileSync(new URL('math500.jsonl', DATA), 'utf8')), 8);
    const guard = (p: string) => idx.exactMatch(p)?.set;
    const { res, sink } = await importJsonl(realLines('math500.jsonl', 100).join('\n'), { evalGuard: guard });
    expect(res.status).toBe('rolled-back');
    expect(res.message).toContain('evaluation sets cannot be used as a pool');
    expect(res.message).toContain('math500');
    expect(sink.pools.size).toBe(0);
    const ok = await importJsonl(realLines('gsm8k_train.jsonl', 100).join('\n'), { evalGuard: guard });
    expect(ok.res.status).toBe('ok');
  });
});
