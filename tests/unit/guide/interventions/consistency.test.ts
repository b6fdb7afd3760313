// Self-consistency (src/guide/interventions/consistency.ts) on the scripted session.
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../../src/guide/engine.ts';
import { session, settings, tok, voteModel } from '../scripted-fixtures.ts';

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
