import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchmark, selectSubset, facets } from '../../../src/eval/benchmarks.ts';
import { generatePlain } from '../../../src/eval/generate.ts';
import { breakdown, eta, majorityVote, score, wilson } from '../../../src/eval/metrics.ts';
import { createRun, MemoryEvalStore, runEvaluation, type Generate } from '../../../src/eval/runner.ts';
import type { EvalProgress } from '../../../src/domain/eval.ts';
import { CharTokenizer, ScriptedSession, type Script } from './scripted-session.ts';

const ROOT = resolve(__dirname, '../../..');
// The app bundles the sets under public/data/; the shared data folder has the same files.
const dataFile = (f: string) => [resolve(ROOT, 'public/data', f), resolve(ROOT, '../shared/data', f)].find(existsSync) ?? resolve(ROOT, 'tests/fixtures/grading/math500_head60.jsonl');

const MATH_ROWS = [
  { problem: 'What is 1+1?', answer: '2', subject: 'Algebra', level: 1, unique_id: 'a/1.json' },
  { problem: 'Half of one?', answer: '\\frac{1}{2}', subject: 'Algebra', level: 2, unique_id: 'a/2.json' },
  { problem: 'Root of 8?', answer: '2\\sqrt{2}', subject: 'Geometry', level: 2, unique_id: 'g/3.json' },
  { problem: 'Pair?', answer: '(1,2)', subject: 'Geometry', level: 3, unique_id: 'g/4.json' },
];
const MATH = MATH_ROWS.map((r) => JSON.stringify(r)).join('\n');

// Answers: right for 1, 2 (as 0.5), 3 (as sqrt 8); wrong bracket for 4.
const ANSWERS: Record<string, string> = { 'What is 1+1?': 'so \\boxed{2}', 'Half of one?': 'it is \\boxed{0.5}', 'Root of 8?': '\\boxed{\\sqrt{8}}', 'Pair?': '\\boxed{[1,2]}' };
const script: Script = (prompt) => {
  const q = Object.keys(ANSWERS).find((k) => prompt.includes(k));
  return q ? `Thinking... ${ANSWERS[q]}` : 'no idea';
};

function plain(session: ScriptedSession): Generate {
  const tok = new CharTokenizer();
  return (problem, o) => generatePlain(session, tok, problem, o);
}

const CONFIG = { evalSet: 'math500', subset: { kind: 'all' as const }, maxTokens: 200, seed: 7, temperature: 0, topP: 1, samples: 1, model: 'scripted' };

describe('benchmarks', () => {
  it('parses the bundled sets and reports bad rows with line and field', () => {
    const text = MATH + '\n{"problem": "no answer"}\nnot json\n{"answer": "3"}\n';
    const b = parseBenchmark('math500', text);
    expect(b.items.map((i) => i.key)).toEqual(['a/1.json', 'a/2.json', 'g/3.json', 'g/4.json']);
    expect(b.items[0]).toMatchObject({ level: '1', subject: 'Algebra', answer: '2' });
    expect(b.bad.map((x) => x.line)).toEqual([5, 6, 7]);
    expect(b.bad[0].error).toMatch(/line 5: field "answer"/);
    expect(b.bad[1].error).toMatch(/line 6: invalid JSON/);
    expect(b.bad[2].error).toMatch(/line 7: field "problem"/);
  });
  it('reads the real files: MATH500, AIME, AMC, GSM8K test', () => {
    const m = parseBenchmark('math500', readFileSync(dataFile('math500.jsonl'), 'utf8'));
    expect(m.bad).toEqual([]);
    expect(m.items.length).toBeGreaterThanOrEqual(60);
    expect(facets(m.items).levels).toEqual(['1', '2', '3', '4', '5']);
    for (const [id, n] of [['aime24', 30], ['aime25', 30], ['amc23', 40], ['gsm8k_test', 1319]] as const) {
      const f = dataFile(`${id}.jsonl`);
      if (!f.includes(id)) continue;
      const b = parseBenchmark(id, readFileSync(f, 'utf8'));
      expect(b.bad).toEqual([]);
      expect(b.items).toHaveLength(n);
    }
  });
  it('selects seeded subsets reproducibly, by level and by subject', () => {
    const items = parseBenchmark('math500', readFileSync(dataFile('math500.jsonl'), 'utf8')).items;
    const a = selectSubset(items, { kind: 'random', n: 20, seed: 1 });
    const b = selectSubset(items, { kind: 'random', n: 20, seed: 1 });
    const c = selectSubset(items, { kind: 'random', n: 20, seed: 2 });
    expect(a.map((i) => i.key)).toEqual(b.map((i) => i.key));
    expect(a.map((i) => i.key)).not.toEqual(c.map((i) => i.key));
    expect(new Set(a.map((i) => i.key)).size).toBe(20);
    expect(selectSubset(items, { kind: 'level', levels: ['5'] }).every((i) => i.level === '5')).toBe(true);
    expect(selectSubset(items, { kind: 'subject', subjects: ['Algebra'], n: 3, seed: 0 })).toHaveLength(3);
  });
});

