// The world's programmatic teacher: a trace per problem in the shape the segmenter reads
//   Plan: <strategy>            (strategy)
//   Step k: <a op b = c>        (tactics, one drilled operation per line)
//   Final Answer: \boxed{N}     (answer)
// with a realistic share of flawed traces. The flaw kind is returned beside the trace (never in
// it), so selection cannot read it and the experiment can count what each selection let through.
// The reflective style (TeacherStyle) writes as strong reasoning models do: a plan that names the
// operations and their count, a check line after each step (the inverse operation; for equations
// the solution substituted back), a recount of the steps against the plan before the answer (check
// segments, src/segment), and in `slipRate` of the clean traces a slip caught by its check and
// corrected with "Wait". Its flawed traces carry checks too, and one more flaw: a reflection that
// "corrects" a right step into a wrong one.
import { mulberry32 } from '../lib/rng.ts';
import { type WorldOp, type WorldProblem, applyOp, opLine } from './generator.ts';

export const FLAW_KINDS = ['wrong-step', 'wrong-step-right-answer', 'wrong-answer', 'truncated', 'no-plan', 'loop', 'near-duplicate'] as const;
/** Flaws only a reflective trace can have: a "Wait" that turns a right step into a wrong one. */
export const REFLECTIVE_FLAW_KINDS = ['false-correction'] as const;
export type FlawKind = (typeof FLAW_KINDS)[number] | (typeof REFLECTIVE_FLAW_KINDS)[number];

/** How the teacher writes: the plain measured traces, or reflective ones (checks, slips caught with "Wait", counted plans). */
export interface TeacherStyle {
  /** a check line after every step and a recount before the answer */
  checks: boolean;
  /** share of clean traces with one slip that its check catches and a "Wait" line corrects (needs checks) */
  slipRate: number;
  /** plans that name the operations and their count */
  countedPlan: boolean;
}
/** The traces every measured adapter so far was trained on. */
export const PLAIN_STYLE: TeacherStyle = { checks: false, slipRate: 0, countedPlan: false };
/** Checks on every trace, a slip caught and corrected in one clean trace of five, counted plans. */
export const REFLECTIVE_STYLE: TeacherStyle = { checks: true, slipRate: 0.2, countedPlan: true };

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
  /** default PLAIN_STYLE */
  style?: TeacherStyle;
}

function stepLine(i: number, s: WorldOp, c = s.c): string {
  const body = `${s.a} ${s.op} ${s.b} = ${c}`;
  return `Step ${i + 1}: ${s.label && !/^(largest multiple|remainder|x)$/.test(s.label) ? `${s.label} has ${body}` : body}`;
}

/** The clean trace text of a problem (plain style unless `style` says otherwise). */
export function traceText(p: WorldProblem, style: TeacherStyle = PLAIN_STYLE): string {
  if (style.checks || style.countedPlan) return reflectiveLines(p, style, {}).join('\n');
  const lines = [`Plan: ${p.plan}`, ...p.ops.map((s, i) => stepLine(i, s))];
  if (p.domain === 'comparison') lines.push(`Step ${p.ops.length + 1}: the largest value is ${p.answer}`);
  lines.push(`Final Answer: \\boxed{${p.answer}}`);
  return lines.join('\n');
}

/** The plan sentence: as generated, or led by the operations and their count ("3 operations: + 5, - 2, + 7."). */
export function planText(p: WorldProblem, counted: boolean): string {
  if (!counted) return p.plan;
  const n = p.ops.length;
  const named = p.domain === 'word'
    ? p.ops.map((s) => s.label ?? `${s.op} ${s.b}`).join(', ')
    : p.ops.map((s) => `${s.op} ${s.b}`).join(', ');
  return `${n} operation${n === 1 ? '' : 's'}: ${named}. ${p.plan}`;
}

/** The check of a step written as a op b = c: the inverse operation from c (the product commuted,
 *  since c / b need not be whole); `want` is the value it must give back. */
export function checkOf(s: WorldOp, c: number): { text: string; got: number; want: number } {
  switch (s.op) {
    case '+': return { text: `${c} - ${s.b} = ${c - s.b}`, got: c - s.b, want: s.a };
    case '-': return { text: `${c} + ${s.b} = ${c + s.b}`, got: c + s.b, want: s.a };
    case '/': return { text: `${c} * ${s.b} = ${c * s.b}`, got: c * s.b, want: s.a };
    case '*': { const v = s.b * s.a; return { text: `${s.b} * ${s.a} = ${v}`, got: v, want: c }; }
  }
}

/** "Check: <inverse>" and, when it does not give back what it must, ", not <want>". */
function checkLine(s: WorldOp, c: number): string {
  const k = checkOf(s, c);
  return `Check: ${k.text}${k.got === k.want ? '' : `, not ${k.want}`}`;
}

