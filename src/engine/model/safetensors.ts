// Streaming safetensors reader: 8-byte little-endian header length, a JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }, then the data section.
// Tensors come out one at a time as packed f16 (HostTensor) while the bytes stream in, so a model
// never sits in memory whole: at most one converted tensor plus one network chunk.
import { bf16ToF16Table, f32BitsToF16 } from './f16.ts';
import type { HostTensor } from './types.ts';

/** dtypes the loader converts; every other safetensors dtype is refused by name. */
export const SUPPORTED_DTYPES = { BF16: 2, F16: 2, F32: 4 } as const;
export type SupportedDtype = keyof typeof SUPPORTED_DTYPES;
const OTHER_DTYPES = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'I16', 'U16', 'I32', 'U32', 'F64', 'I64', 'U64', 'C64']);
/** A header longer than this is not a real safetensors header (the format caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  constructor(readonly fileName: string, detail: string, readonly tensor?: string, readonly field?: string) {
    const where = [tensor !== undefined ? `tensor "${tensor}"` : '', field ? `field "${field}"` : ''].filter(Boolean).join(' ');
    super(`${fileName}: ${where ? `${where} ` : ''}${detail}`);
    this.name = 'SafetensorsError';
  }
}

export class TruncatedFileError extends Error {
  constructor(readonly fileName: string, readonly expectedBytes: number, readonly gotBytes: number, atLeast = false) {
    super(`${fileName} is truncated: expected ${atLeast ? 'at least ' : ''}${expectedBytes} bytes, got ${gotBytes}`);
    this.name = 'TruncatedFileError';
  }
}

export interface TensorEntry {
  name: string;
  dtype: SupportedDtype;
  shape: number[];
  /** Byte offsets within the data section (after the 8 + headerLength bytes). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  fileName: string;
  /** 8 + header JSON length: where the data section starts. */
  dataStart: number;
  /** Sorted by begin offset. */
  tensors: TensorEntry[];
  metadata: Record<string, string>;
  /** The file size the header implies (dataStart + the largest end offset). */
  expectedBytes: number;
}

/** Validates a parsed header. `headerLength` is the JSON byte count (for offsets); `fileSize` if known. */
export function validateSafetensorsHeader(json: unknown, headerLength: number, fileName = 'model.safetensors'): SafetensorsHeader {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(fileName, 'header must be a JSON object of tensors', undefined, 'header');
  }
  const tensors: TensorEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) metadata = raw as Record<string, string>;
      else throw new SafetensorsError(fileName, 'must be an object of strings', undefined, '__metadata__');
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new SafetensorsError(fileName, 'header entry must be an object with dtype, shape, data_offsets', name);
    }
    const e = raw as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== 'string') throw new SafetensorsError(fileName, 'is missing or not a string', name, 'dtype');
    if (!(dtype in SUPPORTED_DTYPES)) {
      const kind = OTHER_DTYPES.has(dtype) ? 'is not supported' : 'is not a safetensors dtype';
      throw new SafetensorsError(fileName, `"${dtype}" ${kind}; supported: ${Object.keys(SUPPORTED_DTYPES).join(', ')}`, name, 'dtype');
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(fileName, `must be a list of non-negative integers, got ${JSON.stringify(shape)}`, name, 'shape');
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw new SafetensorsError(fileName, `must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`, name, 'data_offsets');
    }
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const need = numel * SUPPORTED_DTYPES[dtype as SupportedDtype];
    if (offs[1] - offs[0] !== need) {
      throw new SafetensorsError(fileName, `spans ${offs[1] - offs[0]} bytes but shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${need}`, name, 'data_offsets');
    }
    tensors.push({ name, dtype: dtype as SupportedDtype, shape: shape as number[], begin: offs[0], end: offs[1] });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1];
    const t = tensors[i];
    if (t.begin < prev.end) {
      throw new SafetensorsError(fileName, `[${t.begin}, ${t.end}] overlaps tensor "${prev.name}" [${prev.begin}, ${prev.end}]`, t.name, 'data_offsets');
    }
  }
  const dataStart = 8 + headerLength;
  const dataBytes = tensors.length ? tensors[tensors.length - 1].end : 0;
  return { fileName, dataStart, tensors, metadata, expectedBytes: dataStart + dataBytes };
}

