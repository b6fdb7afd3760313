// Quality gate checks that need only the trace itself (answer, image, truncation, repetition).
import type { DropReason, SelectionConfig } from '../domain/selection.ts';
import type { Trace } from '../domain/trace.ts';

const IMAGE = /\[asy\]|<img\b|!\[[^\]]*\]\(|\b(?:figure|diagram|image|picture|graph)\s+(?:below|above|shown)|\bshown (?:below|above|in the (?:figure|diagram))|\bas shown\b|\bin the (?:figure|diagram|picture)\b/i;

export function isImageDependent(problem: string): boolean {
  return IMAGE.test(problem);
}

/** Share of repeated word 8-grams (0 = none); degenerate loops score near 1. */
export function repetitionRatio(text: string): number {
  const w = text.split(/\s+/).filter(Boolean);
  const n = 8;
  if (w.length < n * 6) return 0;
  const seen = new Set<string>();
  let dup = 0;
  let total = 0;
  for (let i = 0; i + n <= w.length; i += 2) {
    const g = w.slice(i, i + n).join(' ');
    total++;
    if (seen.has(g)) dup++;
    else seen.add(g);
  }
  return dup / total;
}

/** Output cut off: the teacher hit its length limit, an unclosed <think> or \boxed{, or a dangling operator at the end. */
export function isTruncated(t: Pick<Trace, 'reasoning' | 'meta'>): boolean {
  const fr = t.meta?.finish_reason ?? t.meta?.finishReason ?? t.meta?.stop_reason;
  if (fr === 'length' || fr === 'max_tokens') return true;
  const r = t.reasoning;
  if (/<think>/.test(r) && !/<\/think>/.test(r)) return true;
  const b = r.lastIndexOf('\\boxed{');
  if (b >= 0) {
    let depth = 0;
    for (let i = b + 6; i < r.length; i++) {
      if (r[i] === '{') depth++;
      else if (r[i] === '}' && --depth === 0) break;
      if (i === r.length - 1 && depth > 0) return true;
    }
  }
  return /(?:\band|\bthe|[=+\-*/\\])\s*$/.test(r.trimEnd());
}

/** First failing trace-local check, with detail; undefined = passes. */
export function gateTrace(t: Trace, cfg: SelectionConfig, repetition?: number): { reason: DropReason; detail: string } | undefined {
  if (cfg.requireAnswer && !t.answer.trim()) return { reason: 'no-answer', detail: 'no final answer found' };
  if (cfg.dropImageProblems && isImageDependent(t.problem)) return { reason: 'image', detail: 'problem refers to a figure or diagram' };
  if (isTruncated(t)) return { reason: 'truncated', detail: 'reasoning is cut off' };
  if (t.reasoning.trim().length < cfg.minReasoningChars) return { reason: 'too-short', detail: `reasoning shorter than ${cfg.minReasoningChars} characters` };
  const rep = repetition ?? repetitionRatio(t.reasoning);
  if (rep > cfg.maxRepetition) return { reason: 'repetitive', detail: `${Math.round(rep * 100)}% repeated 8-grams` };
  return undefined;
}
