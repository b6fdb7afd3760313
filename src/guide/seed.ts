// Independent random streams from one seed: derive(seed, 'sample', 3) names the stream of sample 3,
// so samples, resamples and branches never consume each other's draws.
import { SeededRng } from '../engine/generation/rng.ts';

/** A 32-bit seed from a seed and keys (FNV-1a over the keys, murmur3 finaliser). */
export function derive(seed: number, ...keys: (string | number)[]): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
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

export function streamFor(seed: number): SeededRng {
  return new SeededRng(seed);
}
