// Budget forcing (s1): below the minimum thinking length an end of thinking is discarded and the
// extension ("Wait") appended; at the maximum the answer phrase is forced.
import type { InterventionEvent } from '../../domain/guide.ts';
import type { InterventionFactory, SampleControl } from './types.ts';
import { round } from './types.ts';

export const budgetForcing: InterventionFactory = (settings) => {
  const b = settings.interventions.budget;
  if (!b) return null;
  const extend = (s: SampleControl, discarded: string, measurement: Record<string, number | string>): InterventionEvent => {
    const sep = /\s$/.test(s.text()) || s.tokens.length === 0 ? '' : ' ';
    const ins = s.insert(sep + b.extension);
    return { kind: 'extend', at: ins.at, inserted: sep + b.extension, discarded, measurement, note: `thinking shorter than ${b.minThinking} tokens: end suppressed, "${b.extension}" appended` };
  };
  return {
    token(s) {
      if (b.maxThinking <= 0 || s.tokens.length < b.maxThinking) return [];
      return [s.forceAnswer({ thinkingTokens: s.tokens.length, maxThinking: b.maxThinking }, `thinking reached ${b.maxThinking} tokens: answer phrase forced`)];
    },
    endOfThinking(s, end) {
      if (b.minThinking <= 0 || end.thinkingTokens >= b.minThinking) return [];
      if (end.marker === '<eos>') return [extend(s, '<eos>', { thinkingTokens: end.thinkingTokens, minThinking: b.minThinking, markerLogprob: round(end.logprob ?? 0) })];
      const discarded = s.text(end.at);
      s.rewind(end.at);
      if (s.stepStart > end.at) s.stepStart = end.at;
      return [extend(s, discarded, { thinkingTokens: end.at, minThinking: b.minThinking, marker: end.marker })];
    },
  };
};
