// The scaling chart's series from experiment rows (src/world/scaling.ts).
import { describe, expect, it } from 'vitest';
import { scalingSeries } from '../../../src/world/scaling.ts';

const row = (name: string, waits: number | undefined, u: number, h: number, group = 'scaling') => ({ name, group, waits, eval: { accuracy: u, n: 10 }, hard: { accuracy: h, n: 10 } });

describe('scaling series', () => {
  it('one series per model and split, sorted by Waits; other groups and the capped row left out', () => {
    const s = scalingSeries([
      row('scaling: adapter, 2 Waits', 2, 0.5, 0.4), row('scaling: base, 0 Waits', 0, 0.05, 0.03), row('scaling: adapter, 0 Waits', 0, 0.45, 0.3),
      row('scaling: adapter, 4 Waits, max 96 thinking tokens', 4, 0.9, 0.9), row('adapter on reason1k', undefined, 0.5, 0.5, 'selection'),
    ]);
    expect(s.map((x) => x.label)).toEqual(['adapter, uniform', 'adapter, hard', 'base, uniform', 'base, hard']);
    expect(s[0].points).toEqual([{ waits: 0, accuracy: 45 }, { waits: 2, accuracy: 50 }]);
    expect(s[1].points.map((p) => p.accuracy)).toEqual([30, 40]);
  });
  it('rows of an older experiment (no group, no hard split) give no series', () => {
    expect(scalingSeries([{ name: 'base', eval: { accuracy: 0.05, n: 200 } }])).toEqual([]);
  });
});
