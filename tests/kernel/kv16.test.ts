// The f16 KV cache (ops/kv16.ts): store (RoPE + f16 packing) and attention reading f16 K/V, against
// the f32 references (kvStoreRef, attentionRef / attentionRowsRef) over the f16-rounded values.
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { packF32AsF16, unpackF16 } from '../../src/engine/model/f16.ts';
import { attentionParams, attentionRef, attentionRowsRef } from '../../src/engine/ops/attention.ts';
import { kvStoreRef } from '../../src/engine/ops/kv-store.ts';
import { attentionKv16Dispatch, attentionKv16RowsDispatch, kv16StoreDispatch, kv16StoreParams } from '../../src/engine/ops/kv16.ts';
import { ropeTable } from '../../src/engine/ops/rope.ts';
import { allocStorage, readBack, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

const ctx: GpuContext = await nodeGpuContext();
afterAll(() => ctx?.device.destroy());

const rowsBuf = (rows: Array<[number, number]>) => uploadStorage(ctx.device, Uint32Array.from(rows.flat()));
const f16 = (x: ArrayLike<number>) => unpackF16(packF32AsF16(x), x.length);

// 3 sequences in regions of 8 rows; the step's rows: seq 2 at pos 5, seq 0 at pos 0, seq 1 at pos 3
const H = 4; const HKV = 2; const D = 8; const maxLen = 8; const theta = 10000;
const rows: Array<[number, number]> = [[16, 5], [0, 0], [8, 3]];
const T = rows.length; const KD = HKV * D;

describe('f16 KV cache', () => {
  it('store: rotated keys and values land at each row\'s cache row as f16, other rows untouched', async () => {
    const r = rng(1);
    const k = randArray(r, T * KD); const v = randArray(r, T * KD);
    const kc0 = f16(randArray(r, 3 * maxLen * KD)); const vc0 = f16(randArray(r, 3 * maxLen * KD));
    const kc = uploadStorage(ctx.device, packF32AsF16(kc0)); const vc = uploadStorage(ctx.device, packF32AsF16(vc0));
    const d = kv16StoreDispatch(ctx.device, {
      k: uploadStorage(ctx.device, k), v: uploadStorage(ctx.device, v), kcache: kc, vcache: vc,
      table: uploadStorage(ctx.device, ropeTable(maxLen, D, theta)), rows: rowsBuf(rows),
      params: uniformBuffer(ctx, kv16StoreParams(HKV, D)), step: stepBuffer(ctx, T),
    }, HKV, D);
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

  it('store refuses head_dim not a multiple of 4', () => {
    expect(() => kv16StoreParams(2, 6)).toThrow(/multiple of 4/);
  });

  it('attention by row against f16 caches equals the f32 reference over the same f16 values', async () => {
    const r = rng(3);
    const q = randArray(r, T * H * D); const kc = f16(randArray(r, 3 * maxLen * KD)); const vc = f16(randArray(r, 3 * maxLen * KD));
    const out = allocStorage(ctx.device, T * H * D * 4);
    const d = attentionKv16RowsDispatch(ctx.device, {
      q: uploadStorage(ctx.device, q), k: uploadStorage(ctx.device, packF32AsF16(kc)), v: uploadStorage(ctx.device, packF32AsF16(vc)), out,
      params: uniformBuffer(ctx, attentionParams(H, HKV, D)), step: stepBuffer(ctx, T), rows: rowsBuf(rows),
    }, H);
    expect(await runAndRead(ctx, [d], T, out, T * H * D)).toBeAllclose(attentionRowsRef(q, kc, vc, rows, H, HKV, D), { atol: 1e-5, rtol: 1e-4 });
  });

  // prefill of 5 after 3 cached (8 keys); 300 keys: more than one 256-key chunk; a sliding window; D = 128
  for (const [t, pos, h, hkv, d, window] of [[5, 3, 4, 2, 8, 0], [2, 298, 2, 1, 16, 0], [4, 20, 2, 2, 8, 6], [1, 7, 2, 1, 128, 0]] as const) {
    it(`attention T=${t} pos=${pos} H=${h} Hkv=${hkv} D=${d}${window ? ` window ${window}` : ''}`, async () => {
      const r = rng(t * 1000 + pos);
      const q = randArray(r, t * h * d); const k = f16(randArray(r, (pos + t) * hkv * d)); const v = f16(randArray(r, (pos + t) * hkv * d));
      const out = allocStorage(ctx.device, t * h * d * 4);
      const disp = attentionKv16Dispatch(ctx.device, {
        q: uploadStorage(ctx.device, q), k: uploadStorage(ctx.device, packF32AsF16(k)), v: uploadStorage(ctx.device, packF32AsF16(v)), out,
        params: uniformBuffer(ctx, attentionParams(h, hkv, d, window)), step: stepBuffer(ctx, t, pos),
      }, h);
      expect(await runAndRead(ctx, [disp], t, out, t * h * d)).toBeAllclose(attentionRef(q, k, v, t, pos, h, hkv, d, window), { rtol: 1e-4, atol: 1e-5 });
    });
  }
});
