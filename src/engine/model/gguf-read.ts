// GGUF v2/v3 reader: header, metadata and tensor infos; F32 / F16 / BF16 tensors become the engine's
// packed-f16 host tensors under Hugging Face names (undoing what gguf-write.ts and llama.cpp's
// converter do: Llama / SmolLM3 q/k row permutation, Gemma 3's 1 + w norms); Q8_0 / Q4_0 tensors stay
// raw blocks with their ggml type for the quantized kernels. Any other type is refused by name.
import { bf16ToF16Table, f16ToF32, f32ToF16 } from './f16.ts';
import {
  GGML_TYPES, GGML_TYPE_NAMES, GGUF_ALIGNMENT, GGUF_MAGIC, GgufValueType, HF_ARCH, NORM_PLUS_ONE,
  PERMUTED_QK, hfTensorName, permuteQK, type GgmlTypeName,
} from './gguf-format.ts';
import type { HostTensor } from './types.ts';

export class GgufReadError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'GgufReadError';
  }
}

export type GgufMetaValue = number | bigint | boolean | string | GgufMetaValue[];

export interface GgufTensorInfo {
  /** GGUF name, e.g. "blk.0.attn_q.weight" */
  name: string;
  /** HF row-major order ([rows, cols]): GGUF's dims reversed */
  shape: number[];
  type: number;
  typeName: string;
  /** absolute byte offset of the data in the file */
  offset: number;
  bytes: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufMetaValue>;
  tensors: GgufTensorInfo[];
  /** general.architecture */
  arch: string;
  /** bytes of header before the aligned data section */
  dataOffset: number;
}

/** A Q8_0 / Q4_0 tensor kept as llama.cpp's blocks (row-major rows of cols/32 blocks). */
export interface QuantTensor { name: string; shape: number[]; ggmlType: 'Q8_0' | 'Q4_0'; blocks: Uint8Array }

/** A Q8_0 / Q4_0 tensor as the decoder uploads it (HostTensor.quant: its blocks as they are). */
export function quantHostTensor(q: QuantTensor): HostTensor {
  return { name: q.name, shape: q.shape, packed: new Uint32Array(0), quant: { format: q.ggmlType === 'Q8_0' ? 'q8_0' : 'q4_0', blocks: q.blocks } };
}

export const SUPPORTED_GGUF_TYPES: readonly GgmlTypeName[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0'];

const dec = new TextDecoder();

class Cursor {
  view: DataView;
  p = 0;
  constructor(readonly b: Uint8Array, readonly file: string) { this.view = new DataView(b.buffer, b.byteOffset, b.byteLength); }
  private need(k: number): void {
    if (this.p + k > this.b.byteLength) throw new GgufReadError(this.file, `header is truncated at byte ${this.p} (needs ${k} more of ${this.b.byteLength}); pass more of the file's start`);
  }
  u8(): number { this.need(1); return this.b[this.p++]; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.p, true); this.p += 4; return v; }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.p, true); this.p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufReadError(this.file, `a 64-bit count ${v} at byte ${this.p - 8} is too large`);
    return Number(v);
  }
  str(): string { const n = this.u64(); this.need(n); const s = dec.decode(this.b.subarray(this.p, this.p + n)); this.p += n; return s; }
  value(type: number): GgufMetaValue {
    const T = GgufValueType;
    switch (type) {
      case T.UINT8: return this.u8();
      case T.INT8: { this.need(1); return this.view.getInt8(this.p++); }
      case T.UINT16: { this.need(2); const v = this.view.getUint16(this.p, true); this.p += 2; return v; }
      case T.INT16: { this.need(2); const v = this.view.getInt16(this.p, true); this.p += 2; return v; }
      case T.UINT32: return this.u32();
      case T.INT32: { this.need(4); const v = this.view.getInt32(this.p, true); this.p += 4; return v; }
      case T.FLOAT32: { this.need(4); const v = this.view.getFloat32(this.p, true); this.p += 4; return v; }
      case T.BOOL: return this.u8() !== 0;
      case T.STRING: return this.str();
      case T.UINT64: { this.need(8); const v = this.view.getBigUint64(this.p, true); this.p += 8; return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case T.INT64: { this.need(8); const v = this.view.getBigInt64(this.p, true); this.p += 8; return Number(v); }
      case T.FLOAT64: { this.need(8); const v = this.view.getFloat64(this.p, true); this.p += 8; return v; }
      case T.ARRAY: {
        const it = this.u32();
        const n = this.u64();
        const out: GgufMetaValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(it);
        return out;
      }
      default: throw new GgufReadError(this.file, `unknown metadata value type ${type} at byte ${this.p - 4}`);
    }
  }
}

