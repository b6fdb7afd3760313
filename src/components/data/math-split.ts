// Splits text into plain and math parts ($…$, $$…$$, \(…\), \[…\]) for rendering with KaTeX.
// Plain parts stay text (never HTML); math parts go only to KaTeX with trust: false.
// KaTeX is guarded: a formula over MAX_TEX_CHARS or nested deeper than MAX_TEX_DEPTH is never
// sent (deep nesting overflows its recursive parser with a RangeError that throwOnError: false
// does not catch), every call is wrapped, and a view sends at most VIEW_TEX_CHARS / VIEW_FORMULAS;
// whatever is not rendered is shown as its raw text.
import katex from 'katex';

export type Part = { math: false; text: string } | { math: true; tex: string; display: boolean; raw: string };

/** Longest formula sent to KaTeX (measured in Node: ~2,000 chars of dense TeX render in <= 45 ms). */
export const MAX_TEX_CHARS = 2000;
/** Deepest group nesting ({…}, \left…\right, \begin…\end) sent to KaTeX. */
export const MAX_TEX_DEPTH = 32;
/** Per view (one MathText): total TeX characters and formulas sent to KaTeX; the rest stays raw. */
export const VIEW_TEX_CHARS = 20_000;
export const VIEW_FORMULAS = 1000;
/** Formulas per laid-out block of a long text (MathText): one block is re-laid out per render slice. */
export const BLOCK_FORMULAS = 40;
/** Formulas per page of a long text (MathText shows one page at a time, with previous / next). */
export const PAGE_FORMULAS = 100;

const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$((?:\\\$|[^$\n])+?)\$/g;

/** Deepest nesting of unescaped braces, \left…\right and \begin…\end in `tex` (stops counting past `cap`). */
export function texDepth(tex: string, cap = Infinity): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < tex.length; i++) {
    const c = tex.charCodeAt(i);
    if (c === 92 /* \ */) {
      let j = i + 1;
      while (j < tex.length && /[A-Za-z]/.test(tex[j])) j++;
      const word = tex.slice(i + 1, j);
      if (word === 'left' || word === 'begin') depth++;
      else if (word === 'right' || word === 'end') depth--;
      i = word ? j - 1 : i + 1; // a control word, or \{ \} and other one-character escapes
    } else if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) depth--;
    if (depth > max) {
      max = depth;
      if (max > cap) return max;
    }
  }
  return max;
}

/** Why a formula is not sent to KaTeX, or null when it may be. */
export function texRefusal(tex: string): string | null {
  if (tex.length > MAX_TEX_CHARS) return `formula longer than ${MAX_TEX_CHARS.toLocaleString('en-US')} characters: shown as text`;
  if (texDepth(tex, MAX_TEX_DEPTH) > MAX_TEX_DEPTH) return `formula nested deeper than ${MAX_TEX_DEPTH} levels: shown as text`;
  return null;
}

/** KaTeX HTML for one formula (HTML only: a MathML copy would double the nodes of a long trace to lay
 *  out and tear down; MathText labels the formula with its TeX for assistive technology), or null when it cannot or may not be rendered (the caller shows the raw text). Never throws. */
export function renderTex(tex: string, display: boolean): string | null {
  if (texRefusal(tex)) return null;
  try {
    return katex.renderToString(tex, { displayMode: display, throwOnError: false, trust: false, strict: 'ignore', maxExpand: 500, output: 'html' });
  } catch {
    return null; // RangeError (stack), or anything else KaTeX throws
  }
}

/** Text and formula parts. Formulas past the view budget are merged into plain text (so a huge
 *  text makes a bounded number of parts); each math part keeps `raw` (its delimiters included). */
export function splitMath(text: string, budget = { chars: VIEW_TEX_CHARS, formulas: VIEW_FORMULAS }): Part[] {
  const parts: Part[] = [];
  const re = new RegExp(MATH.source, 'g');
  let last = 0;
  let chars = 0;
  let formulas = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const tex = (m[1] ?? m[2] ?? m[3] ?? m[4]).trim();
    if (formulas >= budget.formulas || chars + tex.length > budget.chars) break;
    if (m.index > last) parts.push({ math: false, text: text.slice(last, m.index) });
    const display = m[1] !== undefined || m[2] !== undefined;
    parts.push({ math: true, tex, display, raw: m[0] });
    formulas++;
    chars += tex.length;
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ math: false, text: text.slice(last) });
  return parts;
}

/** Renders the math parts in order, at most `perSlice` formulas or `sliceMs` per task, so the main thread is
 *  never held long (each formula is bounded by MAX_TEX_CHARS). `onHtml(i, html)` gets each result
 *  (null = show raw). Returns a cancel function. */
export function renderLazily(parts: Part[], onHtml: (i: number, html: string | null) => void, sliceMs = 15, perSlice = 20): () => void {
  let i = 0;
  let stopped = false;
  const step = () => {
    if (stopped) return;
    const t0 = performance.now();
    // Few formulas per slice: the DOM work of inserting their HTML follows the slice in the same task.
    for (let n = 0; i < parts.length && n < perSlice && performance.now() - t0 < sliceMs; n++) {
      const p = parts[i];
      if (p.math) onHtml(i, renderTex(p.tex, p.display));
      i++;
    }
    if (i < parts.length) setTimeout(step, 0);
  };
  setTimeout(step, 0);
  return () => { stopped = true; };
}
