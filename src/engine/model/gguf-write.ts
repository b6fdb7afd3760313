// GGUF v3 writer: a Hugging Face decoder (config.json, tokenizer.json, tokenizer_config.json and
// the engine's packed-f16 host tensors) -> a file llama.cpp, Ollama and LM Studio load. F16 or F32
// tensors with each architecture's GGUF names and metadata, as llama.cpp's convert_hf_to_gguf.py
// writes them: Llama / SmolLM3 q/k rows permuted to llama.cpp's pair layout, Gemma 3's norms stored
// as 1 + w, Llama 3 RoPE scaling as the rope_freqs tensor, the token list padded to vocab_size.
// Layout: header, metadata, tensor infos, padding to 32 bytes, tensor data (each aligned to 32).
import { f16ToF32 } from './f16.ts';
import { quantizeBlocks } from './quant.ts';
import {
  GGML_TYPES, GGUF_ALIGNMENT, GGUF_ARCH, GGUF_MAGIC, GGUF_VERSION, GgufValueType, NORM_PLUS_ONE,
  PERMUTED_QK, TokenType, ggufTensorName, permuteQK, type GgmlTypeName,
} from './gguf-format.ts';
import type { HostTensor } from './types.ts';

export type GgufScalar =
  | { type: 'u32' | 'i32' | 'f32' | 'u64' | 'f64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string };
export type GgufArray =
  | { type: 'array'; itemType: 'string'; values: string[] }
  | { type: 'array'; itemType: 'i32' | 'u32' | 'f32'; values: ArrayLike<number> };
export type GgufValue = GgufScalar | GgufArray;

/** One tensor to write: shape in HF row-major order ([rows, cols]); data already in `type`. */
export interface GgufTensorOut { name: string; shape: number[]; type: GgmlTypeName; data: Uint8Array }

export class GgufWriteError extends Error {
  constructor(readonly field: string, detail: string) {
    super(`GGUF export: ${field}: ${detail}`);
    this.name = 'GgufWriteError';
  }
}

const enc = new TextEncoder();
const SCALAR_ID = { u32: GgufValueType.UINT32, i32: GgufValueType.INT32, f32: GgufValueType.FLOAT32, u64: GgufValueType.UINT64, f64: GgufValueType.FLOAT64, bool: GgufValueType.BOOL, string: GgufValueType.STRING } as const;

/** Growable little-endian byte sink for the header. */
class Sink {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  n = 0;
  private need(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u32(v: number): void { this.need(4); this.view.setUint32(this.n, v, true); this.n += 4; }
  i32(v: number): void { this.need(4); this.view.setInt32(this.n, v, true); this.n += 4; }
  f32(v: number): void { this.need(4); this.view.setFloat32(this.n, v, true); this.n += 4; }
  f64(v: number): void { this.need(8); this.view.setFloat64(this.n, v, true); this.n += 8; }
  u64(v: number): void { this.need(8); this.view.setBigUint64(this.n, BigInt(v), true); this.n += 8; }
  u8(v: number): void { this.need(1); this.buf[this.n++] = v; }
  str(s: string): void { const b = enc.encode(s); this.u64(b.length); this.need(b.length); this.buf.set(b, this.n); this.n += b.length; }
  pad(align: number): void { const k = (align - (this.n % align)) % align; this.need(k); this.n += k; }
  bytes(): Uint8Array { return this.buf.subarray(0, this.n); }
}

function writeScalar(s: Sink, type: GgufScalar['type'] | 'i32' | 'u32' | 'f32', v: number | boolean | string): void {
  switch (type) {
    case 'u32': s.u32(v as number); break;
    case 'i32': s.i32(v as number); break;
    case 'f32': s.f32(v as number); break;
    case 'u64': s.u64(v as number); break;
    case 'f64': s.f64(v as number); break;
    case 'bool': s.u8(v ? 1 : 0); break;
    case 'string': s.str(v as string); break;
  }
}

/**
 * The file as parts to write in order (the header, then each tensor's bytes and its padding), so a
 * large model is never one buffer. Tensor infos give GGUF dims innermost first (ne0 = cols).
 */
export function ggufParts(metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensorOut[]): Uint8Array[] {
  const s = new Sink();
  s.u32(GGUF_MAGIC);
  s.u32(GGUF_VERSION);
  s.u64(tensors.length);
  s.u64(metadata.length);
  for (const [key, v] of metadata) {
    s.str(key);
    if (v.type === 'array') {
      s.u32(GgufValueType.ARRAY);
      s.u32(SCALAR_ID[v.itemType]);
      s.u64(v.values.length);
      for (let i = 0; i < v.values.length; i++) writeScalar(s, v.itemType, v.values[i]);
    } else {
      s.u32(SCALAR_ID[v.type]);
      writeScalar(s, v.type, v.value);
    }
  }
  let offset = 0;
  const pads: number[] = [];
  for (const t of tensors) {
    const ty = GGML_TYPES[t.type];
    const n = t.shape.reduce((a, b) => a * b, 1);
    const cols = t.shape[t.shape.length - 1];
    if (cols % ty.block !== 0) throw new GgufWriteError(t.name, `${t.type} needs rows of a multiple of ${ty.block} values, got ${cols}`);
    const want = (n / ty.block) * ty.bytes;
    if (t.data.byteLength !== want) throw new GgufWriteError(t.name, `${t.type} data is ${t.data.byteLength} bytes, expected ${want} for shape [${t.shape.join(', ')}]`);
    s.str(t.name);
    s.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) s.u64(t.shape[d]);
    s.u32(ty.id);
    s.u64(offset);
    const pad = (GGUF_ALIGNMENT - (want % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
    pads.push(pad);
    offset += want + pad;
  }
  s.pad(GGUF_ALIGNMENT);
  const parts: Uint8Array[] = [s.bytes().slice()];
  tensors.forEach((t, i) => {
    parts.push(t.data);
    if (pads[i]) parts.push(new Uint8Array(pads[i]));
  });
  return parts;
}

/** The whole file in one buffer (small models and tests). */
export function writeGguf(metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensorOut[]): Uint8Array {
  const parts = ggufParts(metadata, tensors);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hugging Face model -> GGUF metadata and tensors

type Json = Record<string, unknown>;

export interface HfModelFiles {
  /** config.json, parsed */
  config: Json;
  /** tokenizer.json, parsed */
  tokenizer: Json;
  /** tokenizer_config.json, parsed (optional) */
  tokenizerConfig?: Json;
  /** general.name */
  name?: string;
}

export interface GgufExportOptions {
  /**
   * Tensor type of 2-D weights (norms and biases are F32 either way, as llama.cpp's converter writes
   * them). Q8_0 / Q4_0 quantize each row's blocks of 32 as llama.cpp's reference quantizers do
   * (quant.ts); a weight whose rows are not a multiple of 32 stays F16.
   */
  dtype?: 'F16' | 'F32' | 'Q8_0' | 'Q4_0';
}

const num = (c: Json, key: string, fallback?: number): number => {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new GgufWriteError(`config.json field "${key}"`, `must be a number, got ${JSON.stringify(v)}`);
  return v;
};

function ropeTheta(c: Json, fallback: number): number {
  const rp = c.rope_parameters as Json | undefined;
  const full = (rp?.full_attention as Json | undefined) ?? rp;
  return num(c, 'rope_theta', typeof full?.rope_theta === 'number' ? full.rope_theta : fallback);
}

function ropeScaling(c: Json): Json | undefined {
  const s = (c.rope_scaling ?? undefined) as Json | undefined;
  if (s && typeof s === 'object') return s;
  const rp = c.rope_parameters as Json | undefined;
  if (rp && typeof rp === 'object' && (rp.rope_type ?? 'default') !== 'default') return rp;
  return undefined;
}

/** Llama 3's per-frequency RoPE factors (convert_hf_to_gguf LlamaModel.generate_extra_tensors). */
export function llama3RopeFactors(c: Json, headDim: number): Float32Array {
  const s = ropeScaling(c)!;
  const base = ropeTheta(c, 10000);
  const factor = (s.factor as number) ?? 8;
  const lo = (s.low_freq_factor as number) ?? 1;
  const hi = (s.high_freq_factor as number) ?? 4;
  const old = (s.original_max_position_embeddings as number) ?? 8192;
  const loWave = old / lo;
  const hiWave = old / hi;
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const freq = 1 / Math.fround(base ** Math.fround((2 * i) / headDim));
    const wave = (2 * Math.PI) / freq;
    if (wave < hiWave) out[i] = 1;
    else if (wave > loWave) out[i] = factor;
    else {
      const smooth = (old / wave - lo) / (hi - lo);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/** tokenizer.ggml.* from tokenizer.json: BPE (byte-level, "gpt2") or, for Gemma, SentencePiece-style ("llama"). */
function tokenizerMetadata(arch: string, files: HfModelFiles, vocabSize: number): Array<[string, GgufValue]> {
  const model = files.tokenizer.model as Json | undefined;
  if (!model || model.type !== 'BPE' || typeof model.vocab !== 'object') {
    throw new GgufWriteError('tokenizer.json field "model"', `only BPE tokenizers are exported, got ${JSON.stringify(model?.type)}`);
  }
  const vocab = model.vocab as Record<string, number>;
  const added = (files.tokenizer.added_tokens as Array<{ id: number; content: string; special?: boolean }> | undefined) ?? [];
  const tokens: string[] = new Array(vocabSize);
  const types = new Int32Array(vocabSize);
  for (const [tok, id] of Object.entries(vocab)) if (id < vocabSize) { tokens[id] = tok; types[id] = TokenType.NORMAL; }
  for (const a of added) {
    if (a.id >= vocabSize) continue; // e.g. Gemma 3's <image_soft_token> (262144): the text model has no row for it
    tokens[a.id] = a.content;
    types[a.id] = a.special ? TokenType.CONTROL : TokenType.USER_DEFINED;
  }
  for (let i = 0; i < vocabSize; i++) if (tokens[i] === undefined) { tokens[i] = `[PAD${i}]`; types[i] = TokenType.UNUSED; }

  const tc = files.tokenizerConfig ?? {};
  const idOf = (v: unknown): number | undefined => {
    const t = tokenText(v);
    if (t === undefined) return undefined;
    const id = tokens.indexOf(t);
    return id >= 0 ? id : undefined;
  };
  const cfgId = (key: string): number | undefined => {
    const v = files.config[key];
    return typeof v === 'number' ? v : Array.isArray(v) && typeof v[0] === 'number' ? v[0] : undefined;
  };
  const out: Array<[string, GgufValue]> = [];
  const spm = arch === 'gemma3';
  if (spm) {
    // SentencePiece BPE: llama.cpp merges by piece score; earlier pieces are the more frequent.
    const scores = new Float32Array(vocabSize);
    for (let i = 0; i < vocabSize; i++) {
      if (/^<0x[0-9A-F]{2}>$/.test(tokens[i])) types[i] = TokenType.BYTE;
      if (tokens[i] === '<unk>') types[i] = TokenType.UNKNOWN;
      scores[i] = types[i] === TokenType.NORMAL ? -i : 0;
    }
    out.push(['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', values: tokens }],
      ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', values: scores }],
      ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', values: types }]);
  } else {
    const merges = ((model.merges as Array<string | [string, string]> | undefined) ?? []).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
    const pre = arch === 'qwen2' || arch === 'qwen3' ? 'qwen2' : 'llama-bpe';
    out.push(['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
      ['tokenizer.ggml.pre', { type: 'string', value: pre }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', values: tokens }],
      ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', values: types }],
      ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', values: merges }]);
  }
  const bos = idOf(tc.bos_token) ?? cfgId('bos_token_id');
  const eos = idOf(tc.eos_token) ?? cfgId('eos_token_id');
  const pad = idOf(tc.pad_token) ?? cfgId('pad_token_id');
  const unk = idOf(tc.unk_token);
  if (bos !== undefined) out.push(['tokenizer.ggml.bos_token_id', { type: 'u32', value: bos }]);
  if (eos !== undefined) out.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: eos }]);
  if (unk !== undefined) out.push(['tokenizer.ggml.unknown_token_id', { type: 'u32', value: unk }]);
  if (pad !== undefined) out.push(['tokenizer.ggml.padding_token_id', { type: 'u32', value: pad }]);
  const post = JSON.stringify(files.tokenizer.post_processor ?? null);
  const addBos = typeof tc.add_bos_token === 'boolean' ? tc.add_bos_token : bos !== undefined && post.includes(JSON.stringify(tokens[bos]));
  out.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: addBos }]);
  if (typeof tc.add_eos_token === 'boolean') out.push(['tokenizer.ggml.add_eos_token', { type: 'bool', value: tc.add_eos_token }]);
  let template = tc.chat_template;
  if (Array.isArray(template)) template = (template as Json[]).find((t) => t.name === 'default')?.template;
  if (typeof template === 'string') out.push(['tokenizer.chat_template', { type: 'string', value: template }]);
  return out;
}

/** Metadata for `config.json` (model hyperparameters under the GGUF architecture's prefix). */
function modelMetadata(arch: string, files: HfModelFiles, dtype: NonNullable<GgufExportOptions['dtype']>): Array<[string, GgufValue]> {
  const c = files.config;
  const C = num(c, 'hidden_size');
  const H = num(c, 'num_attention_heads');
  const headDim = num(c, 'head_dim', C / H);
  const gemma = arch === 'gemma3';
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const out: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: files.name ?? 'model' }],
    ['general.file_type', u32({ F32: 0, F16: 1, Q4_0: 2, Q8_0: 7 }[dtype])], // llama_ftype: ALL_F32, MOSTLY_F16 / Q4_0 / Q8_0
    [`${arch}.vocab_size`, u32(num(c, 'vocab_size'))],
    [`${arch}.context_length`, u32(num(c, 'max_position_embeddings', gemma ? 131072 : 2048))],
    [`${arch}.embedding_length`, u32(C)],
    [`${arch}.block_count`, u32(num(c, 'num_hidden_layers'))],
    [`${arch}.feed_forward_length`, u32(num(c, 'intermediate_size'))],
    [`${arch}.attention.head_count`, u32(H)],
    [`${arch}.attention.head_count_kv`, u32(num(c, 'num_key_value_heads', H))],
    [`${arch}.rope.freq_base`, f32(ropeTheta(c, gemma ? 1e6 : 10000))],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(num(c, 'rms_norm_eps', 1e-6))],
    [`${arch}.attention.key_length`, u32(headDim)],
    [`${arch}.attention.value_length`, u32(headDim)],
    [`${arch}.rope.dimension_count`, u32(headDim)],
  ];
  if (dtype === 'Q8_0' || dtype === 'Q4_0') out.push(['general.quantization_version', u32(2)]);
  if (gemma) {
    const window = c.sliding_window;
    if (typeof window === 'number' && c.sliding_window_pattern !== 1) {
      out.push([`${arch}.attention.sliding_window`, u32(window)]);
      out.push([`${arch}.attention.sliding_window_pattern`, u32(typeof c.sliding_window_pattern === 'number' ? c.sliding_window_pattern : 6)]);
      const rp = c.rope_parameters as Json | undefined;
      const local = (rp?.sliding_attention as Json | undefined)?.rope_theta ?? c.rope_local_base_freq ?? 10000;
      out.push([`${arch}.rope.freq_base_swa`, f32(local as number)]);
    }
    if (typeof c.final_logit_softcapping === 'number') out.push([`${arch}.final_logit_softcapping`, f32(c.final_logit_softcapping)]);
    const scalar = c.query_pre_attn_scalar;
    if (typeof scalar === 'number' && scalar !== headDim) {
      // llama.cpp scales Gemma 3 queries by 1/sqrt(head_dim) (27B: hidden/heads); it has no key for this.
      throw new GgufWriteError('config.json field "query_pre_attn_scalar"', `${scalar} differs from head_dim ${headDim}; llama.cpp's gemma3 cannot represent it`);
    }
  } else {
    const s = ropeScaling(c);
    const kind = s && (s.rope_type ?? s.type);
    if (s && kind !== 'default' && kind !== 'llama3') {
      throw new GgufWriteError('config.json field "rope_scaling"', `${JSON.stringify(kind)} is not exported; supported: none, "llama3"`);
    }
  }
  return out;
}

