// Block-quantized weights: llama.cpp's Q8_0 and Q4_0 (ggml-quants.c), made on the CPU from f32/f16
// values exactly as ggml's reference quantizers make them, and repacked into u32 words for WGSL.
//   Q8_0 block (34 bytes): d (f16), qs[32] int8;             value j = qs[j] * d
//   Q4_0 block (18 bytes): d (f16), qs[16] bytes of nibbles; value j = (nibble - 8) * d, where byte j
//                          holds element j in its low nibble and element j + 16 in its high nibble
// Quantizing (ggml's *_ref, all arithmetic in f32, d rounded to f16 only when stored):
//   Q8_0: d = amax / 127, q = roundf(x / d) (half away from zero)
//   Q4_0: d = max / -8 (max = the signed value of largest |x|, first one on ties),
//         q = min(15, trunc(x / d + 8.5))
// Error bounds (d32 = the f32 scale, d16 = the stored one): Q8_0 |x - dq(q(x))| <= d32/2 + 127|d32 - d16|;
// Q4_0 <= |d32|/2 + 8|d32 - d16| except the clamped opposite extreme (x/d = +8 -> 7), off by |d32|.
//
// GPU layout (one buffer per row chunk, rows of K values, bpr = ceil(K / 32) blocks per row; a row's
// tail past K is padded with zeros, which both formats store as exact zeros):
//   words [0, rows·bpr·QW)       the blocks' qs bytes, verbatim in ggml's byte order, QW words per
//                                block (Q8_0: 8 words, 4 int8 each, little-endian; Q4_0: 4 words,
//                                16 nibble bytes), block (r, b) at (r·bpr + b)·QW: so a block is
//                                2 (Q8_0) or 1 (Q4_0) vec4<u32>, aligned
//   words [rows·bpr·QW, ...)     the scales d as f16, two per word (block e = r·bpr + b in the low
//                                half of word e/2 when e is even), then zero padding to 16 bytes
// ggml's interleaved 34/18-byte blocks are not 4-byte aligned; splitting d out makes every read a
// whole aligned word without changing a bit of any block.
import type { QuantFormat } from '../ops/matmul-q.ts';
import { f16ToF32, f32ToF16 } from './f16.ts';
import type { HostTensor } from './types.ts';

export type { QuantFormat };
export const QUANT_FORMATS: readonly QuantFormat[] = ['q8_0', 'q4_0'];

export const QK = 32;
/** Bytes of one ggml block. */
export const BLOCK_BYTES: Record<QuantFormat, number> = { q8_0: 34, q4_0: 18 };
/** u32 words of a block's quants in the GPU layout. */
export const QUANT_WORDS: Record<QuantFormat, number> = { q8_0: 8, q4_0: 4 };

const f = Math.fround;

/** ggml blocks (the GGUF / llama.cpp byte layout) of `x`; x.length must be a multiple of 32. */
export function quantizeBlocks(format: QuantFormat, x: ArrayLike<number>): Uint8Array {
  if (x.length % QK !== 0) throw new Error(`quantize ${format}: ${x.length} values is not a multiple of ${QK}`);
  const nb = x.length / QK;
  const out = new Uint8Array(nb * BLOCK_BYTES[format]);
  for (let i = 0; i < nb; i++) {
    const o = i * BLOCK_BYTES[format];
    const d16 = format === 'q8_0' ? quantizeQ8Block(x, i * QK, out, o + 2) : quantizeQ4Block(x, i * QK, out, o + 2);
    out[o] = d16 & 0xff;
    out[o + 1] = d16 >>> 8;
  }
  return out;
}

// quantize_row_q8_0_ref: writes 32 int8 at out[o..], returns d's f16 bits.
function quantizeQ8Block(x: ArrayLike<number>, x0: number, out: Uint8Array, o: number): number {
  let amax = 0;
  for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(f(x[x0 + j])));
  const d = f(amax / 127);
  const id = d ? f(1 / d) : 0;
  for (let j = 0; j < QK; j++) {
    const v = f(f(x[x0 + j]) * id);
    out[o + j] = (Math.sign(v) * Math.round(Math.abs(v))) & 0xff; // roundf: half away from zero
  }
  return f32ToF16(d);
}

// quantize_row_q4_0_ref: writes 16 nibble bytes at out[o..], returns d's f16 bits.
function quantizeQ4Block(x: ArrayLike<number>, x0: number, out: Uint8Array, o: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < QK; j++) {
    const v = f(x[x0 + j]);
    if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
  }
  const d = f(max / -8);
  const id = d ? f(1 / d) : 0;
  for (let j = 0; j < QK / 2; j++) { // (int8_t)(x * id + 8.5f), at most 15
    const lo = Math.min(15, Math.trunc(f(f(f(x[x0 + j]) * id) + 8.5)));
    const hi = Math.min(15, Math.trunc(f(f(f(x[x0 + QK / 2 + j]) * id) + 8.5)));
    out[o + j] = lo | (hi << 4);
  }
  return f32ToF16(d);
}

