// The pretraining probe (src/world/corpus.ts probeItems): drills whose answers are the operation's
// result, bare problems with their answers, none of them a held-out test problem.
import { describe, expect, it } from 'vitest';
import { probeItems } from '../../../src/world/corpus.ts';
import { type OpSym, applyOp } from '../../../src/world/generator.ts';
import { worldTestSet } from '../../../src/world/split.ts';

describe('probeItems', () => {
  const test = worldTestSet();
  const exclude = new Set(test.map((p) => p.problem));
  const items = probeItems({ seed: 12, n: 50, exclude });

  it('gives n drills whose answer is the result of the operation, then n bare problems', () => {
    const drills = items.filter((i) => i.kind === 'drill');
    expect(drills).toHaveLength(50);
    for (const d of drills) {
      const m = /^(\d+) ([-+*/]) (\d+) =$/.exec(d.prompt);
      expect(m, d.prompt).not.toBeNull();
      expect(applyOp(Number(m![1]), m![2] as OpSym, Number(m![3]))).toBe(d.answer);
    }
    const bare = items.filter((i) => i.kind === 'bare');
    expect(bare).toHaveLength(50);
    for (const b of bare) { expect(b.prompt.endsWith('\n')).toBe(true); expect(Number.isInteger(b.answer)).toBe(true); }
  });

  it('is a function of its seed', () => {
    expect(probeItems({ seed: 12, n: 50, exclude })).toEqual(items);
    expect(probeItems({ seed: 13, n: 50, exclude })).not.toEqual(items);
  });
});
