// JSONL of traces, one JSON object per line, in seq order (the teacher job's export).
import type { Trace } from '../domain/trace.ts';

export function tracesToJsonl(traces: readonly Trace[]): string {
  const sorted = [...traces].sort((a, b) => a.seq - b.seq);
  return sorted.map((t) => JSON.stringify(t)).join('\n') + (sorted.length ? '\n' : '');
}
