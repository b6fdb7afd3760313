// Every elementwise / normalisation / attention op: WGSL output vs float64 CPU reference, random odd
// shapes; backward kernels vs reference, and the reference vs finite differences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { attentionParams, attentionRef, attentionRowsDispatch } from '../../src/engine/ops/attention.ts';
import { embeddingDispatch, embeddingParams, embeddingRef } from '../../src/engine/ops/embedding.ts';
import { rmsnormBackwardRef, rmsnormDispatch, rmsnormDwDispatch, rmsnormDxDispatch, rmsnormParams, rmsnormRef } from '../../src/engine/ops/rmsnorm.ts';
import { ropeParams, ropeRef, ropeRowsDispatch, ropeTable } from '../../src/engine/ops/rope.ts';
import { swigluBackwardDispatch, swigluBackwardRef, swigluDispatch, swigluParams, swigluRef } from '../../src/engine/ops/swiglu.ts';
import { uploadWeight } from '../../src/engine/model/weights.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { GpuAllocator } from '../../src/engine/runtime/tracker.ts';
import { asF16, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());

const up = (a: Float32Array | Uint32Array) => uploadStorage(ctx.device, a);

/** Central finite difference of a scalar function at index i of x. */
function fd(f: (x: Float64Array) => number, x: ArrayLike<number>, i: number, h = 1e-6): number {
  const p = Float64Array.from(x); p[i] += h;
  const m = Float64Array.from(x); m[i] -= h;
  return (f(p) - f(m)) / (2 * h);
}
const dotWith = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

describe('embedding gather', () => {
  it('gathers rows of a table split in two chunks (V=37, C=13, T=9)', async () => {
    const [v, c] = [37, 13];
    const r = rng(1);
    const table = asF16(randArray(r, v * c));
    const ids = [0, 36, 5, 20, 21, 5, 1, 19, 33];
    const out = allocStorage(ctx.device, ids.length * c * 4);
    const step = stepBuffer(ctx, ids.length);
    const gids = up(Uint32Array.from(ids));
    // rows 0..19 and 20..36 in separate buffers; c odd, so chunk 2 starts mid-word: repack it
    const chunk = (r0: number, rows: number) => asF16(table.values.slice(r0 * c, (r0 + rows) * c)).packed;
    const ds = [[0, 20], [20, 17]].map(([r0, rows]) => embeddingDispatch(ctx.device, { ids: gids, table: up(chunk(r0, rows)), out, params: uniformBuffer(ctx, embeddingParams(c, r0, rows)), step }, c));
    expect(await runAndRead(ctx, ds, ids.length, out, ids.length * c)).toBeAllclose(embeddingRef(ids, table.values, c), { atol: 0, rtol: 0 });
  });
});

describe('weight upload split by the binding limit', () => {
  it('an odd-width table split into word-aligned row chunks gathers like the whole table', async () => {
    const [v, c] = [11, 5]; // 10 bytes a row; a 30-byte limit gives 3 rows, rounded to 2 (word boundary)
    const table = asF16(randArray(rng(9), v * c));
    const alloc = new GpuAllocator(ctx.device);
    const w = uploadWeight(alloc, { name: 't', shape: [v, c], packed: table.packed }, 30);
    expect(w.chunks.map((ch) => [ch.r0, ch.rows])).toEqual([[0, 2], [2, 2], [4, 2], [6, 2], [8, 2], [10, 1]]);
    expect(alloc.liveBytes).toBe(5 * 32 + 16); // 20-byte chunks and a 12-byte one, padded to 16-byte multiples
    const ids = [10, 0, 3, 7, 4];
    const out = allocStorage(ctx.device, ids.length * c * 4);
    const step = stepBuffer(ctx, ids.length);
    const gids = up(Uint32Array.from(ids));
    const ds = w.chunks.map((ch) => embeddingDispatch(ctx.device, { ids: gids, table: ch.buffer, out, params: uniformBuffer(ctx, embeddingParams(c, ch.r0, ch.rows)), step }, c));
    expect(await runAndRead(ctx, ds, ids.length, out, ids.length * c)).toBeAllclose(embeddingRef(ids, table.values, c), { atol: 0, rtol: 0 });
    alloc.destroyAll();
    expect(alloc.liveBytes).toBe(0);
    expect(() => uploadWeight(alloc, { name: 'big.row', shape: [2, 100], packed: new Uint32Array(100) }, 100)).toThrow(/"big\.row": one row \(200 bytes\) exceeds/);
  });
});

