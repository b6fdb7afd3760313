// Answer normalisation. Three layers, each a faithful port or a documented extension:
//  - hendrycksStrip: Hendrycks MATH `strip_string` (is_equiv compares these).
//  - prmNormalize:   PRM800K grader `_normalize` (text answers, units, $, %, mixed numbers, case).
//  - normalizeAnswer: the union of both plus the Qwen2.5-Math `strip_string` extras, used as the
//    canonical form for elementwise comparison.

function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0];
  for (const sub of parts.slice(1)) {
    out += '\\frac';
    if (sub.length > 0 && sub[0] === '{') { out += sub; continue; }
    if (sub.length < 2) return s;
    const a = sub[0];
    const b = sub[1];
    if (b !== '{') out += `{${a}}{${b}}${sub.slice(2)}`;
    else out += `{${a}}${b}${sub.slice(2)}`;
  }
  return out;
}

function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts;
  if (!/^-?\d+$/.test(a) || !/^-?\d+$/.test(b)) return s;
  if (`${parseInt(a, 10)}/${parseInt(b, 10)}` !== s) return s;
  return `\\frac{${parseInt(a, 10)}}{${parseInt(b, 10)}}`;
}

function removeRightUnits(s: string): string {
  // Hendrycks: "\text{ " marks units on the right (with exactly one split).
  const parts = s.split('\\text{ ');
  return parts.length === 2 ? parts[0] : s;
}

/** `keepIndex`: leave `\sqrt[n]{..}` alone (Hendrycks' original wraps the "[" as well). */
function fixSqrt(s: string, keepIndex = false): string {
  if (!s.includes('\\sqrt')) return s;
  const parts = s.split('\\sqrt');
  let out = parts[0];
  for (const p of parts.slice(1)) {
    if (p.length > 0 && p[0] !== '{' && !(keepIndex && p[0] === '[')) out += `\\sqrt{${p[0]}}${p.slice(1)}`;
    else out += '\\sqrt' + p;
  }
  return out;
}

