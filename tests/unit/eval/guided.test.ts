// Evaluation with budget forcing through the guided-inference engine, on a scripted session whose
// "model" thinks forever unless an answer phrase is in its context.
import { describe, expect, it } from 'vitest';
import type { DecodeSession, SampledToken, SamplingOptions } from '../../../src/engine/generation/types.ts';
import { parseBenchmark } from '../../../src/eval/benchmarks.ts';
import { budgetInterventions, generateGuided, hasInterventions } from '../../../src/eval/guided.ts';
import { createRun, MemoryEvalStore, runEvaluation } from '../../../src/eval/runner.ts';
import { budgetCurves } from '../../../src/eval/budget-curve.ts';
import { CharTokenizer } from './scripted-session.ts';

/** Emits "hm " forever; once "Final Answer:" is in the context, answers "42" then EOS. */
class Thinker implements DecodeSession {
  ctx: number[] = [];
  readonly maxLength = 4096;
  private tok = new CharTokenizer();
  get length() { return this.ctx.length; }
  async feed(ids: readonly number[], _o: SamplingOptions): Promise<SampledToken> {
    this.ctx.push(...ids);
    const text = this.tok.decode(this.ctx);
    const at = text.lastIndexOf('Final Answer:');
    let id: number;
    if (at >= 0) {
      const after = text.slice(at + 'Final Answer:'.length).trimStart();
      const target = '42';
      id = after.length < target.length ? target.charCodeAt(after.length) : 0;
    } else id = 'hm '.charCodeAt(this.ctx.length % 3);
    return { id, logprob: -0.1, entropy: 0.1, alternatives: [] };
  }
  truncate(n: number) { this.ctx.length = Math.min(this.ctx.length, n); }
  dispose() {}
}

describe('evaluation with budget forcing', () => {
  it('forces the answer at the thinking budget', async () => {
    const g = await generateGuided(new Thinker(), new CharTokenizer(), 'What is 6*7?', { maxTokens: 200, temperature: 0, topP: 1, rng: () => 0.5 }, budgetInterventions(20));
    expect(g.text).toMatch(/Final Answer:\s*42$/);
    expect(g.tokens).toBeLessThan(60);
    expect(hasInterventions(budgetInterventions(5) as Record<string, unknown>)).toBe(true);
    expect(hasInterventions({})).toBe(false);
  });

  it('runs at several budgets give one accuracy-vs-budget curve', async () => {
    const bench = parseBenchmark('math500', JSON.stringify({ problem: 'What is 6*7?', answer: '42', unique_id: 'x' }));
    const runs = [];
    for (const budget of [8, 32]) {
      const store = new MemoryEvalStore();
      const run = await createRun(store, { evalSet: 'math500', subset: { kind: 'all' }, maxTokens: budget + 40, seed: 1, temperature: 0, topP: 1, samples: 1, model: 'thinker', interventions: budgetInterventions(budget) as Record<string, unknown>, budget }, bench.items, []);
      const tok = new CharTokenizer();
      const done = await runEvaluation(run.id, bench.items, { store, generate: (p, o) => generateGuided(new Thinker(), tok, p, o, budgetInterventions(budget)) });
      expect(done.summary!.score.pass1).toBe(1);
      const [item] = await store.listItems(run.id);
      expect(item.reason).toMatch(/^string: "42"/);
      runs.push(done);
    }
    const curves = budgetCurves(runs);
    expect(curves).toHaveLength(1);
    expect(curves[0].points.map((p) => p.budget)).toEqual([8, 32]);
  });
});

describe('interventions from a Playground share link', () => {
  it('reads and describes them; refuses a bad link with the reason', async () => {
    const { encodeRecipe } = await import('../../../src/share/codec.ts');
    const { interventionsFromLink, describeInterventions } = await import('../../../src/eval/interventions-text.ts');
    const iv = { ...budgetInterventions(64), verify: { threshold: 0.3, action: 'resample' as const, maxResamples: 2, checkPhrase: 'Check:' }, consistency: { n: 3 } };
    const hash = encodeRecipe({ v: 1, model: 'bundled:tiny', problem: { kind: 'text', text: 'What is 2+2?' }, seed: 1, sampling: { temperature: 0.7, topP: 1, topK: 3, maxNewTokens: 128 }, interventions: iv });
    const r = interventionsFromLink(`http://127.0.0.1:4173/?view=playground${hash}`);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.interventions).toEqual(iv);
      expect(r.text).toBe('budget forcing ≤64 thinking tokens, step verification < 0.3 → resample, self-consistency n=3');
    }
    expect(interventionsFromLink('http://x/?view=playground')).toEqual({ ok: false, error: expect.stringMatching(/no "#r=" part/) });
    expect(interventionsFromLink('#r=1.@@@').ok).toBe(false);
    expect(describeInterventions(null)).toBe('none');
  });
});