/** Parses the header (magic, version, metadata, tensor infos). `bytes` must hold at least the header. */
export function readGgufHeader(bytes: Uint8Array, file = 'model.gguf'): GgufHeader {
  const c = new Cursor(bytes, file);
  if (bytes.byteLength < 4 || c.u32() !== GGUF_MAGIC) throw new GgufReadError(file, 'is not a GGUF file (no "GGUF" magic)');
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new GgufReadError(file, `GGUF version ${version} is not supported; supported: 2, 3`);
  const nTensors = c.u64();
  const nKv = c.u64();
  const metadata = new Map<string, GgufMetaValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.str();
    metadata.set(key, c.value(c.u32()));
  }
  const arch = metadata.get('general.architecture');
  if (typeof arch !== 'string') throw new GgufReadError(file, 'metadata "general.architecture" is missing');
  const align = (metadata.get('general.alignment') as number | undefined) ?? GGUF_ALIGNMENT;
  const infos: Array<Omit<GgufTensorInfo, 'offset' | 'bytes'> & { rel: number }> = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.str();
    const nd = c.u32();
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) dims.push(c.u64());
    const type = c.u32();
    const rel = c.u64();
    infos.push({ name, shape: dims.reverse(), type, typeName: GGML_TYPE_NAMES[type] ?? `type ${type}`, rel });
  }
  const dataOffset = Math.ceil(c.p / align) * align;
  const tensors = infos.map(({ rel, ...t }) => {
    const ty = Object.values(GGML_TYPES).find((g) => g.id === t.type);
    const n = t.shape.reduce((a, b) => a * b, 1);
    return { ...t, offset: dataOffset + rel, bytes: ty ? (n / ty.block) * ty.bytes : -1 };
  });
  return { version, metadata, tensors, arch, dataOffset };
}

function meta<T extends GgufMetaValue>(h: GgufHeader, key: string, file: string, fallback?: T): T {
  const v = h.metadata.get(key) ?? fallback;
  if (v === undefined) throw new GgufReadError(file, `metadata "${key}" is missing`);
  return v as T;
}

/** A config.json-like object from GGUF metadata (for parseModelConfig), tied when there is no output.weight. */
export function ggufToHfConfig(h: GgufHeader, file = 'model.gguf'): Record<string, unknown> {
  const a = h.arch;
  const hfArch = HF_ARCH[a];
  if (!hfArch) throw new GgufReadError(file, `architecture "${a}" is not supported; supported: ${Object.keys(HF_ARCH).join(', ')}`);
  const embd = h.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embd) throw new GgufReadError(file, 'tensor "token_embd.weight" is missing');
  const C = meta<number>(h, `${a}.embedding_length`, file);
  const H = meta<number>(h, `${a}.attention.head_count`, file);
  const eos = h.metadata.get('tokenizer.ggml.eos_token_id');
  const bos = h.metadata.get('tokenizer.ggml.bos_token_id');
  const cfg: Record<string, unknown> = {
    architectures: [hfArch],
    vocab_size: embd.shape[0],
    hidden_size: C,
    intermediate_size: meta<number>(h, `${a}.feed_forward_length`, file),
    num_hidden_layers: meta<number>(h, `${a}.block_count`, file),
    num_attention_heads: H,
    num_key_value_heads: meta<number>(h, `${a}.attention.head_count_kv`, file, H),
    head_dim: meta<number>(h, `${a}.attention.key_length`, file, C / H),
    rms_norm_eps: meta<number>(h, `${a}.attention.layer_norm_rms_epsilon`, file),
    rope_theta: meta<number>(h, `${a}.rope.freq_base`, file, 10000),
    max_position_embeddings: meta<number>(h, `${a}.context_length`, file),
    tie_word_embeddings: !h.tensors.some((t) => t.name === 'output.weight'),
    bos_token_id: typeof bos === 'number' ? bos : null,
    eos_token_id: typeof eos === 'number' ? eos : null,
    hidden_act: a === 'gemma3' ? 'gelu_pytorch_tanh' : 'silu',
  };
  if (a === 'gemma3') cfg.hidden_activation = 'gelu_pytorch_tanh';
  if (a === 'smollm3') cfg.no_rope_layer_interval = 4; // llama.cpp's smollm3: every 4th layer NoPE
  if (a === 'llama' || a === 'smollm3') cfg.attention_bias = h.tensors.some((t) => t.name === 'blk.0.attn_q.bias');
  if (h.tensors.some((t) => t.name === 'rope_freqs.weight')) {
    throw new GgufReadError(file, 'tensor "rope_freqs.weight" (Llama 3 RoPE scaling) cannot be turned back into rope_scaling; load the safetensors model instead');
  }
  if (a === 'gemma3') {
    const w = h.metadata.get(`${a}.attention.sliding_window`);
    if (typeof w === 'number') cfg.sliding_window = w;
    cfg.sliding_window_pattern = h.metadata.get(`${a}.attention.sliding_window_pattern`) ?? 6;
    cfg.rope_local_base_freq = h.metadata.get(`${a}.rope.freq_base_swa`) ?? 10000;
    cfg.query_pre_attn_scalar = cfg.head_dim;
  }
  return cfg;
}

