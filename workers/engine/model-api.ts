// Engine worker: the loaded model. loadModel() opens a source (hub id, URL, picked files), checks it
// fits the device's budget, loads the tokenizer, streams the weights onto the GPU with one monotone
// progress fraction, and runs one token through them (so "loaded" means resident); one model at a
// time. A bad cached copy is deleted and fetched again once. On a device loss the model is dropped;
// recoverDevice() opens a new device and loads the same source again. Other worker modules reach
// the model through currentModel() (module level, not comlink).
import { type DecodeVariant, defaultDecodeVariant, measureMatmulVariants, type PrefillVariant } from '../../src/engine/device/kernel-choice.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { createDecoder, type Decoder } from '../../src/engine/model/decoder.ts';
import type { MemoryEstimate } from '../../src/engine/model/memory.ts';
import type { WeightPrecision } from '../../src/engine/model/memory-quant.ts';
import { CachedCopyError, LoadCancelledError, openModel, type ModelSource } from '../../src/engine/model/sources.ts';
import { accessFor } from '../../src/data/model-download.ts';
import { deleteCachedModel, listCachedModels, type ModelCacheRecord } from '../../src/data/model-cache.ts';
import type { HostTensor, LoadProgress, ModelConfig } from '../../src/engine/model/types.ts';
import { loadTokenizer, type HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import type { ThinkingFormat } from '../../src/engine/tokenizer/thinking.ts';
import { deviceApi, deviceMemoryBudget, gpuContext, onDeviceLostInWorker, type GpuStatus } from './device-api.ts';
import type { EvalModel } from './eval-api.ts';
import type { BatchDecodeSession, DecodeSession } from '../../src/engine/generation/types.ts';

export type { ModelSource } from '../../src/engine/model/sources.ts';
export type { ModelCacheRecord } from '../../src/data/model-cache.ts';
export type { LoadProgress } from '../../src/engine/model/types.ts';

/** What the UI shows about the loaded model (plain data: crosses comlink). */
export interface LoadedModelInfo {
  id: string;
  label: string;
  architecture: ModelConfig['architecture'];
  hfArchitecture: string;
  params: number;
  /** Live GPU bytes of the decoder (weights and open sessions). */
  gpuBytes: number;
  weightBytes: number;
  /** Context the model is loaded for (sessions up to this length). */
  contextLength: number;
  vocabSize: number;
  /** Thinking markers and the chat template's enable_thinking switch (the Playground and Evaluate offer it). */
  thinking: ThinkingFormat;
  config: ModelConfig;
  estimate: MemoryEstimate;
  loadMs: number;
  matmul: PrefillVariant;
  /** decode (matrix-vector) kernel chosen by measurement on this device */
  decode: DecodeVariant;
  /** Problems that did not stop the load (e.g. weights beyond the f16 range became +-inf, the cache refused a file). */
  warnings: string[];
  /** Milliseconds of the one-token warm-up that made the weights resident. */
  warmupMs: number;
  /** Precision of the frozen base on the GPU: f16, or q8_0 / q4_0 (quantized at load, or a GGUF's blocks). */
  precision: WeightPrecision;
  /** Loaded from this GGUF file (else config.json + safetensors). */
  gguf?: string;
}

/** How a model is loaded: KV-cache context, GPU budget, base weight precision. */
export interface LoadOptions { contextLength?: number; budgetBytes?: number; precision?: WeightPrecision }

/** The GGUF file among picked files, if any (loaded instead of safetensors). */
function ggufOf(source: ModelSource): string | undefined {
  return source.kind === 'files' ? source.files.map((f) => f.name.split('/').pop()!).find((n) => n.toLowerCase().endsWith('.gguf')) : undefined;
}

/** What recoverDevice() did: the new device, and the model loaded again (if one was lost with the device). */
export interface RecoveryResult {
  status: GpuStatus;
  model?: LoadedModelInfo;
  /** The model that was lost, if it could not be loaded again (with why). */
  reloadError?: string;
}

/** The loaded model, for other engine-worker modules (generate, eval, training). */
export interface LoadedModel {
  id: string;
  decoder: Decoder;
  tokenizer: HfTextTokenizer;
  config: ModelConfig;
  contextLength: number;
  /** eos ids of config.json, generation_config.json and the tokenizer. */
  eosTokenIds: number[];
  info: LoadedModelInfo;
  /** config.json and tokenizer texts as loaded (the GGUF export writes them as metadata). */
  hfFiles?: { config: string; tokenizerJson: string; tokenizerConfig: string | undefined };
}

let current: LoadedModel | undefined;
/** KV-cache bytes a batch session (evaluation items, self-consistency samples) may take. */
export const BATCH_KV_BYTES = 256 * 2 ** 20;
/** How the current model was loaded, to load it again after a device loss. */
let currentSource: { source: ModelSource } & LoadOptions | undefined;
/** The model a device loss took, until recoverDevice() loads it again. */
let lostSource: { source: ModelSource; label: string } & LoadOptions | undefined;
let loading: { cancelled: boolean; abort: AbortController } | undefined;
let matmulChoice: { ctx: GpuContext; matmul: PrefillVariant; decode: DecodeVariant } | undefined;
let evalSession: DecodeSession | undefined;
let evalBatch: BatchDecodeSession | undefined;

/** The model loaded in this worker, if any. */
export function currentModel(): LoadedModel | undefined {
  return current;
}

export { LoadCancelledError };

/** The prefill kernel measured once per device (ENVIRONMENT.md: pick by measurement); the decode
 *  kernel by the adapter's kind and features, never by timing: rowdot and subgroup time within 15% of
 *  each other on SwiftShader, round differently, and a share link opened in another tab must decode
 *  the same tokens (tests/e2e/playground.spec.ts caught a timing-chosen kernel flipping). */
async function kernelVariants(ctx: GpuContext): Promise<{ matmul: PrefillVariant; decode: DecodeVariant }> {
  if (matmulChoice?.ctx !== ctx) {
    matmulChoice = { ctx, matmul: (await measureMatmulVariants(ctx, 32, 128, 128)).best, decode: defaultDecodeVariant(ctx) };
  }
  return { matmul: matmulChoice.matmul, decode: matmulChoice.decode };
}

/** Progress at most every 100 ms (and on every phase or file change), so comlink is not flooded. */
function throttled(cb: ((p: LoadProgress) => void) | undefined): (p: LoadProgress, force?: boolean) => void {
  let last = 0;
  let key = '';
  return (p, force = false) => {
    if (!cb) return;
    const now = Date.now();
    const k = `${p.phase}:${p.file ?? ''}`;
    if (force || k !== key || now - last >= 100) {
      last = now;
      key = k;
      cb(p);
    }
  };
}

async function* cancellable(src: AsyncIterable<HostTensor>, flag: { cancelled: boolean }): AsyncGenerator<HostTensor> {
  for await (const t of src) {
    if (flag.cancelled) throw new LoadCancelledError();
    yield t;
  }
  if (flag.cancelled) throw new LoadCancelledError();
}

function unloadCurrent(): void {
  try {
    evalSession?.dispose();
    evalBatch?.dispose();
    current?.decoder.dispose();
  } catch {
    // buffers of a lost device
  }
  evalSession = undefined;
  evalBatch = undefined;
  current = undefined;
  currentSource = undefined;
}

// A lost device takes the model with it: drop it (not "loaded" any more) and remember its source.
onDeviceLostInWorker(() => {
  if (current && currentSource) lostSource = { ...currentSource, label: current.info.label };
  unloadCurrent();
  matmulChoice = undefined;
  loading?.abort.abort();
});

/** One token through every layer: the upload completes and the weights are resident before "loaded". */
async function warmUp(decoder: Decoder, tokenId: number): Promise<number> {
  const t0 = performance.now();
  const s = decoder.newSession(2);
  try {
    await s.feed([tokenId], { temperature: 0, topP: 1, topK: 0, u: 0 });
  } finally {
    s.dispose();
  }
  return Math.round(performance.now() - t0);
}

async function loadOnce(
  source: ModelSource,
  onProgress: ((p: LoadProgress) => void) | undefined,
  opts: LoadOptions,
  flag: { cancelled: boolean; abort: AbortController },
  notes: string[],
): Promise<LoadedModelInfo> {
  const progress = throttled(onProgress);
  const t0 = performance.now();
  const ctx = await gpuContext();
  const access = accessFor(source, { signal: flag.abort.signal });
  let last: LoadProgress = { phase: 'tokenizer', loadedBytes: 0, totalBytes: 0, fraction: 0 };
  const track = (p: LoadProgress): void => { last = p; progress(p); };
  try {
    const budget = opts.budgetBytes ?? (await deviceMemoryBudget())?.bytes;
    const opened = await openModel(access, {
      contextLength: opts.contextLength,
      budgetBytes: budget,
      limits: { maxBufferSize: ctx.report.limits.maxBufferSize, maxStorageBufferBindingSize: ctx.report.limits.maxStorageBufferBindingSize },
      onProgress: track,
      precision: opts.precision,
      gguf: ggufOf(source),
    });
    const tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig, source: access.label, extraEosIds: opened.eosTokenIds });
    const configText = opened.configJson;
    if (tokenizer.vocabSize > opened.config.vocabSize) {
      throw new Error(`${access.label}: tokenizer.json has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${opened.config.vocabSize}; they do not belong to the same model`);
    }
    if (flag.cancelled) throw new LoadCancelledError();
    const variants = await kernelVariants(ctx);
    unloadCurrent(); // free the GPU for the new weights
    const decoder = await createDecoder(ctx, opened.config, cancellable(opened.tensors(), flag), undefined, variants);
    let warmupMs: number;
    try {
      progress({ phase: 'warmup', loadedBytes: 0, totalBytes: 0, fraction: Math.max(last.fraction, 0.99) }, true);
      warmupMs = await warmUp(decoder, opened.config.bosTokenId ?? opened.eosTokenIds[0] ?? 0);
      if (flag.cancelled) throw new LoadCancelledError();
    } catch (e) {
      decoder.dispose();
      throw e;
    }
    try {
      await access.commit?.();
    } catch {
      // The model is loaded; only the cache record failed (quota): not worth failing the load.
    }
    const eos = [...new Set([...opened.eosTokenIds, ...tokenizer.eosTokenIds])];
    const info: LoadedModelInfo = {
      id: access.id,
      label: access.label,
      architecture: opened.config.architecture,
      hfArchitecture: opened.config.hfArchitecture,
      params: decoder.params,
      gpuBytes: decoder.gpuBytes,
      weightBytes: decoder.weightBytes,
      contextLength: opened.contextLength,
      vocabSize: opened.config.vocabSize,
      thinking: tokenizer.thinking,
      config: opened.config,
      estimate: opened.estimate,
      loadMs: Math.round(performance.now() - t0),
      matmul: variants.matmul,
      decode: variants.decode,
      warnings: [
        ...notes, ...(access.warnings ?? []), ...opened.warnings,
        ...decoder.ignoredTensors.length ? [`ignored tensors not used by the decoder: ${decoder.ignoredTensors.slice(0, 5).join(', ')}${decoder.ignoredTensors.length > 5 ? ', ...' : ''}`] : [],
      ],
      warmupMs,
      precision: opened.precision,
      gguf: ggufOf(source),
    };
    const hfFiles = configText ? { config: configText, tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig } : undefined;
    current = { id: access.id, decoder, tokenizer, config: opened.config, contextLength: opened.contextLength, eosTokenIds: eos, info, hfFiles };
    currentSource = { source, contextLength: opts.contextLength, budgetBytes: opts.budgetBytes, precision: opts.precision };
    lostSource = undefined;
    progress({ phase: 'done', loadedBytes: decoder.weightBytes, totalBytes: decoder.weightBytes, fraction: 1 }, true);
    return info;
  } catch (e) {
    await access.abandon?.().catch(() => {});
    // An aborted download surfaces as a stream or fetch error: say what happened instead.
    if (flag.cancelled) throw new LoadCancelledError();
    throw e;
  }
}