export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Chunks of a stream or iterable (ReadableStream is not async-iterable in every browser). */
async function* chunksOf(src: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof (src as ReadableStream).getReader === 'function') {
    const reader = (src as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value.byteLength) yield value;
      }
    } finally {
      // Stopping early (an error, or the consumer quit) cancels the download.
      await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  } else {
    for await (const c of src as AsyncIterable<Uint8Array>) if (c.byteLength) yield c;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Accumulates one tensor's raw bytes as packed f16 (converting while the bytes arrive). */
class TensorSink {
  readonly packed: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly halves: Uint16Array;
  private filled = 0; // input bytes received
  private readonly carry = new Uint8Array(4);
  private carryLen = 0;
  private outIndex = 0; // F32: halves written
  /** Finite inputs that became +-inf (beyond f16's +-65504). */
  overflow = 0;

  constructor(readonly entry: TensorEntry) {
    const numel = entry.end - entry.begin === 0 ? 0 : entry.shape.reduce((a, b) => a * b, 1);
    this.packed = new Uint32Array(Math.ceil(numel / 2));
    this.bytes = new Uint8Array(this.packed.buffer);
    this.halves = new Uint16Array(this.packed.buffer);
  }

  write(chunk: Uint8Array): void {
    if (this.entry.dtype !== 'F32') {
      this.bytes.set(chunk, this.filled); // F16 as is; BF16 converted in place at finish()
      this.filled += chunk.byteLength;
      return;
    }
    let i = 0;
    if (this.carryLen) {
      while (this.carryLen < 4 && i < chunk.byteLength) this.carry[this.carryLen++] = chunk[i++];
      if (this.carryLen < 4) return;
      const c = this.carry;
      const x = (c[0] | (c[1] << 8) | (c[2] << 16) | (c[3] << 24)) >>> 0;
      const h = f32BitsToF16(x);
      if ((h & 0x7fff) === 0x7c00 && (x & 0x7f800000) !== 0x7f800000) this.overflow++;
      this.halves[this.outIndex++] = h;
      this.carryLen = 0;
    }
    const whole = (chunk.byteLength - i) & ~3;
    const start = chunk.byteOffset + i;
    // Read whole words through a Uint32Array (little-endian host), copying first if misaligned.
    const words = (start & 3) === 0
      ? new Uint32Array(chunk.buffer, start, whole >> 2)
      : new Uint32Array(chunk.slice(i, i + whole).buffer);
    const halves = this.halves;
    let o = this.outIndex;
    let overflow = 0;
    for (let w = 0; w < words.length; w++) {
      const h = f32BitsToF16(words[w]);
      if ((h & 0x7fff) === 0x7c00 && (words[w] & 0x7f800000) !== 0x7f800000) overflow++;
      halves[o++] = h;
    }
    this.overflow += overflow;
    this.outIndex = o;
    i += whole;
    while (i < chunk.byteLength) this.carry[this.carryLen++] = chunk[i++];
  }

  finish(): HostTensor {
    if (this.entry.dtype === 'BF16') {
      const table = bf16ToF16Table();
      const h = this.halves;
      const n = (this.entry.end - this.entry.begin) / 2;
      let overflow = 0;
      for (let i = 0; i < n; i++) {
        const b = h[i];
        const f = table[b];
        if ((f & 0x7fff) === 0x7c00 && (b & 0x7f80) !== 0x7f80) overflow++;
        h[i] = f;
      }
      this.overflow += overflow;
    }
    return { name: this.entry.name, shape: this.entry.shape.slice(), packed: this.packed };
  }
}

export interface ReadOptions {
  fileName?: string;
  /** The file's size if known (File.size, content-length): a short file is refused before any work. */
  size?: number;
  /** Called with the bytes consumed so far, after every chunk. */
  onBytes?: (loaded: number) => void;
  /** Tensors to convert; the rest are skipped (their bytes still stream past). Default: all. */
  include?: (name: string) => boolean;
  /** Called once the header is read, before any tensor (e.g. to check names or size up memory). */
  onHeader?: (header: SafetensorsHeader) => void;
  /** Problems that do not stop loading (values beyond the f16 range, which become +-inf). */
  onWarning?: (message: string) => void;
}

/**
 * Yields the tensors of one safetensors file, in file order, as packed f16. Reads the stream exactly
 * once, front to back. Errors name the file, the tensor and the field.
 */
export async function* readSafetensors(source: ByteSource, opts: ReadOptions = {}): AsyncGenerator<HostTensor, SafetensorsHeader, undefined> {
  if (!LITTLE_ENDIAN) throw new Error('The safetensors loader needs a little-endian host.');
  const fileName = opts.fileName ?? 'model.safetensors';
  const it = chunksOf(source);
  let pending: Uint8Array | null = null; // unconsumed rest of the last chunk
  let received = 0;
  const next = async (): Promise<Uint8Array | null> => {
    if (pending) {
      const p = pending;
      pending = null;
      return p;
    }
    const r = await it.next();
    if (r.done) return null;
    received += r.value.byteLength;
    opts.onBytes?.(received);
    return r.value;
  };
  /** Exactly n bytes (copied), or null if the stream ends first. */
  const readExact = async (n: number): Promise<Uint8Array | null> => {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const c = await next();
      if (!c) return null;
      const take = Math.min(n - got, c.byteLength);
      out.set(c.subarray(0, take), got);
      got += take;
      if (take < c.byteLength) pending = c.subarray(take);
    }
    return out;
  };

  try {
    if (opts.size !== undefined && opts.size < 8) throw new TruncatedFileError(fileName, 8, opts.size, true);
    const lenBytes = await readExact(8);
    if (!lenBytes) throw new TruncatedFileError(fileName, 8, received, true);
    const lenView = new DataView(lenBytes.buffer);
    const headerLength = lenView.getUint32(0, true) + lenView.getUint32(4, true) * 2 ** 32;
    if (headerLength === 0 || headerLength > MAX_HEADER_BYTES) {
      throw new SafetensorsError(fileName, `length ${headerLength} is not plausible (is this a safetensors file?)`, undefined, 'header');
    }
    if (opts.size !== undefined && opts.size < 8 + headerLength) throw new TruncatedFileError(fileName, 8 + headerLength, opts.size, true);
    const headerBytes = await readExact(headerLength);
    if (!headerBytes) throw new TruncatedFileError(fileName, 8 + headerLength, received, true);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(headerBytes));
    } catch (e) {
      throw new SafetensorsError(fileName, `is not valid JSON (${(e as Error).message})`, undefined, 'header');
    }
    const header = validateSafetensorsHeader(json, headerLength, fileName);
    if (opts.size !== undefined && opts.size < header.expectedBytes) {
      throw new TruncatedFileError(fileName, header.expectedBytes, opts.size);
    }
    opts.onHeader?.(header);

    let pos = header.dataStart; // absolute offset of the next unconsumed byte
    /** Feeds bytes [pos, end) to `sink` (or drops them). */
    const pump = async (end: number, sink: TensorSink | null): Promise<void> => {
      while (pos < end) {
        const c = await next();
        if (!c) throw new TruncatedFileError(fileName, header.expectedBytes, received);
        const take = Math.min(end - pos, c.byteLength);
        sink?.write(take === c.byteLength ? c : c.subarray(0, take));
        pos += take;
        if (take < c.byteLength) pending = c.subarray(take);
      }
    };
    for (const entry of header.tensors) {
      await pump(header.dataStart + entry.begin, null); // a hole, if any
      const wanted = opts.include ? opts.include(entry.name) : true;
      const sink = wanted ? new TensorSink(entry) : null;
      await pump(header.dataStart + entry.end, sink);
      if (sink) {
        const t = sink.finish();
        if (sink.overflow) opts.onWarning?.(`${fileName}: tensor "${entry.name}": ${sink.overflow} ${entry.dtype} values beyond the f16 range (+-65504) became +-inf`);
        yield t;
      }
    }
    return header;
  } finally {
    await it.return(undefined);
  }
}

