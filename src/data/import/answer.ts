// Minimal final-answer extraction for importing and the quality gate (\boxed{}, "####",
// "Final Answer:", "the answer is"). The grading module owns full normalisation/equivalence; the
// selection takes an `equivalent` function so it can plug that in.

/** Content of the last \boxed{...} / \fbox{...} (balanced braces), or undefined. */
export function lastBoxed(text: string): string | undefined {
  const idx = Math.max(text.lastIndexOf('\\boxed'), text.lastIndexOf('\\fbox'));
  if (idx < 0) return undefined;
  let i = text.indexOf('{', idx);
  if (i < 0) return undefined;
  const start = ++i;
  let depth = 1;
  for (; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i).trim();
  }
  return undefined;
}

export function extractAnswer(text: string): string | undefined {
  const boxed = lastBoxed(text);
  if (boxed !== undefined) return boxed;
  const hash = /####\s*(.+?)\s*$/m.exec(text);
  if (hash) return hash[1].replace(/,/g, '').trim();
  const fin = /final answer\s*(?:is)?\s*[:：]?\s*(.+?)\s*$/im.exec(text);
  if (fin) return stripEnd(fin[1]);
  const is = /the answer is\s*[:：]?\s*(.+?)(?:\.\s|\.?$)/im.exec(text);
  if (is) return stripEnd(is[1]);
  return undefined;
}

function stripEnd(s: string): string {
  return s.replace(/^\$+|\$+$/g, '').replace(/[.\s]+$/, '').trim();
}

/** Light canonical form for comparing answers when no grader is supplied. */
export function canonicalAnswer(a: string): string {
  let s = a.trim().replace(/^\$+|\$+$/g, '');
  s = s.replace(/\\text\{([^}]*)\}/g, '$1').replace(/\\(?:left|right|displaystyle|,|!|;|:)/g, '');
  s = s.replace(/\\[dt]frac/g, '\\frac').replace(/\s+/g, '').replace(/,(?=\d{3}\b)/g, '');
  s = s.replace(/^\\?\$/, '').replace(/\.$/, '').replace(/^(?:x|y|n|k)=/, '').toLowerCase();
  const n = Number(s);
  if (s !== '' && Number.isFinite(n)) return String(n);
  return s;
}

export function answersMatch(a: string, b: string): boolean {
  const x = canonicalAnswer(a);
  const y = canonicalAnswer(b);
  if (x === y) return true;
  const nx = Number(x);
  const ny = Number(y);
  return Number.isFinite(nx) && Number.isFinite(ny) && Math.abs(nx - ny) <= 1e-6 * Math.max(1, Math.abs(ny));
}
