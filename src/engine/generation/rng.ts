// Seeded randomness for generation. The caller of DecodeSession.feed() owns the RNG and passes the
// uniform `u`, so a run, a branch or a replay draws exactly the same numbers from the same seed.

/** A stream of uniforms in [0, 1). */
export interface Rng {
  next(): number;
}

/** mulberry32: 32-bit state, fast, good enough for sampling (not for cryptography). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A 32-bit seed derived from a seed and keys (strings or integers), e.g. derive(seed, 'sample', 3).
 *  Independent streams for samples, resamples and branches without consuming the parent stream. */
export function derive(seed: number, ...keys: (string | number)[]): number {
  // FNV-1a over the seed and the keys, then a murmur3 finaliser.
  let h = 0x811c9dc5 ^ (seed >>> 0);
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const k of keys) mix(typeof k === 'number' ? `#${k}` : `$${k}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Shorthand: an Rng for derive(seed, ...keys). */
export function rngFor(seed: number, ...keys: (string | number)[]): Rng {
  return mulberry32(derive(seed, ...keys));
}
