// Test helper: builds safetensors files in memory (header JSON + raw little-endian data).
export type Dtype = 'F32' | 'F16' | 'BF16' | string;

export interface WriteTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes of the data. */
  data: Uint8Array;
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function u16Bytes(bits: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Uint16Array.from(bits).buffer);
}

/** Writes a safetensors file; `mutateHeader` may corrupt the header object before it is encoded. */
export function writeSafetensors(
  tensors: WriteTensor[],
  opts: { mutateHeader?: (h: Record<string, unknown>) => void; rawHeader?: string; metadata?: Record<string, string> } = {},
): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  opts.mutateHeader?.(header);
  let text = opts.rawHeader ?? JSON.stringify(header);
  while ((8 + new TextEncoder().encode(text).byteLength) % 8) text += ' '; // the format pads with spaces
  const hb = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + hb.byteLength + off);
  new DataView(out.buffer).setUint32(0, hb.byteLength, true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const t of tensors) {
    out.set(t.data, p);
    p += t.data.byteLength;
  }
  return out;
}
