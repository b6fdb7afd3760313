// Node-only (scripts, tests): a `--model` argument as a FileAccess: an existing directory, else a hub
// id fetched without a cache. Kept apart so the browser bundle never imports node:fs.
import { stat } from 'node:fs/promises';
import { nodeDirAccess } from '../engine/model/node-source.ts';
import { ModelSourceError, type FileAccess } from '../engine/model/sources.ts';
import { accessFor } from './model-download.ts';

export async function nodeAccess(dirOrId: string, opts: { hubBase?: string } = {}): Promise<FileAccess> {
  const isDir = await stat(dirOrId).then((s) => s.isDirectory(), () => false);
  if (isDir) return nodeDirAccess(dirOrId);
  if (dirOrId.startsWith('.') || dirOrId.startsWith('/')) throw new ModelSourceError(`${dirOrId}: no such directory`);
  return accessFor({ kind: 'hub', id: dirOrId }, { hubBase: opts.hubBase });
}