/** Substitution of the solution back into a linear equation (ops [c + d, [total - e,] rhs - b, ax / a, [x + f]]). */
function substitution(p: WorldProblem): string | null {
  if (p.domain !== 'linear') return null;
  const xi = p.ops.findIndex((s) => s.label === 'x');
  const at = xi >= 0 ? xi - 1 : p.ops.length - 1; // the step "rhs - b = ax" (a = 1: = x)
  const sub = p.ops[at];
  if (!sub || sub.op !== '-') return null;
  const x = xi >= 0 ? p.ops[xi].c : sub.c;
  const parts: string[] = [];
  let v = x;
  if (xi >= 0) { parts.push(`${p.ops[xi].b} * ${x} = ${sub.c}`); v = sub.c; }
  parts.push(`${v} + ${sub.b} = ${sub.a}`);
  const ext = at > 0 && p.ops[at - 1].op === '-' ? p.ops[at - 1] : null; // the extra term on the left
  if (ext) parts.push(`${sub.a} + ${ext.b} = ${ext.a}`);
  return `Check: x = ${x}: ${parts.join(', ')}`;
}

/** What a reflective trace writes besides the program: a value written off at one step (carried into
 *  the steps that read it, or not), a slip caught by its check and corrected, a right step
 *  "corrected" into a wrong one, checks that claim agreement whatever the arithmetic (a flawed
 *  checker), no plan, another stated answer. */
interface Written { off?: { i: number; by: number; carry: boolean }; slip?: { i: number; by: number }; falseFix?: { i: number; by: number }; lie?: boolean; plan?: boolean; answer?: string }

/** The lines of a reflective trace: counted plan, step + check lines, recount, answer. An error is
 *  carried by arithmetic: a later step reads the written value of the step it depends on. */
function reflectiveLines(p: WorldProblem, style: TeacherStyle, w: Written): string[] {
  const lines = w.plan === false ? [] : [`Plan: ${planText(p, style.countedPlan)}`];
  const wr: number[] = []; // value each step leaves for later steps
  const check = (s: WorldOp, c: number) => (w.lie ? `Check: ${checkOf(s, c).text.replace(/= -?\d+$/, `= ${checkOf(s, c).want}`)}` : checkLine(s, c));
  p.ops.forEach((s0, i) => {
    const from = (v: number) => { for (let k = i - 1; k >= 0; k--) if (p.ops[k].c === v) return wr[k]; return v; };
    const a = from(s0.a); const b = s0.op === '*' || s0.op === '/' ? s0.b : from(s0.b);
    let c = applyOp(a, s0.op, b);
    if (!Number.isInteger(c) || c < 0) c = s0.c + (a - s0.a);
    const s: WorldOp = { ...s0, a, b, c };
    if (w.slip?.i === i) {
      const wrong = c + w.slip.by;
      lines.push(stepLine(i, s, wrong));
      if (style.checks) lines.push(checkLine(s, wrong));
      lines.push(`Wait, ${a} ${s.op} ${b} = ${c}, not ${wrong}.`);
      wr.push(c);
      return;
    }
    const written = w.off?.i === i ? c + w.off.by : c;
    lines.push(stepLine(i, s, written));
    if (style.checks) lines.push(check(s, written));
    if (w.falseFix?.i === i) {
      lines.push(`Wait, ${a} ${s.op} ${b} = ${c + w.falseFix.by}, not ${c}.`);
      wr.push(c + w.falseFix.by);
      return;
    }
    wr.push(w.off?.i === i && !w.off.carry ? c : written);
  });
  // the answer the steps reach: the last value, or for a comparison the largest expression value
  const finals = p.ops.map((s, i) => i).filter((i) => i === p.ops.length - 1 || p.ops[i + 1].a !== p.ops[i].c);
  const reached = p.domain === 'comparison' ? Math.max(...finals.map((i) => wr[i])) : wr[wr.length - 1];
  const answer = w.answer ?? (w.off && !w.off.carry ? p.answer : String(reached));
  if (p.domain === 'comparison') lines.push(`Step ${p.ops.length + 1}: the largest value is ${answer}`);
  if (style.checks) {
    // before the answer: "Wait" and a recount against the plan (so a "Wait" that budget forcing
    // appends where the student stops has a learned continuation), then the solution substituted back
    const n = p.ops.length;
    lines.push(`Wait, check: ${n} step${n === 1 ? '' : 's'} done, ${n} in the plan.`);
    const sub = answer === p.answer ? substitution(p) : null;
    if (sub) lines.push(sub);
  }
  lines.push(`Final Answer: \\boxed{${answer}}`);
  return lines;
}