/**
 * The tensors of a whole file (`bytes` = the file) under HF names: float types as packed-f16 host
 * tensors, Q8_0 / Q4_0 as raw blocks. GGUF-only tensors (rope_freqs) are skipped. F32 values are
 * rounded to f16 (the engine's weight precision).
 */
export function readGgufTensors(h: GgufHeader, bytes: Uint8Array, file = 'model.gguf'): { host: HostTensor[]; quant: QuantTensor[] } {
  const a = h.arch;
  const H = meta<number>(h, `${a}.attention.head_count`, file);
  const KV = meta<number>(h, `${a}.attention.head_count_kv`, file, H);
  const host: HostTensor[] = [];
  const quant: QuantTensor[] = [];
  for (const t of h.tensors) {
    if (t.name === 'rope_freqs.weight') continue;
    const hf = hfTensorName(a, t.name);
    if (!hf) throw new GgufReadError(file, `tensor "${t.name}" has no Hugging Face name in architecture ${a}`);
    if (!SUPPORTED_GGUF_TYPES.includes(t.typeName as GgmlTypeName)) {
      throw new GgufReadError(file, `tensor "${t.name}" has ggml type ${t.typeName}; supported: ${SUPPORTED_GGUF_TYPES.join(', ')}`);
    }
    if (t.offset + t.bytes > bytes.byteLength) throw new GgufReadError(file, `tensor "${t.name}" runs past the end of the file (${t.offset + t.bytes} > ${bytes.byteLength} bytes)`);
    const raw = bytes.subarray(t.offset, t.offset + t.bytes);
    const rows = t.shape.length === 1 ? t.shape[0] : t.shape[0];
    const cols = t.shape.length === 1 ? 1 : t.shape.slice(1).reduce((x, y) => x * y, 1);
    const permute = PERMUTED_QK.has(a) && /self_attn\.[qk]_proj\.(weight|bias)$/.test(hf);
    const heads = hf.includes('q_proj') ? H : KV;
    if (t.typeName === 'Q8_0' || t.typeName === 'Q4_0') {
      let blocks = raw.slice();
      const ty = GGML_TYPES[t.typeName];
      if (permute) blocks = permuteQK(blocks, heads, rows, (cols / ty.block) * ty.bytes, true);
      quant.push({ name: hf, shape: t.shape, ggmlType: t.typeName, blocks });
      continue;
    }
    const n = rows * cols;
    const halves = new Uint16Array(n);
    if (t.typeName === 'F16') {
      halves.set(new Uint16Array(raw.slice().buffer));
    } else if (t.typeName === 'BF16') {
      const table = bf16ToF16Table();
      const b = new Uint16Array(raw.slice().buffer);
      for (let i = 0; i < n; i++) halves[i] = table[b[i]];
    } else {
      const f = new Float32Array(raw.slice().buffer);
      for (let i = 0; i < n; i++) halves[i] = f32ToF16(f[i]);
    }
    let out = halves;
    if (NORM_PLUS_ONE.has(a) && hf.endsWith('norm.weight')) {
      // stored 1 + w: subtract in f32 from the stored value (F32 norms keep full precision here)
      const src = t.typeName === 'F32' ? new Float32Array(raw.slice().buffer) : Float32Array.from(halves, f16ToF32);
      out = Uint16Array.from(src, (v) => f32ToF16(v - 1));
    }
    if (permute) out = permuteQK(out, heads, rows, cols, true);
    const packed = new Uint32Array(Math.ceil(n / 2));
    new Uint16Array(packed.buffer).set(out);
    host.push({ name: hf, shape: t.shape, packed });
  }
  return { host, quant };
}
