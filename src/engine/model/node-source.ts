// Node-only model source (scripts, tests): a directory on disk (a hub id: src/data/node-model.ts).
// Kept apart from sources.ts so the browser bundle never imports node:fs.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { FileAccess } from './sources.ts';

/** FileAccess over a directory holding config.json, tokenizer files and safetensors. */
export function nodeDirAccess(dir: string): FileAccess {
  const root = resolve(dir);
  const label = root;
  return {
    id: root,
    label,
    async readText(name) {
      try {
        return await readFile(join(root, name), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async openStream(name) {
      const path = join(root, name);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      const stream = Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20 })) as unknown as ReadableStream<Uint8Array>;
      return { stream, size, sizeHint: size };
    },
    async probe(name) {
      const st = await stat(join(root, name)).catch(() => undefined);
      return st?.isFile() ? { size: st.size } : undefined;
    },
  };
}