export interface ShardIndex {
  fileName: string;
  /** Shard files in the order they first appear in weight_map. */
  shards: string[];
  weightMap: Map<string, string>;
  totalSize?: number;
}

/** Reads model.safetensors.index.json ({ metadata?: { total_size }, weight_map: { tensor: shard } }). */
export function parseShardIndex(json: unknown, fileName = 'model.safetensors.index.json'): ShardIndex {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new SafetensorsError(fileName, `is not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof json !== 'object' || json === null) throw new SafetensorsError(fileName, 'must be a JSON object');
  const wm = (json as Record<string, unknown>).weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new SafetensorsError(fileName, 'must be an object mapping tensor names to shard files', undefined, 'weight_map');
  }
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string' || !/^[\w.-]+\.safetensors$/.test(file) || file.startsWith('.')) {
      throw new SafetensorsError(fileName, `must name a .safetensors file in the same folder, got ${JSON.stringify(file)}`, undefined, `weight_map["${name}"]`);
    }
    weightMap.set(name, file);
    if (!shards.includes(file)) shards.push(file);
  }
  if (!shards.length) throw new SafetensorsError(fileName, 'is empty', undefined, 'weight_map');
  const meta = (json as Record<string, unknown>).metadata as Record<string, unknown> | undefined;
  const totalSize = typeof meta?.total_size === 'number' ? meta.total_size : undefined;
  return { fileName, shards, weightMap, totalSize };
}

export interface OpenedShard {
  stream: ByteSource;
  size?: number;
}

export interface ShardedReadOptions {
  include?: (name: string) => boolean;
  onWarning?: (message: string) => void;
  /** Bytes consumed in `file` so far. */
  onBytes?: (file: string, loaded: number, size: number | undefined) => void;
}

/**
 * Yields every tensor of a sharded checkpoint, shard by shard. A tensor the index maps to a shard
 * that does not hold it is an error; tensors a shard holds but the index maps elsewhere are skipped.
 */
export async function* readShardedSafetensors(
  index: ShardIndex,
  open: (file: string) => Promise<OpenedShard>,
  opts: ShardedReadOptions = {},
): AsyncGenerator<HostTensor, void, undefined> {
  for (const file of index.shards) {
    const shard = await open(file);
    const expected = [...index.weightMap].filter(([, f]) => f === file).map(([n]) => n);
    const header: SafetensorsHeader = yield* readSafetensors(shard.stream, {
      fileName: file,
      size: shard.size,
      include: (name) => index.weightMap.get(name) === file && (opts.include?.(name) ?? true),
      onBytes: (loaded) => opts.onBytes?.(file, loaded, shard.size),
      onWarning: opts.onWarning,
      onHeader: (h) => {
        const have = new Set(h.tensors.map((t) => t.name));
        const missing = expected.find((n) => !have.has(n));
        if (missing !== undefined) {
          throw new SafetensorsError(index.fileName, `maps tensor "${missing}" to ${file}, but ${file} does not contain it`, undefined, 'weight_map');
        }
      },
    });
    void header;
  }
}

/** A whole in-memory file as a chunked source (tests, Node). */
export function* chunked(bytes: Uint8Array, chunkSize = 1 << 20): Generator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += chunkSize) yield bytes.subarray(i, Math.min(bytes.byteLength, i + chunkSize));
}
