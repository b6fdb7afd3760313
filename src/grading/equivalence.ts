// Answer equivalence. Both answers are parsed once into a structure (parse.ts: number, expression,
// text, relation, interval, tuple, set, matrix) and compared by kind: numbers numerically
// (relative tolerance 1e-4; exact when either side is an integer, the PRM800K rule), text after
// normalisation, expressions and relations through the CAS (symbolic.ts), structures element by
// element. Each item runs under a time limit; every verdict says why.
import { canonicalNumberString, hendrycksStrip, normalizeAnswer, prmNormalize } from './normalize.ts';
import { parseNumeric } from './numeric.ts';
import { isConstant, isLabel, parseAnswer, splitTopLevel, type IntervalPart, type Parsed, type RelOp } from './parse.ts';
import { symbolicEqual, symbolicProportional } from './symbolic.ts';

export { parseNumeric, splitTopLevel };

export type VerdictMethod = 'string' | 'numeric' | 'symbolic' | 'elementwise' | 'mismatch' | 'no-answer';

export interface Verdict {
  correct: boolean;
  method: VerdictMethod;
  /** Human-readable why, e.g. "numeric: 0.5 == 1/2 within 1e-4". */
  reason: string;
}

export interface EquivalenceOptions {
  /** Try the CAS when cheaper checks fail (default true). */
  symbolic?: boolean;
  /** Per-comparison time bound for the CAS, ms (default 1500). */
  symbolicTimeoutMs?: number;
  /** Time limit for the whole item, ms (default 3000): past it the verdict is a mismatch that says so. */
  itemTimeoutMs?: number;
  /** The problem text, when known: "find all solutions" lets a reference (a, b) stand for the list of them. */
  problem?: string;
}

export const REL_TOL = 1e-4;

function isIntegerValue(x: number): boolean {
  return Math.abs(x - Math.round(x)) <= 1e-9 * Math.max(1, Math.abs(x));
}

type Limits = Required<Omit<EquivalenceOptions, 'problem'>>;

interface Ctx { opts: Limits; problem: string; percent: boolean; deadline: number; memo: Map<string, Parsed> }

class ItemTimeout extends Error {}

function parseMemo(s: string, ctx: Ctx): Parsed {
  let p = ctx.memo.get(s);
  if (!p) { p = parseAnswer(s); ctx.memo.set(s, p); }
  return p;
}

const ok = (method: VerdictMethod, reason: string): Verdict => ({ correct: true, method, reason: `${method}: ${reason}` });
const no = (reason: string): Verdict => ({ correct: false, method: 'mismatch', reason: `mismatch: ${reason}` });

