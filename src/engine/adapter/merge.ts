// Applies a LoRA adapter at inference by merging it into the decoder's f16 weights:
//   W' = W + gate·(alpha/r)·B·A      W (out, in), B (out, r), A (r, in); r and alpha per module
// re-packed to f16 and written over the weight's row-split GPU chunks (weights.ts). The base packed
// words of every touched weight are read back once and kept on the CPU, so restoreBase() writes
// them back bit-for-bit. One adapter active per decoder at a time.
// A quantized base (Q8_0 / Q4_0, QLoRA): each chunk's blocks are dequantized, W + s·B·A added in f32
// and quantized again (quant.ts, ggml's reference quantizer): the merged weight carries the format's
// rounding once more, as merging into a llama.cpp quantized model does; restoreBase is still exact.
import { readBack } from '../runtime/buffers.ts';
import { f16ToF32, f32ToF16 } from '../model/f16.ts';
import type { Decoder } from '../model/decoder.ts';
import { dequantizeMatrix, quantBytes, quantizeMatrix } from '../model/quant.ts';
import type { GpuWeight } from '../model/weights.ts';
import { type LoraAdapter, exportPeftAdapter, loraScaling } from './lora.ts';
import { sha256Hex } from '../../lib/hash.ts';

interface MergeState {
  /** base packed words per weight name, one array per chunk */
  base: Map<string, Uint32Array[]>;
  /** weights currently holding merged values */
  dirty: Set<string>;
  active: string | null;
}

const states = new WeakMap<Decoder, MergeState>();

function stateOf(d: Decoder): MergeState {
  let s = states.get(d);
  if (!s) { s = { base: new Map(), dirty: new Set(), active: null }; states.set(d, s); }
  return s;
}

/** Word range [w0, w1) of the packed tensor that a chunk holds. */
function chunkWords(w: GpuWeight, r0: number, rows: number): [number, number] {
  const cols = w.shape.length === 1 ? w.shape[0] : w.shape.slice(1).reduce((a, b) => a * b, 1);
  return [(r0 * cols) / 2, Math.ceil(((r0 + rows) * cols) / 2)];
}

async function baseWords(device: GPUDevice, s: MergeState, w: GpuWeight): Promise<Uint32Array[]> {
  let saved = s.base.get(w.name);
  if (!saved) {
    saved = [];
    for (const ch of w.chunks) {
      const bytes = w.format === 'f16' ? (chunkWords(w, ch.r0, ch.rows)[1] - chunkWords(w, ch.r0, ch.rows)[0]) * 4 : quantBytes(w.format, ch.rows, w.shape[1]);
      saved.push(new Uint32Array(await readBack(device, ch.buffer, bytes)));
    }
    s.base.set(w.name, saved);
  }
  return saved;
}

/** Content hash of an adapter: SHA-256 (64 hex digits, as share links' AdapterRef) of its PEFT config + safetensors bytes. */
export async function adapterHash(a: LoraAdapter): Promise<string> {
  const { adapterConfig, safetensors } = exportPeftAdapter(a);
  const cfg = new TextEncoder().encode(adapterConfig);
  const all = new Uint8Array(cfg.length + safetensors.length);
  all.set(cfg, 0); all.set(safetensors, cfg.length);
  return sha256Hex(all);
}

/** Merged packed words of one module: base (out,in) f16 words + s·B·A, rounded to f16. */
export function mergePacked(base: Uint32Array, outF: number, inF: number, A: Float32Array, B: Float32Array, r: number, s: number): Uint32Array {
  const n = outF * inF;
  const merged = new Uint32Array(Math.ceil(n / 2));
  const row = new Float64Array(inF);
  for (let o = 0; o < outF; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const b = s * B[o * r + k];
      if (b === 0) continue;
      const ak = k * inF;
      for (let i = 0; i < inF; i++) row[i] += b * A[ak + i];
    }
    for (let i = 0; i < inF; i++) {
      const e = o * inF + i;
      const word = base[e >> 1];
      const h = e & 1 ? word >>> 16 : word & 0xffff;
      const v = f32ToF16(f16ToF32(h) + row[i]);
      merged[e >> 1] |= e & 1 ? v << 16 : v;
    }
  }
  return merged;
}

/** Rows r0..r0+n of W (f32, (n, in)) plus s·B·A, in place. */
function mergeRows(base: Float32Array, r0: number, n: number, inF: number, A: Float32Array, B: Float32Array, r: number, s: number): Float32Array {
  const row = new Float64Array(inF);
  for (let o = 0; o < n; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const b = s * B[(r0 + o) * r + k];
      if (b === 0) continue;
      for (let i = 0; i < inF; i++) row[i] += b * A[k * inF + i];
    }
    for (let i = 0; i < inF; i++) base[o * inF + i] += row[i];
  }
  return base;
}

/** Writes the base weights back over every merged weight (exact). */
export function restoreBase(device: GPUDevice, decoder: Decoder): void {
  const s = stateOf(decoder);
  for (const name of s.dirty) {
    const w = decoder.weight(name)!;
    const saved = s.base.get(name)!;
    w.chunks.forEach((ch, i) => device.queue.writeBuffer(ch.buffer, 0, saved[i]));
  }
  s.dirty.clear();
  s.active = null;
}

/**
 * Merges `adapter` into `decoder` (after restoring the base). `hash` names it (adapterHash);
 * computed when omitted. Returns the hash now active.
 */
export async function applyAdapter(device: GPUDevice, decoder: Decoder, adapter: LoraAdapter, hash?: string): Promise<string> {
  const h = hash ?? await adapterHash(adapter);
  const s = stateOf(decoder);
  if (s.active === h) return h;
  restoreBase(device, decoder);
  for (const m of adapter.modules) {
    const name = `${m.path}.weight`;
    const w = decoder.weight(name);
    if (!w) throw new Error(`adapter module ${m.path}: the loaded model has no weight "${name}"`);
    if (w.shape[0] !== m.outFeatures || w.shape[1] !== m.inFeatures) throw new Error(`adapter module ${m.path}: shape (${m.outFeatures}, ${m.inFeatures}) does not match the model's [${w.shape.join(', ')}]`);
    const saved = await baseWords(device, s, w);
    if (w.format !== 'f16') {
      const fmt = w.format;
      w.chunks.forEach((ch, i) => {
        const base = dequantizeMatrix(fmt, saved[i], ch.rows, m.inFeatures);
        const rows = mergeRows(base, ch.r0, ch.rows, m.inFeatures, m.A, m.B, m.r, loraScaling(m) * m.gate);
        device.queue.writeBuffer(ch.buffer, 0, quantizeMatrix(fmt, rows, ch.rows, m.inFeatures));
      });
      s.dirty.add(name);
      continue;
    }
    const full = new Uint32Array(Math.ceil((m.outFeatures * m.inFeatures) / 2));
    w.chunks.forEach((ch, i) => full.set(saved[i], chunkWords(w, ch.r0, ch.rows)[0]));
    const merged = mergePacked(full, m.outFeatures, m.inFeatures, m.A, m.B, m.r, loraScaling(m) * m.gate);
    for (const ch of w.chunks) {
      const [w0, w1] = chunkWords(w, ch.r0, ch.rows);
      device.queue.writeBuffer(ch.buffer, 0, merged.subarray(w0, w1));
    }
    s.dirty.add(name);
  }
  s.active = h;
  return h;
}

/** Hash of the adapter merged into `decoder`, or null for the base weights. */
export function activeAdapter(decoder: Decoder): string | null {
  return states.get(decoder)?.active ?? null;
}
