// The streaming JSON array scanner: item boundaries found correctly whatever the chunking, with
// brackets, braces, commas and escaped quotes inside strings, nested arrays and scalar items.
import { describe, expect, it } from 'vitest';
import { readJsonItems } from '../../../src/data/import/json-items.ts';

function stream(parts: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const q = parts.map((p) => enc.encode(p));
  return new ReadableStream({ pull(c) { const n = q.shift(); if (n) c.enqueue(n); else c.close(); } });
}

async function items(parts: string[]) {
  const out: { index: number; line: number; value?: unknown; error?: string }[] = [];
  for await (const it of readJsonItems(stream(parts))) out.push({ index: it.index, line: it.line, value: it.value, error: it.error });
  return out;
}

const tricky = [
  { question: 'a "quoted" ] } , [ { thing', answer: 'x \\\\ y \\" z #### 3' },
  { question: 'nested', meta: { list: [1, [2, { k: ']' }]], s: '{' } },
  { question: 'unicode é 数学 \u2028', answer: '#### 1' },
];

describe('readJsonItems', () => {
  it('splits a top-level array at every chunk boundary', async () => {
    const text = `\uFEFF  [\n${tricky.map((t) => JSON.stringify(t)).join(',\n')} , 42, "s,]" , null ]  `;
    const whole = await items([text]);
    expect(whole.map((x) => x.value)).toEqual([...tricky, 42, 's,]', null]);
    expect(whole.map((x) => x.line)).toEqual([2, 3, 4, 4, 4, 4]);
    for (let cut = 1; cut < text.length; cut += 7) {
      const split = await items([text.slice(0, cut), text.slice(cut)]);
      expect(split.map((x) => x.value), `cut at ${cut}`).toEqual(whole.map((x) => x.value));
    }
    const oneByOne = await items([...text]);
    expect(oneByOne.map((x) => x.value)).toEqual(whole.map((x) => x.value));
  });

  it('reports a bad item by index and line and keeps going', async () => {
    const out = await items(['[{"a": 1},\n{"a": tru},\n{"a": 3}]']);
    expect(out.map((x) => x.value)).toEqual([{ a: 1 }, undefined, { a: 3 }]);
    expect(out[1].error).toMatch(/invalid JSON in item 2/);
    expect(out[1].line).toBe(2);
  });

  it('a non-JSON file and an object without an array', async () => {
    expect((await items(['hello']))[0].error).toMatch(/expected a JSON array or object/);
    expect(await items(['{"question": "q", "answer": "#### 1"}'])).toEqual([{ index: 1, line: 1, value: { question: 'q', answer: '#### 1' }, error: undefined }]);
    // One chat row is one item, not one item per message; {"rows": [...]} gives its rows.
    const chat = { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] };
    expect((await items([JSON.stringify(chat)])).map((x) => x.value)).toEqual([chat]);
    expect((await items([JSON.stringify({ rows: [{ a: 1 }, { a: 2 }] })])).map((x) => x.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });
});
