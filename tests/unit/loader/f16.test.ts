import { describe, expect, it } from 'vitest';
import { bf16ToF16Table, f16ToF32, f32BitsToF16, f32ToF16, packF16, unpackF16 } from '../../../src/engine/model/f16.ts';

// Independent reference: the nearest finite f16 by value (binary search over the sorted positive
// halves), ties to the even bit pattern; |v| >= 65520 (max + half an ulp) -> inf.
const POS = Array.from({ length: 0x7c00 }, (_, h) => f16ToF32(h)); // 0 .. 65504, increasing
function refF16(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = POS.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (POS[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - POS[lo];
  const dh = POS[hi] - a;
  const pick = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsToF32 = (b: number): number => ((u32[0] = b), f32[0]);

describe('f16 conversion', () => {
  it('matches the reference on edge values', () => {
    const cases = [0, -0, 1, -1, 0.1, 1 / 3, 65504, 65519, 65520, -65520, 1e6, -1e30, Infinity, -Infinity,
      2 ** -14, 2 ** -14 - 2 ** -25, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 2 ** -25 + 2 ** -40, 2 ** -26, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
    for (const v of cases) {
      const got = f32ToF16(v);
      expect({ v, h: got }).toEqual({ v, h: refF16(Math.fround(v)) });
    }
    expect(f32ToF16(65520)).toBe(0x7c00); // overflow to inf
    expect(f32ToF16(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal -> even (0)
    expect(f32ToF16(3 * 2 ** -25)).toBe(2); // tie between 1 and 2 subnormal ulps -> even (2)
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even mantissa
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    const nan = f32ToF16(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
  });

  it('matches the reference on 200k random f32 bit patterns (all exponents)', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), seed);
    for (let i = 0; i < 200_000; i++) {
      // Bias exponents toward the f16 range so subnormals and rounding edges are hit often.
      let bits = rand();
      if (i % 2) bits = (bits & 0x807fffff) | ((100 + (rand() % 45)) << 23);
      const v = bitsToF32(bits >>> 0);
      if (Number.isNaN(v)) continue;
      const got = f32BitsToF16(bits >>> 0);
      if (got !== refF16(v)) expect({ bits, v, got }).toEqual({ bits, v, got: refF16(v) });
    }
  });

  it('converts all 65536 bf16 values exactly as the reference does', () => {
    const table = bf16ToF16Table();
    for (let b = 0; b < 65536; b++) {
      const v = bitsToF32((b << 16) >>> 0);
      if (Number.isNaN(v)) {
        expect(table[b] & 0x7c00).toBe(0x7c00);
        expect(table[b] & 0x3ff).not.toBe(0);
        continue;
      }
      if (table[b] !== refF16(v)) expect({ b, v, got: table[b] }).toEqual({ b, v, got: refF16(v) });
    }
  });

  it('packs element 2i into the low half of word i and pads odd lengths', () => {
    const p = packF16([0x3c00, 0xc000, 0x7bff]);
    expect(Array.from(p)).toEqual([0xc0003c00 >>> 0, 0x00007bff]);
    expect(Array.from(unpackF16(p, 3))).toEqual([1, -2, 65504]);
  });
});
