// The reflective teacher (src/world/teacher.ts TeacherStyle): counted plans, a check after every
// step, slips caught with "Wait" and corrected, flawed reflections; the segmenter's check kind; the
// loss's check weight (src/distill/examples.ts).
import { describe, expect, it } from 'vitest';
import { buildExample, type ExampleTokenizer } from '../../../src/distill/examples.ts';
import { segmentReasoning } from '../../../src/segment/segment.ts';
import { applyOp, generateProblems } from '../../../src/world/generator.ts';
import { PLAIN_STYLE, REFLECTIVE_STYLE, checkOf, planText, teachWorld, traceText } from '../../../src/world/teacher.ts';
import { parseCheckLine, parseStepLine } from '../../../src/guide/interventions/check-line.ts';

const problems = generateProblems({ seed: 11, n: 900 });
const reflective = teachWorld(problems, { seed: 11, style: REFLECTIVE_STYLE });
const plain = teachWorld(problems, { seed: 11 });
const byId = new Map(problems.map((p) => [p.id, p]));

describe('reflective teacher', () => {
  it('leaves the plain traces as they were (the style is opt-in, its draws on their own stream)', () => {
    expect(teachWorld(problems, { seed: 11, style: PLAIN_STYLE })).toEqual(plain);
    expect(plain.traces.every((t) => !/Check:|Wait/.test(t.reasoning))).toBe(true);
  });
  it('plans name the operations and their count', () => {
    const p = problems.find((x) => x.domain === 'arithmetic' && x.level === 3)!;
    expect(planText(p, true)).toBe(`3 operations: ${p.ops.map((s) => `${s.op} ${s.b}`).join(', ')}. ${p.plan}`);
    const w = problems.find((x) => x.domain === 'word' && x.level === 2)!;
    expect(planText(w, true)).toMatch(new RegExp(`^2 operations: ${w.ops[0].label}, ${w.ops[1].label}\\. `));
  });
  it('clean traces: every step is followed by a check whose arithmetic is right and agrees, then a recount and the boxed answer', () => {
    const clean = reflective.traces.filter((t) => !reflective.flaws.has(t.id) && !t.reasoning.includes(', not '));
    expect(clean.length).toBeGreaterThan(400);
    for (const t of clean) {
      const lines = t.reasoning.split('\n');
      const p = byId.get(t.id)!;
      expect(lines.filter((l) => l.startsWith('Step ') && !l.includes('largest value')).length).toBe(p.ops.length);
      lines.forEach((l, i) => {
        if (!l.startsWith('Step ') || l.includes('largest value')) return;
        const step = parseStepLine(l)!;
        expect(applyOp(step.a, step.op, step.b)).toBe(step.c);
        const check = parseCheckLine(lines[i + 1])!;
        expect(check.agrees).toBe(true);
        for (const c of check.computations) expect(applyOp(c.a, c.op, c.b)).toBe(c.c);
      });
      expect(lines.at(-2)).toMatch(/^(Wait, check: \d+ steps? done, \d+ in the plan\.|Check: x = \d+: .*)$/);
      expect(t.reasoning.endsWith(`Final Answer: \\boxed{${t.referenceAnswer}}`)).toBe(true);
      if (p.domain === 'linear') expect(t.reasoning).toMatch(/\nCheck: x = \d+: /);
    }
  });
  it('a share of clean traces make a slip that their check catches and a "Wait" line corrects, reaching the right answer', () => {
    const slips = reflective.traces.filter((t) => !reflective.flaws.has(t.id) && /\nWait, \d+ [-+*/] \d+ = \d+, not \d+\./.test(t.reasoning));
    const clean = reflective.traces.filter((t) => !reflective.flaws.has(t.id));
    expect(slips.length / clean.length).toBeGreaterThan(0.12);
    expect(slips.length / clean.length).toBeLessThan(0.28);
    for (const t of slips) {
      const lines = t.reasoning.split('\n');
      const w = lines.findIndex((l) => /^Wait, \d/.test(l));
      const step = parseStepLine(lines[w - 2])!;
      expect(applyOp(step.a, step.op, step.b)).not.toBe(step.c); // the slip
      expect(parseCheckLine(lines[w - 1])!.agrees).toBe(false); // caught by its check
      const [, a, op, b, c] = /^Wait, (\d+) ([-+*/]) (\d+) = (\d+), not/.exec(lines[w])!;
      expect(applyOp(Number(a), op as '+', Number(b))).toBe(Number(c)); // corrected
      expect(t.answer).toBe(t.referenceAnswer);
    }
  });
  it('keeps the flawed traces, with checks, and adds reflections that "correct" a right step into a wrong one', () => {
    const kinds = new Set(reflective.flaws.values());
    expect(kinds.has('false-correction')).toBe(true);
    expect(kinds.has('wrong-step')).toBe(true);
    let fc = 0; let fcWrong = 0; let ws = 0; let wsWrong = 0;
    for (const t of reflective.traces) {
      const f = reflective.flaws.get(t.id);
      if (f === 'false-correction') {
        const lines = t.reasoning.split('\n');
        const w = lines.findIndex((l) => /^Wait, \d/.test(l));
        const step = parseStepLine(lines[w - 2])!;
        expect(applyOp(step.a, step.op, step.b)).toBe(step.c); // the step was right
        const [, a, op, b, c] = /^Wait, (\d+) ([-+*/]) (\d+) = (\d+), not/.exec(lines[w])!;
        expect(applyOp(Number(a), op as '+', Number(b))).not.toBe(Number(c)); // the "correction" is wrong
        fc++; if (t.answer !== t.referenceAnswer) fcWrong++;
      }
      if (f === 'wrong-step') { ws++; if (t.answer !== t.referenceAnswer) wsWrong++; expect(t.reasoning).toContain('Check: '); }
    }
    // the wrong value is carried by the later steps into the answer (a remainder of 0 or a comparison
    // the changed expression does not win can still end right)
    expect(fcWrong / fc).toBeGreaterThan(0.8);
    expect(wsWrong / ws).toBeGreaterThan(0.8);
  });
  it('the check of a step is its inverse (the product commuted)', () => {
    expect(checkOf({ a: 12, op: '+', b: 30, c: 42 }, 42)).toEqual({ text: '42 - 30 = 12', got: 12, want: 12 });
    expect(checkOf({ a: 42, op: '-', b: 5, c: 37 }, 36)).toEqual({ text: '36 + 5 = 41', got: 41, want: 42 });
    expect(checkOf({ a: 7, op: '*', b: 8, c: 56 }, 54)).toEqual({ text: '8 * 7 = 56', got: 56, want: 54 });
    expect(checkOf({ a: 64, op: '/', b: 8, c: 8 }, 8)).toEqual({ text: '8 * 8 = 64', got: 64, want: 64 });
  });
  it('traceText with the style gives the clean reflective trace', () => {
    const p = problems.find((x) => x.domain === 'linear' && x.level === 4)!;
    const t = traceText(p, REFLECTIVE_STYLE);
    expect(t.startsWith(`Plan: ${planText(p, true)}\nStep 1: `)).toBe(true);
    expect(t).toContain('Check: x = ');
    expect(traceText(p)).not.toContain('Check');
  });
});

