// THE answer extractor of the app (importers, the selection's gate, guided inference, the grader,
// evaluation: tests/unit/grading/one-extractor.test.ts keeps it that way). Pure string work.
// Order of preference: the last \boxed{...}/\fbox{...} (brace-matched), then "Final Answer:",
// "the answer is", GSM8K "#### N" and "A: N" lines, and (unless `strict`) the last number.

export type ExtractMethod = 'boxed' | 'final-answer' | 'the-answer-is' | 'gsm8k-hash' | 'gsm8k-a' | 'last-number';

export interface Extraction {
  answer: string;
  method: ExtractMethod;
}

export interface ExtractOptions {
  /** Explicit answer markers only (no last-number fallback): importers and reference fields. */
  strict?: boolean;
}

/** Content of the brace group that opens at `text[open]` ('{'), or null if unbalanced. */
export function matchBraces(text: string, open: number): { content: string; end: number } | null {
  if (text[open] !== '{') return null;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '{' || text[i + 1] === '}')) { i++; continue; }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { content: text.slice(open + 1, i), end: i + 1 };
    }
  }
  return null;
}

/** The content of the last \boxed{..} or \fbox{..} (also `\boxed 5`), brace-matched; null if none. */
export function lastBoxed(text: string): string | null {
  const re = /\\(?:boxed|fbox)\s*/g;
  let best: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index + m[0].length;
    if (text[at] === '{') {
      const g = matchBraces(text, at);
      if (g) best = g.content;
    } else if (/\s$/.test(m[0])) {
      // `\boxed 5` form (Hendrycks last_boxed_only_string handles "\boxed "): up to the next $ or space.
      const rest = /^[^\s$]+/.exec(text.slice(at));
      if (rest) best = rest[0];
    }
  }
  return best;
}

const NUMBER_RE = /-?\d[\d,]*(?:\.\d+)?|-?\.\d+/g;

/** The last number in `text` (thousands separators dropped, trailing period dropped). */
export function lastNumber(text: string): string | null {
  const all = text.replace(/<<[^>]*>>/g, '').match(NUMBER_RE);
  if (!all || all.length === 0) return null;
  return cleanNumber(all[all.length - 1]);
}

function cleanNumber(s: string): string {
  let t = s.replace(/,(?=\d{3}(?:\D|$))/g, '');
  t = t.replace(/,+$/, '');
  return t;
}

/** Strips sentence punctuation, surrounding `$`, and a trailing period from a line-level answer. */
function tidy(s: string): string {
  let t = s.trim();
  // A boxed answer inside the line wins.
  const boxed = lastBoxed(t);
  if (boxed !== null) return boxed.trim();
  t = t.replace(/^[:\s]+/, '');
  t = t.replace(/\s*[.。]\s*$/, '');
  const dollars = /^\$+([\s\S]*?)\$+$/.exec(t);
  if (dollars) t = dollars[1];
  t = t.replace(/^\\\(([\s\S]*)\\\)$/, '$1').replace(/^\\\[([\s\S]*)\\\]$/, '$1');
  return t.trim().replace(/\.$/, '').trim();
}

function lastMatch(text: string, re: RegExp): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  for (let m = g.exec(text); m; m = g.exec(text)) { last = m; if (m[0] === '') g.lastIndex++; }
  return last;
}

/** Extracts the final answer from a response, or null when nothing answer-like is present. */
export function extractAnswer(response: string, options: ExtractOptions = {}): Extraction | null {
  const boxed = lastBoxed(response);
  if (boxed !== null && boxed.trim() !== '') return { answer: boxed.trim(), method: 'boxed' };

  // "Final Answer: ..." and "the answer is ..." (Minerva writes both on one line): the later wins.
  const fa = lastMatch(response, /final answer\s*[:：]\s*([^\n]+)/i);
  const tai = lastMatch(response, /the (?:final )?answer is\s*[:：]?\s*([^\n]+)/i);
  const pick = fa && (!tai || fa.index > tai.index) ? { m: fa, method: 'final-answer' as const } : tai ? { m: tai, method: 'the-answer-is' as const } : null;
  if (pick) {
    const a = tidy(pick.m[1].replace(/\.?\s*I hope it is correct\.?\s*$/i, ''));
    if (a) return { answer: a, method: pick.method };
  }
  const hash = lastMatch(response, /^\s*####\s*(.+)$/m);
  if (hash) {
    const a = tidy(hash[1]);
    if (a) return { answer: a, method: 'gsm8k-hash' };
  }
  const aLine = lastMatch(response, /^\s*A:\s*(.+)$/m);
  if (aLine) {
    const a = tidy(aLine[1]);
    if (a) return { answer: a, method: 'gsm8k-a' };
  }
  if (options.strict) return null;
  const n = lastNumber(response);
  if (n !== null) return { answer: n, method: 'last-number' };
  return null;
}
