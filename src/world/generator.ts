// The tiny reasoning world: seeded natural-language problems with numeric answers, six domains,
// levels 1-5. Every problem is a short program of single operations ("a op b = c", every value an
// integer in 0..MAX_VALUE) rendered in words; the answer is the last result. The student's
// pretraining drills each single operation; a trace writes the program out step by step (see
// teacher.ts), so solving a level-L problem "with reasoning" needs only operations it has drilled.
import { mulberry32 } from '../lib/rng.ts';

export const WORLD_DOMAINS = ['arithmetic', 'multiplication', 'remainders', 'linear', 'word', 'comparison'] as const;
export type WorldDomain = (typeof WORLD_DOMAINS)[number];
export const WORLD_LEVELS = [1, 2, 3, 4, 5] as const;

/** Every operand and result lies in 0..MAX_VALUE: the range the pretraining drills cover. */
export const MAX_VALUE = 99;

export type OpSym = '+' | '-' | '*' | '/';
/** One single operation of a solution: a op b = c, with an optional label (the quantity it names). */
export interface WorldOp { a: number; op: OpSym; b: number; c: number; label?: string }

export interface WorldProblem {
  /** `${prefix}${seed}:${index}` */
  id: string;
  domain: WorldDomain;
  level: number;
  problem: string;
  /** the answer as text (an integer) */
  answer: string;
  /** the solution program, in order */
  ops: WorldOp[];
  /** one-sentence plan the teacher writes first */
  plan: string;
  /** a bare (symbolic) form of the problem, used by the pretraining's worked drills; null = none */
  bare: string | null;
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

export function applyOp(a: number, op: OpSym, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0 ? NaN : a / b;
  }
}

/** The small operand of a drilled addition or subtraction (and the largest small difference). */
export const SMALL = 20;

/** Whether a op b is a single operation the drills cover: integers in 0..MAX_VALUE; + and - with one
 *  small side (an operand, or for -, the difference, <= SMALL); * within the 12x12 table; exact / by <= 12. */
export function drillable(a: number, op: OpSym, b: number): boolean {
  const c = applyOp(a, op, b);
  const ok = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_VALUE;
  if (!ok(a) || !ok(b) || !ok(c)) return false;
  if (op === '+') return Math.min(a, b) <= SMALL;
  if (op === '-') return b <= SMALL || c <= SMALL;
  if (op === '*') return a <= 12 && b <= 12;
  return b >= 1 && b <= 12 && c <= 12;
}

const op = (a: number, o: OpSym, b: number, label?: string): WorldOp => ({ a, op: o, b, c: applyOp(a, o, b), ...(label ? { label } : {}) });

/** Random operand for a +/- step from `x` that keeps the result drillable. */
function addSubStep(r: Rand, x: number): WorldOp {
  for (let i = 0; i < 50; i++) {
    const o: OpSym = r() < 0.5 ? '+' : '-';
    const b = int(r, 2, SMALL);
    if (drillable(x, o, b)) return op(x, o, b);
  }
  return op(x, '+', 0);
}

const NAMES = ['Ann', 'Ben', 'Cara', 'Dan', 'Eve', 'Finn', 'Gus', 'Hana', 'Ivo', 'Jo', 'Kim', 'Lea', 'Max', 'Nia', 'Omar', 'Pia'];
const ITEMS = ['apples', 'marbles', 'coins', 'stamps', 'books', 'shells', 'pencils', 'cards', 'stickers', 'beads'];

/** What a domain generator returns: the program and its words; `answer` only where it is not the last result. */
interface Draft { problem: string; ops: WorldOp[]; plan: string; bare: string | null; answer?: number }
type Gen = (r: Rand, level: number) => Draft | null;

