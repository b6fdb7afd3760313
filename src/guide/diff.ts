// Word-level diff (LCS over whitespace-separated words, whitespace kept with the word before it)
// for the side-by-side comparison of two runs.

export interface DiffPart { op: 'same' | 'add' | 'del'; text: string }

export function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Diff from `a` to `b`: 'del' parts are only in a, 'add' only in b. O(n*m) memory up to a cap, then a coarse fallback. */
export function wordDiff(a: string, b: string, maxCells = 4_000_000): DiffPart[] {
  const A = words(a);
  const B = words(b);
  const key = (w: string) => w.trim();
  // Common prefix and suffix first (the usual case: two runs agree for a while).
  let p = 0;
  while (p < A.length && p < B.length && key(A[p]) === key(B[p])) p++;
  let s = 0;
  while (s < A.length - p && s < B.length - p && key(A[A.length - 1 - s]) === key(B[B.length - 1 - s])) s++;
  const a1 = A.slice(p, A.length - s);
  const b1 = B.slice(p, B.length - s);
  const out: DiffPart[] = [];
  const push = (op: DiffPart['op'], text: string) => {
    if (!text) return;
    const last = out[out.length - 1];
    if (last && last.op === op) last.text += text;
    else out.push({ op, text });
  };
  push('same', B.slice(0, p).join(''));
  if (a1.length * b1.length > maxCells) {
    push('del', a1.join(''));
    push('add', b1.join(''));
  } else {
    const n = a1.length;
    const m = b1.length;
    const L = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i * (m + 1) + j] = key(a1[i]) === key(b1[j]) ? L[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(L[(i + 1) * (m + 1) + j], L[i * (m + 1) + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (key(a1[i]) === key(b1[j])) { push('same', b1[j]); i++; j++; }
      else if (L[(i + 1) * (m + 1) + j] >= L[i * (m + 1) + j + 1]) { push('del', a1[i]); i++; }
      else { push('add', b1[j]); j++; }
    }
    while (i < n) push('del', a1[i++]);
    while (j < m) push('add', b1[j++]);
  }
  push('same', B.slice(B.length - s).join(''));
  return out;
}
