// Step boundaries in reasoning text: blank lines, "Step n" at a line start, and sentence ends.
// A boundary is a character offset where a new step starts; it is only "confirmed" once text
// after it holds a non-space character (so a step is never cut before we know it ended).

const SENTENCE_END = /[.!?](\s+)/g;
const BLANK_LINE = /\n[ \t]*\n\s*/g;
const STEP_HEAD = /(^|\n)[ \t]*(?=(?:Step|STEP)\s*\d)/g;

/** Offsets (ascending, unique, in (0, text.length)) where a new step starts and that are confirmed. */
export function stepBoundaries(text: string): number[] {
  const out = new Set<number>();
  const confirmed = (o: number) => o > 0 && o < text.length && /\S/.test(text.slice(o)) && /\S/.test(text.slice(0, o));
  for (const m of text.matchAll(BLANK_LINE)) {
    const o = m.index + m[0].length;
    if (confirmed(o)) out.add(o);
  }
  for (const m of text.matchAll(SENTENCE_END)) {
    // Skip enumerations at a line start ("1. ") and common abbreviations ("e.g. ").
    const before = text.slice(Math.max(0, m.index - 6), m.index);
    const lineStart = text.lastIndexOf('\n', m.index - 1) + 1;
    if (/^\s*\d{1,2}$/.test(text.slice(lineStart, m.index)) || /(e\.g|i\.e|etc|vs|Dr|Mr|Mrs)$/.test(before)) continue;
    // After the punctuation: BPE glues the following space to the next word.
    const o = m.index + 1;
    if (confirmed(o)) out.add(o);
  }
  for (const m of text.matchAll(STEP_HEAD)) {
    const o = m.index + m[1].length + (text.slice(m.index + m[1].length).match(/^[ \t]*/)?.[0].length ?? 0);
    if (confirmed(o)) out.add(o);
  }
  // Boundaries with only whitespace between them are one: the later one wins, so the blank line
  // stays with the step it ends ("x is 2.\n\n" | "Step 2 ...").
  const sorted = [...out].sort((a, b) => a - b);
  return sorted.filter((o, i) => i === sorted.length - 1 || /\S/.test(text.slice(o, sorted[i + 1])));
}

/** The first confirmed boundary inside `text` (offset), or -1. */
export function firstBoundary(text: string): number {
  const b = stepBoundaries(text);
  return b.length ? b[0] : -1;
}

/**
 * Token index where the step that starts at token `from` ends, given token texts: the first token
 * that starts at or after the first confirmed boundary of the text from `from`. -1 if none yet.
 * A boundary inside a token closes the step after that token.
 */
export function stepEndToken(texts: readonly string[], from: number): number {
  let s = '';
  const starts: number[] = [];
  for (let i = from; i < texts.length; i++) { starts.push(s.length); s += texts[i]; }
  const o = firstBoundary(s);
  if (o < 0) return -1;
  for (let j = 0; j < starts.length; j++) {
    if (starts[j] >= o) return j === 0 ? -1 : from + j;
  }
  return -1;
}

/** Splits finished token texts into steps [start, end) (token indices), covering all tokens. */
export function splitSteps(texts: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  let from = 0;
  while (from < texts.length) {
    const end = stepEndToken(texts, from);
    if (end < 0) { out.push([from, texts.length]); break; }
    out.push([from, end]);
    from = end;
  }
  return out;
}
