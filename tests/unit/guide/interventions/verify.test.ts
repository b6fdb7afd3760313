// Step verification (src/guide/interventions/verify.ts) on the scripted session.
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../../src/guide/engine.ts';
import { INTERVENTION_DEFAULTS } from '../../../../src/guide/interventions/defaults.ts';
import { STEPS, session, settings, stepModel, tok } from '../scripted-fixtures.ts';
import { continueScript, ruleModel } from '../../../../src/guide/testing/scripted.ts';

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

  it('resample in a greedy run: attempts are drawn at the resample temperature, so they can differ (greedy would redraw the same step)', async () => {
    const run = async (resampleTemperature?: number) => {
      const st = verify('resample', 2, 0);
      st.interventions.verify!.resampleTemperature = resampleTemperature;
      return (await runGuided({ problem: 'p', settings: st }, { session: session(stepModel()), tokenizer: tok })).samples[0];
    };
    const s = await run();
    const rs = s.events.filter((e) => e.kind === 'resample');
    expect(rs.length).toBeGreaterThan(0);
    // the discarded attempts at one step are not all the same text
    const attempts = new Map<number, Set<string>>();
    for (const b of s.branches) attempts.set(b.at, (attempts.get(b.at) ?? new Set()).add(b.text));
    expect([...attempts.values()].some((texts) => texts.size > 1) || rs.some((e) => s.steps.find((x) => x.start === e.at)?.text !== e.discarded)).toBe(true);
    // the steps outside a resample stay greedy: the first (confident) one is the greedy text
    expect(s.steps[0].text).toBe(STEPS.slice(0, s.steps[0].text.length));
    // at resample temperature 0 every attempt redraws the same text: nothing gained (what the default avoids)
    const cold = await run(0);
    for (const b of cold.branches) expect(b.text).toBe(cold.branches.find((x) => x.at === b.at)!.text);
    expect(cold.text).toBe(STEPS);
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

describe('step verification: the check phrase recorded is the one inserted', () => {
  it('an empty check phrase inserts the default phrase, and the event records that text', async () => {
    const st = settings({ sampling: { temperature: 0, topP: 0.9, topK: 3, maxNewTokens: 120 }, interventions: { verify: { threshold: 0.5, action: 'check', maxResamples: 2, checkPhrase: '' } } });
    const s = (await runGuided({ problem: 'p', settings: st }, { session: session(stepModel()), tokenizer: tok })).samples[0];
    const c = s.events.find((e) => e.kind === 'check')!;
    expect(c).toBeDefined();
    let end = c.at;
    while (end < s.tokens.length && s.tokens[end].source === 'inserted') end++;
    const insertedText = s.tokens.slice(c.at, end).map((t) => t.text).join('');
    expect(insertedText.trim()).toBe(INTERVENTION_DEFAULTS.verify.checkPhrase);
    expect(c.inserted).toBe(insertedText);
  });
});

describe('step verification by a check line (by: check)', () => {
  // a scripted student: attempt k (counted at each start from an empty reply) writes scripts[k-1];
  // an inserted "Check:" is answered with the honest inverse of the step above it
  const student = (scripts: string[], answerInserted = true) => {
    let attempt = 0;
    return ruleModel(tok, (text) => {
      if (text === '') attempt++;
      const m = /Step \d+: (\d+) \+ (\d+) = (\d+)\nCheck:([^\n]*)$/.exec(text);
      if (m && answerInserted && !scripts[0].includes('Check:')) {
        const want = ` ${m[3]} - ${m[2]} = ${Number(m[3]) - Number(m[2])}\n`;
        return { piece: continueScript(tok, want, m[4].length), margin: 8 };
      }
      if (m && !answerInserted && !scripts[0].includes('Check:')) return { piece: continueScript(tok, ' what?\n', m[4].length), margin: 8 };
      const script = scripts[Math.min(attempt, scripts.length) - 1];
      const own = script.includes('Check:') ? text : text.replace(/Check:[^\n]*\n/g, '');
      return { piece: continueScript(tok, script, own.length), margin: 8 };
    });
  };
  const byCheck = (maxResamples = 2) => settings({ sampling: { temperature: 0, topP: 1, topK: 3, maxNewTokens: 160 }, interventions: { verify: { ...INTERVENTION_DEFAULTS.verify, by: 'check', action: 'resample', maxResamples } } });

  it('resamples a step its own check disagrees with, and keeps one it agrees with', async () => {
    const wrong = 'Step 1: 12 + 30 = 41\nCheck: 41 - 30 = 11\nStep 2: 41 + 1 = 42\nCheck: 42 - 1 = 41\nFinal Answer: 42';
    const right = 'Step 1: 12 + 30 = 42\nCheck: 42 - 30 = 12\nStep 2: 42 + 1 = 43\nCheck: 43 - 1 = 42\nFinal Answer: 43';
    const t = await runGuided({ problem: 'p', reference: '43', settings: byCheck() }, { session: session(student([wrong, right])), tokenizer: tok });
    const s = t.samples[0];
    const rs = s.events.filter((e) => e.kind === 'resample');
    expect(rs).toHaveLength(1);
    expect(rs[0].at).toBe(0);
    expect(rs[0].measurement).toMatchObject({ step: '12 + 30 = 41', check: '41 - 30 = 11', attempt: 1 });
    expect(s.branches[0].text.startsWith('Step 1: 12 + 30 = 41\nCheck: 41 - 30 = 11\n')).toBe(true);
    expect(s.text).toBe(right);
    expect(s.answer).toBe('43');
    expect(s.steps.filter((x) => x.verdict === 'ok').length).toBe(2);
    // without verification the wrong script stands
    const plain = await runGuided({ problem: 'p', settings: { ...byCheck(), interventions: {} } }, { session: session(student([wrong, right])), tokenizer: tok });
    expect(plain.samples[0].answer).toBe('42');
  });

  it('asks for a check ("Check:") after a step that has none, and resamples when its result does not give the step back', async () => {
    const wrong = 'Step 1: 12 + 30 = 41\nStep 2: 41 + 1 = 42\nFinal Answer: 42';
    const right = 'Step 1: 12 + 30 = 42\nStep 2: 42 + 1 = 43\nFinal Answer: 43';
    const t = await runGuided({ problem: 'p', reference: '43', settings: byCheck() }, { session: session(student([wrong, right])), tokenizer: tok });
    const s = t.samples[0];
    expect(s.events.filter((e) => e.kind === 'check').length).toBeGreaterThanOrEqual(2);
    expect(s.events.find((e) => e.kind === 'resample')!.measurement).toMatchObject({ step: '12 + 30 = 41', check: '41 - 30 = 11' });
    expect(s.text).toBe('Step 1: 12 + 30 = 42\nCheck: 42 - 30 = 12\nStep 2: 42 + 1 = 43\nCheck: 43 - 1 = 42\nFinal Answer: 43');
    expect(s.answer).toBe('43');
  });

  it('stops after maxResamples (the step marked) and drops a check the student cannot write', async () => {
    const wrong = 'Step 1: 12 + 30 = 41\nCheck: 41 - 30 = 11\nFinal Answer: 41';
    const t = await runGuided({ problem: 'p', settings: byCheck(2) }, { session: session(student([wrong])), tokenizer: tok });
    expect(t.samples[0].events.filter((e) => e.kind === 'resample')).toHaveLength(2);
    expect(t.samples[0].events.some((e) => e.kind === 'mark')).toBe(true);
    expect(t.samples[0].answer).toBe('41');
    const garbled = await runGuided({ problem: 'p', settings: byCheck() }, { session: session(student(['Step 1: 12 + 30 = 42\nStep 2: 42 + 1 = 43\nFinal Answer: 43'], false)), tokenizer: tok });
    const g = garbled.samples[0];
    expect(g.events.some((e) => e.kind === 'check' && e.discarded?.includes('what?'))).toBe(true);
    expect(g.text).not.toContain('what?');
    expect(g.answer).toBe('43');
  });
});
