// The test-time scaling curve of `npm run experiment:tiny` (rows of group 'scaling': accuracy against
// the number of forced "Wait"s, s1's Figure), as series for a chart: per model (base, adapter) and
// split (level-uniform, hard), accuracy in % at each number of Waits.

export interface ScalingRow { name: string; group?: string; waits?: number; eval: { accuracy: number; n: number }; hard?: { accuracy: number; n: number } }
export interface ScalingSeries { label: string; points: Array<{ waits: number; accuracy: number }> }

/** Series from an experiment's rows (rows without a Wait count, or with a thinking cap, are left out). */
export function scalingSeries(rows: readonly ScalingRow[]): ScalingSeries[] {
  const out = new Map<string, ScalingSeries>();
  for (const r of rows) {
    if (r.group !== 'scaling' || r.waits === undefined || /max \d+/.test(r.name)) continue;
    const who = /scaling: (\w+)/.exec(r.name)?.[1] ?? r.name;
    for (const [split, e] of [['uniform', r.eval], ['hard', r.hard]] as const) {
      if (!e || !(e.n > 0) || !Number.isFinite(e.accuracy)) continue;
      const label = `${who}, ${split}`;
      const s = out.get(label) ?? { label, points: [] };
      s.points.push({ waits: r.waits, accuracy: e.accuracy * 100 });
      out.set(label, s);
    }
  }
  for (const s of out.values()) s.points.sort((a, b) => a.waits - b.waits);
  return [...out.values()];
}
