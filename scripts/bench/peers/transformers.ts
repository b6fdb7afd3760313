// bench:peers, the baseline: transformers.js (ONNX Runtime Web) on its WebGPU or WASM backend, the
// same model exported to ONNX (fp32 or fp16), loaded from this server only. Greedy generate() with
// min_new_tokens = max_new_tokens (end-of-sequence masked: every run makes exactly N tokens); a
// streamer stamps each token as it arrives (its first put() is the prompt).
import { AutoModelForCausalLM, BaseStreamer, env, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import type { RunTiming } from './report.ts';

export type TjsDevice = 'webgpu' | 'wasm';

class StampStreamer extends BaseStreamer {
  readonly stamps: number[] = [];
  readonly ids: number[] = [];
  private prompt = true;
  override put(value: bigint[][]): void {
    if (this.prompt) { this.prompt = false; return; }
    this.stamps.push(performance.now());
    this.ids.push(Number(value[0][0]));
  }
  override end(): void {}
}

/** Offline and from our own origin: set before every load (our tokenizer code turns local files off). */
function configure(localModelPath: string): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = localModelPath;
  env.useBrowserCache = false;
  // It points ONNX Runtime's wasm at a CDN on import; the bundled copy is served here (ENVIRONMENT.md).
  const onnx = (env.backends as { onnx?: { wasm?: { wasmPaths?: unknown } } }).onnx;
  if (onnx?.wasm) onnx.wasm.wasmPaths = undefined;
}

/** dtype 'fp16' loads onnx/model_fp16.onnx (make_onnx.py --dtype f16: f16 weights, inputs and outputs). */
export async function loadTjs(localModelPath: string, modelId: string, device: TjsDevice, dtype: 'fp32' | 'fp16' = 'fp32'): Promise<PreTrainedModel> {
  configure(localModelPath);
  try {
    return await AutoModelForCausalLM.from_pretrained(modelId, { device, dtype, local_files_only: true });
  } catch (e) {
    // A missing file surfaces as "reading 'tokenizer_class'" or a bare 404 (ENVIRONMENT.md): say where it looked.
    throw new Error(`transformers.js (${device}) could not load ${localModelPath}${modelId}/ (config.json, generation_config.json, onnx/model.onnx): ${(e as Error).message ?? e}`);
  }
}

export function wasmThreads(): number | undefined {
  const onnx = (env.backends as { onnx?: { wasm?: { numThreads?: number } } }).onnx;
  return onnx?.wasm?.numThreads;
}

export async function runTjs(model: PreTrainedModel, prompt: readonly number[], newTokens: number): Promise<RunTiming> {
  const dims = [1, prompt.length];
  const input_ids = new Tensor('int64', BigInt64Array.from(prompt, (x) => BigInt(x)), dims);
  const attention_mask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), dims);
  const streamer = new StampStreamer();
  const t0 = performance.now();
  // Their types name the streamer a TextStreamer; generate() only calls put() and end().
  const params = { input_ids, attention_mask, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false, streamer };
  await model.generate(params as unknown as Parameters<PreTrainedModel['generate']>[0]);
  const { stamps, ids } = streamer;
  if (ids.length === 0) throw new Error('generate() produced no token');
  return { ttftMs: stamps[0] - t0, decodeMs: stamps[stamps.length - 1] - stamps[0], promptTokens: prompt.length, ids };
}