describe('segmenter: checks are their own kind', () => {
  it('splits a reflective trace into strategy, tactic / check spans, answer; contiguous and covering it', () => {
    const text = 'Plan: 2 operations: + 3, - 1.\nStep 1: 4 + 3 = 8\nCheck: 8 - 3 = 5, not 4\nWait, 4 + 3 = 7, not 8.\nStep 2: 7 - 1 = 6\nCheck: 6 + 1 = 7\nWait, check: 2 steps done, 2 in the plan.\nFinal Answer: \\boxed{6}';
    const s = segmentReasoning(text);
    expect(s.map((x) => x.kind)).toEqual(['strategy', 'tactic', 'check', 'tactic', 'check', 'answer']);
    expect(text.slice(s[2].start, s[2].end)).toBe('Check: 8 - 3 = 5, not 4\nWait, 4 + 3 = 7, not 8.\n');
    expect(text.slice(s[4].start, s[4].end)).toBe('Check: 6 + 1 = 7\nWait, check: 2 steps done, 2 in the plan.\n');
    for (let i = 1; i < s.length; i++) expect(s[i].start).toBe(s[i - 1].end);
    expect(s.at(-1)!.end).toBe(text.length);
  });
  it('a "wait" inside a line is not a check; <check> tags are', () => {
    expect(segmentReasoning('Plan: add.\nStep 1: wait for it, 2 + 2 = 4\nFinal Answer: 4').map((x) => x.kind)).toEqual(['strategy', 'tactic', 'answer']);
    expect(segmentReasoning('<step>2 + 2 = 4</step><check>4 - 2 = 2</check>').map((x) => x.kind)).toEqual(['tactic', 'check']);
  });
});

describe('loss: a check-token weight', () => {
  const tok: ExampleTokenizer = {
    encode: (s) => [...s].map((ch) => ch.codePointAt(0)! + 10),
    applyChatTemplate: (m) => [1, ...[...m[0].content].map((ch) => ch.codePointAt(0)! + 10), 2],
    eosTokenIds: [3],
  };
  const reasoning = 'Plan: x.\nStep 1: 1 + 1 = 2\nCheck: 2 - 1 = 1\nFinal Answer: \\boxed{2}';
  const trace = { id: 't', problem: 'q', reasoning, answer: '2' };
  const check = reasoning.indexOf('Check');
  const at = (ex: ReturnType<typeof buildExample>, i: number) => ex!.batch.weights[3 + i - 1]; // prompt [1,q,2]: reply char i is predicted at position 2 + i
  it('without a check weight, checks and steps share the tactics mean (the loss of traces before checks had a kind)', () => {
    const ex = buildExample(tok, trace, 200, { strategy: 1, tactics: 1, answer: 1 })!;
    expect(at(ex, check)).toBeCloseTo(at(ex, reasoning.indexOf('Step')), 12);
  });
  it('with one, check tokens carry lambda_check spread over their own tokens', () => {
    const ex = buildExample(tok, trace, 200, { strategy: 1, tactics: 1, answer: 1, check: 3 })!;
    const nCheck = 'Check: 2 - 1 = 1\n'.length;
    expect(at(ex, check)).toBeCloseTo(3 / nCheck, 12);
    const nStep = 'Step 1: 1 + 1 = 2\n'.length;
    expect(at(ex, reasoning.indexOf('Step'))).toBeCloseTo(1 / nStep, 12);
    expect(buildExample(tok, trace, 200, { strategy: 1, tactics: 1, answer: 1, check: 0 })!.batch.weights[2 + check]).toBe(0);
  });
});