describe('rmsnorm', () => {
  const eps = 1e-6;
  for (const [t, c] of [[3, 7], [5, 130], [1, 64]]) {
    it(`forward T=${t} C=${c}`, async () => {
      const r = rng(t * 100 + c);
      const x = randArray(r, t * c, 2);
      const w = asF16(randArray(r, c).map((v) => 1 + 0.5 * v));
      const out = allocStorage(ctx.device, t * c * 4);
      const d = rmsnormDispatch(ctx.device, { x: up(x), w: up(w.packed), out, params: uniformBuffer(ctx, rmsnormParams(c, eps)), step: stepBuffer(ctx, t) }, (n) => n);
      expect(await runAndRead(ctx, [d], t, out, t * c)).toBeAllclose(rmsnormRef(x, w.values, t, c, eps), { rtol: 1e-5, atol: 1e-5 });
    });
  }
  it('backward: reference vs finite differences, kernels vs reference (T=3, C=67)', async () => {
    const [t, c] = [3, 67];
    const r = rng(5);
    const x = randArray(r, t * c, 2);
    const w = asF16(randArray(r, c).map((v) => 1 + 0.5 * v));
    const dout = randArray(r, t * c);
    const ref = rmsnormBackwardRef(x, w.values, dout, t, c, eps);
    for (const i of [0, 70, t * c - 1]) expect(fd((xx) => dotWith(rmsnormRef(xx, w.values, t, c, eps), dout), x, i)).toBeCloseTo(ref.dx[i], 6);
    for (const i of [0, 33, c - 1]) expect(fd((ww) => dotWith(rmsnormRef(x, ww, t, c, eps), dout), w.values, i)).toBeCloseTo(ref.dw[i], 6);
    const params = uniformBuffer(ctx, rmsnormParams(c, eps, t));
    const dw = allocStorage(ctx.device, c * 4);
    // dw: two workgroups of 64 channels (C = 67)
    const gdw = await runAndRead(ctx, [rmsnormDwDispatch(ctx.device, { x: up(x), dout: up(dout), dw, params }, c)], t, dw, c);
    expect(gdw).toBeAllclose(ref.dw, { rtol: 1e-4, atol: 1e-5 });
  });

  // dx through the dispatch the training pass records: one workgroup per row, or one thread per row
  // (rowwise) where T = 70 rows span two workgroups of 64; the params' capacity exceeds the step's rows.
  for (const rowwise of [false, true]) {
    it(`backward dx through rmsnormDxDispatch (rowwise ${rowwise}, T=70 of capacity 80, C=67)`, async () => {
      const [t, cap, c] = [70, 80, 67];
      const r = rng(rowwise ? 6 : 7);
      const x = randArray(r, cap * c, 2);
      const w = asF16(randArray(r, c).map((v) => 1 + 0.5 * v));
      const dout = randArray(r, cap * c);
      const dx = up(new Float32Array(cap * c).fill(7));
      const d = rmsnormDxDispatch(ctx.device, { x: up(x), w: up(w.packed), dout: up(dout), dx, params: uniformBuffer(ctx, rmsnormParams(c, eps, cap)) }, rowwise);
      expect(d.grid(t)).toEqual(rowwise ? [2, 1, 1] : [t, 1, 1]);
      const got = await runAndRead(ctx, [d], t, dx, cap * c);
      const ref = rmsnormBackwardRef(x.subarray(0, t * c), w.values, dout.subarray(0, t * c), t, c, eps);
      expect(got.subarray(0, t * c)).toBeAllclose(ref.dx, { rtol: 1e-4, atol: 1e-5 });
      // one workgroup per row stops at the step's rows; the row-per-thread grid covers its 128 threads (rows < capacity)
      if (!rowwise) expect(got.subarray(t * c).every((v) => v === 7)).toBe(true);
    });
  }
});

describe('rope (rotate-half)', () => {
  for (const [t, nh, d, pos, theta] of [[3, 5, 6, 0, 10000], [4, 2, 16, 1000, 1000000], [1, 7, 64, 37, 10000]]) {
    it(`T=${t} heads=${nh} D=${d} pos=${pos} theta=${theta}, forward and inverse`, async () => {
      const x = randArray(rng(t + nh + d), t * nh * d);
      const buf = up(x);
      const step = stepBuffer(ctx, t);
      const rows = up(Uint32Array.from({ length: 2 * t }, (_, i) => (i & 1 ? pos + (i >> 1) : 0))); // row i at position pos + i
      const table = up(ropeTable(pos + t, d, theta));
      const fwd = ropeRowsDispatch(ctx.device, { x: buf, table, params: uniformBuffer(ctx, ropeParams(nh, d)), step, rows }, nh, d);
      const got = await runAndRead(ctx, [fwd], t, buf, x.length);
      expect(got).toBeAllclose(ropeRef(x, t, nh, d, pos, theta), { rtol: 1e-6, atol: 1e-6 });
      const inv = ropeRowsDispatch(ctx.device, { x: buf, table, params: uniformBuffer(ctx, ropeParams(nh, d, -1)), step, rows }, nh, d);
      expect(await runAndRead(ctx, [inv], t, buf, x.length)).toBeAllclose(x, { rtol: 1e-6, atol: 1e-6 });
    });
  }
  it('the pair is (i, i+D/2), not (2i, 2i+1)', () => {
    const x = new Float64Array(8); x[0] = 1; // D=8, one head, position 1
    const out = ropeRef(x, 1, 1, 8, 1, 10000);
    expect(out[0]).toBeCloseTo(Math.cos(1), 12);
    expect(out[4]).toBeCloseTo(Math.sin(1), 12);
    expect(out[1]).toBe(0);
  });
});

