// Selection on real pools: determinism, decontamination against the bundled eval sets (planted
// MATH500 problem with changed whitespace/LaTeX spacing), quality gate reasons, domain balance.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { importRows, jsonlRows } from '../../../src/data/import/importer.ts';
import type { Trace } from '../../../src/domain/trace.ts';
import { EvalIndex, evalItemsFromJsonl } from '../../../src/selection/eval-index.ts';
import { exactKey, normalizeText, tokens } from '../../../src/selection/normalize.ts';
import { DEFAULT_SELECTION, runSelection } from '../../../src/selection/select.ts';
import { MemSink } from '../data/mem-sink.ts';

const DATA = new URL('../../../public/data/', import.meta.url);
const text = (f: string) => readFileSync(new URL(f, DATA), 'utf8');

async function poolFrom(lines: string[], id = 'p'): Promise<Trace[]> {
  const sink = new MemSink();
  const body = new Blob([lines.join('\n')]).stream();
  await importRows(jsonlRows(body), sink, { poolName: id, source: { kind: 'file', name: 'x' }, onBadRows: 'keep-good', onCancel: 'rollback', poolId: id });
  return sink.poolTraces(id);
}

let evalIndex: EvalIndex;
let gsm: Trace[];
let math: Trace[];
const math500 = text('math500.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);

beforeAll(async () => {
  const items = ['math500', 'aime24', 'amc23', 'gsm8k_test'].flatMap((s) => evalItemsFromJsonl(s, text(`${s}.jsonl`)));
  evalIndex = new EvalIndex(items, DEFAULT_SELECTION.decontamN);
  gsm = await poolFrom(text('gsm8k_train.jsonl').split('\n').filter(Boolean).slice(0, 3000));
  // A MATH-shaped pool with several domains (MATH500 rows: only for domain/ranking tests, never decontaminated here).
  math = await poolFrom(text('math500.jsonl').split('\n').filter(Boolean), 'm');
});

describe('normaliser', () => {
  it('strips whitespace and LaTeX spacing', () => {
    expect(exactKey('\\dfrac{1}{2} + \\left( x \\right)')).toBe(exactKey('\\frac12+(x)'));
    expect(exactKey('$a\\,b\\!c\\;d\\quad e$')).toBe(exactKey('a b c d e'));
    expect(exactKey('x^{2}')).toBe(exactKey('x^2'));
    expect(normalizeText('\\tfrac{3}{4}')).toContain('\\frac');
    expect(tokens('x+y')).toEqual(tokens('x + y'));
    expect(exactKey('x + y')).not.toBe(exactKey('x - y'));
  });
});

describe('selection', () => {
  it('is deterministic: same pool, config and seed -> same ids; another seed differs', async () => {
    const cfg = { ...DEFAULT_SELECTION, targetN: 500 };
    const a = await runSelection({ traces: gsm, config: cfg, seed: 7, evalIndex });
    const b = await runSelection({ traces: [...gsm].reverse(), config: cfg, seed: 7, evalIndex });
    const c = await runSelection({ traces: gsm, config: cfg, seed: 8, evalIndex });
    expect(a.ids).toHaveLength(500);
    expect(b.ids).toEqual(a.ids);
    expect(c.ids).not.toEqual(a.ids);
    expect(new Set(a.ids).size).toBe(500);
    // Every trace has a decision, and the counts add up.
    expect(Object.keys(a.decisions)).toHaveLength(gsm.length);
    const dropped = Object.values(a.counts.dropped).reduce((x, y) => x + (y ?? 0), 0);
    expect(a.counts.kept + dropped).toBe(gsm.length);
    for (const id of a.ids) expect(a.decisions[id].kept).toBe(true);
  });

  it('catches a MATH500 problem planted with changed whitespace and LaTeX spacing', async () => {
    const src = math500.find((r) => r.problem.includes('\\frac') && r.problem.length > 150)!;
    const planted = src.problem
      .replace(/\\frac\{([^{}]+)\}\{([^{}]+)\}/g, '\\dfrac{ $1 }{ $2 }')
      .replace(/ /g, '  ')
      .replace(/\(/g, '\\left(')
      .replace(/\)/g, '\\right)')
      .replace(/=/g, '\\,=\\,');
    expect(planted).not.toBe(src.problem);
    const trace: Trace = { ...gsm[0], id: 'p:planted', seq: 99999, problem: planted, reasoning: src.solution, answer: src.answer, referenceAnswer: src.answer };
    const out = await runSelection({ traces: [...gsm.slice(0, 200), trace], config: { ...DEFAULT_SELECTION, targetN: 50 }, seed: 1, evalIndex });
    const d = out.decisions['p:planted'];
    expect(d.kept).toBe(false);
    expect(d.reason).toBe('contaminated');
    expect(d.detail).toContain(`math500 ${src.unique_id}`);
    expect(out.counts.dropped.contaminated).toBeGreaterThanOrEqual(1);
    // Without the eval index it would have survived the gate.
    const free = await runSelection({ traces: [...gsm.slice(0, 200), trace], config: { ...DEFAULT_SELECTION, targetN: 50 }, seed: 1 });
    expect(free.decisions['p:planted'].reason).not.toBe('contaminated');
  });

  it('quality gate: wrong answer, figure, repetition, truncation and near-duplicates are dropped with reasons', async () => {
    const base = gsm.slice(0, 50);
    const t = (k: number, over: Partial<Trace>): Trace => ({ ...gsm[k], id: `p:x${k}`, seq: 10000 + k, ...over });
    const extra = [
      t(1, { answer: '999999' }),
      t(2, { problem: 'As shown in the figure below, ABCD is a square. Find x.' }),
      t(3, { reasoning: 'we add the numbers and then we add them again '.repeat(40) }),
      t(4, { reasoning: gsm[4].reasoning + ' and then =' }),
      t(5, { problem: gsm[5].problem.replace(/\.$/, '!') }),
      t(6, { answer: '' }),
    ];
    const out = await runSelection({ traces: [...base, ...extra], config: { ...DEFAULT_SELECTION, targetN: 1000 }, seed: 3, evalIndex });
    const r = (k: number) => out.decisions[`p:x${k}`].reason;
    expect(r(1)).toBe('wrong-answer');
    expect(r(2)).toBe('image');
    expect(r(3)).toBe('repetitive');
    expect(r(4)).toBe('truncated');
    expect(r(5)).toBe('near-duplicate');
    expect(out.decisions['p:x5'].detail).toContain(gsm[5].id);
    expect(r(6)).toBe('no-answer');
    // Under target N, every survivor is kept: nothing is 'not-sampled', and kept + dropped = all.
    expect(out.counts.dropped['not-sampled']).toBeUndefined();
    const dropped = Object.values(out.counts.dropped).reduce((x, y) => x + (y ?? 0), 0);
    expect(out.counts.kept).toBe(base.length + extra.length - dropped);
    expect(out.counts.kept).toBeGreaterThan(40);
  });

  it('balances domains and favours harder, longer traces', async () => {
    const out = await runSelection({ traces: math, config: { ...DEFAULT_SELECTION, targetN: 140 }, seed: 5 });
    const kept = out.ids.map((id) => out.decisions[id]);
    const perDomain = new Map<string, number>();
    for (const d of kept) perDomain.set(d.domain, (perDomain.get(d.domain) ?? 0) + 1);
    expect(perDomain.size).toBe(7);
    // Uniform domain draws: 140/7 = 20 each on average; no domain gets more than twice that.
    for (const n of perDomain.values()) expect(n).toBeLessThan(40);
    const pool = Object.values(out.decisions).filter((d) => d.kept || d.reason === 'not-sampled');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(kept.map((d) => d.difficulty))).toBeGreaterThan(mean(pool.map((d) => d.difficulty)) + 0.1);
    expect(mean(kept.map((d) => d.length))).toBeGreaterThan(mean(pool.map((d) => d.length)));
  });

  it('uses the student log-likelihood for difficulty when given', async () => {
    const traces = gsm.slice(0, 300);
    const nll = new Map(traces.map((t, i) => [t.id, (i * 37) % 300]));
    const out = await runSelection({ traces, config: { ...DEFAULT_SELECTION, targetN: 30 }, seed: 2, studentNll: nll });
    expect(out.difficultySource).toBe('student');
    const hardest = traces.reduce((a, b) => (nll.get(a.id)! >= nll.get(b.id)! ? a : b));
    expect(out.decisions[hardest.id].difficulty).toBe(1);
  });
});
