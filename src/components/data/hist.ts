// Histogram bins from a selection's decisions: domain (categorical), difficulty and length (ranges).
import type { Selection } from '../../domain/selection.ts';

export interface Bin { label: string; all: number; kept: number }

export function domainBins(sel: Selection): Bin[] {
  const m = new Map<string, Bin>();
  for (const d of Object.values(sel.decisions)) {
    const b = m.get(d.domain) ?? { label: d.domain, all: 0, kept: 0 };
    b.all++;
    if (d.kept) b.kept++;
    m.set(d.domain, b);
  }
  return [...m.values()].sort((a, b) => b.all - a.all);
}

export function rangeBins(sel: Selection, key: 'difficulty' | 'length', n = 10): Bin[] {
  const ds = Object.values(sel.decisions);
  if (!ds.length) return [];
  const vals = ds.map((d) => (key === 'length' ? Math.log10(1 + d.length) : d[key]));
  const lo = key === 'difficulty' ? 0 : Math.min(...vals);
  const hi = key === 'difficulty' ? 1 : Math.max(...vals);
  const w = (hi - lo) / n || 1;
  const bins: Bin[] = Array.from({ length: n }, (_, i) => {
    const a = lo + i * w;
    const b = a + w;
    const label = key === 'length' ? `${Math.round(10 ** a - 1)}–${Math.round(10 ** b - 1)} tok` : `${a.toFixed(1)}–${b.toFixed(1)}`;
    return { label, all: 0, kept: 0 };
  });
  ds.forEach((d, i) => {
    const k = Math.min(n - 1, Math.max(0, Math.floor((vals[i] - lo) / w)));
    bins[k].all++;
    if (d.kept) bins[k].kept++;
  });
  return bins;
}
