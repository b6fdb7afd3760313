// Strategy / tactic / answer segmentation: teacher tags win, explicit markers, the heuristic on
// real GSM8K and MATH500 solutions, and user edits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { editSegments, segmentReasoning, segmentTrace } from '../../../src/segment/segment.ts';

const rows = (f: string) => readFileSync(new URL(`../../../public/data/${f}`, import.meta.url), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
const slice = (t: string, s: { start: number; end: number }) => t.slice(s.start, s.end);

describe('segmentation', () => {
  it('teacher tags (<plan>/<step>/<answer>) win', () => {
    const t = 'Intro. <plan>Use the sum formula.</plan>\n<step>1+2+3 = 6</step>\n<step>6*2 = 12</step>\n<answer>\\boxed{12}</answer>';
    const s = segmentReasoning(t);
    expect(s.map((x) => [x.kind, x.source])).toEqual([['strategy', 'teacher'], ['tactic', 'teacher'], ['tactic', 'teacher'], ['answer', 'teacher']]);
    expect(slice(t, s[0])).toBe('Use the sum formula.');
    expect(slice(t, s[3])).toBe('\\boxed{12}');
    // Stored teacher/user segments are kept as they are.
    const given = [{ kind: 'strategy' as const, start: 0, end: 3, source: 'user' as const }];
    expect(segmentTrace({ reasoning: 'abc def', segments: given })).toBe(given);
  });

  it('explicit markers', () => {
    const t = 'Plan: factor the quadratic, then read off the roots.\nStep 1: x^2-5x+6 = (x-2)(x-3).\nStep 2: roots 2 and 3.\nFinal Answer: 2, 3';
    const s = segmentReasoning(t);
    expect(s[0]).toMatchObject({ kind: 'strategy', source: 'marker' });
    expect(slice(t, s[0])).toMatch(/^Plan: factor the quadratic, then read off the roots\.\n$/);
    expect(slice(t, s[1])).toMatch(/^Step 1/);
    expect(s[2]).toMatchObject({ kind: 'answer', source: 'marker' });
    expect(slice(t, s[2])).toBe('Final Answer: 2, 3');
  });

  it('heuristic on a real MATH500 solution: opening sentences before the first computation, boxed answer', () => {
    const sol = rows('math500.jsonl').find((r) => r.solution.startsWith('We ') && /\n\n/.test(r.solution) && r.solution.includes('\\boxed'))!.solution;
    const s = segmentReasoning(sol);
    const kinds = s.map((x) => x.kind);
    expect(kinds[kinds.length - 1]).toBe('answer');
    expect(slice(sol, s[s.length - 1])).toContain('\\boxed');
    // Contiguous cover of the text.
    expect(s[0].start).toBe(0);
    for (let i = 1; i < s.length; i++) expect(s[i].start).toBe(s[i - 1].end);
    expect(s[s.length - 1].end).toBe(sol.length);
  });

  it('heuristic on real GSM8K reasoning: first line with a computation is a tactic, last line the answer', () => {
    for (const r of rows('gsm8k_train.jsonl').slice(0, 50)) {
      const reasoning = r.answer.split('####')[0].trim();
      const s = segmentReasoning(reasoning);
      expect(s.length).toBeGreaterThan(0);
      const strat = s.find((x) => x.kind === 'strategy');
      if (strat) expect(slice(reasoning, strat)).not.toMatch(/<</);
      expect(s[s.length - 1].end).toBe(reasoning.length);
    }
  });

  it('user edit clamps and orders the boundaries', () => {
    const t = 'abcdefghij';
    expect(editSegments(t, 3, 7).map((x) => [x.kind, x.start, x.end, x.source])).toEqual([['strategy', 0, 3, 'user'], ['tactic', 3, 7, 'user'], ['answer', 7, 10, 'user']]);
    expect(editSegments(t, 8, 2).map((x) => x.kind)).toEqual(['strategy', 'answer']);
  });
});
