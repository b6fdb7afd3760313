// An answer parsed once into a structure, compared by kind (equivalence.ts). Input: the text of
// an extracted answer; `normalizeAnswer(.., { keepLabel: true })` first, so "x = 3" stays a relation.
// Elements (tuple items, set members, matrix entries, relation sides) stay strings and are parsed
// when compared.
import { normalizeAnswer } from './normalize.ts';
import { parseNumeric } from './numeric.ts';

export type RelOp = '=' | '<' | '≤' | '>' | '≥' | '≠';

export interface IntervalPart { open: '(' | '['; close: ')' | ']'; lo: string; hi: string }

export type Parsed =
  | { kind: 'number'; text: string; value: number }
  | { kind: 'expression'; text: string }
  | { kind: 'text'; text: string }
  /** sides[i] ops[i] sides[i+1]; `x = 1/3`, `z = 1+1 = 2`, `-2 \le x \le 7`. */
  | { kind: 'relation'; text: string; sides: string[]; ops: RelOp[] }
  /** Union of intervals (one part for a plain interval written with mixed brackets or \infty). */
  | { kind: 'interval'; text: string; parts: IntervalPart[] }
  /** \cup of things that are not all intervals. */
  | { kind: 'union'; text: string; items: string[] }
  | { kind: 'tuple'; text: string; open: string; close: string; items: string[] }
  /** Unordered answers: \{..\}, "a, b", "a; b", several \boxed{}, "\pm". */
  | { kind: 'set'; text: string; items: string[]; from: 'braces' | 'list' | 'pm' }
  | { kind: 'matrix'; text: string; rows: string[][] };

export type Kind = Parsed['kind'];

const OPEN = '({[';
const CLOSE = ')}]';

/** Top-level pieces of `s` split at `sep` (outside (), [], {}). */
export function splitTopLevel(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) { cur += c + s[i + 1]; i++; continue; }
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c)) depth--;
    if (depth === 0 && s.startsWith(sep, i) && !(sep[0] === '\\' && /[a-zA-Z]/.test(s[i + sep.length] ?? ''))) {
      out.push(cur); cur = ''; i += sep.length - 1; continue;
    }
    cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

/** Index of the bracket closing the one at `open`, or -1. */
function closingIndex(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c)) { depth--; if (depth === 0) return i; }
  }
  return -1;
}

const REL_TOKENS: RelOp[] = ['≤', '≥', '≠', '=', '<', '>'];

/** Splits at top-level relation operators; null when there is none. */
function splitRelation(s: string): { sides: string[]; ops: RelOp[] } | null {
  const sides: string[] = [];
  const ops: RelOp[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) { cur += c + s[i + 1]; i++; continue; }
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c)) depth--;
    if (depth === 0) {
      const tok = REL_TOKENS.find((t) => s[i] === t);
      if (tok) { sides.push(cur.trim()); ops.push(tok); cur = ''; continue; }
    }
    cur += c;
  }
  sides.push(cur.trim());
  if (ops.length === 0 || sides.some((x) => x === '')) return null;
  return { sides, ops };
}

