// Answer equivalence: string (after normalisation), numeric (relative tolerance 1e-4; exact for
// integer references, the PRM800K rule), fractions, tuples/intervals/sets/matrices element by
// element, and symbolic equivalence through the CAS as the last resort. Every verdict has a reason.
import { canonicalNumberString, hendrycksStrip, normalizeAnswer, prmNormalize, stripCommas } from './normalize.ts';
import { symbolicEqual } from './symbolic.ts';

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
}

export const REL_TOL = 1e-4;

/** Parses a plain number, a/b, \frac{a}{b}, -\frac{a}{b}, a mixed number "7+3/4", or scientific. */
export function parseNumeric(s: string): number | null {
  let t = stripCommas(s.trim());
  if (t === '') return null;
  let sign = 1;
  if (/^-\s*\\frac/.test(t) || /^-\(/.test(t)) { sign = -1; t = t.replace(/^-\s*/, ''); }
  const num = /^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i;
  if (num.test(t)) return sign * Number(t);
  const sci = /^([-+]?\d+(?:\.\d+)?)\s*(?:\\times|\*|×|\\cdot)\s*10\^\{?([-+]?\d+)\}?$/.exec(t);
  if (sci) return sign * Number(sci[1]) * 10 ** Number(sci[2]);
  const frac = /^\\frac\{([-+]?\d+(?:\.\d+)?)\}\{([-+]?\d+(?:\.\d+)?)\}$/.exec(t) ?? /^\(?([-+]?\d+(?:\.\d+)?)\)?\/\(?([-+]?\d+(?:\.\d+)?)\)?$/.exec(t);
  if (frac) {
    const d = Number(frac[2]);
    return d === 0 ? null : sign * Number(frac[1]) / d;
  }
  const mixed = /^(\d+)\+(\d+)\/(\d+)$/.exec(t) ?? /^(\d+)\\frac\{(\d+)\}\{(\d+)\}$/.exec(t);
  if (mixed && Number(mixed[3]) !== 0) return sign * (Number(mixed[1]) + Number(mixed[2]) / Number(mixed[3]));
  return null;
}

function isIntegerValue(x: number): boolean {
  return Math.abs(x - Math.round(x)) <= 1e-9 * Math.max(1, Math.abs(x));
}

/** Splits at top-level commas (not inside braces/brackets/parentheses). */
export function splitTopLevel(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) { cur += c + s[i + 1]; i++; continue; }
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    if (c === sep && depth === 0) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

/** Splits at a top-level multi-character separator (e.g. \cup). */
function splitTopLevelOn(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    if (depth === 0 && s.startsWith(sep, i) && !/[a-zA-Z]/.test(s[i + sep.length] ?? '')) { out.push(cur); cur = ''; i += sep.length - 1; continue; }
    cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

type Shape =
  | { kind: 'scalar'; text: string }
  | { kind: 'union'; items: string[] }
  | { kind: 'tuple'; open: string; close: string; items: string[] }
  | { kind: 'set'; items: string[] }
  | { kind: 'list'; items: string[] }
  | { kind: 'matrix'; rows: string[][] };

/** Index of the bracket closing the one at `open`, or -1. */
function closingIndex(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) { depth--; if (depth === 0) return i; }
  }
  return -1;
}

function shapeOf(norm: string): Shape {
  const union = splitTopLevelOn(norm, '\\cup');
  if (union.length > 1 && union.every((x) => x !== '')) return { kind: 'union', items: union };
  const mat = /^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/.exec(norm);
  if (mat) {
    const rows = mat[2].split(/\\\\/).map((r) => r.trim()).filter((r) => r !== '').map((r) => r.split('&').map((c) => c.trim()));
    return { kind: 'matrix', rows };
  }
  const first = norm[0];
  const last = norm[norm.length - 1];
  if (norm.length > 2 && '(['.includes(first) && ')]'.includes(last) && closingIndex(norm, 0) === norm.length - 1) {
    const items = splitTopLevel(norm.slice(1, -1));
    if (items.length > 1) return { kind: 'tuple', open: first, close: last, items };
  }
  // A tuple whose brackets don't pair (half-open interval "(1,2]") also counts.
  if (norm.length > 2 && '(['.includes(first) && ')]'.includes(last)) {
    const items = splitTopLevel(norm.slice(1, -1));
    if (items.length === 2 && items.every((x) => x !== '')) return { kind: 'tuple', open: first, close: last, items };
  }
  if (norm.length > 2 && first === '{' && last === '}' && closingIndex(norm, 0) === norm.length - 1) {
    return { kind: 'set', items: splitTopLevel(norm.slice(1, -1)) };
  }
  const items = splitTopLevel(norm);
  if (items.length > 1 && items.every((x) => x !== '')) return { kind: 'list', items };
  return { kind: 'scalar', text: norm };
}

interface Ctx { opts: Required<EquivalenceOptions>; percent: boolean }

