// Domain labels: the one a trace carries (MATH subjects) or one inferred from keywords.
const GENERIC = new Set(['', 'math', 'mathematics', 'other', 'unknown', 'general']);

const RULES: [string, RegExp][] = [
  ['Geometry', /\btriangle|\bcircle|\bangle|\bradius|\bdiameter|\bperimeter|\bpolygon|\bhexagon|\brectangle|\bparallelogram|\btrapezoid|\bchord|\btangent line|\\triangle|\\angle|\bcircumference|\bsquare units|\bcube\b|\bcylinder|\bsphere|\bcone\b/gi],
  ['Number Theory', /\bprime|\bdivisible|\bdivisor|\bremainder|\bmodulo|\\pmod|\bgcd\b|\blcm\b|\bgreatest common|\bleast common multiple|\bdigits?\b|\bbase \d|\bfactors? of\b|\bmultiple of/gi],
  ['Counting & Probability', /\bprobability|\bhow many ways|\barrange|\bchoose\b|\bcommittee|\bdice\b|\bdie\b|\bcoins?\b|\brandomly|\\binom|\bpermutations?|\bcombinations?/gi],
  ['Precalculus', /\bmatrix|\bmatrices|\bvectors?\b|\\sin|\\cos|\\tan|\bcomplex number|\bpolar\b|\bdeterminant|\\theta|\\mathbf/gi],
  ['Calculus', /\bderivative|\bintegral|\blimit\b|\\int\b|\\lim\b|\bdifferentiable|\bmaxim(?:um|ize) of f/gi],
  ['Algebra', /\bequation|\bsolve\b|\bpolynomial|\bf\(x\)|\broots?\b|\bquadratic|\binequalit|\bsequence|\\sqrt|x\^2|\bslope|\bexpression|\bsimplify|\bfunction/gi],
  ['Arithmetic', /\$\s?\d|\bdollars?\b|\bcents?\b|\bbought|\bsells?\b|\bsold\b|\beach\b|\bper (?:hour|day|week)|\bminutes?\b|\bhours?\b|\bcost|\bpays?\b|\btotal\b|\bpercent|\bhow much|\bhow many/gi],
];

export function normalizeDomain(d: string): string {
  const t = d.trim();
  if (/^counting/i.test(t)) return 'Counting & Probability';
  return t.replace(/\b\w/g, (c) => c.toUpperCase());
}

export function inferDomain(problem: string): string {
  let best = 'Other';
  let bestScore = 0;
  for (const [name, re] of RULES) {
    const s = problem.match(re)?.length ?? 0;
    if (s > bestScore) {
      best = name;
      bestScore = s;
    }
  }
  return best;
}

/** The given domain when it is specific, otherwise inferred from the problem text. */
export function domainOf(t: { domain: string; problem: string }): { domain: string; inferred: boolean } {
  if (!GENERIC.has(t.domain.trim().toLowerCase())) return { domain: normalizeDomain(t.domain), inferred: false };
  return { domain: inferDomain(t.problem), inferred: true };
}
