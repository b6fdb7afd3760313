// Splits text into plain and math parts ($…$, $$…$$, \(…\), \[…\]) for rendering with KaTeX.
// Plain parts stay text (never HTML); math parts go only to KaTeX with trust: false.
import katex from 'katex';

export type Part = { math: false; text: string } | { math: true; tex: string; display: boolean; html: string };

const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$((?:\\\$|[^$\n])+?)\$/g;

export function renderTex(tex: string, display: boolean): string {
  return katex.renderToString(tex, { displayMode: display, throwOnError: false, trust: false, strict: 'ignore', maxExpand: 500, output: 'htmlAndMathml' });
}

export function splitMath(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (let m = MATH.exec(text); m; m = MATH.exec(text)) {
    if (m.index > last) parts.push({ math: false, text: text.slice(last, m.index) });
    const display = m[1] !== undefined || m[2] !== undefined;
    const tex = (m[1] ?? m[2] ?? m[3] ?? m[4]).trim();
    parts.push({ math: true, tex, display, html: renderTex(tex, display) });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ math: false, text: text.slice(last) });
  MATH.lastIndex = 0;
  return parts;
}
