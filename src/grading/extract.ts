// THE answer extractor of the app (importers, the selection's gate, guided inference, the grader,
// evaluation: tests/unit/grading/one-extractor.test.ts keeps it that way). Pure string work.
// Order of preference: the last \boxed{...}/\fbox{...} (brace-matched; adjacent boxes such as
// `\boxed{1}, \boxed{2}` are several answers), then "Final Answer:", "the answer is", GSM8K
// "#### N" and "A: N" lines, and unless `strict`: the later of the last math-mode expression
// ($..$, \(..\), \[..\], $$..$$) and the last number that is not part of a word.
import { isLabel, splitTopLevel } from './parse.ts';

export type ExtractMethod = 'boxed' | 'final-answer' | 'the-answer-is' | 'gsm8k-hash' | 'gsm8k-a' | 'last-math' | 'last-number';

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

/** Every \boxed{..} / \fbox{..} (also `\boxed 5`), brace-matched, in order, with its span. */
export function allBoxed(text: string): { content: string; start: number; end: number }[] {
  const re = /\\(?:boxed|fbox)\s*/g;
  const out: { content: string; start: number; end: number }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index + m[0].length;
    if (text[at] === '{') {
      const g = matchBraces(text, at);
      if (g) { out.push({ content: g.content, start: m.index, end: g.end }); re.lastIndex = g.end; }
    } else if (/\s$/.test(m[0])) {
      // `\boxed 5` form (Hendrycks last_boxed_only_string handles "\boxed "): up to the next $ or space.
      const rest = /^[^\s$]+/.exec(text.slice(at));
      if (rest) out.push({ content: rest[0], start: m.index, end: at + rest[0].length });
    }
  }
  return out;
}

/** The content of the last \boxed{..} or \fbox{..} (also `\boxed 5`), brace-matched; null if none. */
export function lastBoxed(text: string): string | null {
  const all = allBoxed(text);
  return all.length ? all[all.length - 1].content : null;
}

