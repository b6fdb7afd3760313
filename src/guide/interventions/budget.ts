// Budget forcing (s1): below the minimum thinking length an end of thinking is discarded and the
// extension ("Wait") appended; at the maximum the answer phrase is forced. With `waits` N the end is
// suppressed the first N times whatever the length (s1's scaling curve: 0, 1, 2, 4 Waits); a `cue`
// after the extension steers the continuation into a check (", check:" for the world's traces).
import type { BudgetForcing, InterventionEvent } from '../../domain/guide.ts';
import { INTERVENTION_DEFAULTS } from './defaults.ts';
import type { InterventionFactory, SampleControl } from './types.ts';
import { round } from './types.ts';

export const budgetForcing: InterventionFactory = (settings) => {
  const b = settings.interventions.budget;
  if (!b) return null;
  const waits = Math.max(0, Math.floor(b.waits ?? 0));
  let suppressed = 0;
  const extend = (s: SampleControl, discarded: string, measurement: Record<string, number | string>): InterventionEvent => {
    const sep = /\s$/.test(s.text()) || s.tokens.length === 0 ? '' : ' ';
    const text = sep + b.extension + (b.cue ?? '');
    const ins = s.insert(text);
    suppressed++;
    const why = suppressed <= waits ? `wait ${suppressed} of ${waits}` : `thinking shorter than ${b.minThinking} tokens`;
    return { kind: 'extend', at: ins.at, inserted: text, discarded, measurement: waits > 0 ? { ...measurement, wait: suppressed } : measurement, note: `${why}: end suppressed, "${b.extension}${b.cue ?? ''}" appended` };
  };
  /** Whether this end of thinking is suppressed: a Wait left to spend, or thinking below the minimum. */
  const suppress = (thinking: number) => suppressed < waits || (b.minThinking > 0 && thinking < b.minThinking);
  return {
    token(s) {
      if (b.maxThinking <= 0 || s.tokens.length < b.maxThinking) return [];
      return [s.forceAnswer({ thinkingTokens: s.tokens.length, maxThinking: b.maxThinking }, `thinking reached ${b.maxThinking} tokens: answer phrase forced`)];
    },
    endOfThinking(s, end) {
      if (!suppress(end.thinkingTokens)) return [];
      if (end.marker === '<eos>') return [extend(s, '<eos>', { thinkingTokens: end.thinkingTokens, minThinking: b.minThinking, markerLogprob: round(end.logprob ?? 0) })];
      const discarded = s.text(end.at);
      s.rewind(end.at);
      if (s.stepStart > end.at) s.stepStart = end.at;
      return [extend(s, discarded, { thinkingTokens: end.at, minThinking: b.minThinking, marker: end.marker })];
    },
  };
};

/** s1's test-time scaling setting: the end of thinking suppressed `waits` times ("Wait" + `cue`), an
 *  optional thinking cap (0 = none). `npm run eval -- --wait N` and experiment:tiny's curve use it. */
export function forcedWaits(waits: number, o: { maxThinking?: number; cue?: string; answerPhrase?: string } = {}): BudgetForcing {
  return {
    ...INTERVENTION_DEFAULTS.budget, endMarkers: [...INTERVENTION_DEFAULTS.budget.endMarkers], minThinking: 0, maxThinking: o.maxThinking ?? 0,
    answerPhrase: o.answerPhrase ?? INTERVENTION_DEFAULTS.budget.answerPhrase, waits: Math.max(0, Math.floor(waits)), ...(o.cue ? { cue: o.cue } : {}),
  };
}