describe('swiglu', () => {
  it('forward (T=3, F=37) and backward (kernel vs reference vs finite differences)', async () => {
    const [t, f] = [3, 37];
    const r = rng(11);
    const gate = randArray(r, t * f, 4);
    const upv = randArray(r, t * f, 2);
    const out = allocStorage(ctx.device, t * f * 4);
    const d = swigluDispatch(ctx.device, { gate: up(gate), up: up(upv), out, params: uniformBuffer(ctx, swigluParams(f)), step: stepBuffer(ctx, t) }, f);
    expect(await runAndRead(ctx, [d], t, out, t * f)).toBeAllclose(swigluRef(gate, upv), { rtol: 1e-5, atol: 1e-6 });
    const dout = randArray(r, t * f);
    const ref = swigluBackwardRef(gate, upv, dout);
    for (const i of [0, 50, t * f - 1]) {
      expect(fd((g) => dotWith(swigluRef(g, upv), dout), gate, i)).toBeCloseTo(ref.dgate[i], 6);
      expect(fd((u) => dotWith(swigluRef(gate, u), dout), upv, i)).toBeCloseTo(ref.dup[i], 6);
    }
    const dg = allocStorage(ctx.device, t * f * 4); const du = allocStorage(ctx.device, t * f * 4);
    const bw = (n: number, dgate: GPUBuffer, dup: GPUBuffer, g: Float32Array, u: Float32Array, dy: Float32Array) =>
      swigluBackwardDispatch(ctx.device, { gate: up(g), up: up(u), dout: up(dy), dgate, dup, params: uniformBuffer(ctx, swigluParams(f, n)) }, f);
    const d1 = bw(t, dg, du, gate, upv, dout);
    expect(await runAndRead(ctx, [d1], t, dg, t * f)).toBeAllclose(ref.dgate, { rtol: 1e-5, atol: 1e-5 });
    expect(await readF32(ctx.device, du, t * f)).toBeAllclose(ref.dup, { rtol: 1e-5, atol: 1e-5 });
    // several workgroups: T = 20 rows of F = 37 is 740 elements over 3 workgroups of 256
    const T2 = 20;
    const [g2, u2, y2] = [randArray(r, T2 * f, 4), randArray(r, T2 * f, 2), randArray(r, T2 * f)];
    const dg2 = allocStorage(ctx.device, T2 * f * 4); const du2 = allocStorage(ctx.device, T2 * f * 4);
    const d2 = bw(T2, dg2, du2, g2, u2, y2);
    expect(d2.grid(T2)).toEqual([3, 1, 1]);
    const ref2 = swigluBackwardRef(g2, u2, y2);
    expect(await runAndRead(ctx, [d2], T2, dg2, T2 * f)).toBeAllclose(ref2.dgate, { rtol: 1e-5, atol: 1e-5 });
    expect(await readF32(ctx.device, du2, T2 * f)).toBeAllclose(ref2.dup, { rtol: 1e-5, atol: 1e-5 });
  });
});

describe('grouped-query causal attention', () => {
  // [T, pos, H, Hkv, D]: prefill from 0, prefill continuing a cache, decode, > 256 keys (two chunks)
  for (const [t, pos, h, hkv, d] of [[5, 0, 4, 2, 8], [3, 4, 6, 3, 12], [1, 9, 4, 1, 16], [2, 300, 2, 2, 70]]) {
    it(`T=${t} pos=${pos} H=${h} Hkv=${hkv} D=${d}`, async () => {
      const r = rng(t * 7 + pos + d);
      const L = pos + t;
      const q = randArray(r, t * h * d, 2);
      const k = randArray(r, (L + 3) * hkv * d, 2); // rows past L must be ignored
      const v = randArray(r, (L + 3) * hkv * d);
      const out = allocStorage(ctx.device, t * h * d * 4);
      const rows = up(Uint32Array.from({ length: 2 * t }, (_, i) => (i & 1 ? pos + (i >> 1) : 0))); // query i at position pos + i of a cache from row 0
      const disp = attentionRowsDispatch(ctx.device, { q: up(q), k: up(k), v: up(v), out, params: uniformBuffer(ctx, attentionParams(h, hkv, d)), step: stepBuffer(ctx, t), rows }, h);
      expect(await runAndRead(ctx, [disp], t, out, t * h * d)).toBeAllclose(attentionRef(q, k, v, t, pos, h, hkv, d), { rtol: 1e-4, atol: 1e-5 });
    });
  }
  it('reference is causal: the last query ignores nothing, the first sees only key 0', () => {
    const [h, d] = [1, 2];
    const q = Float64Array.from([1, 0, 1, 0]);
    const k = Float64Array.from([0, 0, 5, 0]);
    const v = Float64Array.from([1, 1, 3, 3]);
    const out = attentionRef(q, k, v, 2, 0, h, 1, d);
    expect(out[0]).toBe(1); // query 0 sees only v0
    expect(out[2]).toBeGreaterThan(2.9); // query 1 prefers key 1
  });
});
