// Shared helpers for kernel tests: a seeded RNG, f16 rounding, run-and-read, the tiny model.
import { readFileSync } from 'node:fs';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { createDecoder, type Decoder, type DecoderOptions } from '../../src/engine/model/decoder.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import { loadTokenizer, type HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { packF32AsF16, unpackF16 } from '../../src/engine/model/f16.ts';
import { type Dispatch, encodeDispatches } from '../../src/engine/runtime/kernel.ts';
import { readF32 } from '../../src/engine/runtime/buffers.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

export function rng(seed: number): () => number { return mulberry32(seed); }

/** n uniform values in [-scale, scale) from `r`. */
export function randArray(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** Values rounded to f16 (as the GPU sees them) and their packed form. */
export function asF16(values: Float32Array): { values: Float32Array; packed: Uint32Array } {
  const packed = packF32AsF16(values);
  return { values: unpackF16(packed, values.length), packed };
}

export function stepBuffer(ctx: GpuContext, t: number, pos = 0): GPUBuffer {
  const b = ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  ctx.device.queue.writeBuffer(b, 0, new Uint32Array([t, pos, 0, 0]));
  return b;
}

export function uniformBuffer(ctx: GpuContext, words: Uint32Array): GPUBuffer {
  const b = ctx.device.createBuffer({ size: Math.max(16, words.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  ctx.device.queue.writeBuffer(b, 0, words);
  return b;
}

export async function runAndRead(ctx: GpuContext, dispatches: Dispatch[], t: number, out: GPUBuffer, n: number): Promise<Float32Array> {
  const enc = ctx.device.createCommandEncoder();
  encodeDispatches(enc, dispatches, t);
  ctx.device.queue.submit([enc.finish()]);
  return readF32(ctx.device, out, n);
}

/** The bundled tiny model (models/tiny) on `ctx` with its real tokenizer, loaded as the app loads it. */
export async function loadTinyModel(ctx: GpuContext, dir = 'models/tiny', options: DecoderOptions = {}): Promise<{ config: ModelConfig; decoder: Decoder; tokenizer: HfTextTokenizer }> {
  const config = parseModelConfig(readFileSync(`${dir}/config.json`, 'utf8'), `${dir}/config.json`);
  const decoder = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync(`${dir}/model.safetensors`), 4096)), undefined, options);
  const tokenizer = await loadTokenizer({
    tokenizerJson: readFileSync(`${dir}/tokenizer.json`, 'utf8'), tokenizerConfig: readFileSync(`${dir}/tokenizer_config.json`, 'utf8'),
    source: dir, extraEosIds: config.eosTokenIds,
  });
  return { config, decoder, tokenizer };
}