function arithmetic(r: Rand, level: number): Draft | null {
  let x = int(r, 5, 99);
  const first = x;
  const ops: WorldOp[] = [];
  for (let i = 0; i < level; i++) { const s = addSubStep(r, x); ops.push(s); x = s.c; }
  const expr = `${first}${ops.map((s) => ` ${s.op} ${s.b}`).join('')}`;
  const problem = pick(r, [`What is ${expr}?`, `Compute ${expr}.`, `Work out ${expr}.`, `Find the value of ${expr}.`]);
  return { problem, ops, plan: 'Work from left to right, one operation at a time.', bare: expr };
}

function multiplication(r: Rand, level: number): Draft | null {
  // level 1: a*b; level L: L-1 products joined by + (or one product then +/- steps)
  const prods: WorldOp[] = [];
  const nProd = level === 1 ? 1 : Math.min(level - 1, 3);
  for (let i = 0; i < nProd; i++) {
    const a = int(r, 2, 14); const b = int(r, 2, Math.max(2, Math.min(14, Math.floor(MAX_VALUE / a / Math.max(1, nProd)))));
    prods.push(op(a, '*', b));
  }
  const ops = [...prods];
  let x = prods[0].c;
  for (let i = 1; i < prods.length; i++) { if (!drillable(x, '+', prods[i].c)) return null; ops.push(op(x, '+', prods[i].c)); x += prods[i].c; }
  const extra = level - ops.length;
  const tail: WorldOp[] = [];
  for (let i = 0; i < extra; i++) { const s = addSubStep(r, x); tail.push(s); x = s.c; }
  ops.push(...tail);
  const expr = `${prods.map((p) => `${p.a} * ${p.b}`).join(' + ')}${tail.map((s) => ` ${s.op} ${s.b}`).join('')}`;
  const words = prods.length === 1 && tail.length === 0 ? `${prods[0].a} times ${prods[0].b}` : expr;
  const problem = pick(r, [`What is ${words}?`, `Calculate ${words}.`, `Find the value of ${expr}.`]);
  return { problem, ops, plan: 'Do the multiplications first, then the additions and subtractions from left to right.', bare: expr };
}

function remainders(r: Rand, level: number): Draft | null {
  // (n1 + n2 + ...) mod m: level-1 additions build n, then m*q, then n - m*q
  const m = int(r, 3, 12);
  const ops: WorldOp[] = [];
  let n = int(r, level === 1 ? m + 1 : 10, level === 1 ? Math.min(MAX_VALUE, m * 12) : 60);
  const terms = [n];
  for (let i = 0; i < level - 1; i++) {
    const b = int(r, 5, SMALL);
    if (!drillable(n, '+', b)) break;
    ops.push(op(n, '+', b)); terms.push(b); n += b;
  }
  const q = Math.floor(n / m);
  if (q > 12 || q < 1) return null;
  ops.push(op(m, '*', q, 'largest multiple'));
  ops.push(op(n, '-', m * q, 'remainder'));
  const what = terms.length === 1 ? `${n}` : terms.join(' + ');
  const problem = pick(r, [`What is the remainder when ${what} is divided by ${m}?`, `Find the remainder of ${what} divided by ${m}.`, `What is ${terms.length === 1 ? what : `(${what})`} mod ${m}?`]);
  return { problem, ops, plan: `Find the number, then the largest multiple of ${m} not above it, and subtract.`, bare: `${terms.length === 1 ? what : `(${what})`} mod ${m}` };
}