async function compareScalar(pRaw: string, rRaw: string, ctx: Ctx): Promise<Verdict> {
  const p = normalizeAnswer(pRaw);
  const r = normalizeAnswer(rRaw);
  if (p === r) return { correct: true, method: 'string', reason: `string: "${p}" == "${r}" after normalisation` };
  if (p.toLowerCase() === r.toLowerCase() && /[a-z]/i.test(p)) return { correct: true, method: 'string', reason: `string: "${p}" == "${r}" ignoring case` };
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
    const s = await symbolicEqual(p, r, refInt, ctx.opts.symbolicTimeoutMs);
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
  return /[\\^_a-zA-Z()+*/-]/.test(p) || /[\\^_a-zA-Z()+*/-]/.test(r);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(8)));
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
  const opts: Required<EquivalenceOptions> = { symbolic: options.symbolic ?? true, symbolicTimeoutMs: options.symbolicTimeoutMs ?? 1500 };
  const pred = prediction.trim();
  const ref = reference.trim();
  // Hendrycks is_equiv first: identical stripped strings.
  if (hendrycksStrip(pred) === hendrycksStrip(ref)) {
    return { correct: true, method: 'string', reason: `string: "${hendrycksStrip(pred)}" == "${hendrycksStrip(ref)}" (Hendrycks strip_string)` };
  }
  const percent = /\\?%|\\percent/.test(pred) || /\\?%|\\percent/.test(ref);
  return compareAny(pred, ref, { opts, percent });
}

/** Structural comparison (matrix, union, tuple/interval, set/list, scalar); elements recurse. */
async function compareAny(pred: string, ref: string, ctx: Ctx, depth = 0): Promise<Verdict> {
  const np = normalizeAnswer(pred);
  const nr = normalizeAnswer(ref);
  const sp = depth > 3 ? { kind: 'scalar' as const, text: np } : shapeOf(np);
  const sr = depth > 3 ? { kind: 'scalar' as const, text: nr } : shapeOf(nr);
  if (sr.kind === 'scalar' && sp.kind === 'scalar') return compareScalar(pred, ref, ctx);
  if (sr.kind === 'union' || sp.kind === 'union') {
    if (sr.kind !== 'union' || sp.kind !== 'union') return { correct: false, method: 'mismatch', reason: `mismatch: ${sp.kind === 'union' ? 'prediction' : 'reference'} is a union, the other is not` };
    const res = await compareItems(sp.items, sr.items, false, ctx, depth);
    return res.ok
      ? { correct: true, method: 'elementwise', reason: `elementwise: unions equal (${res.detail})` }
      : { correct: false, method: 'mismatch', reason: `mismatch: union ${res.detail}` };
  }
  if (sr.kind === 'matrix' || sp.kind === 'matrix') {
    if (sr.kind !== 'matrix' || sp.kind !== 'matrix') return { correct: false, method: 'mismatch', reason: 'mismatch: matrix vs non-matrix' };
    if (sr.rows.length !== sp.rows.length || sr.rows.some((row, i) => row.length !== sp.rows[i].length)) {
      return { correct: false, method: 'mismatch', reason: `mismatch: matrix shape ${sp.rows.length}x${sp.rows[0]?.length ?? 0} vs ${sr.rows.length}x${sr.rows[0]?.length ?? 0}` };
    }
    const res = await compareItems(sp.rows.flat(), sr.rows.flat(), true, ctx, depth);
    return res.ok
      ? { correct: true, method: 'elementwise', reason: `elementwise: matrices equal (${res.detail})` }
      : { correct: false, method: 'mismatch', reason: `mismatch: matrix ${res.detail}` };
  }
  if (sr.kind === 'tuple') {
    if (sp.kind !== 'tuple') {
      return { correct: false, method: 'mismatch', reason: `mismatch: reference is ${sr.open}...${sr.close} with ${sr.items.length} elements, prediction is not` };
    }
    if (sp.open !== sr.open || sp.close !== sr.close) {
      return { correct: false, method: 'mismatch', reason: `mismatch: brackets ${sp.open}${sp.close} vs ${sr.open}${sr.close} (tuple/interval type differs)` };
    }
    const res = await compareItems(sp.items, sr.items, true, ctx, depth);
    return res.ok
      ? { correct: true, method: 'elementwise', reason: `elementwise: ${sr.open}${sr.close} ${res.detail}` }
      : { correct: false, method: 'mismatch', reason: `mismatch: ${res.detail}` };
  }
  if (sr.kind === 'set' || sr.kind === 'list') {
    // Unordered: a set, or a bare list of solutions ("-2, 1"); a prediction may write either.
    const items = sp.kind === 'set' || sp.kind === 'list' ? sp.items : sp.kind === 'scalar' ? [sp.text] : null;
    if (!items) return { correct: false, method: 'mismatch', reason: `mismatch: reference is a list, prediction is a ${sp.kind}` };
    const res = await compareItems(items, sr.items, false, ctx, depth);
    return res.ok
      ? { correct: true, method: 'elementwise', reason: `elementwise: ${res.detail}` }
      : { correct: false, method: 'mismatch', reason: `mismatch: ${res.detail}` };
  }
  // Reference scalar, prediction structured: a one-element set/list never equals a scalar here.
  return { correct: false, method: 'mismatch', reason: `mismatch: prediction is a ${sp.kind}, reference "${nr}" is a single value` };
}


export { canonicalNumberString };