/** ggml blocks -> f32 values (dequantize_row_q8_0 / _q4_0). */
export function dequantizeBlocks(format: QuantFormat, blocks: Uint8Array): Float32Array {
  const bb = BLOCK_BYTES[format];
  if (blocks.length % bb !== 0) throw new Error(`dequantize ${format}: ${blocks.length} bytes is not a whole number of ${bb}-byte blocks`);
  const nb = blocks.length / bb;
  const y = new Float32Array(nb * QK);
  for (let i = 0; i < nb; i++) {
    const o = i * bb;
    const d = f16ToF32(blocks[o] | (blocks[o + 1] << 8));
    if (format === 'q8_0') {
      for (let j = 0; j < QK; j++) y[i * QK + j] = ((blocks[o + 2 + j] << 24) >> 24) * d;
    } else {
      for (let j = 0; j < QK / 2; j++) {
        const b = blocks[o + 2 + j];
        y[i * QK + j] = ((b & 0x0f) - 8) * d;
        y[i * QK + j + QK / 2] = ((b >>> 4) - 8) * d;
      }
    }
  }
  return y;
}

/** Blocks per row of K values (a row's tail is zero-padded to a whole block). */
export function blocksPerRow(k: number): number { return Math.ceil(k / QK); }

/** u32 words of the GPU layout for `rows` rows of K values (16-byte multiple). */
export function quantWords(format: QuantFormat, rows: number, k: number): number {
  const nb = rows * blocksPerRow(k);
  return Math.ceil((nb * QUANT_WORDS[format] + Math.ceil(nb / 2)) / 4) * 4;
}

/** Bytes of the GPU layout for a (rows, K) weight. */
export function quantBytes(format: QuantFormat, rows: number, k: number): number { return quantWords(format, rows, k) * 4; }

/** ggml blocks of a (rows, K) matrix (rows already padded to whole blocks) -> the GPU layout. */
export function packQuantBlocks(format: QuantFormat, blocks: Uint8Array, rows: number, k: number): Uint32Array {
  const nb = rows * blocksPerRow(k);
  const bb = BLOCK_BYTES[format];
  if (blocks.length !== nb * bb) throw new Error(`pack ${format}: ${blocks.length} bytes for ${rows} x ${k} (expected ${nb * bb})`);
  const qw = QUANT_WORDS[format];
  const words = new Uint32Array(quantWords(format, rows, k));
  const qbytes = new Uint8Array(words.buffer, 0, nb * qw * 4);
  const s0 = nb * qw;
  for (let e = 0; e < nb; e++) {
    const o = e * bb;
    qbytes.set(blocks.subarray(o + 2, o + bb), e * qw * 4);
    words[s0 + (e >> 1)] |= (blocks[o] | (blocks[o + 1] << 8)) << ((e & 1) * 16);
  }
  return words;
}

/** The GPU layout -> ggml blocks (for GGUF export and tests). */
export function unpackQuantBlocks(format: QuantFormat, words: Uint32Array, rows: number, k: number): Uint8Array {
  const nb = rows * blocksPerRow(k);
  const bb = BLOCK_BYTES[format];
  const qw = QUANT_WORDS[format];
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const out = new Uint8Array(nb * bb);
  for (let e = 0; e < nb; e++) {
    const d = (words[nb * qw + (e >> 1)] >>> ((e & 1) * 16)) & 0xffff;
    out[e * bb] = d & 0xff;
    out[e * bb + 1] = d >>> 8;
    out.set(bytes.subarray(e * qw * 4, (e + 1) * qw * 4), e * bb + 2);
  }
  return out;
}

/** Row-major (rows, K) values, each row zero-padded to whole blocks. */
function padRows(values: ArrayLike<number>, rows: number, k: number): ArrayLike<number> {
  const kp = blocksPerRow(k) * QK;
  if (kp === k) return values;
  const out = new Float32Array(rows * kp);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * kp + j] = values[r * k + j];
  return out;
}

/** A (rows, K) f32 matrix -> the GPU layout of `format`. */
export function quantizeMatrix(format: QuantFormat, values: ArrayLike<number>, rows: number, k: number): Uint32Array {
  if (values.length !== rows * k) throw new Error(`quantize ${format}: ${values.length} values for ${rows} x ${k}`);
  return packQuantBlocks(format, quantizeBlocks(format, padRows(values, rows, k)), rows, k);
}

/** A (rows, K) matrix as packed f16 (HostTensor.packed: two halves per word) -> the GPU layout. */
export function quantizePackedF16(format: QuantFormat, packed: Uint32Array, rows: number, k: number): Uint32Array {
  const n = rows * k;
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = f16ToF32((packed[i >> 1] >>> ((i & 1) * 16)) & 0xffff);
  return quantizeMatrix(format, values, rows, k);
}

