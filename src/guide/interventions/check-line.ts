// Step and check lines of a reasoning text, as the world's reflective traces write them (and as a
// student trained on them writes them back): a step holds one operation "a op b = c" (after an
// optional label: "Step 2: Ben has 26 + 19 = 45"); a check line "Check: 45 - 19 = 26" holds one or
// more operations and says ", not N" when it does not give back what it must. Step verification
// (interventions/verify.ts) reads a check the model wrote after a step and compares its result.
type OpSym = '+' | '-' | '*' | '/';

export interface Computation { a: number; op: OpSym; b: number; c: number }

const OP = /(-?\d+) ([-+*/]) (-?\d+) = (-?\d+)/g;

/** Every "a op b = c" of a line, in order. */
export function computations(line: string): Computation[] {
  return [...line.matchAll(OP)].map((m) => ({ a: Number(m[1]), op: m[2] as OpSym, b: Number(m[3]), c: Number(m[4]) }));
}

/** The operation of a step line ("Step k: ... a op b = c"), or null when it holds none. */
export function parseStepLine(line: string): Computation | null {
  if (!/^\s*Step \d+:/.test(line)) return null;
  return computations(line)[0] ?? null;
}

/** A check line ("Check: ..."): its computations and whether it says it agrees (no ", not N"). */
export function parseCheckLine(line: string | undefined): { computations: Computation[]; agrees: boolean } | null {
  if (!line || !/^\s*(?:Check|Wait, check)\b/i.test(line)) return null;
  return { computations: computations(line), agrees: !/,\s*not\s+-?\d/.test(line) };
}

/** Whether a check line's result gives back the step: its first computation ends in the step's operand
 *  (the inverse: "c - b = a") or its result (the product commuted: "b * a = c"), and it says no ", not". */
export function checkAgrees(step: Computation, check: { computations: Computation[]; agrees: boolean }): boolean {
  const first = check.computations[0];
  if (!first || !check.agrees) return false;
  const inverse = first.a === step.c && first.b === step.b && first.c === step.a;
  const commuted = step.op === '*' && first.op === '*' && first.c === step.c && first.a * first.b === step.a * step.b;
  return inverse || commuted;
}
