// The GPU-tiled flash attention (ops/flash-attention.ts: workgroup-memory key/query tiles, online
// softmax, backward from the saved lse) vs the float64 reference of each packed sequence, and its
// gradients vs central finite differences of the float64 forward. Sequences cross the 64-row tiles,
// a one-row sequence sits between them, the capacity exceeds the step's rows (stale rows beyond),
// head_dim 8 (one 64-key tile per pass) and 32 (48-key tiles: partial tiles), full causal and a
// sliding window. Tolerances: f32 accumulation over <= 100 keys: 2e-5 abs on O, 1e-4 rel on grads;
// the finite differences (float64, step 1e-5) are exact to ~1e-9, so the same f32 bound applies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { attentionPackedBackwardRef, attentionPackedParams, attentionPackedRef, packedRows } from '../../src/engine/ops/attention-packed.ts';
import { flashAttentionBackwardDispatches, flashAttentionDispatch, flashTile } from '../../src/engine/ops/flash-attention.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());
const up = (a: Float32Array | Uint32Array) => uploadStorage(ctx.device, a);

describe('flash attention over packed sequences (workgroup tiles)', () => {
  const lens = [70, 1, 100, 9]; const H = 4; const KV = 2;
  const R = lens.reduce((a, b) => a + b, 0); const cap = R + 10;
  const rows = packedRows(lens);

  for (const [D, window] of [[8, 0], [32, 0], [8, 20]] as const) {
    it(`forward, lse and backward vs the float64 reference (head_dim ${D}, tile ${flashTile(D)}, window ${window || 'none'})`, async () => {
      const r = rng(71 + D + window);
      const q = randArray(r, cap * H * D, 1.5); const k = randArray(r, cap * KV * D, 1.5); const v = randArray(r, cap * KV * D); const dout = randArray(r, cap * H * D);
      const o = allocStorage(ctx.device, cap * H * D * 4); const lse = allocStorage(ctx.device, cap * H * 4);
      const params = uniformBuffer(ctx, attentionPackedParams(H, KV, D, cap, window)); const step = stepBuffer(ctx, R);
      const rb = up(Uint32Array.from([...rows.flat(), ...new Array(2 * (cap - R)).fill(0)]));
      const qb = up(q); const kb = up(k); const vb = up(v);
      const got = await runAndRead(ctx, [flashAttentionDispatch(ctx.device, { q: qb, k: kb, v: vb, out: o, lse, rows: rb, params, step }, { h: H, d: D })], R, o, R * H * D);
      expect(got).toBeAllclose(attentionPackedRef(q, k, v, rows, H, KV, D, window), { atol: 2e-5, rtol: 1e-5 });
      // lse of row 0 (a sequence's first row sees itself only) = scale·q·k
      const s00 = Array.from({ length: D }, (_, e) => q[e] * k[e]).reduce((a, b) => a + b, 0) / Math.sqrt(D);
      expect((await readF32(ctx.device, lse, 1))[0]).toBeCloseTo(s00, 5);

      const dq = allocStorage(ctx.device, cap * H * D * 4); const dkv = allocStorage(ctx.device, 2 * cap * KV * D * 4); const delta = allocStorage(ctx.device, cap * H * 4);
      const list = flashAttentionBackwardDispatches(ctx.device, { q: qb, k: kb, v: vb, o, dout: up(dout), lse, delta, dq, dkv, rows: rb, params, step }, { h: H, hkv: KV, d: D });
      const gq = await runAndRead(ctx, list, R, dq, R * H * D);
      const gkv = await readF32(ctx.device, dkv, 2 * cap * KV * D);
      const ref = attentionPackedBackwardRef(q, k, v, dout, rows, H, KV, D, window);
      const gk = gkv.subarray(0, R * KV * D); const gv = gkv.subarray(cap * KV * D, (cap + R) * KV * D);
      expect(gq).toBeAllclose(ref.dq, { atol: 2e-5, rtol: 1e-4 });
      expect(gk).toBeAllclose(ref.dk, { atol: 2e-5, rtol: 1e-4 });
      expect(gv).toBeAllclose(ref.dv, { atol: 2e-5, rtol: 1e-4 });

      // central finite differences of Σ dout·attention(q,k,v) (float64) at entries in every sequence
      const loss = (qq: ArrayLike<number>, kk: ArrayLike<number>, vv: ArrayLike<number>) => {
        const out = attentionPackedRef(qq, kk, vv, rows, H, KV, D, window);
        let s = 0; for (let i = 0; i < out.length; i++) s += out[i] * dout[i];
        return s;
      };
      const eps = 1e-5;
      const fd = (x: Float32Array, i: number, f: (a: Float64Array) => number) => {
        const a = Float64Array.from(x); a[i] += eps; const lp = f(a); a[i] -= 2 * eps; const lm = f(a);
        return (lp - lm) / (2 * eps);
      };
      const fr = rng(5);
      for (let n = 0; n < 6; n++) {
        const iq = Math.floor(fr() * R * H * D); const ik = Math.floor(fr() * R * KV * D);
        expect(gq[iq]).toBeCloseTo(fd(q, iq, (a) => loss(a, k, v)), 4);
        expect(gk[ik]).toBeCloseTo(fd(k, ik, (a) => loss(q, a, v)), 4);
        expect(gv[ik]).toBeCloseTo(fd(v, ik, (a) => loss(q, k, a)), 4);
      }
    });
  }
});
