// bench:peers, our engine in the page: loaded the way the engine worker loads a model (openModel over
// HTTP, the app's tokenizer, the prefill kernel measured on this device), then greedy runs that
// match transformers.js's generate(): a fresh KV session per run (inside the timing), end-of-sequence
// ids suppressed so every run makes exactly N tokens (their min_new_tokens), no top-k read back.
import { measureMatmulVariants } from '../../../src/engine/device/kernel-choice.ts';
import { requestGpuContext, type GpuContext } from '../../../src/engine/device/gpu-context.ts';
import { createDecoder, type Decoder } from '../../../src/engine/model/decoder.ts';
import { openModel } from '../../../src/engine/model/sources.ts';
import { accessFor } from '../../../src/data/model-download.ts';
import { loadTokenizer, type HfTextTokenizer } from '../../../src/engine/tokenizer/hf-tokenizer.ts';
import type { RunTiming } from './report.ts';

export interface OursModel {
  ctx: GpuContext;
  decoder: Decoder;
  tokenizer: HfTextTokenizer;
  eos: number[];
  matmul: string;
  decode: string;
}

export async function loadOurs(base: string, contextLength: number): Promise<OursModel> {
  const ctx = await requestGpuContext(navigator.gpu);
  const access = accessFor({ kind: 'url', base, cache: false });
  const opened = await openModel(access, {
    contextLength,
    limits: { maxBufferSize: ctx.report.limits.maxBufferSize, maxStorageBufferBindingSize: ctx.report.limits.maxStorageBufferBindingSize },
  });
  const tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig, source: access.label, extraEosIds: opened.eosTokenIds });
  const { best } = await measureMatmulVariants(ctx, 32, 128, 128); // as the worker does
  const decoder = await createDecoder(ctx, opened.config, opened.tensors(), undefined, { matmul: best });
  const eos = [...new Set([...opened.eosTokenIds, ...tokenizer.eosTokenIds])];
  return { ctx, decoder, tokenizer, eos, matmul: decoder.matmulVariant, decode: decoder.decodeVariant };
}

export async function runOurs(m: OursModel, prompt: readonly number[], newTokens: number): Promise<RunTiming> {
  const greedy = { temperature: 0, topP: 1, topK: 0, u: 0, suppress: m.eos };
  const ids: number[] = [];
  const t0 = performance.now();
  const session = m.decoder.newSession(prompt.length + newTokens);
  try {
    let tok = await session.feed(prompt, greedy);
    const t1 = performance.now();
    ids.push(tok.id);
    while (ids.length < newTokens) {
      tok = await session.feed([tok.id], greedy);
      ids.push(tok.id);
    }
    const t2 = performance.now();
    return { ttftMs: t1 - t0, decodeMs: t2 - t1, promptTokens: prompt.length, ids };
  } finally {
    session.dispose();
  }
}
