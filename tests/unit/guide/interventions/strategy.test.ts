// Strategy injection (src/guide/interventions/strategy.ts) on the scripted session.
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../../src/guide/engine.ts';
import { session, settings, tok, waitModel } from '../scripted-fixtures.ts';

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
