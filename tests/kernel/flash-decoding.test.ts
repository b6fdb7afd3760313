// Flash-decoding (attention.ts split pass + combine; attention-packed.ts's thread-per-row split kernel):
// the KV range of each decode row split across workgroups / threads and merged, against the float64
// reference at a context of several thousand keys, f32 and f16 caches; and the tiny model decoding
// past SPLIT_MIN_KEYS (the batch session then takes the split lists) against its all-positions logits.
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { SPLIT_MIN_KEYS } from '../../src/engine/model/batch-session.ts';
import { packF32AsF16, unpackF16 } from '../../src/engine/model/f16.ts';
import { type KvDtype, MAX_SPLITS, attentionCombineParams, attentionParams, attentionRowsRef, attentionSplitDispatches, attentionSplitScratch, splitsOf } from '../../src/engine/ops/attention.ts';
import { attentionCacheSplitDispatches, attentionPackedParams } from '../../src/engine/ops/attention-packed.ts';
import { allocStorage, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { loadTinyModel, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

const ctx: GpuContext = await nodeGpuContext();
afterAll(() => ctx?.device.destroy());

const f16 = (x: ArrayLike<number>) => unpackF16(packF32AsF16(x), x.length);

describe('flash-decoding kernels vs the float64 reference', () => {
  it('splitsOf: 256 keys a split up to 64 splits, then longer splits', () => {
    expect([1, 256, 257, 512, 4096, 16384, 16385, 40000].map(splitsOf)).toEqual([1, 1, 2, 2, 16, 64, 64, 64]);
  });

  // two sequences in regions of 4096 rows: slot 0 decodes at position 4000 (16 splits), slot 1 at 700;
  // H = 4 over 2 kv heads, D = 32; a sliding window of 1000 on the second case
  const maxLen = 4096; const H = 4; const HKV = 2; const D = 32;
  const rows: Array<[number, number]> = [[0, 4000], [maxLen, 700]];
  for (const kv of ['f32', 'f16'] as KvDtype[]) for (const window of [0, 1000]) for (const kind of ['workgroup', 'thread-per-row'] as const) {
    it(`${kind}, ${kv} cache${window ? `, window ${window}` : ''}: rows at 4001 and 701 keys`, async () => {
      const r = rng(window + (kv === 'f16' ? 1 : 2));
      const n = 2 * maxLen * HKV * D;
      const kc0 = randArray(r, n); const vc0 = randArray(r, n);
      const kc = kv === 'f16' ? f16(kc0) : kc0; const vc = kv === 'f16' ? f16(vc0) : vc0;
      const q = randArray(r, rows.length * H * D, 2);
      const up = (x: Float32Array) => uploadStorage(ctx.device, kv === 'f16' ? packF32AsF16(x) : x);
      const out = allocStorage(ctx.device, rows.length * H * D * 4);
      const scratch = attentionSplitScratch(rows.length, H, D);
      const b = {
        q: uploadStorage(ctx.device, q), k: up(kc), v: up(vc), out, part: allocStorage(ctx.device, scratch.part), ml: allocStorage(ctx.device, scratch.ml),
        rows: uploadStorage(ctx.device, Uint32Array.from(rows.flat())), step: stepBuffer(ctx, rows.length),
        combineParams: uniformBuffer(ctx, attentionCombineParams(H, D, window)),
      };
      const maxKeys = () => 4001;
      const list = kind === 'workgroup'
        ? attentionSplitDispatches(ctx.device, { ...b, params: uniformBuffer(ctx, attentionParams(H, HKV, D, window)) }, { h: H, d: D, kv }, maxKeys)
        : attentionCacheSplitDispatches(ctx.device, { ...b, params: uniformBuffer(ctx, attentionPackedParams(H, HKV, D, rows.length, window)) }, { h: H, d: D, kv }, maxKeys);
      expect(list[0].grid(rows.length)[2]).toBe(window ? splitsOf(4001) : 16);
      const got = await runAndRead(ctx, list, rows.length, out, rows.length * H * D);
      expect(got).toBeAllclose(attentionRowsRef(q, kc, vc, rows, H, HKV, D, window), { atol: 1e-5, rtol: 1e-4 });
    });
  }

  it('scratch holds MAX_SPLITS partials per (row, head)', () => {
    expect(attentionSplitScratch(3, 4, 32)).toEqual({ part: 3 * 4 * MAX_SPLITS * 32 * 4, ml: 3 * 4 * MAX_SPLITS * 8 });
  });
});

describe('the tiny model decoding at a long context takes the split path', () => {
  for (const barrierFree of [true, false]) {
    it(`decode steps past ${SPLIT_MIN_KEYS} keys equal the all-positions logits (${barrierFree ? 'thread-per-row' : 'workgroup'} kernels)`, async () => {
      const { config, decoder } = await loadTinyModel(ctx);
      decoder.dispose();
      const { createDecoder } = await import('../../src/engine/model/decoder.ts');
      const { chunked, readSafetensors } = await import('../../src/engine/model/safetensors.ts');
      const { readFileSync } = await import('node:fs');
      const dec = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))), undefined, { barrierFree });
      const V = config.vocabSize;
      const n = SPLIT_MIN_KEYS + 100;
      const prompt = Array.from({ length: n }, (_, i) => 5 + ((i * 7919) % (V - 5)));
      const next = [11, 23, 42];
      // reference: one prefill of everything through logits() (the plain attention lists)
      const ref = await dec.newSession(n + 8).logits([...prompt, ...next]);
      const s = dec.newSession(n + 8);
      const greedy = { temperature: 0, topP: 1, topK: 5, u: 0 };
      await s.feed(prompt, greedy);
      let worst = 0;
      for (let i = 0; i < next.length; i++) {
        const tok = await s.feed([next[i]], greedy); // one row at n + i + 1 keys: split
        const row = ref.subarray((n + i) * V, (n + i + 1) * V);
        let mx = -Infinity; for (const x of row) mx = Math.max(mx, x);
        let z = 0; for (const x of row) z += Math.exp(x - mx);
        for (const a of tok.alternatives) worst = Math.max(worst, Math.abs(a.logprob - (row[a.id] - mx - Math.log(z))));
        expect(tok.id).toBe(tok.alternatives[0].id);
      }
      // the f16 cache holds the same values either way, so only summation order differs
      expect(worst).toBeLessThan(1e-3);
      dec.dispose();
    });
  }
});