async function compareScalar(pRaw: string, rRaw: string, ctx: Ctx): Promise<Verdict> {
  const p = normalizeAnswer(pRaw);
  const r = normalizeAnswer(rRaw);
  if (p === r) return { correct: true, method: 'string', reason: `string: "${p}" == "${r}" after normalisation` };
  if (p.toLowerCase() === r.toLowerCase() && /[a-z]{2,}/i.test(p)) return { correct: true, method: 'string', reason: `string: "${p}" == "${r}" ignoring case` };
  const mc = (x: string) => x.replace(/^\(([A-Ea-e])\)$/, '$1').replace(/^([A-E])[.)]$/, '$1');
  if (/^\(?[A-E]\)?\.?$/.test(r) && mc(p).toUpperCase() === mc(r).toUpperCase()) return { correct: true, method: 'string', reason: `string: choice ${mc(r)}` };
  // "(A) 5" answering choice "A": the letter decides.
  const lead = /^\(([A-E])\)/.exec(p);
  if (lead && /^\(?[A-E]\)?$/.test(r)) {
    const ok = lead[1] === mc(r);
    return { correct: ok, method: ok ? 'string' : 'mismatch', reason: ok ? `string: choice ${lead[1]}` : `mismatch: choice ${lead[1]} vs ${mc(r)}` };
  }
  const pp = prmNormalize(pRaw);
  const pr = prmNormalize(rRaw);
  if (pp !== '' && pp === pr) return { correct: true, method: 'string', reason: `string: "${pp}" == "${pr}" (PRM800K normaliser)` };
  // \pm / \mp answers stand for two values: both sides must carry the same sign markers.
  const pm = (x: string) => (x.match(/\\pm|\\mp|±/g) ?? []).length;
  if (pm(p) !== pm(r)) return { correct: false, method: 'mismatch', reason: `mismatch: "${p}" vs "${r}" (\\pm in one side only)` };
  const np = parseNumeric(p);
  const nr = parseNumeric(r);
  if (np !== null && nr !== null) {
    const cands = ctx.percent ? [np, np / 100, np * 100] : [np];
    // PRM800K: when either side is an integer, no tolerance (3 vs 3.0001 is wrong either way round).
    const refInt = isIntegerValue(nr) || isIntegerValue(np);
    for (const c of cands) {
      const ok = refInt ? Math.abs(c - nr) <= 1e-9 * Math.max(1, Math.abs(nr)) : Math.abs(c - nr) <= REL_TOL * Math.max(Math.abs(c), Math.abs(nr));
      if (ok) {
        const scaled = c !== np ? ` (as percent ${fmt(c)})` : '';
        return { correct: true, method: 'numeric', reason: refInt ? `numeric: ${p} == ${r}${scaled}` : `numeric: ${p} == ${r} within ${REL_TOL}${scaled}` };
      }
    }
    return {
      correct: false, method: 'mismatch',
      reason: refInt && Math.abs(np - nr) <= REL_TOL * Math.max(Math.abs(np), Math.abs(nr))
        ? `mismatch: ${p} != ${r} (an integer needs an exact match, no tolerance)`
        : `mismatch: numeric ${p} != ${r}`,
    };
  }
  if (ctx.opts.symbolic && worthSymbolic(p, r)) {
    const refInt = nr !== null && isIntegerValue(nr);
    const s = await symbolicEqual(p, r, refInt, casBudget(ctx));
    if (s.status === 'equal') return { correct: true, method: 'symbolic', reason: `symbolic: ${p} == ${r} (${s.how})` };
    if (s.status === 'different') return { correct: false, method: 'mismatch', reason: `mismatch: symbolic ${p} != ${r} (${s.how})` };
    return { correct: false, method: 'mismatch', reason: `mismatch: "${p}" vs "${r}" (symbolic check undecided: ${s.how})` };
  }
  return { correct: false, method: 'mismatch', reason: `mismatch: "${p}" vs "${r}"` };
}

/** The CAS is only worth calling when at least one side is an expression, not two plain words. */
function worthSymbolic(p: string, r: string): boolean {
  if (p === '' || r === '') return false;
  const plainWord = (x: string) => /^[a-zA-Z]{2,}$/.test(x);
  if (plainWord(p) || plainWord(r)) return false;
  return /[\\^_a-zA-Z()+*/!-]/.test(p) || /[\\^_a-zA-Z()+*/!-]/.test(r);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(8)));
}


/** Remaining CAS budget: the per-comparison bound, cut to what is left of the item's time. */
function casBudget(ctx: Ctx): number {
  const left = ctx.deadline - Date.now();
  if (left <= 0) throw new ItemTimeout();
  return Math.max(1, Math.min(ctx.opts.symbolicTimeoutMs, left));
}

async function compareItems(ps: string[], rs: string[], ordered: boolean, ctx: Ctx, depth: number): Promise<{ ok: boolean; detail: string }> {
  if (ps.length !== rs.length) return { ok: false, detail: `${ps.length} elements vs ${rs.length}` };
  if (ordered) {
    for (let i = 0; i < rs.length; i++) {
      const v = await compareAny(ps[i], rs[i], ctx, depth + 1);
      if (!v.correct) return { ok: false, detail: `element ${i + 1}: ${v.reason}` };
    }
    return { ok: true, detail: `${rs.length} elements equal in order` };
  }
  const used = new Set<number>();
  for (let i = 0; i < rs.length; i++) {
    let found = -1;
    for (let j = 0; j < ps.length && found < 0; j++) {
      if (used.has(j)) continue;
      if ((await compareAny(ps[j], rs[i], ctx, depth + 1)).correct) found = j;
    }
    if (found < 0) return { ok: false, detail: `no match for element "${rs[i]}"` };
    used.add(found);
  }
  return { ok: true, detail: `${rs.length} elements equal as a set` };
}

