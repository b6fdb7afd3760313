// Minimal safetensors writer (the reader is safetensors.ts): 8-byte little-endian header length,
// JSON header padded with spaces to a multiple of 8, then the tensors' bytes back to back.
import type { HostTensor } from './types.ts';

export interface TensorBytes { name: string; dtype: 'F16' | 'BF16' | 'F32'; shape: number[]; data: Uint8Array }

export function writeSafetensors(tensors: readonly TensorBytes[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors) { out.set(t.data, p); p += t.data.byteLength; }
  return out;
}

/** A packed-f16 HostTensor as F16 safetensors bytes (drops the odd-count padding half). */
export function hostTensorToF16Bytes(t: HostTensor): TensorBytes {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(t.packed.buffer, t.packed.byteOffset, n * 2).slice();
  return { name: t.name, dtype: 'F16', shape: t.shape, data };
}