describe('metrics', () => {
  it('Wilson interval matches the closed form', () => {
    const w = wilson(8, 10);
    expect(w.low).toBeCloseTo(0.4902, 3);
    expect(w.high).toBeCloseTo(0.9433, 3);
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
  });
  it('majority vote groups equivalent forms, ties to the first', () => {
    expect(majorityVote(['3', '4', '3.0', null])).toEqual({ answer: '3', votes: 2, index: 0 });
    expect(majorityVote(['4', '3'])).toMatchObject({ answer: '4', index: 0 });
    expect(majorityVote([null, null])).toEqual({ answer: null, votes: 0, index: -1 });
  });
  it('scores pass@1 and maj@k and breaks down', () => {
    const s = score([{ samples: [true, false], majority: true, tokens: [10, 20], level: '1' }, { samples: [false, false], majority: false, tokens: [30, 40], level: '2' }]);
    expect(s).toMatchObject({ n: 2, pass1: 0.25, majK: 0.5, k: 2, meanTokens: 25 });
    expect(breakdown([{ samples: [true], majority: true, tokens: [1], level: '10' }, { samples: [false], majority: false, tokens: [1], level: '9' }], 'level').map((g) => g.key)).toEqual(['9', '10']);
    expect(eta(2, 10, 1000)).toBe(4000);
  });
});