/** Packed-f16 HostTensor -> f32 values (drops the odd-count padding half). */
function hostToF32(t: HostTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  return Float32Array.from(new Uint16Array(t.packed.buffer, t.packed.byteOffset, n), f16ToF32);
}

/**
 * HF config + tokenizer + host tensors -> GGUF metadata and tensors. Weights keep their f16 bits
 * (F16) or widen exactly (F32); norms and biases are F32, as llama.cpp's converter writes 1-D tensors.
 */
export function ggufFromHf(
  files: HfModelFiles, hostTensors: Iterable<HostTensor>, opts: GgufExportOptions = {},
): { metadata: Array<[string, GgufValue]>; tensors: GgufTensorOut[] } {
  const dtype = opts.dtype ?? 'F16';
  const archs = files.config.architectures;
  const hfArch = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined;
  const arch = hfArch ? GGUF_ARCH[hfArch] : undefined;
  if (!arch) {
    throw new GgufWriteError('config.json field "architectures"', `${JSON.stringify(hfArch)} has no GGUF export; supported: ${Object.keys(GGUF_ARCH).join(', ')}`);
  }
  const c = files.config;
  const H = num(c, 'num_attention_heads');
  const KV = num(c, 'num_key_value_heads', H);
  const headDim = num(c, 'head_dim', num(c, 'hidden_size') / H);
  const vocabSize = num(c, 'vocab_size');
  const metadata = [...modelMetadata(arch, files, dtype), ...tokenizerMetadata(arch, files, vocabSize)];

  const tensors: GgufTensorOut[] = [];
  const s = ropeScaling(c);
  if (s && (s.rope_type ?? s.type) === 'llama3') {
    const f = llama3RopeFactors(c, headDim);
    tensors.push({ name: 'rope_freqs.weight', shape: [f.length], type: 'F32', data: new Uint8Array(f.buffer) });
  }
  for (const t of hostTensors) {
    const name = ggufTensorName(arch, t.name);
    if (!name) throw new GgufWriteError(`tensor "${t.name}"`, `has no GGUF name in architecture ${arch}`);
    const oneD = t.shape.length === 1;
    const n = t.shape.reduce((a, b) => a * b, 1);
    let f16: Uint16Array | undefined = new Uint16Array(t.packed.buffer, t.packed.byteOffset, n);
    let f32: Float32Array | undefined;
    if (NORM_PLUS_ONE.has(arch) && t.name.endsWith('norm.weight')) {
      f32 = hostToF32(t).map((v) => v + 1);
      f16 = undefined;
    }
    if (PERMUTED_QK.has(arch) && /self_attn\.[qk]_proj\.(weight|bias)$/.test(t.name)) {
      const heads = t.name.includes('q_proj') ? H : KV;
      const rows = t.shape[0];
      const cols = oneD ? 1 : t.shape[1];
      if (f16) f16 = permuteQK(f16.slice(), heads, rows, cols);
      else f32 = permuteQK(f32!, heads, rows, cols);
    }
    if (!oneD && (dtype === 'Q8_0' || dtype === 'Q4_0') && t.shape[t.shape.length - 1] % 32 === 0) {
      const values = f32 ?? Float32Array.from(f16!, f16ToF32);
      tensors.push({ name, shape: t.shape, type: dtype, data: quantizeBlocks(dtype === 'Q8_0' ? 'q8_0' : 'q4_0', values) });
    } else if (oneD || dtype === 'F32') {
      if (!f32) { f32 = new Float32Array(n); for (let i = 0; i < n; i++) f32[i] = f16ToF32(f16![i]); }
      tensors.push({ name, shape: t.shape, type: 'F32', data: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength) });
    } else if (f16) { // F16, or a quantized export's weight with rows not a multiple of 32
      tensors.push({ name, shape: t.shape, type: 'F16', data: new Uint8Array(f16.buffer, f16.byteOffset, n * 2) });
    } else {
      throw new GgufWriteError(`tensor "${t.name}"`, 'a 2-D norm weight cannot be written as F16');
    }
  }
  return { metadata, tensors };
}
