// Light per-trace rows for the Data view's table (the worker sends these, not whole traces, so a
// 10,000-trace pool costs the page a few MB and no long structured-clone).
import { domainOf } from '../selection/domain.ts';
import type { Trace } from '../domain/trace.ts';

export interface TraceRow {
  id: string;
  seq: number;
  problem: string;
  answer: string;
  referenceAnswer?: string;
  domain: string;
  domainInferred: boolean;
  level?: number;
  reasoningTokens: number;
  reasoningChars: number;
}

export function toRow(t: Trace): TraceRow {
  const d = domainOf(t);
  return {
    id: t.id, seq: t.seq, problem: t.problem.slice(0, 200), answer: t.answer.slice(0, 60),
    referenceAnswer: t.referenceAnswer?.slice(0, 60), domain: d.domain, domainInferred: d.inferred,
    level: t.level, reasoningTokens: t.tokenCounts.reasoning, reasoningChars: t.reasoning.length,
  };
}

/** One JSON line per trace, the Trace fields without the pool id (re-importable as a field mapping). */
export function traceToJsonl(t: Trace): string {
  const { poolId: _p, ...rest } = t;
  return JSON.stringify(rest);
}