describe('runner', () => {
  it('evaluates every item with a scripted DecodeSession and grades with reasons', async () => {
    const store = new MemoryEvalStore();
    const bench = parseBenchmark('math500', MATH);
    const run = await createRun(store, CONFIG, bench.items, []);
    const progress: EvalProgress[] = [];
    const session = new ScriptedSession(script);
    const done = await runEvaluation(run.id, bench.items, { store, generate: plain(session), onProgress: (p) => progress.push(p) });
    expect(done.status).toBe('done');
    const items = (await store.listItems(run.id)).sort((a, b) => a.index - b.index);
    expect(items.map((i) => i.correct)).toEqual([true, true, true, false]);
    expect(items[1].reason).toMatch(/1\/2|frac\{1\}\{2\}/);
    expect(items[2].reason).toMatch(/^symbolic: /);
    expect(items[3].reason).toMatch(/brackets/);
    expect(items[0].tokens).toBe('Thinking... so \\boxed{2}'.length);
    expect(done.summary!.score.pass1).toBe(0.75);
    expect(done.summary!.bySubject.map((g) => [g.key, g.score.pass1])).toEqual([['Algebra', 1], ['Geometry', 0.5]]);
    expect(progress.at(-1)).toMatchObject({ done: 4, total: 4, correct: 3, status: 'done' });
    expect(progress.some((p) => p.etaMs !== null && p.etaMs >= 0)).toBe(true);
  });

  it('resumes after an interruption without losing or double-counting items', async () => {
    const store = new MemoryEvalStore();
    const bench = parseBenchmark('math500', MATH);
    const run = await createRun(store, CONFIG, bench.items, []);
    const signal = { aborted: false };
    let count = 0;
    const session = new ScriptedSession(script);
    const gen = plain(session);
    const first = await runEvaluation(run.id, bench.items, {
      store, signal,
      generate: async (p, o) => { const g = await gen(p, o); if (++count === 2) signal.aborted = true; return g; },
    });
    expect(first.status).toBe('cancelled');
    // The second item finished generating before the abort was seen: it counts only once it is stored.
    const stored1 = await store.listItems(run.id);
    expect(stored1.length).toBeLessThan(4);
    const before = new Map(stored1.map((i) => [i.itemKey, i.finishedAt]));
    const generated: string[] = [];
    const second = await runEvaluation(run.id, bench.items, { store, generate: async (p, o) => { generated.push(p); return gen(p, o); } });
    expect(second.status).toBe('done');
    const all = await store.listItems(run.id);
    expect(all.map((i) => i.itemKey).sort()).toEqual(bench.items.map((i) => i.key).sort());
    // Already stored items were not generated again.
    expect(generated.length).toBe(4 - before.size);
    for (const [k, t] of before) expect(all.find((i) => i.itemKey === k)!.finishedAt).toBe(t);
    expect(second.summary!.done).toBe(4);
    expect(second.summary!.score.n).toBe(4);
    expect(store.putCalls).toBe(4);
  });

  it('draws maj@k samples from per-item seeds, reproducibly', async () => {
    const vary: Script = (prompt, u) => (prompt.includes('1+1') ? (u < 0.5 ? '\\boxed{2}' : '\\boxed{3}') : '\\boxed{0}');
    const bench = parseBenchmark('math500', MATH);
    const runOnce = async () => {
      const store = new MemoryEvalStore();
      const run = await createRun(store, { ...CONFIG, samples: 5, temperature: 1 }, bench.items.slice(0, 1), []);
      await runEvaluation(run.id, bench.items, { store, generate: plain(new ScriptedSession(vary)) });
      return (await store.listItems(run.id))[0];
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(a.samples.map((s) => s.prediction)).toEqual(b.samples.map((s) => s.prediction));
    expect(a.samples).toHaveLength(5);
    const twos = a.samples.filter((s) => s.prediction === '2').length;
    expect(a.majority.correct).toBe(twos >= 3);
    expect(a.majority.votes).toBe(Math.max(twos, 5 - twos));
  });

  it('marks the run failed with the error when generation throws, keeping stored items', async () => {
    const store = new MemoryEvalStore();
    const bench = parseBenchmark('math500', MATH);
    const run = await createRun(store, CONFIG, bench.items, []);
    const gen = plain(new ScriptedSession(script));
    let n = 0;
    const r = await runEvaluation(run.id, bench.items, { store, generate: async (p, o) => { if (++n === 3) throw new Error('GPU lost'); return gen(p, o); } });
    expect(r.status).toBe('failed');
    expect(r.summary!.error).toBe('GPU lost');
    expect(r.summary!.done).toBe(2);
  });

  it('stops at the token budget and reports the stop reason', async () => {
    const session = new ScriptedSession(() => 'x'.repeat(100));
    const g = await generatePlain(session, new CharTokenizer(), 'q', { maxTokens: 10, temperature: 0, topP: 1, rng: () => 0 });
    expect(g).toMatchObject({ tokens: 10, stop: 'length', text: 'x'.repeat(10) });
  });
});

describe('runner item-level problems', () => {
  it('records a prompt that does not fit the context as a wrong item, not a failed run', async () => {
    const store = new MemoryEvalStore();
    const bench = parseBenchmark('math500', MATH);
    const run = await createRun(store, CONFIG, bench.items, []);
    // 40-char context: the chat prompt of every item is longer.
    const r = await runEvaluation(run.id, bench.items, { store, generate: plain(new ScriptedSession(script, 40)) });
    expect(r.status).toBe('done');
    const items = await store.listItems(run.id);
    expect(items).toHaveLength(4);
    expect(items[0].reason).toMatch(/does not fit the 40-token context/);
    expect(items.every((i) => !i.correct)).toBe(true);
  });
});
