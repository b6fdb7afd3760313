// Engine worker: the loaded model. loadModel() opens a source (hub id, URL, picked files), checks it
// fits the device, loads the tokenizer, then streams the weights onto the GPU with progress; one
// model at a time. Other worker modules reach it through currentModel() (module level, not comlink).
import { measureMatmulVariants, type PrefillVariant } from '../../src/engine/device/kernel-choice.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { createDecoder, type Decoder } from '../../src/engine/model/decoder.ts';
import type { MemoryEstimate } from '../../src/engine/model/memory.ts';
import {
  accessFor, deleteCachedModel, LoadCancelledError, listCachedModels, openModel, type ModelCacheRecord, type ModelSource,
} from '../../src/engine/model/sources.ts';
import type { HostTensor, LoadProgress, ModelConfig } from '../../src/engine/model/types.ts';
import { loadTokenizer, type HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { gpuContext } from './device-api.ts';
import { setEvalModelSource } from './eval-api.ts';
import type { BatchDecodeSession, DecodeSession } from '../../src/engine/generation/types.ts';

export type { ModelSource, ModelCacheRecord } from '../../src/engine/model/sources.ts';
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
  config: ModelConfig;
  estimate: MemoryEstimate;
  loadMs: number;
  matmul: PrefillVariant;
  /** Problems that did not stop the load (e.g. weights beyond the f16 range became +-inf). */
  warnings: string[];
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
}

let current: LoadedModel | undefined;
/** KV-cache bytes an evaluation batch may take. */
const EVAL_BATCH_KV_BYTES = 256 * 2 ** 20;
let loading: { cancelled: boolean; abort: AbortController } | undefined;
let matmulChoice: { ctx: GpuContext; best: PrefillVariant } | undefined;
let evalSession: DecodeSession | undefined;
let evalBatch: BatchDecodeSession | undefined;

/** The model loaded in this worker, if any. */
export function currentModel(): LoadedModel | undefined {
  return current;
}

export { LoadCancelledError };

/** The prefill kernel measured once per device (ENVIRONMENT.md: pick by measurement). */
async function prefillVariant(ctx: GpuContext): Promise<PrefillVariant> {
  if (matmulChoice?.ctx !== ctx) matmulChoice = { ctx, best: (await measureMatmulVariants(ctx, 32, 128, 128)).best };
  return matmulChoice.best;
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
  evalSession?.dispose();
  evalSession = undefined;
  evalBatch?.dispose();
  evalBatch = undefined;
  current?.decoder.dispose();
  current = undefined;
}

export const modelApi = {
  /**
   * Loads a model; a loaded one is replaced only once the new source's config and tokenizer check
   * out (a bad source leaves it in place). `onProgress` must be a Comlink.proxy from the UI.
   */
  async loadModel(
    source: ModelSource,
    onProgress?: (p: LoadProgress) => void,
    /** contextLength: KV-cache size to plan for (default 2048); budgetBytes: GPU memory allowed (default: half of navigator.deviceMemory, else 4 GB). */
    opts: { contextLength?: number; budgetBytes?: number } = {},
  ): Promise<LoadedModelInfo> {
    if (loading) throw new Error('A model is already loading; cancel it or wait');
    const flag = { cancelled: false, abort: new AbortController() };
    loading = flag;
    const progress = throttled(onProgress);
    const t0 = performance.now();
    try {
      const ctx = await gpuContext();
      const access = accessFor(source, { signal: flag.abort.signal });
      const opened = await openModel(access, {
        contextLength: opts.contextLength,
        budgetBytes: opts.budgetBytes,
        limits: { maxBufferSize: ctx.report.limits.maxBufferSize, maxStorageBufferBindingSize: ctx.report.limits.maxStorageBufferBindingSize },
        onProgress: progress,
      });
      const tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig, source: access.label, extraEosIds: opened.eosTokenIds });
      if (tokenizer.vocabSize > opened.config.vocabSize) {
        throw new Error(`${access.label}: tokenizer.json has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${opened.config.vocabSize}; they do not belong to the same model`);
      }
      if (flag.cancelled) throw new LoadCancelledError();
      const matmul = await prefillVariant(ctx);
      unloadCurrent(); // free the GPU for the new weights
      const total = opened.estimate.weightBytes;
      const decoder = await createDecoder(ctx, opened.config, cancellable(opened.tensors(), flag), (bytes) => progress({ phase: 'upload', loadedBytes: bytes, totalBytes: Math.max(bytes, total) }), { matmul });
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
        config: opened.config,
        estimate: opened.estimate,
        loadMs: Math.round(performance.now() - t0),
        matmul,
        warnings: [...opened.warnings, ...decoder.ignoredTensors.length ? [`ignored tensors not used by the decoder: ${decoder.ignoredTensors.slice(0, 5).join(', ')}${decoder.ignoredTensors.length > 5 ? ', ...' : ''}`] : []],
      };
      current = { id: access.id, decoder, tokenizer, config: opened.config, contextLength: opened.contextLength, eosTokenIds: eos, info };
      progress({ phase: 'done', loadedBytes: decoder.weightBytes, totalBytes: decoder.weightBytes }, true);
      return info;
    } catch (e) {
      // An aborted download surfaces as a stream or fetch error: say what happened instead.
      if (flag.cancelled) throw new LoadCancelledError();
      throw e;
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

// Evaluation runs reach the loaded model through one shared session at the model's context length.
setEvalModelSource(async () => {
  const m = current;
  if (!m) throw new Error('No model is loaded in the engine: load one in the Models view first.');
  evalSession ??= m.decoder.newSession(m.contextLength);
  return {
    name: m.info.label, tokenizer: m.tokenizer, session: evalSession, contextLength: m.contextLength,
    // one batch session kept while it is large enough; KV memory capped (fewer slots for large models)
    openBatch: (slots, maxLength) => {
      const perSlot = m.decoder.kvBytes(maxLength);
      const fit = Math.max(1, Math.min(slots, Math.floor(EVAL_BATCH_KV_BYTES / perSlot)));
      if (evalBatch && evalBatch.slots >= fit && evalBatch.maxLength >= maxLength) return evalBatch;
      evalBatch?.dispose();
      evalBatch = m.decoder.newBatchSession(fit, maxLength);
      return evalBatch;
    },
  };
});