// What may stand between two boxes that give several answers: "$\boxed{1}$ and $\boxed{2}$".
const BOX_GAP = /^[\s$,;.]*(?:(?:\\quad|\\qquad|\\text\{\s*(?:and|or)\s*\}|\band\b|\bor\b|&)[\s$,;]*){0,3}(?:\\\(|\\\[)?\s*(?:[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*)?$/;

/** The last box, or the last run of adjacent boxes joined as a list ("1, 2"). */
function finalBoxes(text: string): string | null {
  const all = allBoxed(text).filter((b) => b.content.trim() !== '');
  if (all.length === 0) return null;
  const run = [all[all.length - 1]];
  for (let i = all.length - 2; i >= 0; i--) {
    if (!BOX_GAP.test(text.slice(all[i].end, run[0].start).replace(/\\[)\]]/g, ''))) break;
    run.unshift(all[i]);
  }
  const parts = run.map((b) => b.content.trim());
  if (parts.length > 1 && parts.every((p) => p === parts[0])) return parts[0];
  // "$a = \boxed{2}$ and $b = \boxed{9}$": distinct labels keep the boxes in order as labelled values.
  if (parts.length > 1) {
    const labels = run.map((b) => /([a-zA-Z](?:_\{?\w+\}?)?)\s*=\s*\$?\s*(?:\\\(|\\\[)?\s*$/.exec(text.slice(Math.max(0, b.start - 24), b.start))?.[1] ?? null);
    if (labels.every((l): l is string => l !== null) && new Set(labels).size === labels.length && parts.every((p) => !/=/.test(p))) {
      return parts.map((p, i) => `${labels[i]} = ${p}`).join(', ');
    }
  }
  return parts.join(', ');
}

// A number not glued to a word on its left ("AZYUK2A" holds no number; "5cm" does).
// Also a slash fraction "3/28" (one number, not its denominator) and space-grouped thousands "12 345 678".
const NUMBER_RE = /(?<![A-Za-z_\d.\/])(?:-?\d{1,3}(?: \d{3})+(?![\d,.]\d)|-?\d+\/\d+(?![\d/]|\.\d)|-?\d[\d,]*(?:\.\d+)?|-?\.\d+)(?![A-Za-z]*\d)/g;

/** The last number in `text` (thousands separators dropped, trailing period dropped). */
export function lastNumber(text: string): string | null {
  const m = lastNumberMatch(text);
  return m ? m.text : null;
}

function lastNumberMatch(text: string): { text: string; index: number } | null {
  const clean = text.replace(/<<[^>]*>>/g, (x) => ' '.repeat(x.length));
  let last: RegExpExecArray | null = null;
  NUMBER_RE.lastIndex = 0;
  for (let m = NUMBER_RE.exec(clean); m; m = NUMBER_RE.exec(clean)) last = m;
  return last ? { text: cleanNumber(last[0]), index: last.index } : null;
}

/** Math-mode spans ($$..$$, \[..\], \(..\), $..$) in order; a "$" before a number and words is currency. */
export function mathSegments(text: string): { content: string; start: number; end: number }[] {
  const out: { content: string; start: number; end: number }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '(' || text[i + 1] === '[')) {
      const close = text[i + 1] === '(' ? '\\)' : '\\]';
      const j = text.indexOf(close, i + 2);
      if (j < 0) { i += 2; continue; }
      out.push({ content: text.slice(i + 2, j), start: i, end: j + 2 });
      i = j + 2; continue;
    }
    if (c === '\\') { i += 2; continue; }
    if (c === '$') {
      const dbl = text[i + 1] === '$';
      const open = dbl ? 2 : 1;
      let j = i + open;
      for (; j < text.length; j++) {
        if (text[j] === '\\') { j++; continue; }
        if (text[j] === '$') break;
      }
      if (j >= text.length) { i += open; continue; }
      const content = text.slice(i + open, j);
      // "$18 a day and $" is money, not math: skip this "$" and pair from the next one.
      if (!dbl && (/^\d[\d,.]*\s+[a-zA-Z]{2,}/.test(content) || content.trim() === '')) { i += 1; continue; }
      out.push({ content, start: i, end: j + open });
      i = j + open; continue;
    }
    i++;
  }
  return out;
}

