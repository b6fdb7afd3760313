// The grader: extraction + normalisation + equivalence. Pure TypeScript, no DOM; runs in the
// engine worker, in the page, in Node (scripts/grade.ts) and in tests.
import { extractAnswer, type Extraction, type ExtractOptions } from './extract.ts';
import { gradeAnswer, type EquivalenceOptions, type Verdict } from './equivalence.ts';

export { allBoxed, extractAnswer, lastBoxed, lastNumber, mathSegments, matchBraces, type Extraction, type ExtractMethod, type ExtractOptions } from './extract.ts';
export { parseAnswer, type Parsed } from './parse.ts';
export { hendrycksStrip, normalizeAnswer, prmNormalize } from './normalize.ts';
export { gradeAnswer, parseNumeric, REL_TOL, type EquivalenceOptions, type Verdict, type VerdictMethod } from './equivalence.ts';
export { loadComputeEngine } from './symbolic.ts';

/** The extracted answer text, or null (the form the importers, selection and guide use). */
export function extractAnswerText(response: string, options?: ExtractOptions): string | null {
  return extractAnswer(response, options)?.answer ?? null;
}

export interface GradedResponse extends Verdict {
  /** The extracted answer (null when none was found). */
  prediction: string | null;
  extraction: Extraction['method'] | null;
}

/** Extracts the answer from a free-text response and grades it against the reference. */
export async function gradeResponse(response: string, reference: string, options?: EquivalenceOptions): Promise<GradedResponse> {
  const ex = extractAnswer(response);
  const v = await gradeAnswer(ex?.answer ?? null, reference, options);
  return { ...v, prediction: ex?.answer ?? null, extraction: ex?.method ?? null };
}
