// A run's results out and back: JSONL per item (+ a run line) and a CSV summary; thinking and
// reply recorded apart; pass@k / maj@k in the summary.
import { describe, expect, it } from 'vitest';
import { importRun, parseCsv, runsSummaryCsv, runToJson, runToJsonl } from '../../../src/eval/export.ts';
import { createRun, MemoryEvalStore, runEvaluation } from '../../../src/eval/runner.ts';
import { parseBenchmark } from '../../../src/eval/benchmarks.ts';
import { MAX_EVAL_TOKENS, splitThinking } from '../../../src/eval/thinking.ts';

const ROWS = [
  { problem: 'p1', answer: '\\frac{1}{2}', level: 1, subject: 'Algebra', unique_id: 'k1' },
  { problem: 'p2', answer: '7', level: 2, subject: 'Number, "Theory"', unique_id: 'k2' },
].map((r) => JSON.stringify(r)).join('\n');

// Two samples per item: p1 right then wrong (thinking), p2 wrong, cut off while thinking.
const SCRIPT: Record<string, string[]> = {
  p1: ['<think>\nhalf of one... maybe \\boxed{2}\n</think>\n\nThe answer is \\boxed{0.5}.', '<think>\nno\n</think>\n\\boxed{3}'],
  p2: ['<think>\nlong thinking \\boxed{7} never ends', '\\boxed{8}<|im_end|>\n<|im_start|>user\n\\boxed{7}'],
};

async function makeRun(maxTokens = 32_000) {
  const store = new MemoryEvalStore();
  const bench = parseBenchmark('math500', ROWS);
  const run = await createRun(store, { evalSet: 'math500', subset: { kind: 'all' }, maxTokens, seed: 1, temperature: 0.6, topP: 0.95, samples: 2, model: 'm', budget: null }, bench.items, []);
  const count = new Map<string, number>();
  const r = await runEvaluation(run.id, bench.items, {
    store, generate: async (p) => { const i = count.get(p) ?? 0; count.set(p, i + 1); return { text: SCRIPT[p][i], tokens: 10 + i, stop: 'eos', thinkingTokens: 6 }; },
  });
  return { run: r, items: (await store.listItems(run.id)).sort((a, b) => a.index - b.index) };
}

describe('thinking and reply apart', () => {
  it('splits at the last </think>; an unclosed thinking has no reply', () => {
    expect(splitThinking('<think>a</think> b')).toEqual({ thinking: 'a', reply: 'b', closed: true });
    expect(splitThinking('<think>a b')).toEqual({ thinking: 'a b', reply: '', closed: false });
    expect(splitThinking('just 5')).toEqual({ thinking: null, reply: 'just 5', closed: true });
  });
  it('reads the answer after the end of thinking only, and records both parts', async () => {
    const { items } = await makeRun();
    const [a, b] = items;
    expect(a.samples[0]).toMatchObject({ prediction: '0.5', correct: true, thinking: 'half of one... maybe \\boxed{2}', reply: 'The answer is \\boxed{0.5}.', thinkingTokens: 6, tokens: 10 });
    expect(b.samples[0]).toMatchObject({ prediction: null, correct: false });
    expect(b.samples[0].reason).toMatch(/cut off while thinking/);
    expect(b.samples[1]).toMatchObject({ prediction: '8', correct: false }); // not the \boxed{7} after the chat marker
    expect(b.samples[1].thinking).toBeUndefined();
  });
  it('allows up to 32K generated tokens and says so past it', async () => {
    await expect(makeRun(MAX_EVAL_TOKENS)).resolves.toBeDefined();
    await expect(makeRun(MAX_EVAL_TOKENS + 1)).rejects.toThrow(/maxTokens must be an integer from 1 to 32768/);
  });
});

describe('pass@k and maj@k in the run summary', () => {
  it('reports k = 1, 2 with the unbiased estimators', async () => {
    const { run } = await makeRun();
    // p1: c=1 of n=2 -> pass@1 1/2, pass@2 1; p2: c=0 -> 0. maj@2 p1: {0.5, 3} tie -> 1/2; p2: 0.
    expect(run.summary!.score.atK).toEqual([{ k: 1, pass: 0.25, maj: 0.25 }, { k: 2, pass: 0.5, maj: 0.25 }]);
  });
});

describe('export and import', () => {
  it('JSONL round-trips the run and every item exactly, with harness-style fields', async () => {
    const { run, items } = await makeRun();
    const text = runToJsonl(run, items);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    // acc: the item's verdict (its majority vote; a tie goes to the answer seen first)
    expect(lines[1]).toMatchObject({ type: 'item', doc_id: 0, target: '\\frac{1}{2}', filtered_resps: ['0.5', '3'], acc: 1, tokens_per_sample: [10, 11] });
    expect(lines[1].pass_at_k).toEqual({ 1: { pass: 0.5, maj: 0.5 }, 2: { pass: 1, maj: 0.5 } });
    const back = importRun(text, 'run.jsonl');
    expect(back.run).toEqual(run);
    expect(back.items).toEqual(items);
    expect(importRun(runToJson(run, items)).items).toEqual(items);
  });
  it('names the line and field of a bad file, and refuses a score the items do not hold', async () => {
    const { run, items } = await makeRun();
    const lines = runToJsonl(run, items).trim().split('\n');
    const bad = JSON.parse(lines[2]);
    delete bad.record.samples[0].correct;
    expect(() => importRun([lines[0], lines[1], JSON.stringify(bad)].join('\n'), 'x.jsonl')).toThrow(/x\.jsonl line 3: samples\[0\] needs "correct"/);
    expect(() => importRun('{"type":"run","format":"other"}', 'y.jsonl')).toThrow(/y\.jsonl line 1: field "format"/);
    const inflated = JSON.parse(lines[0]);
    inflated.run.summary.score.pass1 = 0.99;
    expect(importRun([JSON.stringify(inflated), lines[1], lines[2]].join('\n')).run.summary!.score.pass1).toBe(0.25);
  });
  it('CSV summary has one row per run with pass@k and maj@k columns', async () => {
    const a = await makeRun();
    const rows = parseCsv(runsSummaryCsv([a.run]));
    expect(rows).toHaveLength(2);
    const col = (name: string) => rows[0].indexOf(name);
    expect(rows[1][col('run_id')]).toBe(a.run.id);
    expect(Number(rows[1][col('pass1')])).toBe(0.25);
    expect(Number(rows[1][col('pass@2')])).toBe(0.5);
    expect(Number(rows[1][col('maj@2')])).toBe(0.25);
    expect(Number(rows[1][col('max_tokens')])).toBe(32000);
    expect(Number(rows[1][col('mean_tokens')])).toBe(10.5);
  });
});
