// Where a model's bytes come from, as a FileAccess: files the user picked, or (Node, see
// node-source.ts) a directory; HTTP sources (the hub, a URL base) and the browser's model store live
// in src/data (model-download.ts, model-cache.ts): the engine reads bytes and never stores them.
// openModel() reads config.json, sizes the model against the device before any weight is fetched,
// checks the tokenizer and every weight file is there, and hands out the weights as a single-pass
// stream of packed-f16 tensors with one monotone progress fraction.
// Precision picked at load (opts.precision): f16 as stored, or q8_0 / q4_0, in which case every 2-D
// weight (linear layers, embedding, LM head) is quantized on the CPU as it streams in (quant.ts,
// ggml's reference quantizers) and uploads as blocks; norms and biases stay f16. A GGUF file
// (opts.gguf) of F32 / F16 / BF16 / Q8_0 / Q4_0 tensors loads directly: its Q blocks upload as they
// are, its float tensors follow the picked precision; any other ggml type is refused by name.
import { parseModelConfig } from './config.ts';
import { GgufReadError, SUPPORTED_GGUF_TYPES, ggufToHfConfig, quantHostTensor, readGgufHeader, readGgufTensors } from './gguf-read.ts';
import { checkFits, defaultBudgetBytes, estimateGpuBytes, type DeviceLimits, type MemoryEstimate } from './memory.ts';
import { type WeightPrecision, weightBytes as precisionWeightBytes } from './memory-quant.ts';
import { quantizeHostTensor } from './quant.ts';
import { parseShardIndex, readSafetensors, readShardedSafetensors, SafetensorsError, TruncatedFileError, type ByteSource } from './safetensors.ts';
import type { HostTensor, LoadProgress, ModelConfig } from './types.ts';

/** A serialisable description of where to load from (crosses comlink: File objects clone). */
export type ModelSource =
  | { kind: 'hub'; id: string; revision?: string }
  | { kind: 'url'; base: string; id?: string; label?: string; cache?: boolean }
  | { kind: 'files'; files: File[] }
  | { kind: 'dir'; path: string };

export class ModelSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelSourceError';
  }
}

export interface OpenedStream {
  stream: ByteSource;
  /** Exact byte size when certain (local file, counted into the cache, stated by the server): lets a short file fail early. */
  size?: number;
  /** A size for progress bars only (content-length, which may be of a compressed body). */
  sizeHint?: number;
  /** Throws if the bytes read did not match the stated size or hash (call after reading the file). */
  check?: () => void;
}

/** What a source says about a weight file before it is read. */
export interface FileProbe {
  /** Exact size where stated (File.size, the cached copy, the server's HEAD). */
  size?: number;
  /** The hub's SHA-256 of the file, where it gives one (checked while the file downloads). */
  sha256?: string;
  /** Read from the browser cache: no download. */
  cached?: boolean;
  /** Downloaded into the cache first, then read: its bytes pass twice (download, convert). */
  twoPass?: boolean;
}

/** Read access to one model's files, whatever the source. */
export interface FileAccess {
  /** Stable id (hub id, URL, "local:...", path): the cache and the UI key on it. */
  readonly id: string;
  /** For messages: "HuggingFaceTB/SmolLM2-135M-Instruct", "the picked files", a path. */
  readonly label: string;
  /** A small file's text, or undefined when the source has no such file. */
  readText(name: string): Promise<string | undefined>;
  /** A large file as a byte stream; undefined when absent. `onDownload` reports network bytes. */
  openStream(name: string, onDownload?: (loaded: number, total: number | undefined) => void): Promise<OpenedStream | undefined>;
  /** Whether a weight file exists, and its size/hash, without reading it (undefined: absent). */
  probe?(name: string): Promise<FileProbe | undefined>;
  /** Whether this load read `name` from the browser cache. */
  fromCache?(name: string): boolean;
  /** Deletes the cached copy of `name` (found bad). */
  discard?(name: string): Promise<void>;
  /** After a failed load: removes a cache entry that holds nothing worth resuming from. */
  abandon?(): Promise<void>;
  /** Called after a successful load (records the model in the cache list). */
  commit?(): Promise<void>;
  /** Problems that did not stop the load (the cache refused a file, a stale copy was replaced). */
  readonly warnings?: string[];
}

export class LoadCancelledError extends Error {
  constructor() {
    super('Loading was cancelled');
    this.name = 'LoadCancelledError';
  }
}

/** A cached file failed its checks while being read: it was deleted; loading again fetches a fresh copy. */
export class CachedCopyError extends ModelSourceError {
  constructor(readonly file: string, label: string, readonly detail: string) {
    super(`The cached copy of ${file} of ${label} is bad (${detail}); it was deleted from the browser cache`);
    this.name = 'CachedCopyError';
  }
}