const MATRIX = /^\\begin\{([pbvBV]?matrix|array|smallmatrix)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/;

function interval(s: string): IntervalPart | null {
  if (s.length < 5 || !'(['.includes(s[0]) || !')]'.includes(s[s.length - 1])) return null;
  const inner = s.slice(1, -1);
  if (closingIndex(s, 0) !== s.length - 1 && closingIndex(s, 0) !== -1) return null;
  const items = splitTopLevel(inner);
  if (items.length !== 2 || items.some((x) => x === '')) return null;
  return { open: s[0] as '(' | '[', close: s[s.length - 1] as ')' | ']', lo: items[0], hi: items[1] };
}

/** Parses the text of one answer. */
export function parseAnswer(raw: string): Parsed {
  return parseNormalized(normalizeAnswer(raw, { keepLabel: true }));
}

/** Parses an already normalised answer (normalizeAnswer with keepLabel). */
export function parseNormalized(n: string): Parsed {
  const text = n;
  if (n === '') return { kind: 'text', text };
  // Several answers: "a; b" (a semicolon never belongs to one value).
  const semi = splitTopLevel(n, ';').filter((x) => x !== '');
  if (semi.length > 1) return { kind: 'set', text, items: members(semi), from: 'list' };
  // A matrix, possibly inside \left[ .. \right] (already stripped to [ .. ]).
  const inner = /^[[(]\s*(\\begin\{[\s\S]*\\end\{[a-zA-Z]+\})\s*[\])]$/.exec(n);
  const mat = MATRIX.exec(inner ? inner[1] : n);
  if (mat) {
    const rows = mat[2].split(/\\\\/).map((r) => r.trim()).filter((r) => r !== '' && r !== '\\hline').map((r) => r.split('&').map((c) => c.trim()));
    return { kind: 'matrix', text, rows };
  }
  // A list of answers at top level: "2, -1", "(5,8),(8,5)", "x=5, x=8".
  const items = splitTopLevel(n);
  if (items.length > 1 && items.every((x) => x !== '')) return { kind: 'set', text, items: members(items), from: 'list' };
  const union = splitTopLevel(n, '\\cup');
  if (union.length > 1 && union.every((x) => x !== '')) {
    const parts = union.map(interval);
    if (parts.every((p): p is IntervalPart => p !== null)) return { kind: 'interval', text, parts };
    return { kind: 'union', text, items: union };
  }
  const rel = splitRelation(n);
  if (rel) return { kind: 'relation', text, ...rel };
  const first = n[0];
  const last = n[n.length - 1];
  if (n.length > 2 && '(['.includes(first) && ')]'.includes(last)) {
    const close = closingIndex(n, 0);
    let items = splitTopLevel(n.slice(1, -1));
    // "(1;2)": a semicolon as the separator inside a tuple (where a decimal comma is the custom).
    if (items.length === 1 && close === n.length - 1) items = splitTopLevel(n.slice(1, -1), ';');
    if (close === n.length - 1 && items.length > 1) {
      // An interval when it cannot be a point: mixed brackets or an infinite end.
      if (items.length === 2 && (first === '[' ? last === ')' : last === ']') || (items.length === 2 && items.some((x) => /\\infty/.test(x)))) {
        const p = interval(n);
        if (p) return { kind: 'interval', text, parts: [p] };
      }
      return { kind: 'tuple', text, open: first, close: last, items };
    }
    // Brackets that do not pair by depth ("(1,2]") still make a half-open interval.
    if (close !== n.length - 1) {
      const p = interval(n);
      if (p) return { kind: 'interval', text, parts: [p] };
    }
  }
  if (n.length > 2 && first === '{' && last === '}' && closingIndex(n, 0) === n.length - 1) {
    const inner = n.slice(1, -1);
    const byComma = splitTopLevel(inner).filter((x) => x !== '');
    const parts = byComma.length === 1 ? splitTopLevel(inner, ';').filter((x) => x !== '') : byComma;
    return { kind: 'set', text, items: members(parts), from: 'braces' };
  }
  // \pm / \mp: two values.
  const pm = pmPair(n);
  if (pm) return { kind: 'set', text, items: pm, from: 'pm' };
  const v = parseNumeric(n);
  if (v !== null) return { kind: 'number', text, value: v };
  if (/^[a-zA-Z][a-zA-Z\s'-]*[a-zA-Z]$/.test(n) && /[a-zA-Z]{3,}/.test(n)) return { kind: 'text', text };
  return { kind: 'expression', text };
}

/** `a \pm b` as [a+b, a-b] (one \pm or \mp), else null. */
function pmPair(n: string): string[] | null {
  const pm = n.match(/\\pm|\\mp|±/g);
  if (!pm || pm.length !== 1) return null;
  const at = n.search(/\\pm|\\mp|±/);
  const tok = /^(\\pm|\\mp|±)/.exec(n.slice(at))![0];
  const a = n.slice(0, at);
  const b = n.slice(at + tok.length);
  if (b === '') return null;
  return a === '' ? [b, `-${b}`] : [`${a}+${b}`, `${a}-${b}`];
}

/** Set members with each `a \pm b` counted as its two values. */
const members = (items: string[]) => items.flatMap((x) => pmPair(x) ?? [x]);

/**
 * A label on the left of an answer: `x`, `x_1`, `\theta`, `f(x)`, `(p,q)`, `|AB|`, `AB`,
 * `\angle ABC`, `V_1:V_2`. Spaces already removed by normalisation.
 */
export function isLabel(s: string): boolean {
  return /^(?:\\?[a-zA-Z]{1,6}(?:_\{?\w+\}?)?'*(?:\([a-z]\))?|\\[a-zA-Z]+(?:_\{?\w+\}?)?|\((?:\\?[a-zA-Z]+(?:_\{?\w+\}?)?,)+\\?[a-zA-Z]+(?:_\{?\w+\}?)?\)|\|[A-Za-z]{1,3}\||(?:m)?\\angle[A-Z]{1,3}|\\overline\{[A-Z]{2}\}|[A-Za-z](?:_\{?\w+\}?)?:[A-Za-z](?:_\{?\w+\}?)?)$/.test(s);
}

/** True when `s` has no free variable (numbers, \pi, e, \infty, \sqrt, \frac, functions of those). */
export function isConstant(s: string): boolean {
  const t = s.replace(/\\(?:pi|infty|sqrt|frac|cdot|times|log|ln|sin|cos|tan|sec|csc|cot|exp)\b/g, '').replace(/\be\b/g, '');
  return !/[a-zA-Z]/.test(t);
}
