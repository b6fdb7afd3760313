// Step verification: at each step boundary the step's confidence (log-probs and entropy) is
// compared with a threshold; below it the step is marked, followed by a check phrase, or resampled
// up to k times (then the most confident attempt is kept).
import type { BranchRecord } from '../../domain/guide.ts';
import { INTERVENTION_DEFAULTS } from './defaults.ts';
import type { InterventionFactory } from './types.ts';
import { measure, round } from './types.ts';

export const stepVerification: InterventionFactory = (settings) => {
  const v = settings.interventions.verify;
  if (!v) return null;
  /** Resample attempts per step start. */
  const attempts = new Map<number, { count: number }>();
  const checkPhrase = v.checkPhrase || INTERVENTION_DEFAULTS.verify.checkPhrase;
  return {
    maxStepTokens: v.maxStepTokens ?? 0,
    step(s, { start, end, confidence: conf, canAct }) {
      const tried = attempts.get(start)?.count ?? 0;
      if (!conf) { s.pushStep(start, end, conf, tried, 'unchecked'); s.stepStart = end; return []; }
      if (!canAct || conf.score >= v.threshold) {
        s.pushStep(start, end, conf, tried, conf.score < v.threshold ? 'low' : 'ok');
        s.stepStart = end;
        return [];
      }
      if (v.action === 'mark') {
        s.pushStep(start, end, conf, 0, 'low');
        s.stepStart = end;
        return [{ kind: 'mark', at: start, measurement: measure(conf, v.threshold), note: 'low-confidence step marked' }];
      }
      if (v.action === 'check') {
        s.pushStep(start, end, conf, 0, 'low');
        s.stepStart = end;
        s.rewind(end);
        const sep = /\s$/.test(s.text()) ? '' : ' ';
        const ins = s.insert(sep + checkPhrase);
        return [{ kind: 'check', at: ins.at, inserted: sep + checkPhrase, measurement: measure(conf, v.threshold), note: 'check phrase inserted after a low-confidence step' }];
      }
      // resample
      const a = attempts.get(start) ?? { count: 0 };
      attempts.set(start, a);
      const attemptTokens = s.tokens.slice(start, end);
      const branch = (): BranchRecord => ({
        id: `s${s.index}-t${start}-a${a.count}`, sample: s.index, kind: 'resample', at: start,
        tokens: attemptTokens, text: attemptTokens.map((t) => t.text).join(''), confidence: conf,
      });
      if (a.count < v.maxResamples) {
        const b = branch();
        s.branches.push(b);
        a.count++;
        s.rewind(start);
        s.reseed('resample', start, a.count);
        // greedy decoding would redraw the same step: draw the attempt at the resample temperature
        if (s.settings.sampling.temperature === 0) s.setStepTemperature(v.resampleTemperature ?? INTERVENTION_DEFAULTS.verify.resampleTemperature);
        return [{
          kind: 'resample', at: start, discarded: b.text, branchId: b.id,
          measurement: measure(conf, v.threshold, { attempt: a.count }), note: `step resampled (attempt ${a.count} of ${v.maxResamples})`,
        }];
      }
      // Out of attempts: keep the most confident of the discarded attempts and this one.
      const earlier = s.branches.filter((b) => b.at === start && b.sample === s.index && b.confidence);
      const best = earlier.reduce<BranchRecord | null>((m, b) => (!m || b.confidence!.score > m.confidence!.score ? b : m), null);
      if (!best || best.confidence!.score <= conf.score) {
        s.pushStep(start, end, conf, a.count, 'low');
        s.stepStart = end;
        return [];
      }
      const cur = branch();
      s.branches.push(cur);
      s.rewind(start);
      s.appendTokens(best.tokens.map((t) => ({ ...t, alternatives: t.alternatives.map((x) => ({ ...x })) })));
      s.pushStep(start, s.tokens.length, best.confidence, a.count, 'low');
      s.stepStart = s.tokens.length;
      return [{
        kind: 'restore', at: start, discarded: cur.text, inserted: best.text, branchId: best.id,
        measurement: measure(best.confidence!, v.threshold, { discardedScore: round(conf.score) }), note: 'all resamples below threshold: most confident attempt kept',
      }];
    },
  };
};
