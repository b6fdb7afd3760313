import { describe, expect, it } from 'vitest';
import { mulberry32, SeededRng } from '../../src/lib/rng.ts';
import { combineHashes, fingerprint, fnv1a, fnv1aWords, sha256Hex, sha256Stream } from '../../src/lib/hash.ts';
import { deriveSeed, itemSeed, sampleSeed } from '../../src/lib/seed.ts';
import { newId } from '../../src/lib/id.ts';

describe('src/lib', () => {
  it('mulberry32 matches its reference values and SeededRng saves/restores', () => {
    // first output of mulberry32(1), from the reference C implementation
    const r = mulberry32(1);
    expect(Math.round(r() * 4294967296)).toBe(2693262067);
    const s = new SeededRng(42);
    s.next();
    const saved = s.save();
    const a = [s.next(), s.next()];
    s.restore(saved);
    expect([s.next(), s.next()]).toEqual(a);
  });

  it('FNV-1a gives the published test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(fnv1aWords([97])).toBe(0xe40c292c);
    expect(fingerprint({ a: 1 })).toBe(fnv1a('{"a":1}').toString(16).padStart(8, '0'));
    expect(combineHashes([1, 2], 0, 2)).not.toBe(combineHashes([2, 1], 0, 2));
  });

  it('SHA-256 of "abc"', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // streamed in uneven chunks: the same digest as one shot, and as WebCrypto's
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) & 255);
    const s = sha256Stream();
    for (let i = 0; i < bytes.length; i += 4099) s.update(bytes.subarray(i, i + 4099));
    const web = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(s.hex()).toBe(web);
    expect(await sha256Hex(bytes)).toBe(web);
  });

  it('one seed scheme: independent named streams, item seed feeds sample seeds', () => {
    expect(sampleSeed(7, 0)).toBe(deriveSeed(7, 'sample', 0));
    expect(sampleSeed(7, 0)).not.toBe(sampleSeed(7, 1));
    expect(deriveSeed(7, 'sample', 1)).not.toBe(deriveSeed(7, 'sample', '1'));
    expect(itemSeed(7, 'a')).not.toBe(itemSeed(7, 'b'));
    expect(itemSeed(7, 'a')).not.toBe(itemSeed(8, 'a'));
    expect(itemSeed(7, 'a')).toBe(itemSeed(7, 'a'));
  });

  it('ids carry the prefix and time, and differ', () => {
    expect(newId('pool', 36 ** 3, () => 0)).toBe('pool-1000-000000');
    expect(newId('x')).not.toBe(newId('x'));
  });
});