export const modelApi = {
  /**
   * Loads a model; a loaded one is replaced only once the new source's config and tokenizer check
   * out (a bad source leaves it in place). `onProgress` must be a Comlink.proxy from the UI.
   */
  async loadModel(
    source: ModelSource,
    onProgress?: (p: LoadProgress) => void,
    /** contextLength: KV-cache size to plan for (default 2048); budgetBytes: GPU memory allowed (default: the device's budget, see memory.ts deviceBudget);
     *  precision: the frozen base on the GPU, f16 (default) or q8_0 / q4_0 (quantized at load; a GGUF's Q blocks load as they are). */
    opts: LoadOptions = {},
  ): Promise<LoadedModelInfo> {
    if (loading) throw new Error('A model is already loading; cancel it or wait');
    const flag = { cancelled: false, abort: new AbortController() };
    loading = flag;
    try {
      try {
        return await loadOnce(source, onProgress, opts, flag, []);
      } catch (e) {
        if (!(e instanceof CachedCopyError) || flag.cancelled) throw e;
        // A cached copy failed its checks (and was deleted): say so and fetch it again, once.
        const note = `${e.message}; it was downloaded again.`;
        try {
          return await loadOnce(source, onProgress, opts, flag, [note]);
        } catch (e2) {
          if (e2 instanceof Error) e2.message = `${e2.message} (before this, ${e.message})`;
          throw e2;
        }
      }
    } finally {
      if (loading === flag) loading = undefined;
    }
  },

  /** Stops a load in progress (at the next tensor); the load rejects with "Loading was cancelled". */
  cancelLoad(): void {
    if (!loading) return;
    loading.cancelled = true;
    loading.abort.abort();
  },

  /** Frees the loaded model's GPU memory. */
  unload(): void {
    unloadCurrent();
    lostSource = undefined;
  },

  /** The model a device loss took (label), if it has not been loaded again. */
  lostModel(): string | undefined {
    return lostSource?.label;
  },

  /**
   * After a device loss: opens a new device and loads the lost model again from the same source
   * (from the browser cache where it was cached). `onProgress` as for loadModel.
   */
  async recoverDevice(onProgress?: (p: LoadProgress) => void): Promise<RecoveryResult> {
    const status = await deviceApi.reconnectDevice();
    const again = lostSource;
    if (!status.ok || !again) return { status };
    try {
      const model = await modelApi.loadModel(again.source, onProgress, { contextLength: again.contextLength, budgetBytes: again.budgetBytes, precision: again.precision });
      return { status, model };
    } catch (e) {
      return { status, reloadError: `${again.label}: ${(e as Error).message}` };
    }
  },

  /** The loaded model's info (GPU bytes refreshed), or undefined. */
  modelInfo(): LoadedModelInfo | undefined {
    return current ? { ...current.info, gpuBytes: current.decoder.gpuBytes } : undefined;
  },

  listCachedModels(): Promise<ModelCacheRecord[]> {
    return listCachedModels();
  },

  deleteCachedModel(id: string): Promise<boolean> {
    return deleteCachedModel(id);
  },
};

/** Evaluation runs reach the loaded model through one shared session at the model's context length. */
export async function evalModel(): Promise<EvalModel> {
  const m = current;
  if (!m) throw new Error('No model is loaded in the engine: load one in the Models view first.');
  evalSession ??= m.decoder.newSession(m.contextLength);
  return {
    name: m.info.label, tokenizer: m.tokenizer, session: evalSession, contextLength: m.contextLength,
    // one batch session kept while it is large enough; KV memory capped (fewer slots for large models)
    openBatch: (slots, maxLength) => {
      const perSlot = m.decoder.kvBytes(maxLength);
      const fit = Math.max(1, Math.min(slots, Math.floor(BATCH_KV_BYTES / perSlot)));
      if (evalBatch && evalBatch.slots >= fit && evalBatch.maxLength >= maxLength) return evalBatch;
      evalBatch?.dispose();
      evalBatch = m.decoder.newBatchSession(fit, maxLength);
      return evalBatch;
    },
  };
}
