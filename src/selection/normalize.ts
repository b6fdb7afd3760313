// Text normalisation for decontamination and near-duplicate detection: the same problem written
// with different whitespace or LaTeX spacing must give the same tokens.
//  - LaTeX spacing commands (\, \! \; \: \quad \qquad \ ), \left \right, \displaystyle dropped
//  - \dfrac, \tfrac -> \frac; braces around a single token dropped ({x} -> x, \frac{1}{2} -> \frac12)
//  - $ delimiters and case ignored; tokens = alphanumeric runs, LaTeX commands, single symbols,
//    so whitespace never matters ("x+y" and "x + y" tokenise alike).
import { combineHashes, fnv1a, FNV_OFFSET } from '../lib/hash.ts';

export function normalizeText(s: string): string {
  let t = s.toLowerCase();
  t = t.replace(/\\(?:left|right|bigl|bigr|big|displaystyle|textstyle)(?![a-z])/g, '');
  t = t.replace(/\\(?:qquad|quad)(?![a-z])|\\[,!;: ]|~/g, ' ');
  t = t.replace(/\\[dt]frac(?![a-z])/g, '\\frac');
  t = t.replace(/\\text(?:bf|rm|it)?\{([^{}]*)\}|\\mathrm\{([^{}]*)\}/g, (_m, a, b) => ` ${a ?? b} `);
  t = t.replace(/\$+|\\\(|\\\)|\\\[|\\\]/g, ' ');
  // Braces around one token: {x} {12} {\pi} -> the token (repeat for nesting).
  for (let k = 0; k < 3; k++) t = t.replace(/\{\s*(\\?[a-z0-9.]+|[^\s{}a-z0-9])\s*\}/g, ' $1 ');
  return t;
}

/** Whitespace-insensitive tokens of the normalised text. */
export function tokens(s: string): string[] {
  return normalizeText(s).match(/\\[a-z]+|[a-z]+|\d+(?:\.\d+)?|[^\sa-z0-9\\]/g) ?? [];
}

/** Key for exact matching (all whitespace gone). */
export function exactKey(s: string): string {
  return tokens(s).join('');
}

/** Hashes of the token n-grams (a text shorter than n gives one gram of all its tokens). Each token
 *  is hashed once and an n-gram hash combines n token hashes, so no n-gram strings are built. */
export function ngramHashes(toks: string[], n: number): Set<number> {
  const out = new Set<number>();
  if (toks.length === 0) return out;
  const th = toks.map((t) => fnv1a(t));
  const m = Math.min(n, th.length);
  for (let i = 0; i + m <= th.length; i++) out.add(combineHashes(th, i, i + m, FNV_OFFSET ^ m));
  return out;
}
