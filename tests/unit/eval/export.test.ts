import { describe, expect, it } from 'vitest';
import { budgetCurves } from '../../../src/eval/budget-curve.ts';
import { csvField, parseCsv, runToCsv, runToJson } from '../../../src/eval/export.ts';
import { createRun, MemoryEvalStore, runEvaluation } from '../../../src/eval/runner.ts';
import { parseBenchmark } from '../../../src/eval/benchmarks.ts';
import type { EvalRunRecord } from '../../../src/domain/eval.ts';

const ROWS = [
  { problem: 'p1', answer: '\\frac{1}{2}', level: 1, subject: 'Algebra', unique_id: 'k1' },
  { problem: 'p2', answer: '=SUM(A1)', level: 2, subject: 'Number, "Theory"', unique_id: 'k2' },
].map((r) => JSON.stringify(r)).join('\n');

async function makeRun(budget: number | null, answers: Record<string, string>) {
  const store = new MemoryEvalStore();
  const bench = parseBenchmark('math500', ROWS);
  const run = await createRun(store, { evalSet: 'math500', subset: { kind: 'all' }, maxTokens: 50, seed: 1, temperature: 0, topP: 1, samples: 1, model: 'm', budget }, bench.items, []);
  const r = await runEvaluation(run.id, bench.items, { store, generate: async (p) => ({ text: answers[p], tokens: 3, stop: 'eos' }) });
  return { run: r, items: await store.listItems(run.id) };
}

describe('export', () => {
  it('CSV round-trips through a CSV parser with quotes, commas and formula guards', async () => {
    const { run, items } = await makeRun(null, { p1: '\\boxed{0.5}', p2: 'The answer is =SUM(A1), "x"' });
    const csv = runToCsv(run, items);
    const rows = parseCsv(csv);
    expect(rows[0]).toContain('reason');
    expect(rows).toHaveLength(3);
    const col = (name: string) => rows[0].indexOf(name);
    expect(rows[1][col('item_key')]).toBe('k1');
    expect(rows[1][col('correct')]).toBe('1');
    expect(rows[1][col('prediction')]).toBe('0.5');
    expect(rows[2][col('subject')]).toBe('Number, "Theory"');
    expect(rows[2][col('reference')]).toBe("'=SUM(A1)");
    expect(csvField('-2')).toBe('-2');
    expect(csvField('-cmd')).toBe("'-cmd");
  });
  it('JSON holds the run and its items', async () => {
    const { run, items } = await makeRun(null, { p1: '\\boxed{1/2}', p2: 'no' });
    const j = JSON.parse(runToJson(run, items));
    expect(j.run.id).toBe(run.id);
    expect(j.items.map((i: { itemKey: string }) => i.itemKey)).toEqual(['k1', 'k2']);
    expect(j.run.summary.score.pass1).toBe(0.5);
  });
});

describe('budget curve', () => {
  it('groups runs that differ only in budget', async () => {
    const a = await makeRun(64, { p1: 'no', p2: 'no' });
    const b = await makeRun(256, { p1: '\\boxed{0.5}', p2: 'no' });
    const c = await makeRun(1024, { p1: '\\boxed{0.5}', p2: '\\boxed{=SUM(A1)}' });
    const unrelated = await makeRun(null, { p1: 'no', p2: 'no' });
    // Same settings but frozen item keys are the same, so a, b, c form one curve.
    const curves = budgetCurves([a.run, b.run, c.run, unrelated.run] as EvalRunRecord[]);
    expect(curves).toHaveLength(1);
    expect(curves[0].points.map((p) => [p.budget, p.accuracy])).toEqual([[64, 0], [256, 0.5], [1024, 1]]);
    const other = { ...c.run, config: { ...c.run.config, model: 'other' } } as EvalRunRecord;
    expect(budgetCurves([a.run, other] as EvalRunRecord[])).toEqual([]);
  });
});

describe('playground link', () => {
  it('encodes a valid share recipe for the item, or none without a model id', async () => {
    const { recipeForItem, playgroundHref } = await import('../../../src/eval/playground-link.ts');
    const { decodeRecipe } = await import('../../../src/share/codec.ts');
    const { run, items } = await makeRun(null, { p1: '\\boxed{0.5}', p2: 'no' });
    expect(playgroundHref(run, items[0], { pathname: '/' })).toBeNull();
    const withId = { ...run, config: { ...run.config, modelId: 'bundled:tiny' } };
    const href = playgroundHref(withId, items[0], { pathname: '/app/' })!;
    expect(href).toMatch(/^\/app\/\?view=playground#r=1\./);
    const d = decodeRecipe(href.slice(href.indexOf('#')));
    expect(d.ok).toBe(true);
    if (d.ok) expect(d.recipe).toEqual(recipeForItem(withId, items[0]));
    if (d.ok) expect(d.recipe.problem).toEqual({ kind: 'bench', set: 'math500', id: 'k1' });
  });
});