/** An unboxed math answer: its last side when it is a computation ("\frac13 \cdot 3 = 1"), else whole. */
function mathAnswer(content: string): string {
  // ASCII relations are relations, not "=" with a stray sign: "x <= 2" must not split at "=".
  let t = content.replace(/<=/g, '\\le ').replace(/>=/g, '\\ge ').replace(/(?<=\s)!=|(?<=[a-zA-Z])\s*!=(?=\s)/g, '\\ne ');
  t = t.replace(/\\(?:begin|end)\{(?:aligned|align\*?|split|gathered)\}/g, '');
  // A matrix is one answer: its rows and columns stay.
  if (/\\begin\{(?:[pbvBV]?matrix|array|smallmatrix)\}/.test(t)) {
    // The last side of "A v = \begin{pmatrix}..\end{pmatrix}": the last "=" outside environments and braces.
    let env = 0, brace = 0, cut = -1;
    for (let i = 0; i < t.length; i++) {
      if (t.startsWith('\\begin{', i)) env++;
      else if (t.startsWith('\\end{', i)) env--;
      else if (t[i] === '{') brace++;
      else if (t[i] === '}') brace--;
      else if (t[i] === '=' && env === 0 && brace === 0) cut = i;
    }
    return t.slice(cut + 1).trim().replace(/[.,;:]+$/, '').trim();
  }
  // The last line of a multi-line display, its last step after \approx / \equiv (mod dropped).
  const lines = t.split(/\\\\(?![a-zA-Z])/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length > 1 && !/\\begin\{/.test(t)) t = lines[lines.length - 1];
  t = t.replace(/&/g, '').replace(/\\pmod\s*\{[^{}]*\}|\\pmod\s*\w+|\(\s*\\?mod\s*\w+\s*\)/g, '');
  for (const rel of ['\\approx', '\\equiv']) {
    const parts = splitTopLevel(t, rel);
    if (parts.length > 1 && parts[parts.length - 1] !== '') t = parts[parts.length - 1];
  }
  t = t.trim().replace(/[.,;:]+$/, '').replace(/^=\s*/, '').trim();
  const sides = splitTopLevel(t, '=');
  if (sides.length >= 2 && !isLabel(sides[0].replace(/\s+/g, '')) && sides.every((x) => x !== '')) return sides[sides.length - 1];
  return t;
}

/** Worth reading as a final answer: holds a digit or a LaTeX command, not a lone variable. */
function answerLike(content: string): boolean {
  const t = content.trim();
  return t !== '' && (/\d/.test(t) || /\\[a-zA-Z]+/.test(t)) && !/^\\?[a-zA-Z]$/.test(t);
}

function cleanNumber(s: string): string {
  let t = s.replace(/^(-?\d{1,3})((?: \d{3})+)$/, (_m, a: string, b: string) => a + b.replace(/ /g, ''));
  // One comma with 1-2 or 4+ digits after it is a decimal comma ("2,75", "0,5"), not a separator.
  if (/^-?\d+,(?:\d{1,2}|\d{4,})$/.test(t) || /^-?0,\d+$/.test(t)) return t.replace(',', '.');
  t = t.replace(/,(?=\d{3}(?:\D|$))/g, '');
  t = t.replace(/,+$/, '');
  return t;
}

/** Strips sentence punctuation, surrounding `$`, and a trailing period from a line-level answer. */
function tidy(s: string): string {
  let t = s.trim();
  // A boxed answer inside the line wins.
  const boxed = lastBoxed(t);
  if (boxed !== null) return boxed.trim();
  t = t.replace(/^[:\s*]+/, '').replace(/\*+$/, '').trim();
  t = t.replace(/\s*[.。]\s*$/, '');
  // "the larger of the two: $x=1$", "$3$ two-digit primes": words around math -> the last math.
  const maths = mathSegments(t).filter((m) => answerLike(m.content) || /[a-zA-Z]/.test(m.content));
  if (maths.length > 0) {
    let outside = t;
    for (const m of [...maths].reverse()) outside = outside.slice(0, m.start) + ' ' + outside.slice(m.end);
    if (/[a-zA-Z]{2,}/.test(outside.replace(/\b(?:and|or)\b/g, ''))) {
      // "The largest $n$ is 34": a number after the last math is the answer, the math its label.
      const last = maths[maths.length - 1];
      const n = lastNumberMatch(t);
      if (n && n.index >= last.end) return n.text;
      return mathAnswer(last.content);
    }
  } else if (!/\\[a-zA-Z]/.test(t) && /[a-zA-Z]{3,}/.test(t)) {
    // A sentence without math ("Jane started growing Sphere 3 hours ago"): its last number.
    const n = lastNumberMatch(t);
    if (n) return n.text;
  }
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

// Where a reply ends and a new chat turn (or the model's own end of text) begins: ChatML, Gemma,
// Llama 3, DeepSeek, Phi, Mistral/Llama 2 "</s>", and "Human:/User:" transcripts.
const TURN_MARKER = /<\|im_end\|>|<\|im_start\|>|<\|endoftext\|>|<end_of_turn>|<start_of_turn>|<\|eot_id\|>|<\|start_header_id\|>|<\|end_of_text\|>|<｜end▁of▁sentence｜>|<｜(?:User|Assistant)｜>|<\|(?:user|assistant|system|end)\|>|<\/s>/;
// Plain-text turn starts ("Human:", "Question:"): a cut only when the reply before it holds an answer
// (a reply may restate "Problem: ..." before working it).
const TEXT_TURN = /\n\s*(?:Human|User|USER|Question|Problem)\s*:/;
// A leading assistant header a transcript may keep: "<|im_start|>assistant\n", "<start_of_turn>model\n".
const ASSISTANT_HEAD = /^\s*(?:<\|im_start\|>assistant|<start_of_turn>model|<\|start_header_id\|>assistant<\|end_header_id\|>|<｜Assistant｜>|<\|assistant\|>)\s*/;
// A note, remark or alternative after the answer ("\n\n**Note:** ...", "P.S."): read only when the
// reply before it has no answer.
const NOTE = /\n\s*(?:\*\*|__)?\s*(?:Note|Remark|P\.\s?S\.|Alternatively|Aside|Caveat)\b[^\n]{0,3}(?:\*\*|__)?\s*[:.,]/i;

/**
 * The reply a response holds: after the end of thinking (`</think>`) where there is one, and before
 * any turn marker that starts a new chat turn. An unclosed `<think>` is a reply cut off while
 * thinking: null (no answer given yet).
 */
export function replyText(response: string): string | null {
  let t = response;
  const end = t.lastIndexOf('</think>');
  if (end >= 0) t = t.slice(end + '</think>'.length);
  else if (/<think>/.test(t)) return null;
  t = t.replace(ASSISTANT_HEAD, '');
  const m = TURN_MARKER.exec(t);
  if (m) t = t.slice(0, m.index);
  const w = TEXT_TURN.exec(t);
  if (w && extractFrom(t.slice(0, w.index), {}) !== null) t = t.slice(0, w.index);
  return t;
}

/** Extracts the final answer from a response, or null when nothing answer-like is present. */
export function extractAnswer(response: string, options: ExtractOptions = {}): Extraction | null {
  const reply = replyText(response);
  if (reply === null) return null;
  const note = NOTE.exec(reply);
  if (note) {
    const before = extractFrom(reply.slice(0, note.index), options);
    if (before) return before;
  }
  return extractFrom(reply, options);
}

function extractFrom(response: string, options: ExtractOptions): Extraction | null {
  const boxed = finalBoxes(response);
  if (boxed !== null) return { answer: boxed, method: 'boxed' };

  // "Final Answer: ..." and "the answer is ..." (Minerva writes both on one line): the later wins.
  // "Final Answer:", or a line that starts "Answer:" / "**Answer:**".
  const fa = lastMatch(response, /(?:final answer|(?:^|\n)[\s*#]*answer)\s*\**\s*[:：]\s*\**\s*([^\n]*[^\s*][^\n]*)/i);
  const tai = lastMatch(response, /the (?:final |correct )?(?:answer|option|choice) is\s*[:：]?\s*([^\n]+)/i);
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
  // The whole response is one math span ("$E$", "$odd$", "$$f(y) = y$$"): that is the answer.
  const all = mathSegments(response);
  if (all.length === 1 && response.slice(0, all[0].start).trim() === '' && response.slice(all[0].end).trim().replace(/^[.]$/, '') === '' && all[0].content.trim() !== '') {
    return { answer: mathAnswer(all[0].content), method: 'last-math' };
  }
  // A bare LaTeX expression with no delimiters and no words ("\frac{10}{9}", "-\frac{10}{9}").
  if (all.length === 0 && response.length <= 80 && /\\[a-zA-Z]/.test(response) && !/[a-zA-Z]{2,}/.test(response.replace(/\\[a-zA-Z]+/g, ''))) {
    return { answer: response.trim(), method: 'last-math' };
  }
  const maths = all.filter((m) => answerLike(m.content));
  const math = maths.length ? maths[maths.length - 1] : null;
  const n = lastNumberMatch(response);
  if (math && (!n || n.index < math.end)) {
    // "$x=2$ and $x=-3$": the same label joined by "and"/"or" is several answers (a restatement
    // such as "$x<2$, or $x \in (-\infty, 2)$" is not).
    const run = [math];
    const label = (m: { content: string }) => /^\s*([a-zA-Z](?:_\{?\w+\}?)?)\s*=[^=]*$/.exec(m.content)?.[1] ?? null;
    const lab = label(math);
    for (let i = maths.length - 2; lab && i >= 0 && label(maths[i]) === lab && /^\s*(?:and|or)\s*$/.test(response.slice(maths[i].end, run[0].start)); i--) run.unshift(maths[i]);
    return { answer: run.map((m) => mathAnswer(m.content)).join(', '), method: 'last-math' };
  }
  if (n !== null) return { answer: n.text, method: 'last-number' };
  return null;
}
