// The KaTeX guard: nesting and size bounds, every error caught, a per-view budget, lazy slices.
import { describe, expect, it } from 'vitest';
import { MAX_TEX_CHARS, MAX_TEX_DEPTH, renderLazily, renderTex, splitMath, texDepth, texRefusal } from '../../../src/components/data/math-split.ts';

describe('texDepth / texRefusal', () => {
  it('counts braces, \\left…\\right and \\begin…\\end, not escapes or \\leftarrow', () => {
    expect(texDepth('x^{a_{b}}')).toBe(2);
    expect(texDepth('\\left( \\frac{1}{2} \\right)')).toBe(2);
    expect(texDepth('\\begin{pmatrix}1\\end{pmatrix}')).toBe(2);
    expect(texDepth('\\{ a \\} \\leftarrow \\rightarrow'.repeat(50))).toBe(0);
  });
  it('refuses the 1,800-deep formula of the issue and an over-long one, allows ordinary math', () => {
    const deep = '{'.repeat(1800) + 'x' + '}'.repeat(1800);
    expect(texRefusal(deep)).not.toBeNull();
    expect(renderTex(deep, false)).toBeNull();
    const deepShort = '{'.repeat(400) + 'x' + '}'.repeat(400);
    expect(texRefusal(deepShort)).toMatch(/nested deeper than 32/);
    const long = 'x+'.repeat(MAX_TEX_CHARS);
    expect(texRefusal(long)).toMatch(/longer than 2,000/);
    expect(renderTex(long, false)).toBeNull();
    const ok = '{'.repeat(MAX_TEX_DEPTH) + 'x' + '}'.repeat(MAX_TEX_DEPTH);
    expect(texRefusal(ok)).toBeNull();
    expect(renderTex('\\frac{1}{2}', false)).toContain('katex');
  });
  it('never throws on malformed input (errors shown by KaTeX or null)', () => {
    for (const t of ['\\frac{', '}}}}', '\\begin{array}', '\\href{javascript:alert(1)}{x}', '\\sqrt'.repeat(300), '^^^', '\\def\\a{\\a}\\a']) {
      const h = renderTex(t, false);
      if (h !== null) expect(h).not.toMatch(/<a |href=|<script/i);
    }
  });
});

describe('splitMath', () => {
  it('keeps text as text and math parts with their raw source', () => {
    const p = splitMath('a $x^2$ b $$y$$ c');
    expect(p.map((x) => (x.math ? `[${x.raw}]` : x.text)).join('')).toBe('a [$x^2$] b [$$y$$] c');
  });
  it('merges formulas past the view budget into plain text, losing no characters', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `$x_{${i}}$`).join(' ');
    const parts = splitMath(text, { chars: 1e9, formulas: 100 });
    expect(parts.filter((x) => x.math)).toHaveLength(100);
    expect(parts.length).toBeLessThanOrEqual(201);
    expect(parts.map((x) => (x.math ? x.raw : x.text)).join('')).toBe(text);
    const byChars = splitMath(text, { chars: 300, formulas: 1e9 });
    const sent = byChars.filter((x) => x.math).reduce((n, x) => n + (x.math ? x.tex.length : 0), 0);
    expect(sent).toBeLessThanOrEqual(300);
    expect(sent).toBeGreaterThan(250);
  });
});

describe('renderLazily', () => {
  it('renders every formula across slices and can be cancelled', async () => {
    const parts = splitMath(Array.from({ length: 40 }, (_, i) => `$\\frac{${i}}{2}$`).join(' '));
    const got = new Map<number, string | null>();
    await new Promise<void>((resolve) => {
      renderLazily(parts, (i, h) => { got.set(i, h); if (got.size === 40) resolve(); }, 1);
    });
    expect([...got.values()].every((h) => h && h.includes('katex'))).toBe(true);
    const later = new Map<number, string | null>();
    const stop = renderLazily(parts, (i, h) => later.set(i, h), 1);
    stop();
    await new Promise((r) => setTimeout(r, 30));
    expect(later.size).toBe(0);
  });
});