/** Grades an extracted answer against the reference answer. */
export async function gradeAnswer(prediction: string | null | undefined, reference: string, options: EquivalenceOptions = {}): Promise<Verdict> {
  if (prediction === null || prediction === undefined || prediction.trim() === '') {
    return { correct: false, method: 'no-answer', reason: 'mismatch: no answer found in the response' };
  }
  const opts: Limits = {
    symbolic: options.symbolic ?? true, symbolicTimeoutMs: options.symbolicTimeoutMs ?? 1500, itemTimeoutMs: options.itemTimeoutMs ?? 3000,
  };
  const pred = prediction.trim();
  const ref = reference.trim();
  // Hendrycks is_equiv first: identical stripped strings.
  if (hendrycksStrip(pred) === hendrycksStrip(ref)) {
    return { correct: true, method: 'string', reason: `string: "${hendrycksStrip(pred)}" == "${hendrycksStrip(ref)}" (Hendrycks strip_string)` };
  }
  const percent = /\\?%|\\percent/.test(pred) || /\\?%|\\percent/.test(ref);
  const ctx: Ctx = { opts, problem: options.problem ?? '', percent, deadline: Date.now() + opts.itemTimeoutMs, memo: new Map() };
  try {
    return await compareAny(pred, ref, ctx);
  } catch (e) {
    if (e instanceof ItemTimeout) return no(`time limit of ${opts.itemTimeoutMs} ms for this item reached before a verdict`);
    throw e;
  }
}

/** Compares two answer texts: parse (memoised per item), then by kind. */
async function compareAny(pred: string, ref: string, ctx: Ctx, depth = 0): Promise<Verdict> {
  if (Date.now() > ctx.deadline) throw new ItemTimeout();
  if (depth > 6) return compareScalar(pred, ref, ctx);
  return compareParsed(parseMemo(pred, ctx), parseMemo(ref, ctx), pred, ref, ctx, depth);
}

const SCALAR = new Set(['number', 'expression', 'text']);

