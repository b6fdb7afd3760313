// Every intervention policy on the scripted session (deterministic logits from the context).
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../src/guide/engine.ts';
import { ruleModel, continueScript } from '../../../src/guide/testing/scripted.ts';
import type { BudgetForcing, Timeline } from '../../../src/domain/guide.ts';
import { RAMBLE, SCRIPT_A, STEPS, rambleModel, session, settings, stepModel, tok, voteModel, waitModel } from './scripted-fixtures.ts';

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

describe('budget forcing', () => {
  it('minimum: discards the EOS below the minimum and appends "Wait"', async () => {
    const t = await runGuided({ problem: 'What is 2+3?', reference: '5', settings: settings() }, { session: session(waitModel()), tokenizer: tok });
    expect(t.samples[0].tokens.length).toBeLessThan(40);
    expect(t.samples[0].events.map((e) => e.kind)).toEqual(['stop']);
    const forced = await runGuided(
      { problem: 'What is 2+3?', reference: '5', settings: settings({ interventions: { budget: budget({ minThinking: 40 }) } }) },
      { session: session(waitModel()), tokenizer: tok },
    );
    const s = forced.samples[0];
    const ext = s.events.find((e) => e.kind === 'extend')!;
    expect(ext).toBeDefined();
    expect(ext.discarded).toBe('<eos>');
    expect(ext.inserted).toBe(' Wait');
    expect(ext.at).toBe(SCRIPT_A.length);
    expect(ext.measurement.thinkingTokens).toBe(SCRIPT_A.length);
    expect(s.tokens[ext.at].source).toBe('inserted');
    expect(s.text.startsWith(`${SCRIPT_A} Wait Let me check`)).toBe(true);
    expect(s.answer).toBe('5');
    expect(forced.correct).toBe(true);
    expect(s.tokens.filter((x) => x.phase === 'thinking').length).toBeGreaterThanOrEqual(40);
  });

  it('minimum: an answer phrase written too early is discarded too (multi-token marker, KV rewind)', async () => {
    const early = ruleModel(tok, (text) => {
      const w = text.lastIndexOf('Wait');
      const script = w < 0 ? 'So 5. Final Answer: 5' : ' It is 2 + 3 = 5 indeed. Final Answer: 5';
      return { piece: continueScript(tok, script, w < 0 ? text.length : text.length - (w + 4)), margin: 6 };
    });
    const sess = session(early);
    const t = await runGuided(
      { problem: 'p', settings: settings({ interventions: { budget: budget({ minThinking: 10 }) } }) },
      { session: sess, tokenizer: tok },
    );
    const s = t.samples[0];
    const ext = s.events.find((e) => e.kind === 'extend')!;
    expect(ext.discarded).toBe('Final Answer:');
    expect(ext.measurement.marker).toBe('Final Answer:');
    expect(s.text).toBe('So 5. Wait It is 2 + 3 = 5 indeed. Final Answer: 5');
    expect(s.answer).toBe('5');
    // The cache was rewound (truncate) rather than rebuilt: one prefill of the prompt, then small feeds.
    expect(sess.calls.filter((c) => c.from === 0)).toHaveLength(1);
  });

  it('maximum: forces the answer phrase when thinking reaches the limit', async () => {
    const t = await runGuided(
      { problem: 'p', settings: settings({ interventions: { budget: budget({ maxThinking: 30, maxAnswerTokens: 3 }) } }) },
      { session: session(rambleModel()), tokenizer: tok },
    );
    const s = t.samples[0];
    const f = s.events.find((e) => e.kind === 'force-answer')!;
    expect(f.at).toBe(30);
    expect(f.inserted).toBe('\nFinal Answer: ');
    expect(s.text.slice(0, 30)).toBe((RAMBLE + RAMBLE).slice(0, 30));
    expect(s.stop).toBe('eos');
    expect(s.tokens.slice(f.at).every((x) => x.phase === 'answer')).toBe(true);
    expect(s.answer).toBe('42');
    const cut = await runGuided(
      { problem: 'p', settings: settings({ interventions: { budget: budget({ maxThinking: 30, maxAnswerTokens: 1 }) } }) },
      { session: session(rambleModel()), tokenizer: tok },
    );
    expect(cut.samples[0].stop).toBe('max-answer');
    expect(cut.samples[0].answer).toBe('4');
  });

  it('without budget forcing the rambling model runs to maxNewTokens', async () => {
    const t = await runGuided({ problem: 'p', settings: settings({ sampling: { temperature: 0, topP: 1, topK: 2, maxNewTokens: 50 } }) },
      { session: session(rambleModel()), tokenizer: tok });
    expect(t.samples[0].stop).toBe('max-tokens');
    expect(t.samples[0].tokens).toHaveLength(50);
  });
});

describe('strategy injection', () => {
  it('inserts the plan before the reasoning and records its source', async () => {
    const t = await runGuided(
      { problem: 'p', settings: settings({ interventions: { strategy: { source: 'reason1k', traceId: 'pool:3', plan: 'add the numbers' } } }) },
      { session: session(waitModel()), tokenizer: tok },
    );
    const s = t.samples[0];
    expect(s.text.startsWith('Plan: add the numbers\n\n')).toBe(true);
    const e = s.events[0];
    expect(e.kind).toBe('strategy');
    expect(e.measurement).toEqual({ source: 'reason1k', traceId: 'pool:3' });
    expect(s.steps[0].text).toBe('Plan: add the numbers\n\n');
    expect(s.steps[0].verdict).toBe('unchecked');
  });
});