function reflectiveText(p: WorldProblem, style: TeacherStyle, w: Written): string {
  return reflectiveLines(p, style, w).join('\n');
}

/** An offset in ±1..3 that keeps the written value (and its check) non-negative. */
function slipOffset(r: () => number, c: number): number {
  const m = 1 + Math.floor(r() * 3);
  return c - m >= 0 && r() < 0.5 ? -m : m;
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
    case 'false-correction': // reflective traces only
      return { reasoning: traceText(p), answer: p.answer };
  }
}

/** A flawed reflective trace of kind `k`: its checks claim agreement where a step is wrong. */
function flawedReflective(p: WorldProblem, style: TeacherStyle, k: FlawKind, r: () => number): { reasoning: string; answer: string } {
  const off = 1 + Math.floor(r() * 9);
  const i = Math.floor(r() * p.ops.length);
  const text = (w: Written) => reflectiveText(p, style, w);
  switch (k) {
    case 'wrong-step': {
      const lines = reflectiveLines(p, style, { off: { i, by: off, carry: true }, lie: true });
      return { reasoning: lines.join('\n'), answer: /\\boxed\{(\d+)\}/.exec(lines[lines.length - 1])![1] };
    }
    case 'wrong-step-right-answer':
      return { reasoning: text({ off: { i, by: off, carry: false }, lie: true }), answer: p.answer };
    case 'wrong-answer': {
      const ans = String(Number(p.answer) + off);
      return { reasoning: text({ answer: ans }), answer: ans };
    }
    case 'truncated': {
      const lines = reflectiveLines(p, style, {});
      const steps = lines.map((l, j) => (l.startsWith('Step ') ? j : -1)).filter((j) => j >= 0);
      const cut = steps[Math.max(0, Math.min(steps.length - 1, i))];
      const last = lines[cut];
      return { reasoning: [...lines.slice(0, cut), last.slice(0, last.indexOf('=') + 1)].join('\n'), answer: '' };
    }
    case 'no-plan':
      return { reasoning: text({ plan: false }), answer: p.answer };
    case 'loop': {
      const s = stepLine(0, p.ops[0]);
      const c = style.checks ? checkLine(p.ops[0], p.ops[0].c) : null;
      const rep = Array.from({ length: 12 }, () => (c ? [s, c] : [s, s])).flat();
      return { reasoning: [`Plan: ${planText(p, style.countedPlan)}`, ...rep, `${s} again`].join('\n'), answer: '' };
    }
    case 'near-duplicate':
      return { reasoning: traceText(p, style), answer: p.answer };
    case 'false-correction': {
      const lines = reflectiveLines(p, style, { falseFix: { i, by: off } });
      return { reasoning: lines.join('\n'), answer: /\\boxed\{(\d+)\}/.exec(lines[lines.length - 1])![1] };
    }
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
  const style = opts.style ?? PLAIN_STYLE;
  const reflective = style.checks || style.countedPlan;
  const kinds: readonly FlawKind[] = reflective ? [...FLAW_KINDS, ...REFLECTIVE_FLAW_KINDS] : FLAW_KINDS;
  // slips draw from their own stream, so the plain style's traces stay byte-identical
  const rs = mulberry32(opts.seed ^ 0x51195);
  const rate = opts.flawRate ?? 0.25;
  const traces: WorldTrace[] = [];
  const flaws = new Map<string, FlawKind>();
  const base = (p: WorldProblem) => ({ id: p.id, problem: p.problem, referenceAnswer: p.answer, domain: p.domain, level: p.level });
  const clean = (p: WorldProblem): string => {
    if (!reflective) return traceText(p);
    if (!style.checks || rs() >= style.slipRate) return reflectiveText(p, style, {});
    const i = Math.floor(rs() * p.ops.length);
    return reflectiveText(p, style, { slip: { i, by: slipOffset(rs, p.ops[i].c) } });
  };
  for (const p of problems) {
    if (r() >= rate) { traces.push({ ...base(p), reasoning: clean(p), answer: p.answer }); continue; }
    const kind = kinds[Math.floor(r() * kinds.length)];
    if (kind === 'near-duplicate') {
      const text = clean(p);
      traces.push({ ...base(p), reasoning: text, answer: p.answer });
      const dupId = `${p.id}~dup`;
      traces.push({ ...base(p), id: dupId, problem: perturb(p.problem, r), reasoning: text, answer: p.answer });
      flaws.set(dupId, kind);
      continue;
    }
    const f = reflective ? flawedReflective(p, style, kind, r) : flawed(p, kind, r);
    traces.push({ ...base(p), ...f });
    flaws.set(p.id, kind);
  }
  return { traces, flaws };
}
