// The one per-sample seed scheme. deriveSeed(seed, ...keys) names an independent stream, so
// samples, resamples, items and branches never consume each other's draws:
//   evaluation item   itemSeed(runSeed, itemKey)          = deriveSeed(runSeed, 'item', itemKey)
//   sample i of a run sampleSeed(seed, i)                 = deriveSeed(seed, 'sample', i)
// An evaluation item's sample i is sampleSeed(itemSeed(runSeed, key), i): the Playground, given
// the item seed as its recipe seed, draws sample 0 from the same stream as the evaluation did.
import { fnv1a, FNV_PRIME } from './hash.ts';

/** A 32-bit seed from a seed and keys (FNV-1a over the tagged keys, murmur3 finaliser). */
export function deriveSeed(seed: number, ...keys: (string | number)[]): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  const mix = (s: string) => {
    h = fnv1a(s, h) ^ 0xff;
    h = Math.imul(h, FNV_PRIME);
  };
  mix(`@${seed >>> 0}`);
  for (const k of keys) mix(typeof k === 'number' ? `#${k}` : `$${k}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed of sample `index` of a run seeded `seed` (guided runs, evaluation samples). */
export function sampleSeed(seed: number, index: number): number {
  return deriveSeed(seed, 'sample', index);
}

/** Seed of an evaluation item within a run seeded `runSeed` (also the item's Playground recipe seed). */
export function itemSeed(runSeed: number, itemKey: string): number {
  return deriveSeed(runSeed, 'item', itemKey);
}
