// Half-precision bit conversions for weight loading (CPU side). All round to nearest, ties to even;
// f32 values beyond the f16 range become +-inf, tiny ones become f16 subnormals or signed zero.

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f32 bit pattern (as an unsigned 32-bit integer) -> f16 bit pattern. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // inf / quiet NaN
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && (m & 1) !== 0)) m++; // may carry into the smallest normal: correct
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry into the exponent is right, up to inf
  return h;
}

/** A JS number -> f16 bits (via f32, as the weights would be stored). */
export function f32ToF16(v: number): number {
  f32Scratch[0] = v;
  return f32BitsToF16(u32Scratch[0]);
}

/** f16 bits -> the exact value as a JS number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bf16 bits -> f16 bits. bf16 is the top half of an f32, so this is f32BitsToF16(b << 16). */
export function bf16ToF16(b: number): number {
  return f32BitsToF16((b << 16) >>> 0);
}

let bf16Table: Uint16Array | undefined;
/** All 65,536 bf16 -> f16 results, built once (128 KiB): loading converts by lookup. */
export function bf16ToF16Table(): Uint16Array {
  if (!bf16Table) {
    bf16Table = new Uint16Array(65536);
    for (let b = 0; b < 65536; b++) bf16Table[b] = bf16ToF16(b);
  }
  return bf16Table;
}

/** Packs f16 bit patterns two per u32 word (element 2i in the low half of word i; odd tail padded with 0). */
export function packF16(halves: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(Math.ceil(halves.length / 2));
  for (let i = 0; i < halves.length; i++) out[i >> 1] |= (halves[i] & 0xffff) << ((i & 1) * 16);
  return out;
}

/** Unpacks `n` values of a packed-f16 tensor to f32 (for CPU references and tests). */
export function unpackF16(packed: Uint32Array, n = packed.length * 2): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f16ToF32((packed[i >> 1] >>> ((i & 1) * 16)) & 0xffff);
  return out;
}

/** f32 values -> packed f16 (round to nearest even). */
export function packF32AsF16(values: ArrayLike<number>): Uint32Array {
  const halves = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) halves[i] = f32ToF16(values[i]);
  return packF16(halves);
}
