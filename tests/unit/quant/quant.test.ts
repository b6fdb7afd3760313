// Q8_0 / Q4_0 against llama.cpp itself (bytes its quantizers wrote, tests/fixtures/quant) and against
// the formats' error bounds; the GPU layout round-trips to the same ggml blocks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { f16ToF32, packF32AsF16 } from '../../../src/engine/model/f16.ts';
import {
  BLOCK_BYTES, QK, type QuantFormat, blocksPerRow, dequantizeBlocks, dequantizeMatrix, packQuantBlocks, quantBytes,
  quantRowChunks, quantizeBlocks, quantizeMatrix, quantizePackedF16, unpackQuantBlocks,
} from '../../../src/engine/model/quant.ts';
import { mulberry32 } from '../../../src/lib/rng.ts';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const fixture = JSON.parse(readFileSync('tests/fixtures/quant/ggml-q8_0-q4_0.json', 'utf8')) as Record<string, string>;
const golden = new Float32Array(hex(fixture.f32).buffer);

function randn(seed: number, n: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) * scale);
}

describe('quantize as llama.cpp does', () => {
  for (const format of ['q8_0', 'q4_0'] as const) {
    it(`${format}: byte-exact with ggml's quantize_row_${format}_ref on the fixed vector (8 blocks: ties, zeros, clamps, f16-subnormal scales)`, () => {
      expect(golden.length).toBe(256);
      const ours = quantizeBlocks(format, golden);
      const theirs = hex(fixture[format]);
      expect(ours.length).toBe(theirs.length);
      const diff = [...ours].findIndex((b, i) => b !== theirs[i]);
      expect(diff, `first differing byte ${diff} (block ${Math.floor(diff / BLOCK_BYTES[format])})`).toBe(-1);
    });
  }

  it('q8_0 dequantizes as q * d and q4_0 as (nibble - 8) * d, low nibbles first', () => {
    // one q4_0 block: d = 0.5 (f16 0x3800), byte j = (j & 15) | (15 - (j & 15)) << 4
    const b = new Uint8Array(18);
    b[0] = 0x00; b[1] = 0x38;
    for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
    const y = dequantizeBlocks('q4_0', b);
    for (let j = 0; j < 16; j++) { expect(y[j]).toBe((j - 8) * 0.5); expect(y[j + 16]).toBe((7 - j) * 0.5); }
    const b8 = new Uint8Array(34);
    b8[0] = 0x00; b8[1] = 0x3c; // d = 1
    b8[2] = 0x81; b8[3] = 0x7f; // -127, 127
    const y8 = dequantizeBlocks('q8_0', b8);
    expect([y8[0], y8[1], y8[2]]).toEqual([-127, 127, 0]);
  });

  it('rejects lengths that are not whole blocks', () => {
    expect(() => quantizeBlocks('q8_0', new Float32Array(33))).toThrow(/not a multiple of 32/);
    expect(() => dequantizeBlocks('q4_0', new Uint8Array(19))).toThrow(/18-byte blocks/);
  });
});

