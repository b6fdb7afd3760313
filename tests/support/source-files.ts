// The project's source files as the layer and storage-road tests read them: repo-relative paths of
// every .ts and .svelte file under a folder.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(new URL(import.meta.url).pathname), '../..');

export function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|svelte)$/.test(e.name)) out.push(p);
  }
  return out;
}
