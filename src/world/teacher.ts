// The world's programmatic teacher: a trace per problem in the shape the segmenter reads
//   Plan: <strategy>            (strategy)
//   Step k: <a op b = c>        (tactics, one drilled operation per line)
//   Final Answer: \boxed{N}     (answer)
// with a realistic share of flawed traces. The flaw kind is returned beside the trace (never in
// it), so selection cannot read it and the experiment can count what each selection let through.
import { mulberry32 } from '../lib/rng.ts';
import { type WorldOp, type WorldProblem, opLine } from './generator.ts';

export const FLAW_KINDS = ['wrong-step', 'wrong-step-right-answer', 'wrong-answer', 'truncated', 'no-plan', 'loop', 'near-duplicate'] as const;
export type FlawKind = (typeof FLAW_KINDS)[number];

export interface WorldTrace {
  /** the problem's id (near-duplicates get `${id}~dup`) */
  id: string;
  problem: string;
  reasoning: string;
  /** the final answer the trace states ('' when it states none) */
  answer: string;
  /** the true answer */
  referenceAnswer: string;
  domain: string;
  level: number;
}

export interface TeacherOptions {
  seed: number;
  /** share of problems that get a flawed trace (default 0.25) */
  flawRate?: number;
}

function stepLine(i: number, s: WorldOp, c = s.c): string {
  const body = `${s.a} ${s.op} ${s.b} = ${c}`;
  return `Step ${i + 1}: ${s.label && !/^(largest multiple|remainder|x)$/.test(s.label) ? `${s.label} has ${body}` : body}`;
}

/** The clean trace text of a problem. */
export function traceText(p: WorldProblem): string {
  const lines = [`Plan: ${p.plan}`, ...p.ops.map((s, i) => stepLine(i, s))];
  if (p.domain === 'comparison') lines.push(`Step ${p.ops.length + 1}: the largest value is ${p.answer}`);
  lines.push(`Final Answer: \\boxed{${p.answer}}`);
  return lines.join('\n');
}

/** The direct reply (no reasoning), as the pretraining's chat data answers. */
export function directReply(p: WorldProblem): string {
  return `Final Answer: \\boxed{${p.answer}}`;
}

/** A flawed trace of kind `k` (the reasoning text and the answer it states). */
function flawed(p: WorldProblem, k: FlawKind, r: () => number): { reasoning: string; answer: string } {
  const off = 1 + Math.floor(r() * 9);
  const plan = `Plan: ${p.plan}`;
  const final = (a: string) => `Final Answer: \\boxed{${a}}`;
  switch (k) {
    case 'wrong-step': {
      // one step off by `off`, carried into every later step and the answer
      const i = Math.floor(r() * p.ops.length);
      const lines = [plan];
      let delta = 0;
      p.ops.forEach((s, j) => { if (j === i) delta = off; lines.push(stepLine(j, s, s.c + (j >= i ? delta : 0))); });
      const ans = String(Number(p.answer) + delta);
      return { reasoning: [...lines, final(ans)].join('\n'), answer: ans };
    }
    case 'wrong-step-right-answer': {
      const i = Math.floor(r() * p.ops.length);
      const lines = [plan, ...p.ops.map((s, j) => stepLine(j, s, j === i ? s.c + off : s.c))];
      return { reasoning: [...lines, final(p.answer)].join('\n'), answer: p.answer };
    }
    case 'wrong-answer': {
      const ans = String(Number(p.answer) + off);
      return { reasoning: [plan, ...p.ops.map((s, j) => stepLine(j, s)), final(ans)].join('\n'), answer: ans };
    }
    case 'truncated': {
      const keep = Math.max(1, Math.floor(r() * p.ops.length));
      const lines = [plan, ...p.ops.slice(0, keep).map((s, j) => stepLine(j, s))];
      const last = lines.pop()!;
      lines.push(last.slice(0, last.indexOf('=') + 1)); // cut after "=", as a length limit would
      return { reasoning: lines.join('\n'), answer: '' };
    }
    case 'no-plan':
      return { reasoning: [...p.ops.map((s, j) => stepLine(j, s)), final(p.answer)].join('\n'), answer: p.answer };
    case 'loop': {
      const s = stepLine(0, p.ops[0]);
      const lines = [plan, ...Array.from({ length: 24 }, () => s)];
      return { reasoning: [...lines, `${s} again`].join('\n'), answer: '' };
    }
    case 'near-duplicate':
      return { reasoning: traceText(p), answer: p.answer };
  }
}

/** Small surface change for a near-duplicate problem (spacing, a word). */
function perturb(problem: string, r: () => number): string {
  const swaps: Array<[RegExp, string]> = [[/^What is/, 'What is'], [/\?$/, ' ?'], [/ has /, ' has  '], [/\.$/, ' .']];
  const [re, to] = swaps[Math.floor(r() * swaps.length)];
  const out = problem.replace(re, to);
  return out === problem ? `${problem} ` : out;
}

/**
 * Traces for `problems` (in order): clean ones, and flawed ones at `flawRate`; near-duplicates are
 * extra traces (a copy of a problem with a trivial change). Returns the traces and, apart, the flaw
 * of each flawed trace id.
 */
export function teachWorld(problems: readonly WorldProblem[], opts: TeacherOptions): { traces: WorldTrace[]; flaws: Map<string, FlawKind> } {
  const r = mulberry32(opts.seed ^ 0x7eac4e5);
  const rate = opts.flawRate ?? 0.25;
  const traces: WorldTrace[] = [];
  const flaws = new Map<string, FlawKind>();
  const base = (p: WorldProblem) => ({ id: p.id, problem: p.problem, referenceAnswer: p.answer, domain: p.domain, level: p.level });
  for (const p of problems) {
    if (r() >= rate) { traces.push({ ...base(p), reasoning: traceText(p), answer: p.answer }); continue; }
    const kind = FLAW_KINDS[Math.floor(r() * FLAW_KINDS.length)];
    if (kind === 'near-duplicate') {
      traces.push({ ...base(p), reasoning: traceText(p), answer: p.answer });
      const dupId = `${p.id}~dup`;
      traces.push({ ...base(p), id: dupId, problem: perturb(p.problem, r), reasoning: traceText(p), answer: p.answer });
      flaws.set(dupId, kind);
      continue;
    }
    const f = flawed(p, kind, r);
    traces.push({ ...base(p), ...f });
    flaws.set(p.id, kind);
  }
  return { traces, flaws };
}
