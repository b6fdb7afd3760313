// Formatting helpers for the Evaluate view.
import type { Interval } from '../../domain/eval.ts';

export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
export const ci = (i: Interval): string => `[${pct(i.low)}, ${pct(i.high)}]`;

export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '…';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

