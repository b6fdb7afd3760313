// Near-duplicate detection: MinHash signatures over token 3-gram shingles of the normalised
// problem, LSH banding for candidates, estimated Jaccard >= threshold = duplicate of the earlier one.
import { combineHashes, fnv1a } from '../lib/hash.ts';
import { tokens } from './normalize.ts';

export const NUM_HASHES = 64;
const BANDS = 16;
const ROWS = NUM_HASHES / BANDS;
const SHINGLE = 3;

// Everything stays int32 (signed order is as good as unsigned for a minimum), so V8 keeps the
// inner loop on small integers.
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const SEEDS = Int32Array.from({ length: NUM_HASHES }, (_, i) => mix(Math.imul(0x9e3779b9, i + 1)));

export function signature(text: string): Int32Array {
  const toks = tokens(text);
  const sig = new Int32Array(NUM_HASHES).fill(0x7fffffff);
  const th = toks.map((t) => fnv1a(t));
  const n = Math.max(1, toks.length - SHINGLE + 1);
  for (let i = 0; i < n; i++) {
    const base = combineHashes(th, i, Math.min(th.length, i + SHINGLE)) | 0;
    for (let k = 0; k < NUM_HASHES; k++) {
      const h = mix(base ^ SEEDS[k]);
      if (h < sig[k]) sig[k] = h;
    }
  }
  return sig;
}

export function similarity(a: Int32Array, b: Int32Array): number {
  let eq = 0;
  for (let k = 0; k < NUM_HASHES; k++) if (a[k] === b[k]) eq++;
  return eq / NUM_HASHES;
}

/** Incremental index: `add` returns the earlier item this one duplicates (or -1) and stores it otherwise. */
export class DedupIndex {
  private buckets = new Map<string, number[]>();
  private sigs: Int32Array[] = [];
  private keys: string[] = [];
  constructor(private threshold: number) {}

  /** Returns [key of the earlier near-duplicate, similarity] or undefined (then `key` is stored). */
  add(key: string, text: string): [string, number] | undefined {
    const sig = signature(text);
    const bandKeys: string[] = [];
    let best: [number, number] | undefined;
    const seen = new Set<number>();
    for (let b = 0; b < BANDS; b++) {
      let s = `${b}`;
      for (let r = 0; r < ROWS; r++) s += ':' + sig[b * ROWS + r];
      bandKeys.push(s);
      const cands = this.buckets.get(s);
      if (!cands) continue;
      for (const c of cands) {
        // A candidate shares several bands with a near-duplicate: compare it once.
        if (seen.has(c)) continue;
        seen.add(c);
        const sim = similarity(sig, this.sigs[c]);
        if (sim >= this.threshold && (!best || sim > best[1])) best = [c, sim];
      }
    }
    if (best) return [this.keys[best[0]], best[1]];
    const id = this.sigs.length;
    this.sigs.push(sig);
    this.keys.push(key);
    for (const s of bandKeys) {
      const l = this.buckets.get(s);
      if (l) l.push(id);
      else this.buckets.set(s, [id]);
    }
    return undefined;
  }
}
