// The project's hashes: FNV-1a (32-bit, fast, not cryptographic) for fingerprints, n-gram and
// shingle hashes and seeds; SHA-256 for content addresses (adapters, import files, downloaded
// weights), one implementation (@noble/hashes) for one-shot and streaming use: WebCrypto has no
// incremental digest, and a model download is hashed as it streams.
import { sha256 } from '@noble/hashes/sha2.js';

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit hash of a string's UTF-16 code units (`seed` replaces the offset basis). */
export function fnv1a(s: string, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** FNV-1a over 32-bit words (each xored in whole), e.g. token ids. */
export function fnv1aWords(words: ArrayLike<number>, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < words.length; i++) { h ^= words[i]; h = Math.imul(h, FNV_PRIME); }
  return h >>> 0;
}

/** Hash of a run of hashes (n-grams and shingles from per-token FNV-1a hashes): FNV-style
 *  multiply with a shift folded in, so the order of the parts matters. Returns an unsigned 32-bit. */
export function combineHashes(parts: ArrayLike<number>, start: number, end: number, init = FNV_OFFSET): number {
  let h = init | 0;
  for (let k = start; k < end; k++) h = Math.imul(h ^ parts[k], FNV_PRIME) ^ (h >>> 15);
  return h >>> 0;
}

/** Eight hex digits of the FNV-1a of `value`'s JSON: a stable fingerprint to compare at a glance. */
export function fingerprint(value: unknown): string {
  return fnv1a(JSON.stringify(value)).toString(16).padStart(8, '0');
}

const toHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** SHA-256 of bytes as 64 lowercase hex digits. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(sha256(bytes));
}

/** Incremental SHA-256: update() with each chunk, then hex() (64 lowercase hex digits) once. */
export function sha256Stream(): { update(chunk: Uint8Array): void; hex(): string } {
  const h = sha256.create();
  return { update: (chunk) => { h.update(chunk); }, hex: () => toHex(h.digest()) };
}
