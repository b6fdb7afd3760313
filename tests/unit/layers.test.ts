// The layer rule (README "Architecture"), checked on the source: every relative import in src/ and
// workers/ is resolved to its file, each file is given its layer, and a file may import only its
// own layer or lower ones. Folders (directories) must not import each other in a cycle.
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sourceFiles } from '../support/source-files.ts';


/** Bottom up; a layer may import itself and the layers before it. */
const LAYERS: Array<{ name: string; rank: number; dirs: string[] }> = [
  { name: 'lib', rank: 0, dirs: ['src/lib'] },
  { name: 'domain', rank: 1, dirs: ['src/domain'] },
  { name: 'engine', rank: 2, dirs: ['src/engine'] },
  { name: 'grading', rank: 2, dirs: ['src/grading'] },
  { name: 'features', rank: 3, dirs: ['src/world', 'src/selection', 'src/segment', 'src/teacher', 'src/guide', 'src/eval', 'src/share', 'src/distill'] },
  { name: 'storage', rank: 4, dirs: ['src/data'] },
  { name: 'workers', rank: 5, dirs: ['workers'] },
  { name: 'app', rank: 6, dirs: ['src/app', 'src/components', 'src/views', 'src/App.svelte', 'src/main.ts'] },
];

/** Edges that break the rule today, each with the issue that removes it ('from -> to': 'issue N').
 *  The test fails when one of them is gone, so the list only shrinks. */
const KNOWN: Record<string, string> = {};

const walk = sourceFiles;

/** Relative import specifiers of a file: static imports and re-exports, dynamic import(), `new URL(…, import.meta.url)` workers. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

function layerOf(file: string): { name: string; rank: number } {
  const l = LAYERS.find((x) => x.dirs.some((d) => file === d || file.startsWith(`${d}/`)));
  if (!l) throw new Error(`${file} is in no layer: add its folder to LAYERS in tests/unit/layers.test.ts (and to the README's architecture section)`);
  return l;
}

const files = [...walk('src'), ...walk('workers')];
const edges: Array<{ from: string; to: string }> = [];
for (const f of files) {
  for (const spec of importsOf(readFileSync(join(ROOT, f), 'utf8'))) {
    const to = relative(ROOT, normalize(join(ROOT, dirname(f), spec)));
    if (to.startsWith('src/') || to.startsWith('workers/')) edges.push({ from: f, to });
  }
}

describe('layers', () => {
  it('parses the import forms the code uses', () => {
    expect(importsOf(`import type { A } from '../a.ts';\nexport { b } from './b.ts';\nconst w = new Worker(new URL('../../workers/x.ts', import.meta.url));\nawait import('./c.ts');\nimport './d.css';`))
      .toEqual(['../a.ts', './b.ts', '../../workers/x.ts', './c.ts', './d.css']);
    expect(edges.length).toBeGreaterThan(300);
  });

  it('no file imports a higher layer', () => {
    const bad: string[] = [];
    const seen = new Set<string>();
    for (const { from, to } of edges) {
      const a = layerOf(from);
      const b = layerOf(to);
      const key = `${from} -> ${to}`;
      const sideways = a.rank === b.rank && a.name !== b.name; // engine and grading know nothing of each other
      if (b.rank > a.rank || sideways) {
        if (KNOWN[key]) { seen.add(key); continue; }
        bad.push(`${key} (${a.name} may not import ${b.name})`);
      }
    }
    expect(bad).toEqual([]);
    expect(Object.keys(KNOWN).filter((k) => !seen.has(k)), 'fixed: remove from KNOWN').toEqual([]);
  });

  it('the engine imports nothing outside itself but src/lib and domain types other than traces', () => {
    const ok = (to: string) => to.startsWith('src/engine/') || to.startsWith('src/lib/') || (to.startsWith('src/domain/') && !/^src\/domain\/(trace|selection)\.ts$/.test(to));
    const out = edges.filter((e) => e.from.startsWith('src/engine/') && !ok(e.to));
    expect(out.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('no cycle between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const [a, b] = [dirname(from), dirname(to)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    // Tarjan's strongly connected components: a component of more than one folder is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      idx.set(v, index); low.set(v, index); index++;
      stack.push(v); on.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
        if (comp.length > 1) cycles.push(comp.sort());
      }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });
});
