// The f16 KV cache: kv-store.ts and the attention kernels (attention.ts workgroup kernel,
// attention-packed.ts thread-per-row kernel) with kv = 'f16', against the f32 references (kvStoreRef,
// attentionRowsRef) over the f16-rounded values; and the tiny model's logits through an f16 cache
// against the f32-cache path.
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { createDecoder } from '../../src/engine/model/decoder.ts';
import { packF32AsF16, unpackF16 } from '../../src/engine/model/f16.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import { attentionParams, attentionRowsDispatch, attentionRowsRef } from '../../src/engine/ops/attention.ts';
import { attentionCacheRowsDispatch, attentionPackedParams } from '../../src/engine/ops/attention-packed.ts';
import { kvStoreDispatch, kvStoreParams, kvStoreRef } from '../../src/engine/ops/kv-store.ts';
import { ropeTable } from '../../src/engine/ops/rope.ts';
import { allocStorage, readBack, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { loadTinyModel, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';
import { readFileSync } from 'node:fs';

const ctx: GpuContext = await nodeGpuContext();
afterAll(() => ctx?.device.destroy());

const rowsBuf = (rows: Array<[number, number]>) => uploadStorage(ctx.device, Uint32Array.from(rows.flat()));
const f16 = (x: ArrayLike<number>) => unpackF16(packF32AsF16(x), x.length);

// 3 sequences in regions of 8 rows; the step's rows: seq 2 at pos 5, seq 0 at pos 0, seq 1 at pos 3
const H = 4; const HKV = 2; const D = 8; const maxLen = 8; const theta = 10000;
const rows: Array<[number, number]> = [[16, 5], [0, 0], [8, 3]];
const T = rows.length; const KD = HKV * D;

describe('f16 KV cache kernels', () => {
  it('store: rotated keys and values land at each row\'s cache row as f16, other rows untouched', async () => {
    const r = rng(1);
    const k = randArray(r, T * KD); const v = randArray(r, T * KD);
    const kc0 = f16(randArray(r, 3 * maxLen * KD)); const vc0 = f16(randArray(r, 3 * maxLen * KD));
    const kc = uploadStorage(ctx.device, packF32AsF16(kc0)); const vc = uploadStorage(ctx.device, packF32AsF16(vc0));
    const d = kvStoreDispatch(ctx.device, {
      k: uploadStorage(ctx.device, k), v: uploadStorage(ctx.device, v), kcache: kc, vcache: vc,
      table: uploadStorage(ctx.device, ropeTable(maxLen, D, theta)), rows: rowsBuf(rows),
      params: uniformBuffer(ctx, kvStoreParams(HKV, D, 'f16')), step: stepBuffer(ctx, T),
    }, HKV, D, 'f16');
    await runAndRead(ctx, [d], T, kc, 1);
    const gotK = unpackF16(new Uint32Array(await readBack(ctx.device, kc, kc0.length * 2)), kc0.length);
    const gotV = unpackF16(new Uint32Array(await readBack(ctx.device, vc, vc0.length * 2)), vc0.length);
    const ref = kvStoreRef(k, v, kc0, vc0, rows, HKV, D, theta);
    // pack2x16float may round either way: within one f16 step (2^-10 relative)
    expect(gotK).toBeAllclose(f16(ref.k), { atol: 1e-6, rtol: 1e-3 });
    expect(gotV).toBeAllclose(f16(ref.v), { atol: 1e-6, rtol: 1e-3 });
    // rows no query wrote keep their exact bits
    const written = new Set(rows.map(([b, p]) => b + p));
    for (let row = 0; row < 3 * maxLen; row++) if (!written.has(row)) expect(gotK.subarray(row * KD, (row + 1) * KD)).toEqual(kc0.subarray(row * KD, (row + 1) * KD));
  });

  it('store refuses head_dim not a multiple of 4 for f16 (f32 takes any even one)', () => {
    expect(() => kvStoreParams(2, 6, 'f16')).toThrow(/multiple of 4/);
    expect(() => kvStoreParams(2, 6, 'f32')).not.toThrow();
  });

  // [rows, H, Hkv, D, window]: three sequences; a prefill continuing a cache (rows of one sequence,
  // tiled together by the thread-per-row kernel); > 256 keys; a sliding window; D = 128
  const cases: Array<[Array<[number, number]>, number, number, number, number]> = [
    [rows, H, HKV, D, 0],
    [[[0, 3], [0, 4], [0, 5], [0, 6], [0, 7]], 4, 2, 8, 0],
    [[[0, 298], [0, 299]], 2, 1, 16, 0],
    [[[0, 20], [0, 21], [0, 22], [0, 23]], 2, 2, 8, 6],
    [[[0, 7]], 2, 1, 128, 0],
  ];
  for (const [rw, h, hkv, d, window] of cases) {
    for (const kernelKind of ['workgroup', 'thread-per-row'] as const) {
      it(`attention (${kernelKind}) against f16 caches: ${rw.length} rows, up to ${Math.max(...rw.map(([b, p]) => b + p)) + 1} keys, H=${h} Hkv=${hkv} D=${d}${window ? ` window ${window}` : ''}`, async () => {
        const r = rng(rw.length * 1000 + d + window);
        const nKeys = Math.max(...rw.map(([b, p]) => b + p)) + 1;
        const q = randArray(r, rw.length * h * d); const kc = f16(randArray(r, nKeys * hkv * d)); const vc = f16(randArray(r, nKeys * hkv * d));
        const out = allocStorage(ctx.device, rw.length * h * d * 4);
        const b = { q: uploadStorage(ctx.device, q), k: uploadStorage(ctx.device, packF32AsF16(kc)), v: uploadStorage(ctx.device, packF32AsF16(vc)), out, step: stepBuffer(ctx, rw.length), rows: rowsBuf(rw) };
        const disp = kernelKind === 'workgroup'
          ? attentionRowsDispatch(ctx.device, { ...b, params: uniformBuffer(ctx, attentionParams(h, hkv, d, window)) }, h, 'f16')
          : attentionCacheRowsDispatch(ctx.device, { ...b, lse: allocStorage(ctx.device, rw.length * h * 4), params: uniformBuffer(ctx, attentionPackedParams(h, hkv, d, rw.length, window)) }, { h, d, kv: 'f16' });
        expect(await runAndRead(ctx, [disp], rw.length, out, rw.length * h * d)).toBeAllclose(attentionRowsRef(q, kc, vc, rw, h, hkv, d, window), { atol: 1e-5, rtol: 1e-4 });
      });
    }
  }
});

describe('the tiny model through an f16 KV cache', () => {
  it('logits stay within 0.1 of the f32-cache path over a 40-token prompt and 8 decode steps; greedy ids agree', async () => {
    // Bound: each cached K/V element is rounded to f16 (relative error <= 2^-11 = 4.9e-4); through
    // the trained tiny model's sharp attention scores (a score of s moves by up to |s|·4.9e-4) and 2
    // layers this measured 3.7e-2 at most over all 512 logits of 40 positions; 0.1 leaves room
    // without admitting a wrong or stale cache row (which moves logits by > 0.5).
    const { config, decoder: d32 } = await loadTinyModel(ctx);
    const d16 = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))), undefined, { kvCache: 'f16' });
    expect(d16.kvDtype).toBe('f16');
    const f32 = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))), undefined, { kvCache: 'f32' });
    expect(f32.kvBytes(100)).toBe(2 * d16.kvBytes(100));
    d32.dispose();
    const V = config.vocabSize;
    const prompt = Array.from({ length: 40 }, (_, i) => 5 + ((i * 37) % (V - 5)));
    const s16 = d16.newSession(64); const s32 = f32.newSession(64);
    const a = await s16.logits(prompt); const b = await s32.logits(prompt);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    // decode steps through the cache (matrix-vector kernels), greedy from the same start
    const greedy = { temperature: 0, topP: 1, topK: 8, u: 0 };
    let t16 = await s16.feed([7], greedy); let t32 = await s32.feed([7], greedy);
    for (let i = 0; i < 8; i++) {
      expect(t16.id).toBe(t32.id);
      maxDiff = Math.max(maxDiff, Math.abs(t16.logprob - t32.logprob));
      const alt32 = new Map(t32.alternatives.map((x) => [x.id, x.logprob]));
      for (const x of t16.alternatives) if (alt32.has(x.id)) maxDiff = Math.max(maxDiff, Math.abs(x.logprob - alt32.get(x.id)!));
      t16 = await s16.feed([t16.id], greedy); t32 = await s32.feed([t32.id], greedy);
    }
    console.log(`f16 vs f32 KV cache, tiny model: max |d logit| (prefill) / |d log-prob| (decode top-8) ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(0.1);
    d16.dispose(); f32.dispose();
  });
});
