// A file's fingerprint: name, size and the SHA-256 of its first 1 MiB and last 64 KiB, so the same
// file chosen again (an interrupted import) is recognised without reading it whole, even when a
// copy of it has a new modification time.
import { sha256Hex } from '../../lib/hash.ts';

export const HEAD_BYTES = 1 << 20;
export const TAIL_BYTES = 1 << 16;

export async function fileFingerprint(file: Blob & { name?: string }): Promise<string> {
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  const tail = new Uint8Array(await file.slice(Math.max(HEAD_BYTES, file.size - TAIL_BYTES)).arrayBuffer());
  const both = new Uint8Array(head.length + tail.length);
  both.set(head);
  both.set(tail, head.length);
  return `${file.name ?? ''}|${file.size}|${(await sha256Hex(both)).slice(0, 32)}`;
}
