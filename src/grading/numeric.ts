// Plain numeric values of answer strings (no CAS): integers, decimals, a/b, \frac{a}{b}, mixed
// numbers, scientific notation.
import { stripCommas } from './normalize.ts';

/** Parses a plain number, a/b, \frac{a}{b}, -\frac{a}{b}, a mixed number "7+3/4", or scientific. */
export function parseNumeric(s: string): number | null {
  let t = stripCommas(s.trim());
  if (t === '') return null;
  // Repeating decimal 0.1\overline{6} = 0.1666...
  const rep = /^(-?)(\d*)\.(\d*)\\overline\{(\d+)\}$/.exec(t);
  if (rep) {
    const [, neg, int, fixed, cycle] = rep;
    const v = Number(int || '0') + (Number(fixed || '0') + Number(cycle) / (10 ** cycle.length - 1)) / 10 ** fixed.length;
    return neg ? -v : v;
  }
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
