// Batched decoding: the row-table kernels (kv-store, rope by row, attention by row, row gather,
// one sampling workgroup per row) against their CPU references, and generateBatch() on the tiny
// model against one-at-a-time generate() for the same seeds (greedy and sampled).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { generateBatch, type BatchRequest } from '../../src/engine/generation/batch.ts';
import { generate, type GenerateDeps, type GenerateResult } from '../../src/engine/generation/generate.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { createDecoder, type Decoder } from '../../src/engine/model/decoder.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import { attentionParams, attentionRowsDispatch, attentionRowsRef } from '../../src/engine/ops/attention.ts';
import { gatherRowsDispatch, gatherRowsParams, gatherRowsRef } from '../../src/engine/ops/gather-rows.ts';
import { kvStoreDispatch, kvStoreParams, kvStoreRef } from '../../src/engine/ops/kv-store.ts';
import { ropeParams, ropeRef, ropeRowsDispatch, ropeTable } from '../../src/engine/ops/rope.ts';
import { MAX_SUPPRESS, MAX_TOP_K, decodeSample, sampleDispatch, sampleOutWords, sampleParams, sampleRef } from '../../src/engine/ops/sample.ts';
import { allocStorage, readBack, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { encodeDispatches } from '../../src/engine/runtime/kernel.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());

const rowsBuf = (rows: Array<[number, number]>) => uploadStorage(ctx.device, Uint32Array.from(rows.flat()));

describe('row-table kernels vs CPU reference', () => {
  // 3 sequences in regions of 8 rows; rows of the step: seq 2 at pos 5, seq 0 at pos 0, seq 1 at pos 3
  const H = 4; const HKV = 2; const D = 8; const maxLen = 8; const theta = 10000;
  const rows: Array<[number, number]> = [[16, 5], [0, 0], [8, 3]];
  const T = rows.length; const KD = HKV * D;

  it('kv-store: rotated keys and values land at each row\'s own cache row', async () => {
    const r = rng(1);
    const k = randArray(r, T * KD); const v = randArray(r, T * KD);
    const kc0 = randArray(r, 3 * maxLen * KD); const vc0 = randArray(r, 3 * maxLen * KD);
    const kc = uploadStorage(ctx.device, kc0); const vc = uploadStorage(ctx.device, vc0);
    const d = kvStoreDispatch(ctx.device, {
      k: uploadStorage(ctx.device, k), v: uploadStorage(ctx.device, v), kcache: kc, vcache: vc,
      table: uploadStorage(ctx.device, ropeTable(maxLen, D, theta)), rows: rowsBuf(rows),
      params: uniformBuffer(ctx, kvStoreParams(HKV, D)), step: stepBuffer(ctx, T),
    }, HKV, D);
    const gotK = await runAndRead(ctx, [d], T, kc, kc0.length);
    const gotV = await readF32(ctx.device, vc, vc0.length);
    const ref = kvStoreRef(k, v, kc0, vc0, rows, HKV, D, theta);
    expect(gotK).toBeAllclose(ref.k, { atol: 1e-6, rtol: 1e-5 });
    expect(gotV).toBeAllclose(ref.v, { atol: 0, rtol: 0 });
    // and equals the single-sequence rope reference at that position
    expect(Array.from(gotK.subarray((16 + 5) * KD, (16 + 6) * KD))).toBeAllclose(ropeRef(k.subarray(0, KD), 1, HKV, D, 5, theta), { atol: 1e-6, rtol: 1e-5 });
  });

  it('rope by row: each row rotated at its own position', async () => {
    const x0 = randArray(rng(2), T * H * D);
    const x = uploadStorage(ctx.device, x0);
    const d = ropeRowsDispatch(ctx.device, { x, table: uploadStorage(ctx.device, ropeTable(maxLen, D, theta)), params: uniformBuffer(ctx, ropeParams(H, D)), step: stepBuffer(ctx, T), rows: rowsBuf(rows) }, H, D);
    const got = await runAndRead(ctx, [d], T, x, x0.length);
    const ref = new Float64Array(x0.length);
    rows.forEach(([, pos], t) => ref.set(ropeRef(x0.subarray(t * H * D, (t + 1) * H * D), 1, H, D, pos, theta), t * H * D));
    expect(got).toBeAllclose(ref, { atol: 1e-6, rtol: 1e-5 });
  });

  it('attention by row: each query reads only its own sequence\'s region, causally', async () => {
    const r = rng(3);
    const q = randArray(r, T * H * D); const kc = randArray(r, 3 * maxLen * KD); const vc = randArray(r, 3 * maxLen * KD);
    const out = allocStorage(ctx.device, T * H * D * 4);
    const d = attentionRowsDispatch(ctx.device, {
      q: uploadStorage(ctx.device, q), k: uploadStorage(ctx.device, kc), v: uploadStorage(ctx.device, vc), out,
      params: uniformBuffer(ctx, attentionParams(H, HKV, D)), step: stepBuffer(ctx, T), rows: rowsBuf(rows),
    }, H);
    const got = await runAndRead(ctx, [d], T, out, T * H * D);
    expect(got).toBeAllclose(attentionRowsRef(q, kc, vc, rows, H, HKV, D), { atol: 1e-5, rtol: 1e-4 });
  });

  it('row gather', async () => {
    const C = 70; const x0 = randArray(rng(4), 5 * C); const src = [4, 0, 2];
    const out = allocStorage(ctx.device, src.length * C * 4);
    const d = gatherRowsDispatch(ctx.device, { x: uploadStorage(ctx.device, x0), src: uploadStorage(ctx.device, Uint32Array.from(src)), out, params: uniformBuffer(ctx, gatherRowsParams(C)), step: stepBuffer(ctx, src.length) }, C);
    expect(await runAndRead(ctx, [d], src.length, out, src.length * C)).toBeAllclose(gatherRowsRef(x0, src, C), { atol: 0, rtol: 0 });
  });

  it('sampling: one workgroup per row with its own options and suppress list', async () => {
    const V = 300; const R = 3;
    const logits = randArray(rng(5), R * V, 4);
    const opts = [
      { temperature: 0, topP: 1, topK: 5, u: 0.3, suppress: [] as number[] },
      { temperature: 0.8, topP: 0.9, topK: 3, u: 0.71, suppress: [7, 9] },
      { temperature: 1.2, topP: 1, topK: 0, u: 0.05, suppress: [] as number[] },
    ];
    const sup = new Uint32Array(R * MAX_SUPPRESS);
    const params = new Uint32Array(8 * R);
    opts.forEach((o, i) => { sup.set(o.suppress, i * MAX_SUPPRESS); params.set(sampleParams(V, { ...o, suppressCount: o.suppress.length }), 8 * i); });
    const RW = sampleOutWords(MAX_TOP_K);
    const out = allocStorage(ctx.device, R * RW * 4);
    const d = sampleDispatch(ctx.device, { logits: uploadStorage(ctx.device, logits), suppress: uploadStorage(ctx.device, sup), out, params: uploadStorage(ctx.device, params) }, 64, (t) => t);
    const enc = ctx.device.createCommandEncoder();
    encodeDispatches(enc, [d], R);
    ctx.device.queue.submit([enc.finish()]);
    const words = new Uint32Array(await readBack(ctx.device, out, R * RW * 4));
    opts.forEach((o, i) => {
      const got = decodeSample(words.subarray(i * RW, (i + 1) * RW), o.topK);
      const ref = sampleRef(logits.subarray(i * V, (i + 1) * V), o);
      expect(got.id).toBe(ref.id);
      expect(got.logprob).toBeCloseTo(ref.logprob, 4);
      expect(got.entropy).toBeCloseTo(ref.entropy, 4);
      expect(got.alternatives.map((a) => a.id)).toEqual(ref.alternatives.map((a) => a.id));
    });
  });
});

describe('generateBatch() on the tiny model equals one-at-a-time generate()', () => {
  let dec: Decoder;
  let tok: HfTextTokenizer;
  let deps: GenerateDeps;
  beforeAll(async () => {
    const m = await loadTinyModel(ctx);
    dec = m.decoder; tok = m.tokenizer;
    deps = { tokenizer: tok, newSession: (n) => dec.newSession(n), maxContext: 2048, eosTokenIds: m.config.eosTokenIds };
  });
  afterAll(() => dec?.dispose());

  const prompts = ['Natalia sold clips to 48 of her friends', 'What is 17 + 25?', 'A train leaves at 3 pm and travels for 2 hours at 60 km/h. How far', '5 * 6 =', 'Solve x + 4 = 10'];

  for (const [name, sampling] of [['greedy', { temperature: 0, topP: 1 }], ['sampled', { temperature: 0.9, topP: 0.95 }]] as const) {
    it(`${name}: same ids, stops, log-probs and top-k per sequence (5 prompts of different lengths through 3 slots)`, async () => {
      const maxTokens = 12;
      const seeds = prompts.map((_, i) => 100 + i);
      const single: GenerateResult[] = [];
      for (let i = 0; i < prompts.length; i++) single.push(await generate(deps, { prompt: prompts[i], maxTokens, ...sampling, topK: 3, seed: seeds[i] }, () => {}));
      const requests: BatchRequest[] = prompts.map((p, i) => ({ prompt: tok.encode(p), maxTokens, ...sampling, topK: 3, seed: seeds[i] }));
      expect(new Set(requests.map((r) => r.prompt.length)).size).toBeGreaterThan(2);
      const session = dec.newBatchSession(3, 2048);
      const r = await generateBatch(session, requests, { eosTokenIds: [...tok.eosTokenIds, ...(deps.eosTokenIds ?? [])] });
      session.dispose();
      expect(r.sequences).toHaveLength(prompts.length);
      r.sequences.forEach((s, i) => {
        const one = single[i];
        expect(s.tokens.map((t) => t.id)).toEqual(one.tokens.map((t) => t.id));
        expect(s.stopReason).toBe(one.stopReason);
        expect(s.promptTokens).toBe(one.promptTokens);
        expect(s.tokens.map((t) => t.logprob)).toBeAllclose(one.tokens.map((t) => t.logprob), { atol: 1e-4, rtol: 1e-4 });
        expect(s.tokens.map((t) => t.entropy)).toBeAllclose(one.tokens.map((t) => t.entropy), { atol: 1e-4, rtol: 1e-4 });
        expect(s.tokens.map((t) => t.alternatives.map((a) => a.id))).toEqual(one.tokens.map((t) => t.alternatives.map((a) => a.id)));
        expect(tok.decode(s.ids)).toBe(one.text);
      });
      // fewer forward passes than one-at-a-time (5 x 12 steps), since sequences share steps
      expect(r.steps).toBeLessThan(single.reduce((a, g) => a + g.tokens.length, 0));
      expect(dec.gpuBytes).toBe(dec.weightBytes + 16);
    });
  }

  it('the workgroup kernels (real GPUs\' choice: barrier-reduced attention and norms, 256-thread sampling) give the same greedy ids', async () => {
    const cfg = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'));
    const wg = await createDecoder(ctx, cfg, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))), undefined, { barrierFree: false, sampleWorkgroup: 256 });
    const requests: BatchRequest[] = prompts.map((p, i) => ({ prompt: tok.encode(p), maxTokens: 8, temperature: 0, topP: 1, topK: 2, seed: i }));
    const a = dec.newBatchSession(4, 128); const b = wg.newBatchSession(4, 128);
    const ra = await generateBatch(a, requests, { eosTokenIds: tok.eosTokenIds });
    const rb = await generateBatch(b, requests, { eosTokenIds: tok.eosTokenIds });
    a.dispose(); wg.dispose();
    expect(rb.sequences.map((s) => s.tokens.map((t) => t.id))).toEqual(ra.sequences.map((s) => s.tokens.map((t) => t.id)));
    expect(rb.sequences.flatMap((s) => s.tokens.map((t) => t.logprob))).toBeAllclose(ra.sequences.flatMap((s) => s.tokens.map((t) => t.logprob)), { atol: 1e-4, rtol: 1e-4 });
  });

  it('a prefill split over chunks, per-sequence suppress, context stop and cancellation', async () => {
    const long = tok.encode(prompts.join(' ').repeat(3)).slice(0, 150); // > one 128-row chunk
    const sup = [tok.encode(' the')[0] ?? 5];
    const one = await generate(deps, { prompt: tok.decode(long), maxTokens: 6, temperature: 0, topP: 1, topK: 2, seed: 1 }, () => {});
    const session = dec.newBatchSession(2, 156);
    const r = await generateBatch(session, [
      { prompt: tok.encode(tok.decode(long)), maxTokens: 6, temperature: 0, topP: 1, topK: 2, seed: 1 },
      { prompt: tok.encode('What is 17 + 25?'), maxTokens: 500, temperature: 0.7, topP: 1, topK: 0, seed: 2, suppress: sup },
    ], { eosTokenIds: [] });
    expect(r.sequences[0].stopReason).toBe('length');
    expect(long.length).toBe(150);
    expect(r.sequences[0].tokens.map((t) => t.id)).toEqual(one.tokens.map((t) => t.id));
    // the short one runs until its slot of 156 tokens is full (its last sample is never fed)
    expect(r.sequences[1].stopReason).toBe('context');
    expect(r.sequences[1].promptTokens + r.sequences[1].ids.length - 1).toBe(156);
    expect(r.sequences[1].ids.every((id) => !sup.includes(id))).toBe(true);
    const signal = { aborted: false };
    let n = 0;
    const c = await generateBatch(session, [0, 1, 2].map((i) => ({ prompt: tok.encode(prompts[i]), maxTokens: 100, temperature: 1, topP: 1, topK: 0, seed: i })), {
      eosTokenIds: [], signal, onToken: () => { if (++n === 5) signal.aborted = true; },
    });
    session.dispose();
    expect(c.sequences.map((s) => s.stopReason)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(c.sequences[2].tokens).toHaveLength(0); // never started: 2 slots
  });
});
