// Strategy injection: a plan (typed, or from the nearest Reason1K trace) inserted before the
// reasoning, so the model executes it.
import type { InterventionEvent } from '../../domain/guide.ts';
import type { InterventionFactory } from './types.ts';

export const strategyInjection: InterventionFactory = (settings) => {
  const st = settings.interventions.strategy;
  if (!st?.plan.trim()) return null;
  return {
    start(s): InterventionEvent[] {
      const plan = `Plan: ${st.plan.trim()}\n\n`;
      const ins = s.insert(plan);
      return [{
        kind: 'strategy', at: ins.at, inserted: plan,
        measurement: st.source === 'reason1k' ? { source: 'reason1k', traceId: st.traceId ?? '' } : { source: 'typed' },
        note: 'strategy plan injected before the reasoning',
      }];
    },
  };
};