async function compareParsed(p: Parsed, r: Parsed, pred: string, ref: string, ctx: Ctx, depth: number): Promise<Verdict> {
  if (SCALAR.has(p.kind) && SCALAR.has(r.kind)) return compareScalar(pred, ref, ctx);
  if (p.kind === 'relation' || r.kind === 'relation') return compareRelations(p, r, pred, ref, ctx, depth);
  if (p.kind === 'interval' || r.kind === 'interval' || (p.kind === 'set' && r.kind === 'set' && p.from === 'list' && r.from === 'list' && asIntervals(p) && asIntervals(r) && p.items.some((i) => /[<>≤≥]/.test(i)))) {
    const ip = asIntervals(p);
    const ir = asIntervals(r);
    if (!ip || !ir) return no(`${p.kind === 'interval' ? 'prediction' : 'reference'} is an interval, the other is a ${p.kind === 'interval' ? r.kind : p.kind}`);
    return compareIntervals(ip, ir, ctx, depth);
  }
  if (p.kind === 'union' || r.kind === 'union') {
    if (p.kind !== 'union' || r.kind !== 'union') return no(`${p.kind === 'union' ? 'prediction' : 'reference'} is a union, the other is not`);
    const res = await compareItems(p.items, r.items, false, ctx, depth);
    return res.ok ? ok('elementwise', `unions equal (${res.detail})`) : no(`union ${res.detail}`);
  }
  if (p.kind === 'matrix' || r.kind === 'matrix') {
    if (p.kind !== 'matrix' || r.kind !== 'matrix') return no(`matrix vs ${p.kind === 'matrix' ? r.kind : p.kind}`);
    if (r.rows.length !== p.rows.length || r.rows.some((row, i) => row.length !== p.rows[i].length)) {
      return no(`matrix shape ${p.rows.length}x${p.rows[0]?.length ?? 0} vs ${r.rows.length}x${r.rows[0]?.length ?? 0}`);
    }
    const res = await compareItems(p.rows.flat(), r.rows.flat(), true, ctx, depth);
    return res.ok ? ok('elementwise', `matrices equal (${res.detail})`) : no(`matrix ${res.detail}`);
  }
  if (r.kind === 'tuple' && p.kind === 'set' && p.from === 'list' && p.items.length === r.items.length) {
    // "a = 2, b = 3" for the pair (2, 3): labelled values in order.
    const vals = p.items.map((i) => { const q = parseAnswer(i); return q.kind === 'relation' ? statedValue(q) : null; });
    if (vals.every((v): v is string => v !== null)) {
      const res = await compareItems(vals, r.items, true, ctx, depth);
      return res.ok ? ok('elementwise', `labelled values in order: ${res.detail}`) : no(`labelled values: ${res.detail}`);
    }
  }
  if (r.kind === 'tuple' && r.open === '(' && p.kind === 'set' && asksForSolutions(ctx.problem)) {
    // "Find all solutions": the reference (1,3) lists them; order does not matter.
    const res = await compareItems(p.items, r.items, false, ctx, depth);
    return res.ok ? ok('elementwise', `${res.detail} (the problem asks for all solutions: the reference lists them)`) : no(res.detail);
  }
  if (r.kind === 'tuple') {
    if (p.kind !== 'tuple') return no(`reference is ${r.open}...${r.close} with ${r.items.length} elements, prediction is a ${p.kind}`);
    if (p.open !== r.open || p.close !== r.close) return no(`brackets ${p.open}${p.close} vs ${r.open}${r.close} (tuple/interval type differs)`);
    const res = await compareItems(p.items, r.items, true, ctx, depth);
    return res.ok ? ok('elementwise', `${r.open}${r.close} ${res.detail}`) : no(res.detail);
  }
  if (r.kind === 'set' || p.kind === 'set') {
    // Unordered answers (a set, a list of solutions, several boxes, \pm); a one-element set is its element.
    const items = (x: Parsed, raw: string) => (x.kind === 'set' ? x.items : x.kind === 'tuple' ? null : [raw]);
    const ip = items(p, pred);
    const ir = items(r, ref);
    if (!ip || !ir) return no(`reference is a ${r.kind === 'set' ? 'set of answers' : r.kind}, prediction is a ${p.kind === 'set' ? 'set of answers' : p.kind}`);
    if (ip.length === 1 && ir.length === 1 && (p.kind !== 'set' || r.kind !== 'set')) {
      const v = await compareAny(ip[0], ir[0], ctx, depth + 1);
      return v.correct ? ok(v.method, `${v.reason.replace(/^\w+: /, '')} (a one-element set is its element)`) : v;
    }
    // One value written several ways ("$\\boxed{15\\frac{39}{40}}$, or $\\boxed{\\frac{639}{40}}$").
    if (ir.length === 1 && ip.length > 1 && r.kind !== 'set') {
      let same = true;
      for (const x of ip.slice(1)) if (!(await compareAny(x, ip[0], ctx, depth + 1)).correct) { same = false; break; }
      if (same) {
        const v = await compareAny(ip[0], ir[0], ctx, depth + 1);
        return { ...v, reason: `${v.reason} (the ${ip.length} answers given are one value written ${ip.length} ways)` };
      }
    }
    const res = await compareItems(ip, ir, false, ctx, depth);
    return res.ok ? ok('elementwise', res.detail) : no(res.detail);
  }
  // Reference a single value, prediction a structure.
  return no(`prediction is a ${p.kind}, reference "${r.text}" is a single value`);
}

/** The problem asks for every solution / root / value (a list), not a point or an ordered pair. */
export function asksForSolutions(problem: string): boolean {
  if (problem === '') return false;
  if (/ordered (?:pair|triple)|\bpoint\b|coordinates|\bvector\b|\binterval\b/i.test(problem)) return false;
  return /\b(?:all|every|each)\b[^.?]*\b(?:solutions?|roots?|zeros?|values?|numbers?|integers?)\b|\bsolve\b|\bsolutions?\b[^.?]*\b(?:of|to)\b/i.test(problem);
}

type Relation = Extract<Parsed, { kind: 'relation' }>;

/** The value a relation states: the last side of `x = v`, `(p,q) = (3,2)`, a chain `z = 1+1 = 2` or a computation. */
function statedValue(x: Relation): string | null {
  if (!x.ops.every((o) => o === '=')) return null;
  if (x.sides.length >= 3 || isLabel(x.sides[0])) return x.sides[x.sides.length - 1];
  // A computation with no variable ("13-16=-3", "\frac{8!}{4}=10080") states its result.
  if (x.sides.every(isConstant)) return x.sides[x.sides.length - 1];
  return null;
}

/** `a op b` as `f op' 0` with op' in {>, >=, !=}: f = a - b (or b - a for < and <=). */
function orient(a: string, op: RelOp, b: string): { f: string; strict: boolean; ne: boolean } {
  if (op === '<' || op === '≤') return { f: `(${b})-(${a})`, strict: op === '<', ne: false };
  return { f: `(${a})-(${b})`, strict: op === '>', ne: op === '≠' };
}