function linear(r: Rand, level: number): Draft | null {
  const x = int(r, 1, 12);
  const a = level === 1 ? 1 : int(r, 2, 9);
  const ax = a * x;
  if (!drillable(a, '*', x)) return null;
  const b = int(r, 1, SMALL);
  const rhs = ax + b;
  if (rhs > MAX_VALUE) return null;
  const lhs = a === 1 ? 'x' : `${a}x`;
  if (level <= 2) {
    const ops = [op(rhs, '-', b)];
    if (a !== 1) ops.push(op(ax, '/', a, 'x'));
    return { problem: pick(r, [`Solve for x: ${lhs} + ${b} = ${rhs}.`, `If ${lhs} + ${b} = ${rhs}, what is x?`]), ops, plan: 'Undo the addition, then undo the multiplication.', bare: `${lhs} + ${b} = ${rhs}` };
  }
  // level 3: the right side is a sum; 4: an extra term on the left too; 5: then asks for x + f
  const e = level >= 4 ? int(r, 1, SMALL) : 0;
  const total = rhs + e;
  if (total > MAX_VALUE) return null;
  const d = int(r, 1, Math.max(1, Math.min(SMALL, total - 1)));
  const c = total - d;
  const ops: WorldOp[] = [op(c, '+', d)];
  if (e > 0) ops.push(op(total, '-', e));
  ops.push(op(rhs, '-', b));
  ops.push(op(ax, '/', a, 'x'));
  const eq = `${lhs} + ${b}${e > 0 ? ` + ${e}` : ''} = ${c} + ${d}`;
  if (level === 5) { const f = int(r, 1, 20); ops.push(op(x, '+', f, `x + ${f}`)); return { problem: `If ${eq}, what is x + ${f}?`, ops, plan: 'Simplify both sides, isolate x, then add.', bare: `${eq}; x + ${f}` }; }
  return { problem: pick(r, [`Solve for x: ${eq}.`, `If ${eq}, what is x?`]), ops, plan: 'Simplify both sides, undo the additions, then undo the multiplication.', bare: eq };
}

function word(r: Rand, level: number): Draft | null {
  // iGSM-style dependency chain over people's quantities of one item; later levels mix relations
  const item = pick(r, ITEMS);
  const names = [...NAMES].sort(() => r() - 0.5).slice(0, level + 1);
  const vals = [int(r, 3, 40)];
  const sentences = [`${names[0]} has ${vals[0]} ${item}.`];
  const ops: WorldOp[] = [];
  for (let i = 1; i <= level; i++) {
    const prev = vals[i - 1];
    const kinds = ['more', 'fewer', 'times', 'together'].filter((k) => (k !== 'together' || i >= 2) && (k !== 'times' || prev <= 60));
    const kind = pick(r, kinds);
    let s: WorldOp | null = null; let text = '';
    if (kind === 'more') { const b = int(r, 2, SMALL); if (drillable(prev, '+', b)) { s = op(prev, '+', b, names[i]); text = `${names[i]} has ${b} more ${item} than ${names[i - 1]}.`; } }
    else if (kind === 'fewer') { const b = int(r, 1, Math.max(1, Math.min(SMALL, prev - 1))); if (drillable(prev, '-', b)) { s = op(prev, '-', b, names[i]); text = `${names[i]} has ${b} fewer ${item} than ${names[i - 1]}.`; } }
    else if (kind === 'times') { const k = prev <= 20 ? pick(r, [2, 3]) : 2; if (drillable(prev, '*', k) || drillable(k, '*', prev)) { s = op(prev, '*', k, names[i]); if (!drillable(prev, '*', k)) s = null; else text = `${names[i]} has ${k === 2 ? 'twice' : 'three times'} as many ${item} as ${names[i - 1]}.`; } }
    else { const j = int(r, 0, i - 2); if (drillable(prev, '+', vals[j])) { s = op(prev, '+', vals[j], names[i]); text = `${names[i]} has as many ${item} as ${names[i - 1]} and ${names[j]} together.`; } }
    if (!s) { const b = int(r, 2, 20); if (!drillable(prev, '+', b)) return null; s = op(prev, '+', b, names[i]); text = `${names[i]} has ${b} more ${item} than ${names[i - 1]}.`; }
    ops.push(s); vals.push(s.c); sentences.push(text);
  }
  // level >= 4: the facts come in shuffled order (the solver must follow the dependency graph)
  const body = level >= 4 ? [sentences[0], ...sentences.slice(1).sort(() => r() - 0.5)] : sentences;
  const problem = `${body.join(' ')} How many ${item} does ${names[level]} have?`;
  return { problem, ops, plan: `Follow the chain from ${names[0]} to ${names[level]}, one person at a time.`, bare: null };
}