describe('round trip within the format bound', () => {
  // Per block: d32 = the f32 scale ggml divides by, d16 its stored f16.
  // Q8_0: |x - dq| <= d32/2 + 127|d32 - d16|; Q4_0: <= |d32|/2 + 8|d32 - d16| except values at
  // x/d in (7.5, 8] (opposite the block's extreme), which round to 8 and clamp to 7: <= |d32| + 8|d32 - d16|.
  const cases: Array<[string, Float32Array]> = [['gaussian', randn(1, 32 * 64)], ['uniform wide', Float32Array.from(randn(2, 32 * 16), (v, i) => v * 10 ** ((i % 7) - 3))], ['ggml fixture', golden]];
  for (const format of ['q8_0', 'q4_0'] as const) {
    for (const [name, x] of cases) {
      it(`${format} ${name}`, () => {
        const dq = dequantizeBlocks(format, quantizeBlocks(format, x));
        let worstRatio = 0;
        for (let b = 0; b < x.length / QK; b++) {
          const blk = x.subarray(b * QK, (b + 1) * QK);
          const amax = Math.max(...blk.map(Math.abs));
          const max = blk.find((v) => Math.abs(v) === amax) ?? 0;
          const d32 = Math.fround(amax / (format === 'q8_0' ? 127 : 8));
          const dSigned = -max / 8;
          const d16 = f16ToF32(packF32AsF16([d32])[0] & 0xffff);
          const slack = Math.abs(d32 - d16) * (format === 'q8_0' ? 127 : 8) + 1e-7 * amax;
          for (let j = 0; j < QK; j++) {
            const err = Math.abs(blk[j] - dq[b * QK + j]);
            const clamped = format === 'q4_0' && dSigned !== 0 && blk[j] / dSigned > 7.5;
            const bound = (clamped ? d32 : d32 / 2) + slack;
            expect(err, `block ${b} elem ${j}: x ${blk[j]} dq ${dq[b * QK + j]}`).toBeLessThanOrEqual(bound);
            if (d32 > 0) worstRatio = Math.max(worstRatio, err / d32);
          }
        }
        // the bound is reached, not loose: some error is close to half a step
        expect(worstRatio).toBeGreaterThan(0.4);
      });
    }
  }
});

describe('GPU layout', () => {
  for (const format of ['q8_0', 'q4_0'] as const satisfies readonly QuantFormat[]) {
    it(`${format}: packing keeps every ggml byte, padded rows dequantize to the matrix`, () => {
      const [rows, k] = [5, 72]; // 72 = 2 blocks + 8: the third block of each row is zero-padded
      const x = randn(3, rows * k);
      const words = quantizeMatrix(format, x, rows, k);
      expect(words.byteLength).toBe(quantBytes(format, rows, k));
      expect(words.byteLength % 16).toBe(0);
      const nb = rows * blocksPerRow(k);
      expect(words.byteLength).toBeGreaterThanOrEqual(nb * BLOCK_BYTES[format]);
      expect(words.byteLength).toBeLessThan(nb * BLOCK_BYTES[format] + 16);
      const blocks = unpackQuantBlocks(format, words, rows, k);
      expect(packQuantBlocks(format, blocks, rows, k)).toEqual(words);
      const dq = dequantizeMatrix(format, words, rows, k);
      expect(dq.length).toBe(rows * k);
      // row r of the padded matrix quantized alone gives the same values
      const row2 = new Float32Array(96); row2.set(x.subarray(2 * k, 3 * k));
      expect(dq.subarray(2 * k, 3 * k)).toEqual(dequantizeBlocks(format, quantizeBlocks(format, row2)).subarray(0, k));
      // padding dequantizes to exact zeros
      expect(dequantizeBlocks(format, blocks).subarray(k, 96).every((v) => v === 0)).toBe(true);
    });
  }

  it('from packed f16 equals from its f32 values', () => {
    const x = randn(4, 4 * 64);
    const packed = packF32AsF16(x);
    const halves = Float32Array.from({ length: x.length }, (_, i) => f16ToF32((packed[i >> 1] >>> ((i & 1) * 16)) & 0xffff));
    expect(quantizePackedF16('q4_0', packed, 4, 64)).toEqual(quantizeMatrix('q4_0', halves, 4, 64));
  });

  it('row chunks fit the binding limit and cover the rows', () => {
    const [rows, k] = [1000, 256];
    const limit = quantBytes('q4_0', 300, k);
    const chunks = quantRowChunks('q4_0', rows, k, limit);
    expect(chunks.map((c) => c.rows)).toEqual([300, 300, 300, 100]);
    for (const c of chunks) expect(quantBytes('q4_0', c.rows, k)).toBeLessThanOrEqual(limit);
    expect(quantRowChunks('q8_0', rows, k, 1e9)).toEqual([{ r0: 0, rows }]);
    expect(() => quantRowChunks('q8_0', rows, k, 100, 'lm_head.weight')).toThrow(/lm_head\.weight.*exceeds/);
  });
});