/** An inequality in one quantity as intervals: `x \ge 5` -> [5, \infty), `-2 \le x < 7` -> [-2, 7). */
function inequalityIntervals(x: Relation): IntervalPart[] | null {
  let sides = x.sides;
  let ops = x.ops;
  if (ops.every((o) => o === '>' || o === '≥')) {
    sides = [...sides].reverse();
    ops = [...ops].reverse().map((o) => (o === '>' ? '<' : '≤'));
  } else if (!ops.every((o) => o === '<' || o === '≤')) return null;
  const open = (o: RelOp) => (o === '<' ? '(' : '[') as '(' | '[';
  const close = (o: RelOp) => (o === '<' ? ')' : ']') as ')' | ']';
  if (sides.length === 2) {
    const [a, b] = sides;
    // A bound on |x|: |x| < c is (-c, c); c < |x| is (-\infty, -c) \cup (c, \infty).
    const abs = (t: string) => /^\|[^|]+\|$/.test(t) && isLabel(t);
    const neg = (c: string) => `-(${c})`;
    if (abs(a) && isConstant(b)) return [{ open: open(ops[0]), close: close(ops[0]), lo: neg(b), hi: b }];
    if (isConstant(a) && abs(b)) return [{ open: '(', close: close(ops[0]), lo: '-\\infty', hi: neg(a) }, { open: open(ops[0]), close: ')', lo: a, hi: '\\infty' }];
    if (isLabel(a) && isConstant(b)) return [{ open: '(', close: close(ops[0]), lo: '-\\infty', hi: b }];
    if (isConstant(a) && isLabel(b)) return [{ open: open(ops[0]), close: ')', lo: a, hi: '\\infty' }];
    return null;
  }
  // a <= |z| <= b with 0 <= a: two intervals, [-b, -a] and [a, b].
  if (sides.length === 3 && isConstant(sides[0]) && /^\|[^|]+\|$/.test(sides[1]) && isLabel(sides[1]) && isConstant(sides[2]) && (parseNumeric(sides[0]) ?? -1) >= 0) {
    const [a, , b] = sides;
    return [{ open: open(ops[1]), close: close(ops[0]), lo: `-(${b})`, hi: `-(${a})` }, { open: open(ops[0]), close: close(ops[1]), lo: a, hi: b }];
  }
  if (sides.length === 3 && isConstant(sides[0]) && isLabel(sides[1]) && isConstant(sides[2])) {
    return [{ open: open(ops[0]), close: close(ops[1]), lo: sides[0], hi: sides[2] }];
  }
  return null;
}

function asIntervals(x: Parsed): IntervalPart[] | null {
  if (x.kind === 'interval') return x.parts;
  if (x.kind === 'tuple' && x.items.length === 2 && '(['.includes(x.open) && ')]'.includes(x.close)) {
    return [{ open: x.open as '(' | '[', close: x.close as ')' | ']', lo: x.items[0], hi: x.items[1] }];
  }
  if (x.kind === 'relation') return inequalityIntervals(x);
  // "x < -3 or x > 3": a union of the intervals of each inequality.
  if (x.kind === 'set' && x.from === 'list') {
    const parts: IntervalPart[] = [];
    for (const item of x.items) {
      const p = parseAnswer(item);
      const iv = p.kind === 'relation' ? inequalityIntervals(p) : p.kind === 'interval' ? p.parts : null;
      if (!iv) return null;
      parts.push(...iv);
    }
    return parts;
  }
  return null;
}

const showPart = (p: IntervalPart) => `${p.open}${p.lo}, ${p.hi}${p.close}`;

async function compareIntervals(ps: IntervalPart[], rs: IntervalPart[], ctx: Ctx, depth: number): Promise<Verdict> {
  if (ps.length !== rs.length) return no(`${ps.length} interval(s) vs ${rs.length}`);
  const used = new Set<number>();
  for (const r of rs) {
    let found = -1;
    let why = '';
    for (let j = 0; j < ps.length && found < 0; j++) {
      if (used.has(j)) continue;
      const p = ps[j];
      if (p.open !== r.open || p.close !== r.close) { why = `brackets of ${showPart(p)} vs ${showPart(r)} differ (open/closed end)`; continue; }
      const lo = await compareAny(p.lo, r.lo, ctx, depth + 1);
      if (!lo.correct) { why = `lower end of ${showPart(p)} vs ${showPart(r)}: ${lo.reason}`; continue; }
      const hi = await compareAny(p.hi, r.hi, ctx, depth + 1);
      if (!hi.correct) { why = `upper end of ${showPart(p)} vs ${showPart(r)}: ${hi.reason}`; continue; }
      found = j;
    }
    if (found < 0) return no(`interval ${ps.length === 1 ? why : `no match for ${showPart(r)}${why ? ` (${why})` : ''}`}`);
    used.add(found);
  }
  return ok('elementwise', `intervals equal: ${rs.map(showPart).join(' \\cup ')}`);
}

