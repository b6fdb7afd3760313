// The ONNX exports of the students (models/onnx/tiny and models/onnx/tiny-world, made by
// scripts/onnx/make_onnx.py from models/tiny and models/tiny-world) give the same logits as our WebGPU decoder: prefill with an empty past, then a
// decode step fed the exported present.N.key/value as past_key_values.N.* (the transformers.js
// decoder layout), run by onnxruntime-web on wasm in Node.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel } from './helpers.ts';

const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);

// [our model dir, its ONNX export]; re-export after retraining a student (the test then fails until you do)
const PAIRS = [['models/tiny', 'models/onnx/tiny'], ['models/tiny-world', 'models/onnx/tiny-world']] as const;

describe.each(PAIRS)('ONNX export (transformers.js decoder layout) of %s vs our decoder', (MODEL, DIR) => {
  let ctx: GpuContext;
  let dec: Decoder;
  let tok: HfTextTokenizer;
  let config: ModelConfig;
  let onnx: ort.InferenceSession;

  beforeAll(async () => {
    ctx = await nodeGpuContext();
    ({ decoder: dec, tokenizer: tok, config } = await loadTinyModel(ctx, MODEL, { kvCache: 'f32' })); // ONNX Runtime keeps its cache in f32: compare like with like
    ort.env.wasm.numThreads = 1;
    onnx = await ort.InferenceSession.create(readFileSync(`${DIR}/onnx/model.onnx`));
  });
  afterAll(async () => { await onnx?.release(); dec?.dispose(); ctx?.device.destroy(); });

  it('has the inputs and outputs transformers.js feeds and reads', () => {
    const L = config.numLayers;
    expect(onnx.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...Array.from({ length: L }, (_, l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`]).flat()]);
    expect(onnx.outputNames).toEqual(['logits', ...Array.from({ length: L }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat()]);
    const conf = JSON.parse(readFileSync(`${DIR}/config.json`, 'utf8'));
    expect(conf.model_type).toBe('qwen2');
    expect(JSON.parse(readFileSync(`${DIR}/generation_config.json`, 'utf8')).eos_token_id).toEqual(conf.eos_token_id);
  });

  it('prefill and a cached decode step: logits match', async () => {
    const ids = tok.encode('Natalia sold clips to 48 of her friends');
    const T = ids.length; const V = config.vocabSize; const L = config.numLayers;
    const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids, [1, T]), attention_mask: i64(ids.map(() => 1), [1, T]), position_ids: i64(ids.map((_, i) => i), [1, T]) };
    for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, config.numKvHeads, 0, config.headDim]);
    const out = await onnx.run(feeds);
    const session = dec.newSession(64);
    const ours = await session.logits(ids);
    expect(out.logits.dims).toEqual([1, T, V]);
    expect(out.logits.data as Float32Array).toBeAllclose(ours, { atol: 2e-3, rtol: 1e-3 });
    expect(out['present.0.key'].dims).toEqual([1, config.numKvHeads, T, config.headDim]);

    const next = 7;
    const step: Record<string, ort.Tensor> = { input_ids: i64([next], [1, 1]), attention_mask: i64([...ids, next].map(() => 1), [1, T + 1]), position_ids: i64([T], [1, 1]) };
    for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) step[`past_key_values.${l}.${kv}`] = out[`present.${l}.${kv}`];
    const out2 = await onnx.run(step);
    const ours2 = await session.logits([next]);
    session.dispose();
    expect(out2.logits.data as Float32Array).toBeAllclose(ours2, { atol: 2e-3, rtol: 1e-3 });
    expect(out2['present.1.value'].dims).toEqual([1, config.numKvHeads, T + 1, config.headDim]);
  });
});
