// Budget forcing (src/guide/interventions/budget.ts) on the scripted session.
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../../src/guide/engine.ts';
import { ruleModel, continueScript } from '../../../../src/guide/testing/scripted.ts';
import type { BudgetForcing } from '../../../../src/domain/guide.ts';
import { forcedWaits } from '../../../../src/guide/interventions/budget.ts';
import { RAMBLE, SCRIPT_A, rambleModel, session, settings, tok, waitModel } from '../scripted-fixtures.ts';

const budget = (over: Partial<BudgetForcing>): BudgetForcing => ({
  minThinking: 0, maxThinking: 0, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 8, ...over,
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

describe('budget forcing: N Waits (s1 test-time scaling) and a check cue', () => {
  // ends its thinking after each "Wait" with a check, so every Wait spent shows in the text
  const checker = () => ruleModel(tok, (text) => {
    const w = text.lastIndexOf('Wait');
    const script = w < 0 ? 'Step 1: 2 + 3 = 5\nFinal Answer: 5' : ', check: 5 - 3 = 2\nFinal Answer: 5';
    return { piece: continueScript(tok, script, w < 0 ? text.length : text.length - (w + 4)), margin: 6 };
  });
  const run = (b: BudgetForcing) => runGuided({ problem: 'p', reference: '5', settings: settings({ interventions: { budget: b } }) }, { session: session(checker()), tokenizer: tok });
  it('suppresses the end exactly N times, whatever the thinking length, then lets it end', async () => {
    for (const n of [0, 1, 2, 4]) {
      const s = (await run(forcedWaits(n))).samples[0];
      const ext = s.events.filter((e) => e.kind === 'extend');
      expect(ext.length).toBe(n);
      expect(ext.map((e) => e.measurement.wait)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(s.text.split('Wait').length - 1).toBe(n);
      expect(s.answer).toBe('5');
    }
  });
  it('the cue follows the extension, so the continuation is a check line', async () => {
    const s = (await run(forcedWaits(1, { cue: ', check:' }))).samples[0];
    const ext = s.events.find((e) => e.kind === 'extend')!;
    expect(ext.inserted).toBe('Wait, check:');
    expect(s.text).toContain('Step 1: 2 + 3 = 5\nWait, check:');
  });
  it('minThinking still works beside it, and waits = 0 leaves budget forcing as it was', async () => {
    const s = (await run({ ...forcedWaits(0), minThinking: 1000, maxThinking: 60 })).samples[0];
    expect(s.events.filter((e) => e.kind === 'extend').length).toBeGreaterThan(0);
    expect(s.events.find((e) => e.kind === 'extend')!.measurement.wait).toBeUndefined();
  });
});
