// s1's selection ablations and the multi-criteria selection (src/selection/ablations.ts).
import { describe, expect, it } from 'vitest';
import { type Candidate, pickDiverse, pickHardest, pickLongest, pickMulti, pickRandom, planShape } from '../../../src/selection/ablations.ts';

const DOMAINS = ['a', 'b', 'c'];
const cands: Candidate[] = Array.from({ length: 300 }, (_, i) => ({
  id: `t${i}`, domain: DOMAINS[i % 3], level: 1 + (Math.floor(i / 3) % 5), length: (i * 37) % 101, difficulty: ((i * 53) % 97) / 97, shape: ['+', '+-', '*+'][Math.floor(i / 15) % 3],
}));
const byId = new Map(cands.map((c) => [c.id, c]));
const count = (ids: string[], key: (c: Candidate) => string) => { const m: Record<string, number> = {}; for (const id of ids) { const k = key(byId.get(id)!); m[k] = (m[k] ?? 0) + 1; } return m; };

describe('selection ablations', () => {
  it('plan shape: the operations of the step lines in order', () => {
    expect(planShape('Plan: x.\nStep 1: 12 + 30 = 42\nCheck: 42 - 30 = 12\nStep 2: Ben has 42 * 2 = 84\nFinal Answer: 84')).toBe('+*');
    expect(planShape('no steps here')).toBe('-');
  });
  it('random: N distinct, seeded', () => {
    const a = pickRandom(cands, 60, 1);
    expect(new Set(a).size).toBe(60);
    expect(pickRandom(cands, 60, 1)).toEqual(a);
    expect(pickRandom(cands, 60, 2)).not.toEqual(a);
  });
  it('diverse: every domain x level x shape cell before any repeats', () => {
    const cells = new Set(cands.map((c) => `${c.domain}|${c.level}|${c.shape}`));
    const d = pickDiverse(cands, cells.size, 3);
    expect(new Set(d.map((id) => { const c = byId.get(id)!; return `${c.domain}|${c.level}|${c.shape}`; })).size).toBe(cells.size);
  });
  it('longest and hardest: the top N of their one criterion', () => {
    const l = pickLongest(cands, 20);
    const minL = Math.min(...l.map((id) => byId.get(id)!.length));
    expect(cands.filter((c) => c.length > minL).every((c) => l.includes(c.id))).toBe(true);
    const h = pickHardest(cands, 20);
    const minD = Math.min(...h.map((id) => byId.get(id)!.difficulty!));
    expect(cands.filter((c) => c.difficulty! > minD).every((c) => h.includes(c.id))).toBe(true);
  });
  it('multi-criteria: level-uniform at hardTilt 0, leaning to hard levels as it grows, domains equal, harder first within a cell', () => {
    const flat = count(pickMulti(cands, 150, { difficulty: 1, length: 0, hardTilt: 0 }), (c) => `L${c.level}`);
    for (const l of [1, 2, 3, 4, 5]) expect(flat[`L${l}`]).toBe(30);
    const tilted = count(pickMulti(cands, 150, { difficulty: 1, length: 0, hardTilt: 3 }), (c) => `L${c.level}`);
    expect(tilted.L5).toBeGreaterThan(tilted.L1 * 2);
    expect(tilted.L1).toBeGreaterThan(0); // never only the hardest levels (Reason1K's old 96% level 5)
    const dom = count(pickMulti(cands, 150, { difficulty: 1, length: 0, hardTilt: 1 }), (c) => c.domain);
    expect(Object.values(dom).every((v) => Math.abs(v - 50) <= 1)).toBe(true);
    // within a cell the chosen are harder than the left-out (difficulty weight 1)
    const ids = new Set(pickMulti(cands, 150, { difficulty: 1, length: 0, hardTilt: 0 }));
    const cellOf = (c: Candidate) => `${c.domain}|${c.level}`;
    for (const k of new Set(cands.map(cellOf))) {
      const inCell = cands.filter((c) => cellOf(c) === k);
      const inD = inCell.filter((c) => ids.has(c.id)).map((c) => c.difficulty!);
      const outD = inCell.filter((c) => !ids.has(c.id)).map((c) => c.difficulty!);
      expect(inD.reduce((a, b) => a + b, 0) / inD.length).toBeGreaterThan(outD.reduce((a, b) => a + b, 0) / outD.length);
    }
  });
});