/** Hendrycks MATH `strip_string` (math_equivalence.py), rule for rule. */
export function hendrycksStrip(input: string): string {
  let s = input.replace(/\n/g, '');
  s = s.replace(/\\!/g, '');
  s = s.replace(/\\\\/g, '\\');
  s = s.replace(/tfrac/g, 'frac').replace(/dfrac/g, 'frac');
  s = s.replace(/\\left/g, '').replace(/\\right/g, '');
  s = s.replace(/\^\{\\circ\}/g, '').replace(/\^\\circ/g, '');
  s = s.replace(/\\\$/g, '');
  s = removeRightUnits(s);
  s = s.replace(/\\%/g, '');
  s = s.replace(/ \./g, ' 0.').replace(/\{\./g, '{0.');
  if (s.length === 0) return s;
  if (s[0] === '.') s = '0' + s;
  const eq = s.split('=');
  if (eq.length === 2 && eq[0].length <= 2) s = eq[1];
  s = fixSqrt(s);
  s = s.replace(/ /g, '');
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  s = fixASlashB(s);
  return s;
}

const UNIT_WORDS = [
  'degree', 'cm', 'centimeter', 'meter', 'mile', 'second', 'minute', 'hour', 'day', 'week', 'month',
  'year', 'foot', 'feet', 'inch', 'yard',
];

/** Splits "7 3/4" style mixed numbers into "7+3/4" (PRM800K `_inject_implicit_mixed_number`). */
function injectMixedNumber(s: string): string {
  return s.replace(/([0-9]) +([0-9]+\/[0-9]+)/g, '$1+$2');
}

/** Plain-text rendering of simple LaTeX (the role pylatexenc plays in PRM800K `_parse_latex`). */
export function latexToPlain(s: string): string {
  let t = s;
  // \frac{a}{b} -> (a)/(b), innermost first.
  for (let guard = 0; guard < 20 && /\\frac\{/.test(t); guard++) {
    const next = t.replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, '($1)/($2)');
    if (next === t) break;
    t = next;
  }
  for (let guard = 0; guard < 20 && /\\sqrt\{/.test(t); guard++) {
    const next = t.replace(/\\sqrt\{([^{}]*)\}/g, 'sqrt($1)');
    if (next === t) break;
    t = next;
  }
  t = t.replace(/\\pi\b/g, 'pi').replace(/\\infty\b/g, 'inf').replace(/\\cup\b/g, 'U');
  t = t.replace(/\\cdot\b/g, '*').replace(/\\times\b/g, '*');
  return t;
}

/** PRM800K `_normalize` (grader.py), with pylatexenc replaced by `latexToPlain`. */
export function prmNormalize(input: string): string {
  let e = input;
  const m = /^\\text\{(.+?)\}$/.exec(e);
  if (m) e = m[1];
  e = e.replace(/\\%/g, '%').replace(/\\\$/g, '$').replace(/\$/g, '').replace(/%/g, '');
  e = e.replace(/ or /g, ' , ').replace(/ and /g, ' , ');
  e = e.replace(/million/g, '*10^6').replace(/billion/g, '*10^9').replace(/trillion/g, '*10^12');
  for (const unit of UNIT_WORDS) e = e.replace(new RegExp(`${unit}(es)?(s)? *(\\^[0-9]+)?`, 'g'), '');
  e = e.replace(/\^ *\\circ/g, '');
  if (e.length > 0 && e[0] === '{' && e[e.length - 1] === '}') e = e.slice(1, -1);
  e = e.replace(/,\\! */g, '');
  if (isFloatString(e) && Number.isInteger(Number(e))) e = String(Math.round(Number(e)));
  if (e.includes('\\')) e = latexToPlain(e);
  e = e.replace(/- */g, '-');
  e = injectMixedNumber(e);
  e = e.replace(/ /g, '');
  e = e.replace(/[{}]/g, '');
  e = e.toLowerCase();
  if (isIntString(e)) e = String(parseInt(stripCommas(e), 10));
  return e;
}

function isFloatString(s: string): boolean {
  return /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(s);
}

/** Removes thousands separators written as 1,234,567 (PRM800K `_strip_properly_formatted_commas`). */
export function stripCommas(s: string): string {
  let t = s;
  for (;;) {
    const next = t.replace(/(\d),(\d\d\d)(?![\d])/g, '$1$2');
    if (next === t) return t;
    t = next;
  }
}

function isIntString(s: string): boolean {
  const t = stripCommas(s);
  if (!isFloatString(t)) return false;
  const x = Number(t);
  return Math.abs(x - Math.round(x)) <= 1e-7;
}

// Units and words written in \text{} that carry no mathematical value (subset of Qwen2.5-Math unit_texts).
const TEXT_UNITS = [
  'east', 'degree', 'mph', 'kmph', 'ft', 'm sqaure', ' m east', 'sq m', 'deg', 'mile', 'q .', 'monkey',
  'prime', 'ratio', 'profit of rs', 'rd', 'o', 'gm', 'p . m', 'lb', 'tile', 'per', 'dm', 'lt', 'gain',
  'ab', 'way', 'west', 'a .', 'b .', 'c .', 'd .', 'e .', 'f .', 'g .', 'h .', 't', 'a', 'h', 'no change',
  'men', 'soldier', 'pie', 'bc', 'excess', 'st', 'inches', 'noon', 'percent', 'by', 'gal', 'kmh', 'c',
  'acre', 'rise', 'a . m', 'th', 'π r 2', 'sq', 'mark', 'l', 'toy', 'coin', 'sq . m', 'gallon', '° f',
  'profit', 'minw', 'yr', 'women', 'feet', 'am', 'pm', 'hr', 'cu cm', 'square', 'v â € ™', 'are',
  'rupee', 'rounds', 'cubic', 'cc', 'mtr', 's', 'ohm', 'number', 'kmph', 'day', 'hour', 'minute', 'min',
  'second', 'man', 'woman', 'sec', 'cube', 'mt', 'sq inch', 'mp', '∏ cm ³', 'hectare', 'more', 'sec',
  'unit', 'cu . m', 'cm 2', 'rs .', 'rs', 'kg', 'g', 'month', 'km', 'm', 'cm', 'mm', 'apple', 'liter',
  'loss', 'yard', 'pure', 'year', 'increase', 'decrease', 'd', 'less', 'surface', 'litre', 'pi sq m',
  's .', 'metre', 'meter', 'inch', 'dollars', 'dollar', 'cents', 'cent', 'units', 'unit', 'sq units',
  'square units', 'square feet', 'square inches', 'square meters', 'square centimeters', 'cubic feet',
  'cubic inches', 'cubic meters', 'cubic centimeters', 'inches', 'feet', 'meters', 'centimeters',
  'miles', 'hours', 'minutes', 'seconds', 'days', 'weeks', 'years', 'degrees', 'pounds', 'ounces',
  'mph', 'people', 'students', 'cookies', 'marbles', 'points', 'ways', 'times',
];
// Single letters are left out: \text{C} is a multiple-choice answer, not a unit.
const TEXT_UNIT_SET = new Set(TEXT_UNITS.map((u) => u.trim().toLowerCase()).filter((u) => u.length >= 2));

/** True when `\text{word}` is a unit or a counting noun (dropped in normalisation). */
export function isUnitText(word: string): boolean {
  const w = word.trim().toLowerCase().replace(/\s+/g, ' ');
  if (TEXT_UNIT_SET.has(w)) return true;
  if (w.endsWith('s') && TEXT_UNIT_SET.has(w.slice(0, -1))) return true;
  return /^(sq(uare)?|cubic|cu)\.? ?(units?|feet|foot|inch(es)?|meters?|centimeters?|cm|m|ft|in)(\^?[23])?$/.test(w);
}

/**
 * Canonical form for comparison: Hendrycks strip_string + PRM800K rules + Qwen2.5-Math extras
 * (units in \text{}, \mbox, spacing commands, thousands separators, `x =` prefixes, leading zeros,
 * degrees, percent, dollars, set braces, "infinity").
 */
export interface NormalizeOptions {
  /** Keep a short left-hand side ("x = 3" stays an equation): the parser reads relations itself. */
  keepLabel?: boolean;
}

export function normalizeAnswer(input: string, options: NormalizeOptions = {}): string {
  let s = input.trim();
  // "32, 349" is two numbers, never 32349: a plain space after the comma makes a list ("11,\! 111" does not).
  const spacedList = /\d,\s+\d/.test(s);
  s = s.replace(/\n/g, ' ');
  s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle)\b\s*/g, '');
  s = s.replace(/\\(?:mbox|mathrm|textrm|textbf|mathbf|operatorname|textnormal|textit|mathit|mathsf|texttt|textsf|emph|boldsymbol|bm)\s*\{/g, '\\text{');
  s = s.replace(/\s+(?:or|and)\s+/g, ',');
  s = s.replace(/\\(?:dfrac|tfrac|cfrac)/g, '\\frac');
  // Shorthands with a space: "\sqrt 2", "\frac 1 3".
  s = s.replace(/\\(sqrt|frac)\s+(?=[\w{\\])/g, '\\$1');
  s = s.replace(/\\frac(\w)\s+(\w)/g, '\\frac$1$2');
  // "\sin x" keeps its argument once spaces go: \sin(x).
  s = s.replace(/\\(sin|cos|tan|sec|csc|cot|ln|exp|arcsin|arccos|arctan)\s+([a-zA-Z0-9]+)\b/g, '\\$1($2)');
  // Relation spellings: one form each (\le, \ge, \ne, <, >).
  s = s.replace(/\\leqslant\b|\\leq?(?![a-zA-Z])|<=|⩽/g, '≤').replace(/\\geqslant\b|\\geq?(?![a-zA-Z])|>=|⩾/g, '≥');
  s = s.replace(/\\neq?(?![a-zA-Z])|!=/g, '≠').replace(/\\lt\b/g, '<').replace(/\\gt\b/g, '>');
  // Currency symbols and codes.
  s = s.replace(/[€£¥₹]|\\euro\b|\\pounds\b|\b(?:USD|EUR|GBP|Rs\.?|INR)(?=\s*\d)|(?<=\d)\s*(?:USD|EUR|GBP|euros?)\b/g, '');
  s = s.replace(/\\left\b|\\right\b|\\bigl?\b|\\bigr\b|\\Bigl?\b|\\Bigr\b/g, '');
  s = s.replace(/(?<!\\)\\[!,;:> ]|\\q?quad\b/g, '');
  s = s.replace(/~/g, '');
  // Degrees and percent.
  s = s.replace(/\^\s*\{?\\circ\}?/g, '').replace(/°/g, '').replace(/\\degree\b/g, '');
  s = s.replace(/\\%|%|\\percent\b/g, '');
  // Currency.
  s = s.replace(/\\\$|\$/g, '').replace(/\\textdollar\b/g, '');
  // Trailing sentence period.
  s = s.replace(/\.\s*$/, '');
  s = s.replace(/\\mathbb\s*\{?R\}?|\\R\b|^(?:\\text\{)?\s*(?:all real numbers|every real number|all reals)\s*\}?$/i, '(-\\infty,\\infty)');
  s = s.replace(/\\varnothing\b|\\\{\s*\\\}|∅/g, '\\emptyset');
  // A number with a unit in \text{} that is not in the lists: "5 \text{ m/s}", "3\text{ km}^2".
  s = s.replace(/^(-?[\d.,]+)\s*\\text\s*\{\s*[a-zA-Z][a-zA-Z/.\s]*\}(?:\^\{?[23]\}?)?\s*$/, '$1');
  // A whole answer in \text{..} is that text, even when it is a unit word ("\text{east}").
  const whole = /^\\text\s*\{([^{}]*)\}$/.exec(s);
  if (whole && whole[1].trim() !== '') s = whole[1].trim();
  // \text{...}: units and nouns dropped; other text kept as its content.
  for (let guard = 0; guard < 10 && /\\text\s*\{/.test(s); guard++) {
    s = s.replace(/\\text\s*\{([^{}]*)\}(\^\{?[23]\}?)?/g, (_m, inner: string, pow: string | undefined) => (isUnitText(inner) ? '' : inner + (pow ?? '')));
  }
  s = s.replace(/\s*\b(million|billion|trillion)\b/g, (_m, w: string) => `\\times10^{${w === 'million' ? 6 : w === 'billion' ? 9 : 12}}`);
  // Bare unit words after a number ("5 cm", "12 feet").
  s = s.replace(/(\d)\s*(?:square |cubic |sq\.? )?(?:units?|cm|centimeters?|meters?|m|km|inches|inch|feet|foot|ft|miles?|hours?|minutes?|seconds?|days?|weeks?|years?|degrees?|dollars?|cents?|pounds?|kg|g|mph)(?:\^?\{?[23]\}?)?\s*$/i, '$1');
  s = s.replace(/^\s*(?:\\approx|≈)\s*/, '');
  // "x \in [1,2]": membership prefix.
  s = s.replace(/^\s*\\?[a-zA-Z]+(?:_\{?\w+\}?)?\s*\\in\s*/, '');
  // "5 apples", "12 red marbles": a number followed only by words.
  s = s.replace(/^(-?[\d.,]+(?:\/\d+)?)\s+[a-zA-Z]{2,}(?:\s+[a-zA-Z]{2,})*$/, '$1');
  // "x = 3", "\theta = 30", "k=5": drop a short left-hand side (Hendrycks <=2 chars, Qwen any variable).
  const eq = s.split('=');
  if (!options.keepLabel && eq.length === 2 && /^\s*(?:\\?[a-zA-Z]{1,6}(?:_\{?\w+\}?)?|\\[a-zA-Z]+|\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))\s*$/.test(eq[0])) s = eq[1];
  s = s.replace(/\binfinity\b|\binf\b/g, '\\infty').replace(/\\infty/g, '\\infty');
  s = fixSqrt(s, true);
  s = fixFracs(s);
  s = injectMixedNumber(s);
  s = s.replace(/\s+/g, '');
  // Thousands separators: 1,234 and 1{,}234 and 1\,234 (already dropped).
  s = s.replace(/\{,\}/g, ',');
  if (!spacedList && /^-?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  // Decimal comma: "0,111", "1000,99" (a thousands separator never follows a lone 0 or 4+ digits).
  else if (/^-?(?:0|[1-9]\d{3,}),\d+$/.test(s)) s = s.replace(',', '.');
  // Leading zeros and trailing decimal zeros of plain numbers; leading "." gets a zero.
  s = s.replace(/(^|[^\d.])\.(\d)/g, '$10.$2');
  if (/^[-+]?\d+(\.\d+)?$/.test(s)) s = canonicalNumberString(s);
  // Braces around the whole answer.
  while (s.length > 1 && s[0] === '{' && matchingClose(s, 0) === s.length - 1) s = s.slice(1, -1);
  // Set braces \{1,2\} -> {1,2} kept as a marker of a set.
  s = s.replace(/\\\{/g, '{').replace(/\\\}/g, '}');
  return s;
}

/** "007" -> "7", "3.50" -> "3.5", "-0" -> "0", "+4" -> "4". */
export function canonicalNumberString(s: string): string {
  let neg = false;
  let t = s;
  if (t[0] === '+' || t[0] === '-') { neg = t[0] === '-'; t = t.slice(1); }
  let [int, frac = ''] = t.split('.');
  int = int.replace(/^0+(?=\d)/, '');
  frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return neg && body !== '0' ? '-' + body : body;
}

function matchingClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') { depth--; if (depth === 0) return i; }
  }
  return -1;
}