// ---------------------------------------------------------------------------------------------
// Files the user picked.

/** FileAccess over picked File objects, matched by base name (folders picked whole work too). */
export function filesAccess(files: readonly File[]): FileAccess {
  const byName = new Map<string, File>();
  for (const f of files) byName.set(f.name.split('/').pop()!, f);
  const names = [...byName.keys()].sort();
  const label = `the picked files (${names.join(', ') || 'none'})`;
  return {
    id: `local:${names.join(',')}`,
    label,
    async readText(name) {
      return byName.get(name)?.text();
    },
    async openStream(name) {
      const f = byName.get(name);
      return f ? { stream: f.stream() as ReadableStream<Uint8Array>, size: f.size, sizeHint: f.size } : undefined;
    },
    async probe(name) {
      const f = byName.get(name);
      return f ? { size: f.size } : undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Opening a model.

export interface OpenModelOptions {
  /** Context to size the KV cache for; default min(max_position_embeddings, 2048). */
  contextLength?: number;
  /** Device limits (GpuContext.report.limits); without them no fit check runs. */
  limits?: DeviceLimits;
  /** GPU memory budget; default defaultBudgetBytes(navigator.deviceMemory). */
  budgetBytes?: number;
  onProgress?: (p: LoadProgress) => void;
  /** Weight precision on the GPU: 'f16' (default) or q8_0 / q4_0 (2-D weights quantized at load). */
  precision?: WeightPrecision;
  /** Load this GGUF file of the source instead of config.json + safetensors (tokenizer.json beside it). */
  gguf?: string;
}

export interface OpenedModel {
  access: FileAccess;
  config: ModelConfig;
  contextLength: number;
  estimate: MemoryEstimate;
  /** tokenizer.json / tokenizer_config.json text (config may be undefined), for loadTokenizer. */
  tokenizerJson: string;
  tokenizerConfig: string | undefined;
  /** eos ids of config.json and generation_config.json. */
  eosTokenIds: number[];
  /** Total weight file bytes when known up front. */
  weightBytes: number | undefined;
  /** The weights, converted while they stream in. Single pass. */
  tensors(): AsyncGenerator<HostTensor, void, undefined>;
  /** Filled while tensors() runs: problems that did not stop the load (f16 overflow). */
  warnings: string[];
  /** The precision picked (a GGUF's Q blocks keep their own type). */
  precision: WeightPrecision;
  /** config.json as read, or the one made from a GGUF's metadata. */
  configJson: string;
}

/** The estimate with the weights at `precision` (memory-quant.ts's per-tensor accounting). */
function withPrecision(config: ModelConfig, est: MemoryEstimate, precision: WeightPrecision): MemoryEstimate {
  if (precision === 'f16') return est;
  const w = precisionWeightBytes(config, precision).totalBytes;
  return { ...est, weightBytes: w, totalBytes: w + est.kvCacheBytes + est.scratchBytes };
}

/** Quantizes the 2-D f16 tensors of a stream to `precision` (already quantized ones pass as they are). */
async function* atPrecision(src: AsyncIterable<HostTensor>, precision: WeightPrecision): AsyncGenerator<HostTensor, void, undefined> {
  for await (const t of src) yield precision === 'f16' || t.quant || t.shape.length !== 2 ? t : quantizeHostTensor(t, precision);
}

async function readAll(s: OpenedStream): Promise<Uint8Array> {
  const src = s.stream;
  if (typeof (src as ReadableStream).getReader === 'function') return new Uint8Array(await new Response(src as ReadableStream<Uint8Array>).arrayBuffer());
  const parts: Uint8Array[] = [];
  for await (const c of src as AsyncIterable<Uint8Array>) parts.push(c);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

function parseJson(text: string, file: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelSourceError(`${file} in ${label} is not valid JSON (${(e as Error).message})`);
  }
}

/** Content errors of a file (cut short, unreadable header): for a cached copy, a reason to fetch it again. */
function isContentError(e: unknown): e is Error {
  return e instanceof TruncatedFileError || e instanceof SafetensorsError;
}

/** Reads and checks everything but the weights; weights stream on tensors(). */
export async function openModel(access: FileAccess, opts: OpenModelOptions = {}): Promise<OpenedModel> {
  if (opts.gguf) return openGgufModel(access, opts.gguf, opts);
  const { label } = access;
  const emit = opts.onProgress ?? (() => {});
  const precision = opts.precision ?? 'f16';
  const configText = await access.readText('config.json');
  if (configText === undefined) throw new ModelSourceError(`config.json not found in ${label}`);
  const config = parseModelConfig(parseJson(configText, 'config.json', label), `config.json of ${label}`);

  const contextLength = Math.min(opts.contextLength ?? 2048, config.maxPositionEmbeddings);
  const estimate = withPrecision(config, estimateGpuBytes(config, contextLength), precision);
  if (opts.limits) {
    const mem = (globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory;
    checkFits(label, config, estimate, opts.limits, opts.budgetBytes ?? defaultBudgetBytes(mem));
  }

  emit({ phase: 'tokenizer', file: 'tokenizer.json', loadedBytes: 0, totalBytes: 0, fraction: 0 });
  const tokenizerJson = await access.readText('tokenizer.json');
  if (tokenizerJson === undefined) throw new ModelSourceError(`tokenizer.json not found in ${label}`);
  const tokenizerConfig = await access.readText('tokenizer_config.json');

  const eos = new Set(config.eosTokenIds);
  const gen = await access.readText('generation_config.json');
  if (gen !== undefined) {
    const g = parseJson(gen, 'generation_config.json', label) as { eos_token_id?: unknown };
    for (const v of [g.eos_token_id].flat()) if (typeof v === 'number' && Number.isInteger(v)) eos.add(v);
  }

  // Weights: one file, or an index naming shards. Every file is checked to exist before any is read.
  const indexText = await access.readText('model.safetensors.index.json');
  const index = indexText !== undefined ? parseShardIndex(parseJson(indexText, 'model.safetensors.index.json', label)) : undefined;
  const names = index ? index.shards : ['model.safetensors'];
  const plan = new Map<string, FileProbe>();
  let single: OpenedStream | undefined;
  if (access.probe) {
    emit({ phase: 'probe', loadedBytes: 0, totalBytes: names.length, fraction: 0 });
    const missing: string[] = [];
    for (const f of names) {
      const p = await access.probe(f);
      if (p) plan.set(f, p);
      else missing.push(f);
    }
    if (missing.length && !index) throw new ModelSourceError(`model.safetensors (or model.safetensors.index.json) not found in ${label}`);
    if (missing.length) {
      throw new ModelSourceError(`${missing.join(', ')} (named in model.safetensors.index.json) ${missing.length > 1 ? 'are' : 'is'} not found in ${label}; checked before downloading any weights (${names.length - missing.length} of ${names.length} shards present)`);
    }
  } else if (!index) {
    single = await access.openStream('model.safetensors');
    if (!single) throw new ModelSourceError(`model.safetensors (or model.safetensors.index.json) not found in ${label}`);
    plan.set('model.safetensors', { size: single.size ?? single.sizeHint });
  }
  const stated = [...plan.values()].map((p) => p.size);
  const weightBytes = stated.length === names.length && stated.every((n) => n !== undefined)
    ? stated.reduce((a: number, b) => a + b!, 0)
    : index?.totalSize ?? stated[0];

  // One monotone fraction over the bytes to download (files fetched into the cache first) and to convert.
  const guess = (f: string): number => plan.get(f)?.size ?? (index?.totalSize ? index.totalSize / names.length : 0);
  const units = (f: string): number => guess(f) * (plan.get(f)?.twoPass ? 2 : 1);
  const totalUnits = names.reduce((a, f) => a + units(f), 0);
  let before = 0; // units of finished files
  let fraction = 0;
  const progress = (phase: LoadProgress['phase'], file: string, loaded: number, total: number, unitsNow: number): void => {
    if (totalUnits > 0) fraction = Math.max(fraction, Math.min(0.99, unitsNow / totalUnits));
    emit({ phase, file, loadedBytes: loaded, totalBytes: Math.max(total, loaded), fraction });
  };

  const warnings: string[] = [];
  const onWarning = (m: string): void => { if (warnings.length < 20) warnings.push(m); };
  let used = false;
  async function open(file: string): Promise<OpenedStream> {
    const s = await access.openStream(file, (n, total) => progress('download', file, n, total ?? guess(file), before + n));
    if (!s) throw new ModelSourceError(`${file}${index ? ' (named in model.safetensors.index.json)' : ''} not found in ${label}`);
    return s;
  }
  async function* tensors(): AsyncGenerator<HostTensor, void, undefined> {
    if (used) throw new Error('tensors() streams the weights once; open the model again to re-read them');
    used = true;
    let current = names[0];
    let opened: OpenedStream | undefined;
    const finish = (): void => { // the file just read: check its size and hash, move the fraction on
      opened?.check?.();
      before += units(current);
      opened = undefined;
    };
    const convert = (file: string, n: number, size: number | undefined) => {
      const p = plan.get(file);
      const sz = size ?? p?.size ?? guess(file);
      progress('convert', file, n, sz, before + (p?.twoPass ? sz : 0) + n);
    };
    try {
      if (!index) {
        opened = single ?? await open('model.safetensors');
        yield* readSafetensors(opened.stream, { fileName: 'model.safetensors', size: opened.size, onWarning, onBytes: (n) => convert('model.safetensors', n, opened?.size ?? opened?.sizeHint) });
        finish();
      } else {
        yield* readShardedSafetensors(index, async (file) => {
          if (opened) finish();
          current = file;
          opened = await open(file);
          return opened;
        }, { onWarning, onBytes: (file, n, size) => convert(file, n, size) });
        finish();
      }
    } catch (e) {
      // A file cut short or unreadable is never kept: a cached copy is fetched again (CachedCopyError),
      // a download is deleted so the next load fetches it afresh.
      if (isContentError(e)) {
        const cached = access.fromCache?.(current) ?? false;
        await access.discard?.(current);
        if (cached) throw new CachedCopyError(current, label, e.message);
      }
      throw e;
    }
  }

  return {
    access, config, contextLength, estimate, tokenizerJson, tokenizerConfig, eosTokenIds: [...eos], weightBytes,
    tensors: () => atPrecision(tensors(), precision), warnings, precision, configJson: configText,
  };
}

/** A GGUF file of `access` (read whole: the blocks are uploaded from it), with tokenizer.json beside it
 *  (GGUF's tokenizer.ggml.* metadata is not turned back into a tokenizer.json). */
async function openGgufModel(access: FileAccess, file: string, opts: OpenModelOptions): Promise<OpenedModel> {
  const { label } = access;
  const emit = opts.onProgress ?? (() => {});
  const precision = opts.precision ?? 'f16';
  emit({ phase: 'tokenizer', file: 'tokenizer.json', loadedBytes: 0, totalBytes: 0, fraction: 0 });
  const tokenizerJson = await access.readText('tokenizer.json');
  if (tokenizerJson === undefined) throw new ModelSourceError(`tokenizer.json not found beside ${file} in ${label}: pick the model's tokenizer.json (and tokenizer_config.json) together with the .gguf file`);
  const tokenizerConfig = await access.readText('tokenizer_config.json');
  const opened = await access.openStream(file, (n, total) => emit({ phase: 'download', file, loadedBytes: n, totalBytes: total ?? 0, fraction: total ? Math.min(0.5, n / total / 2) : 0 }));
  if (!opened) throw new ModelSourceError(`${file} not found in ${label}`);
  const bytes = await readAll(opened);
  opened.check?.();
  const header = readGgufHeader(bytes, file);
  const bad = header.tensors.filter((t) => !(SUPPORTED_GGUF_TYPES as readonly string[]).includes(t.typeName));
  if (bad.length) {
    throw new GgufReadError(file, `tensor "${bad[0].name}" has ggml type ${bad[0].typeName}${bad.length > 1 ? ` (and ${bad.length - 1} more tensors of unsupported types)` : ''}; supported: ${SUPPORTED_GGUF_TYPES.join(', ')}`);
  }
  const hf = ggufToHfConfig(header, file);
  const configJson = JSON.stringify(hf, null, 2);
  const config = parseModelConfig(hf, `the metadata of ${file}`);
  const contextLength = Math.min(opts.contextLength ?? 2048, config.maxPositionEmbeddings);
  const estimate = withPrecision(config, estimateGpuBytes(config, contextLength), precision);
  if (opts.limits) {
    const mem = (globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory;
    checkFits(label, config, estimate, opts.limits, opts.budgetBytes ?? defaultBudgetBytes(mem));
  }
  const warnings: string[] = [];
  const quantTypes = new Set(header.tensors.filter((t) => t.typeName === 'Q8_0' || t.typeName === 'Q4_0').map((t) => t.typeName.toLowerCase()));
  if (precision !== 'f16' && [...quantTypes].some((t) => t !== precision)) warnings.push(`${file} holds ${[...quantTypes].join(' / ')} blocks: they load as they are (not re-quantized to ${precision})`);
  let used = false;
  async function* tensors(): AsyncGenerator<HostTensor, void, undefined> {
    if (used) throw new Error('tensors() streams the weights once; open the model again to re-read them');
    used = true;
    const { host, quant } = readGgufTensors(header, bytes, file);
    const all = [...host, ...quant.map(quantHostTensor)];
    for (let i = 0; i < all.length; i++) {
      emit({ phase: 'convert', file, loadedBytes: i + 1, totalBytes: all.length, fraction: Math.min(0.99, 0.5 + (0.49 * (i + 1)) / all.length) });
      yield all[i];
    }
  }
  const eos = config.eosTokenIds;
  return {
    access, config, contextLength, estimate, tokenizerJson, tokenizerConfig, eosTokenIds: [...eos], weightBytes: bytes.byteLength,
    tensors: () => atPrecision(tensors(), precision), warnings, precision, configJson,
  };
}