/** The GPU layout -> the (rows, K) f32 values the kernels compute with (the CPU reference's weights). */
export function dequantizeMatrix(format: QuantFormat, words: Uint32Array, rows: number, k: number): Float32Array {
  const padded = dequantizeBlocks(format, unpackQuantBlocks(format, words, rows, k));
  const kp = blocksPerRow(k) * QK;
  if (kp === k) return padded;
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(padded.subarray(r * kp, r * kp + k), r * k);
  return out;
}

/** Row chunks of a (rows, K) quantized weight so no chunk's buffer exceeds maxBytes (as weights.ts
 *  splits f16 weights). Each chunk is quantized and packed on its own: blocks never cross rows. */
export function quantRowChunks(format: QuantFormat, rows: number, k: number, maxBytes: number, name = 'weight'): Array<{ r0: number; rows: number }> {
  let per = rows;
  if (quantBytes(format, rows, k) > maxBytes) {
    per = Math.floor(maxBytes / (blocksPerRow(k) * BLOCK_BYTES[format])); // then less the 16-byte padding
    while (per > 1 && quantBytes(format, per, k) > maxBytes) per--;
    if (per < 1 || quantBytes(format, 1, k) > maxBytes) throw new Error(`Tensor "${name}": one ${format} row (${quantBytes(format, 1, k)} bytes) exceeds the device's storage binding limit of ${maxBytes} bytes`);
  }
  const out: Array<{ r0: number; rows: number }> = [];
  for (let r0 = 0; r0 < rows; r0 += per) out.push({ r0, rows: Math.min(per, rows - r0) });
  return out;
}

let halfTable: Float32Array | undefined;
/** n packed f16 values -> f32 (a 64 Ki-entry table: loading converts hundreds of millions). */
function unpackHalves(packed: Uint32Array, n: number): Float32Array {
  if (!halfTable) { halfTable = new Float32Array(65536); for (let h = 0; h < 65536; h++) halfTable[h] = f16ToF32(h); }
  const tab = halfTable;
  const halves = new Uint16Array(packed.buffer, packed.byteOffset, Math.min(n, packed.length * 2));
  const out = new Float32Array(n);
  for (let i = 0; i < halves.length; i++) out[i] = tab[halves[i]];
  return out;
}

/** (rows, K) of a 2-D host tensor. */
function dims(t: { shape: number[] }): [number, number] {
  if (t.shape.length !== 2) throw new Error(`quantize: ${t.shape.length}-D tensors are not quantized (2-D weights only)`);
  return [t.shape[0], t.shape[1]];
}

/** An f16 host tensor -> the same tensor block-quantized (HostTensor.quant, rows padded to whole blocks),
 *  made on the CPU as ggml's reference quantizer makes it (the precision picked at load). */
export function quantizeHostTensor(t: HostTensor, format: QuantFormat): HostTensor {
  if (t.quant) {
    if (t.quant.format === format) return t;
    throw new Error(`Tensor "${t.name}" is already ${t.quant.format}; re-quantizing to ${format} is not supported`);
  }
  const [rows, k] = dims(t);
  const values = unpackHalves(t.packed, rows * k);
  return { name: t.name, shape: t.shape.slice(), packed: new Uint32Array(0), quant: { format, blocks: quantizeBlocks(format, padRows(values, rows, k)) } };
}

/** A host tensor's values as the kernels see them: f16 unpacked, or the blocks dequantized (the f32
 *  CPU reference's weights). */
export function hostTensorValues(t: HostTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (!t.quant) return unpackHalves(t.packed, n);
  const [rows, k] = dims(t);
  const padded = dequantizeBlocks(t.quant.format, t.quant.blocks);
  const kp = blocksPerRow(k) * QK;
  if (padded.length !== rows * kp) throw new Error(`Tensor "${t.name}": ${t.quant.blocks.length} bytes of ${t.quant.format} blocks for [${rows}, ${k}] (expected ${rows * blocksPerRow(k) * BLOCK_BYTES[t.quant.format]})`);
  if (kp === k) return padded;
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(padded.subarray(r * kp, r * kp + k), r * k);
  return out;
}

/** The GPU layout of rows [r0, r0 + rows) of a quantized host tensor (one upload chunk). */
export function quantChunkWords(t: HostTensor, r0: number, rows: number): Uint32Array {
  if (!t.quant) throw new Error(`Tensor "${t.name}" is not quantized`);
  const [, k] = dims(t);
  const per = blocksPerRow(k) * BLOCK_BYTES[t.quant.format];
  return packQuantBlocks(t.quant.format, t.quant.blocks.subarray(r0 * per, (r0 + rows) * per), rows, k);
}
