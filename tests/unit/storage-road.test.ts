// One road to storage (issue 26), checked on the source beside the layer rule: views, components
// and app state reach IndexedDB and the model cache only through src/app/storage-client.ts (the data
// worker) or the engine worker, never by importing idb, opening indexedDB/caches, or importing a
// src/data module that does; no file outside src/data runs raw IndexedDB queries; the engine stores nothing.
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sourceFiles } from '../support/source-files.ts';

const CLIENT = 'src/app/storage-client.ts';
const UI = ['src/app', 'src/components', 'src/views', 'src/App.svelte', 'src/main.ts'];

const walk = sourceFiles;

/** Value imports (not `import type`) of a file: [specifier, resolved path or the bare name]. */
function valueImports(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(import|export)\s+(type\s)?[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    if (m[2]) continue; // import type: no code, no storage
    const spec = m[3] ?? m[4];
    out.push(spec.startsWith('.') ? relative(ROOT, normalize(join(ROOT, dirname(file), spec))) : spec);
  }
  return out;
}

/** Direct storage access in a file's text. */
function opensStorage(text: string): string | undefined {
  const code = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  if (/from\s*['"]idb['"]/.test(code)) return 'imports idb';
  if (/\bindexedDB\s*\./.test(code)) return 'opens indexedDB';
  if (/\bcaches\s*\.\s*(open|match|keys|delete|has)\b|typeof caches\b/.test(code)) return 'opens the Cache API';
  return undefined;
}

const RAW_QUERY = /\.(getAllFromIndex|getAllKeys|openCursor|transaction|objectStore|countFromIndex|getFromIndex)\(|\bIDBKeyRange\b/;

const texts = new Map<string, string>();
const read = (f: string): string => {
  if (!texts.has(f)) texts.set(f, readFileSync(join(ROOT, f), 'utf8'));
  return texts.get(f)!;
};

/** src/data modules that reach storage themselves or through a value import of one that does. */
function storageModules(): Set<string> {
  const data = walk('src/data');
  const touch = new Set(data.filter((f) => opensStorage(read(f))));
  for (let grew = true; grew;) {
    grew = false;
    for (const f of data) {
      if (touch.has(f)) continue;
      if (valueImports(f, read(f)).some((i) => touch.has(i) || i === 'idb')) { touch.add(f); grew = true; }
    }
  }
  return touch;
}

/** Why a UI file breaks the road, if it does. */
function offRoad(file: string, text: string, stores: Set<string>): string[] {
  const out: string[] = [];
  const direct = opensStorage(text);
  if (direct) out.push(`${file} ${direct}`);
  for (const i of valueImports(file, text)) if (stores.has(i)) out.push(`${file} imports ${i} (go through ${CLIENT})`);
  return out;
}

describe('one road to storage', () => {
  const stores = storageModules();

  it('finds the stores, and flags a view that opens one', () => {
    expect([...stores]).toEqual(expect.arrayContaining(['src/data/db.ts', 'src/data/pool-store.ts', 'src/data/model-cache.ts', 'src/data/eval-store.ts']));
    expect(stores.has('src/data/bundled.ts')).toBe(false); // fetches bundled files, stores nothing
    expect(offRoad('src/views/X.svelte', "  import { listPools } from '../data/pool-store.ts';\n  import type { Pool } from '../data/db.ts';", stores))
      .toEqual(['src/views/X.svelte imports src/data/pool-store.ts (go through src/app/storage-client.ts)']);
    expect(offRoad('src/app/x.ts', "const db = indexedDB.open('reasonbridge');", stores)).toEqual(['src/app/x.ts opens indexedDB']);
    expect(offRoad('src/components/y.svelte', "  const c = await caches.open('rb-models-v1');", stores)).toEqual(['src/components/y.svelte opens the Cache API']);
    expect(offRoad('src/app/x.ts', "import { openDB } from 'idb';", stores)).toEqual(['src/app/x.ts imports idb']);
  });

  it('views, components and app state reach storage only through the client', () => {
    const files = UI.flatMap((d) => (/\.(ts|svelte)$/.test(d) ? [d] : walk(d))).filter((f) => f !== CLIENT);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => offRoad(f, read(f), stores))).toEqual([]);
  });

  it('raw IndexedDB queries live in src/data only, and the engine opens no storage', () => {
    const bad: string[] = [];
    for (const f of [...walk('src'), ...walk('workers')]) {
      if (f.startsWith('src/data/')) continue;
      const code = read(f).replace(/^\s*\/\/.*$/gm, '');
      if (RAW_QUERY.test(code)) bad.push(`${f}: a raw IndexedDB query (put it in src/data)`);
      if (f.startsWith('src/engine/') && opensStorage(code)) bad.push(`${f} ${opensStorage(code)} (the engine takes bytes, it stores nothing)`);
    }
    expect(bad).toEqual([]);
  });
});
