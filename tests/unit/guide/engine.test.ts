// The guided-inference loop on the scripted session (deterministic logits from the context): plain
// generation, determinism, cancel, answer trace, session reuse. Each intervention has its own test
// in tests/unit/guide/interventions/.
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../src/guide/engine.ts';
import type { BudgetForcing, Timeline } from '../../../src/domain/guide.ts';
import { SCRIPT_A, rambleModel, session, settings, stepModel, tok, waitModel } from './scripted-fixtures.ts';

const budget = (over: Partial<BudgetForcing>): BudgetForcing => ({
  minThinking: 0, maxThinking: 0, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 8, ...over,
});
const kinds = (t: Timeline, s = 0) => t.samples[s].events.map((e) => e.kind);

describe('plain generation', () => {
  it('records every token with log-prob, entropy and top-k alternatives, and stops at EOS', async () => {
    const t = await runGuided({ problem: 'What is 2+3?', settings: settings() }, { session: session(waitModel()), tokenizer: tok });
    const s = t.samples[0];
    expect(s.text).toBe(SCRIPT_A);
    expect(s.stop).toBe('eos');
    expect(s.answer).toBe('5');
    for (const r of s.tokens) {
      expect(r.source).toBe('model');
      expect(r.alternatives).toHaveLength(3);
      expect(r.alternatives[0].id).toBe(r.id); // greedy picks the best
      expect(r.logprob).toBeLessThan(0);
      expect(r.entropy).toBeGreaterThan(0);
    }
    expect(s.steps.map((x) => x.text)).toEqual(['Add 2 and 3.', ' That gives 5.']);
    expect(kinds(t)).toEqual(['stop']);
  });
});

describe('determinism, cancel, answer trace', () => {
  const rich = settings({
    seed: 11,
    sampling: { temperature: 1, topP: 0.95, topK: 3, maxNewTokens: 90 },
    interventions: {
      budget: budget({ minThinking: 20, maxThinking: 70 }),
      verify: { threshold: 0.5, action: 'resample', maxResamples: 2, checkPhrase: '' },
      consistency: { n: 3 },
    },
  });
  it('same seed -> same timeline; another seed -> another timeline', async () => {
    const a = await runGuided({ problem: 'p', settings: rich }, { session: session(stepModel()), tokenizer: tok });
    const b = await runGuided({ problem: 'p', settings: rich }, { session: session(stepModel()), tokenizer: tok });
    expect(JSON.parse(JSON.stringify(b))).toEqual(JSON.parse(JSON.stringify(a)));
    const c = await runGuided({ problem: 'p', settings: { ...rich, seed: 12 } }, { session: session(stepModel()), tokenizer: tok });
    expect(c.samples.map((s) => s.text)).not.toEqual(a.samples.map((s) => s.text));
  });

  it('cancel stops the sample and marks it', async () => {
    const signal = { aborted: false };
    const t = await runGuided({ problem: 'p', settings: settings({ interventions: { consistency: { n: 3 } } }) }, {
      session: session(rambleModel()), tokenizer: tok, signal,
      onProgress: (p) => { if (p.tokens >= 10) signal.aborted = true; },
    });
    expect(t.samples).toHaveLength(1);
    expect(t.samples[0].stop).toBe('cancelled');
    expect(t.samples[0].tokens).toHaveLength(10);
  });

  it('answer trace scores the answer after every thinking step', async () => {
    const t = await runGuided({ problem: 'p', settings: settings(), answerTrace: { target: '5' } }, { session: session(waitModel()), tokenizer: tok });
    const tr = t.answerTrace!;
    expect(tr.target).toBe('5');
    expect(tr.points.map((p) => p.tokenEnd)).toEqual(t.samples[0].steps.map((s) => s.end));
    for (const p of tr.points) expect(p.logprob).toBeLessThan(0);
  });
});

describe('session reuse', () => {
  it('a session used before (another run left tokens in its cache) gives the same timeline as a fresh one', async () => {
    const st = settings({ interventions: { budget: { minThinking: 40, maxThinking: 0, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 8 } } });
    const fresh = await runGuided({ problem: 'p', settings: st }, { session: session(waitModel()), tokenizer: tok });
    const used = session(waitModel());
    await runGuided({ problem: 'another problem', settings: settings() }, { session: used, tokenizer: tok });
    expect(used.length).toBeGreaterThan(0);
    const again = await runGuided({ problem: 'p', settings: st }, { session: used, tokenizer: tok });
    expect(again).toEqual(fresh);
    // The cache holds this run's context only (nothing of the earlier run left in front of it).
    expect(used.length).toBeLessThanOrEqual(again.promptTokens + again.samples[0].tokens.length);
  });
});