function comparison(r: Rand, level: number): Draft | null {
  // which of several expressions is largest (answer: its value); level = number of operations
  const nExpr = level <= 2 ? 2 : 3;
  const exprs: { text: string; ops: WorldOp[]; v: number }[] = [];
  const opsLeft = Math.max(nExpr, level);
  for (let i = 0; i < nExpr; i++) {
    const k = i < opsLeft - nExpr + 1 ? (i === 0 ? opsLeft - nExpr + 1 : 1) : 1;
    let x = int(r, 5, 99); const first = x; const eops: WorldOp[] = [];
    for (let j = 0; j < k; j++) { const s = addSubStep(r, x); eops.push(s); x = s.c; }
    exprs.push({ text: `${first}${eops.map((s) => ` ${s.op} ${s.b}`).join('')}`, ops: eops, v: x });
  }
  const vs = exprs.map((e) => e.v);
  if (new Set(vs).size !== vs.length) return null;
  const ops = exprs.flatMap((e) => e.ops);
  const best = Math.max(...vs);
  const list = exprs.map((e) => e.text);
  const problem = `Which is the largest: ${list.slice(0, -1).join(', ')}${list.length > 2 ? ',' : ''} or ${list[list.length - 1]}? Give its value.`;
  return { problem, ops, plan: 'Compute each expression, then compare the values.', bare: `max(${list.join('; ')})`, answer: best };
}

const GENERATORS: Record<WorldDomain, Gen> = { arithmetic, multiplication, remainders, linear, word, comparison };

/** One problem of `domain` at `level` from the stream `r` (retries until the program is drillable). */
export function generateProblem(r: Rand, domain: WorldDomain, level: number, id: string): WorldProblem {
  for (let attempt = 0; attempt < 200; attempt++) {
    const g = GENERATORS[domain](r, level);
    if (!g || g.ops.some((s) => !drillable(s.a, s.op, s.b))) continue;
    const { problem, ops, plan, bare } = g;
    return { id, domain, level, problem, answer: String(g.answer ?? ops[ops.length - 1].c), ops, plan, bare };
  }
  throw new Error(`world: could not generate a ${domain} problem at level ${level}`);
}

export interface WorldSpec { seed: number; n: number; domains?: readonly WorldDomain[]; levels?: readonly number[]; idPrefix?: string }

/** n problems, domains and levels cycling evenly (then shuffled by the seed); ids `${prefix}${seed}:${i}`. */
export function generateProblems(spec: WorldSpec): WorldProblem[] {
  const domains = spec.domains?.length ? spec.domains : WORLD_DOMAINS;
  const levels = spec.levels?.length ? spec.levels : WORLD_LEVELS;
  for (const d of domains) if (!(WORLD_DOMAINS as readonly string[]).includes(d)) throw new Error(`world: unknown domain "${d}" (domains: ${WORLD_DOMAINS.join(', ')})`);
  for (const l of levels) if (!(WORLD_LEVELS as readonly number[]).includes(l)) throw new Error(`world: level must be 1..5, got ${l}`);
  const r = mulberry32(spec.seed);
  const out: WorldProblem[] = [];
  for (let i = 0; i < spec.n; i++) {
    const cell = i % (domains.length * levels.length);
    const domain = domains[cell % domains.length];
    const level = levels[Math.floor(cell / domains.length)];
    out.push(generateProblem(r, domain, level, `${spec.idPrefix ?? 'world-'}${spec.seed}:${i}`));
  }
  return out;
}

/** "a op b = c" as the drills and traces write it. */
export function opLine(s: WorldOp): string {
  return `${s.a} ${s.op} ${s.b} = ${s.c}`;
}