async function compareRelations(p: Parsed, r: Parsed, pred: string, ref: string, ctx: Ctx, depth: number): Promise<Verdict> {
  if (p.kind !== 'relation' || r.kind !== 'relation') {
    const rel = (p.kind === 'relation' ? p : r) as Relation;
    const other = p.kind === 'relation' ? r : p;
    const who = p.kind === 'relation' ? 'prediction' : 'reference';
    const v = statedValue(rel);
    if (v !== null) {
      const sub = p.kind === 'relation' ? await compareAny(v, ref, ctx, depth + 1) : await compareAny(pred, v, ctx, depth + 1);
      const note = ` (${who} "${rel.text}" read as its value "${v}")`;
      return sub.correct ? { ...sub, reason: sub.reason + note } : { ...sub, reason: sub.reason + note };
    }
    const ir = inequalityIntervals(rel);
    const io = asIntervals(other);
    if (ir && io) {
      const iv = p.kind === 'relation' ? await compareIntervals(ir, io, ctx, depth) : await compareIntervals(io, ir, ctx, depth);
      return { ...iv, reason: `${iv.reason} (${who} "${rel.text}" read as ${ir.map(showPart).join(' \\cup ')})` };
    }
    return no(`${who} is a relation "${rel.text}", the other is a ${other.kind} "${other.text}"`);
  }
  const eqP = p.ops.every((o) => o === '=');
  const eqR = r.ops.every((o) => o === '=');
  if (eqP !== eqR) return no(`an equation vs an inequality ("${p.text}" vs "${r.text}")`);
  if (eqP) {
    const vp = statedValue(p);
    const vr = statedValue(r);
    if (vp !== null && vr !== null) {
      const sub = await compareAny(vp, vr, ctx, depth + 1);
      return { ...sub, reason: `${sub.reason} (values of "${p.text}" and "${r.text}")` };
    }
    // Equations as sets of solutions: lhs - rhs proportional (scaled, rearranged, solved for a variable).
    const fp = `(${p.sides[0]})-(${p.sides[p.sides.length - 1]})`;
    const fr = `(${r.sides[0]})-(${r.sides[r.sides.length - 1]})`;
    return casRelation(fp, fr, 'any', p.text, r.text, ctx);
  }
  const ip = inequalityIntervals(p);
  const ir = inequalityIntervals(r);
  if (ip && ir) {
    const iv = await compareIntervals(ip, ir, ctx, depth);
    return { ...iv, reason: `${iv.reason} ("${p.text}" and "${r.text}" as intervals)` };
  }
  if (p.ops.length === 1 && r.ops.length === 1) {
    const a = orient(p.sides[0], p.ops[0], p.sides[1]);
    const b = orient(r.sides[0], r.ops[0], r.sides[1]);
    if (a.ne !== b.ne || a.strict !== b.strict) return no(`relations "${p.text}" and "${r.text}" differ in kind (strict, non-strict or \\ne)`);
    return casRelation(a.f, b.f, a.ne ? 'any' : 'positive', p.text, r.text, ctx);
  }
  return no(`relations "${p.text}" and "${r.text}" have different shapes`);
}

async function casRelation(fp: string, fr: string, sign: 'any' | 'positive', pt: string, rt: string, ctx: Ctx): Promise<Verdict> {
  if (!ctx.opts.symbolic) return no(`relations "${pt}" vs "${rt}" need the CAS (symbolic off)`);
  const s = await symbolicProportional(fp, fr, sign, casBudget(ctx));
  if (s.status === 'equal') return ok('symbolic', `"${pt}" is equivalent to "${rt}" (${s.how})`);
  if (s.status === 'different') return no(`relations "${pt}" vs "${rt}" (${s.how})`);
  return no(`relations "${pt}" vs "${rt}" (symbolic check undecided: ${s.how})`);
}

export { canonicalNumberString };