describe('step verification', () => {
  const verify = (action: 'resample' | 'check' | 'mark', maxResamples = 2, temperature = 0) =>
    settings({ sampling: { temperature, topP: 0.9, topK: 3, maxNewTokens: 120 }, interventions: { verify: { threshold: 0.5, action, maxResamples, checkPhrase: 'Let me check.' } } });

  it('mark: flags low-confidence steps and leaves the text as without verification', async () => {
    const plain = await runGuided({ problem: 'p', settings: { ...verify('mark'), interventions: {} } }, { session: session(stepModel()), tokenizer: tok });
    const t = await runGuided({ problem: 'p', settings: verify('mark') }, { session: session(stepModel()), tokenizer: tok });
    expect(t.samples[0].text).toBe(plain.samples[0].text);
    expect(t.samples[0].text).toBe(STEPS);
    const marks = t.samples[0].events.filter((e) => e.kind === 'mark');
    expect(marks).toHaveLength(1);
    expect(t.samples[0].steps.find((x) => x.start === marks[0].at)!.text).toBe('Step 2: y is 3.\n\n');
    expect(t.samples[0].steps.map((x) => x.verdict)).toEqual(['ok', 'low', 'ok', 'unchecked']);
    for (const m of marks) expect(m.measurement.score as number).toBeLessThan(0.5);
    const low = t.samples[0].steps.filter((s) => s.verdict === 'low');
    expect(low.length).toBe(marks.length);
    expect(t.samples[0].steps.some((s) => s.verdict === 'ok')).toBe(true);
    expect(plain.samples[0].steps.every((s) => s.verdict === 'unchecked')).toBe(true);
  });

  it('resample: discards a low step at most k times, keeps branches, and never rewinds before the step', async () => {
    const sess = session(stepModel());
    const t = await runGuided({ problem: 'p', settings: verify('resample', 2, 0.6) }, { session: sess, tokenizer: tok });
    const s = t.samples[0];
    const rs = s.events.filter((e) => e.kind === 'resample');
    expect(rs.length).toBeGreaterThan(0);
    const perPos = new Map<number, number>();
    for (const e of rs) perPos.set(e.at, (perPos.get(e.at) ?? 0) + 1);
    for (const c of perPos.values()) expect(c).toBeLessThanOrEqual(2);
    for (const e of rs) {
      const b = s.branches.find((x) => x.id === e.branchId)!;
      expect(b.text).toBe(e.discarded);
      expect(b.confidence!.score).toBeLessThan(0.5);
      expect(b.at).toBe(e.at);
    }
    // Steps are contiguous and cover the tokens.
    let pos = 0;
    for (const st of s.steps) { expect(st.start).toBe(pos); pos = st.end; }
    expect(pos).toBe(s.tokens.length);
    // The first step (confident) was never resampled.
    expect(s.steps[0].resamples).toBe(0);
    expect(s.steps[0].text).toBe(STEPS.slice(0, s.steps[0].text.length));
    // Resampling produced something different from the discarded attempt at least once.
    const kept = (at: number) => s.steps.find((x) => x.start === at)?.text;
    expect(rs.some((e) => kept(e.at) !== e.discarded)).toBe(true);
  });

  it('check: inserts the check phrase after a low-confidence step', async () => {
    const t = await runGuided({ problem: 'p', settings: verify('check') }, { session: session(stepModel()), tokenizer: tok });
    const s = t.samples[0];
    const c = s.events.filter((e) => e.kind === 'check');
    expect(c.length).toBeGreaterThan(0);
    expect(c.length).toBeGreaterThan(0);
    expect(s.tokens[c[0].at].source).toBe('inserted');
    expect(s.text.startsWith('Step 1: x is 2.\n\nStep 2: y is 3.\n\nLet me check.')).toBe(true);
  });
});

describe('self-consistency', () => {
  it('samples n times with independent streams and takes the majority under the given equivalence', async () => {
    const st = settings({ sampling: { temperature: 1, topP: 1, topK: 2, maxNewTokens: 40 }, interventions: { consistency: { n: 7 } } });
    const t = await runGuided({ problem: 'p', reference: '6', settings: st }, { session: session(voteModel()), tokenizer: tok });
    expect(t.samples).toHaveLength(7);
    const answers = t.samples.map((s) => s.answer);
    expect(new Set(answers).size).toBeGreaterThan(1);
    const tally = t.vote!;
    expect(tally.groups.reduce((a, g) => a + g.count, 0)).toBe(7);
    const top = Math.max(...tally.groups.map((g) => g.count));
    expect(tally.groups.find((g) => g.answer === tally.answer)!.count).toBe(top);
    expect(answers.filter((a) => a === tally.answer)).toHaveLength(top);
    expect(t.finalAnswer).toBe(tally.answer);
    expect(t.correct).toBe(tally.answer === '6');
    expect(t.samples[t.main].answer).toBe(tally.answer);
    expect(tally.equivalence).toBe('exact-trimmed');
    // A coarser equivalence (everything equal) puts all samples in one group.
    const one = await runGuided({ problem: 'p', settings: st }, { session: session(voteModel()), tokenizer: tok, equivalent: () => true, equivalenceName: 'all' });
    expect(one.vote!.groups).toHaveLength(1);
    expect(one.vote!.groups[0].count).toBe(7);
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
