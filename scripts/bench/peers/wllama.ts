// bench:peers, the llama.cpp peer: wllama (npm @wllama/wllama, llama.cpp compiled to WASM, with its own
// WebGPU backend) on a GGUF of the same weights (npm run export:gguf), fetched from this server and
// handed over as a Blob. 'wasm' offloads no layer (CPU, WASM SIMD; threads only when the page is
// cross-origin isolated); 'webgpu' offloads every layer. Greedy (temp 0) on the same prompt *text*
// (its completion call takes no token ids: llama.cpp tokenizes with the GGUF's tokenizer, and the
// prompt token count it reports is checked against ours), end-of-generation masked (ignore_eos:
// every run makes exactly N tokens), streamed: each chunk is one sampled token, stamped on arrival;
// its id comes from the chunk's logprobs (n_probs 1).
import { Wllama } from '@wllama/wllama';
import wasmUrl from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import type { RunTiming } from './report.ts';

export type WllamaDevice = 'wasm' | 'webgpu';

export interface WllamaModel { w: Wllama; threads: number; multiThread: boolean; ggufBytes: number }

export async function loadWllama(ggufUrl: string, device: WllamaDevice, contextLength: number): Promise<WllamaModel> {
  const res = await fetch(ggufUrl);
  if (!res.ok) throw new Error(`wllama: ${ggufUrl} answered ${res.status} (make it: npm run export:gguf -- --model DIR --out FILE.gguf)`);
  const blob = await res.blob();
  // llama.cpp's own log lines go to the page console as warnings (bench-peers.ts prints those)
  const quiet = () => {};
  const logger = { debug: quiet, log: (...a: unknown[]) => console.warn('[wllama]', ...a), warn: (...a: unknown[]) => console.warn('[wllama]', ...a), error: (...a: unknown[]) => console.error('[wllama]', ...a) };
  const w = new Wllama({ default: wasmUrl }, { suppressNativeLog: false, allowOffline: true, logger });
  await w.loadModel([new File([blob], 'model.gguf')], {
    n_ctx: Math.max(256, contextLength + 16),
    n_batch: 512,
    n_gpu_layers: device === 'wasm' ? 0 : 999,
    cache_type_k: 'f16', cache_type_v: 'f16', // our KV cache is f16 too
    n_parallel: 1,
  });
  return { w, threads: w.getNumThreads(), multiThread: w.isMultithread(), ggufBytes: blob.size };
}

interface Chunk {
  choices?: Array<{ text?: string; logprobs?: { content?: Array<{ id?: number }> } | null }>;
  timings?: { prompt_n?: number };
  usage?: { prompt_tokens?: number } | null;
}

/** `prompt`: our ids of `text` (their count is checked against llama.cpp's own tokenization). */
export async function runWllama(m: WllamaModel, text: string, prompt: readonly number[], newTokens: number): Promise<RunTiming> {
  const stamps: number[] = [];
  const ids: number[] = [];
  const t0 = performance.now();
  let promptN: number | undefined;
  const params = {
    prompt: text, max_tokens: newTokens, temp: 0, temperature: 0, top_k: 1, n_probs: 1, logprobs: 1,
    ignore_eos: true, cache_prompt: false, stream: true as const,
    onData: (c: Chunk) => {
      promptN = c.usage?.prompt_tokens ?? c.timings?.prompt_n ?? promptN;
      const lp = c.choices?.[0]?.logprobs?.content;
      if (!lp || lp.length === 0) return; // a chunk without a sampled token (the closing one)
      for (const t of lp) { stamps.push(performance.now()); ids.push(Number(t.id)); }
    },
  };
  await m.w.createCompletion(params as unknown as Parameters<Wllama['createCompletion']>[0]);
  if (ids.length === 0) throw new Error('wllama produced no token (or no token ids in its stream)');
  if (ids.some((x) => !Number.isInteger(x))) throw new Error('wllama stream carried no token ids (logprobs.content[].id)');
  if (promptN !== undefined && promptN !== prompt.length) throw new Error(`llama.cpp tokenized the prompt into ${promptN} tokens, ours into ${prompt.length}: not the same input`);
  return { ttftMs: stamps[0] - t0, decodeMs: stamps[stamps.length - 1] - stamps[0], promptTokens: prompt.length, ids };
}
