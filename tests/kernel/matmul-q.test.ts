// Quantized linear kernels (ops/matmul-q.ts) against the float64 reference over the dequantized
// weight (quantize -> dequantize (model/quant.ts) -> matmulRef / linearDxRef), every variant, both formats.
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { QUANT_FORMATS, dequantizeMatrix, quantBytes, quantRowChunks, quantizeMatrix } from '../../src/engine/model/quant.ts';
import { linearDxParams, linearDxRef } from '../../src/engine/ops/matmul-dx.ts';
import { embeddingParams, embeddingRef } from '../../src/engine/ops/embedding.ts';
import { embeddingQDispatch, linearDxQDispatch, linearDxQTiledDispatch, matmulQDispatch } from '../../src/engine/ops/matmul-q.ts';
import { FLAG_ACCUMULATE, FLAG_BIAS, type MatmulVariant, matmulParams, matmulRef, variantFeature, variantFits } from '../../src/engine/ops/matmul.ts';
import { allocStorage, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { asF16, randArray, rng, runAndRead, stepBuffer, uniformBuffer } from './helpers.ts';

const ctx: GpuContext = await nodeGpuContext();
afterAll(() => ctx?.device.destroy());

// f32 accumulation of K products of values of size ~1 (the kernels scale per block, the reference per element)
const TOL = { rtol: 1e-4, atol: 1e-4 };

describe('quantized matmul forward: every variant vs float64 over the dequantized weight', () => {
  // K = 72 and 40 end in a zero-padded part block; 13 and 45 (generic) are not multiples of 8
  const cases: Array<[MatmulVariant, number, number, number]> = [
    ['generic', 5, 7, 13], ['generic', 3, 9, 72],
    ['register', 7, 37, 64], ['register', 17, 65, 72], ['register', 1, 3, 40],
    ['workgroup', 7, 37, 72], ['workgroup', 70, 130, 64],
    ['matvec', 1, 37, 72], ['matvec', 1, 130, 256],
    ['rowdot', 1, 37, 72], ['rowdot', 1, 1029, 64],
    ['subgroup', 1, 37, 72], ['subgroup', 1, 130, 256],
  ];
  for (const format of QUANT_FORMATS) {
    for (const [variant, m, n, k] of cases) {
      const feature = variantFeature(variant);
      const missing = feature !== null && !ctx.has(feature);
      it.skipIf(missing)(`${format} ${variant} M=${m} N=${n} K=${k} with bias and residual accumulate${missing ? ` (skipped: adapter lacks '${feature}')` : ''}`, async () => {
        expect(variantFits(variant, k, m)).toBe(true);
        const r = rng(m * 1000 + n * 10 + k);
        const x = randArray(r, m * k);
        const w = quantizeMatrix(format, randArray(r, n * k), n, k);
        const b = asF16(randArray(r, n));
        const prior = randArray(r, m * n);
        const out = uploadStorage(ctx.device, prior);
        const d = matmulQDispatch(ctx.device, format, variant, {
          x: uploadStorage(ctx.device, x), w: uploadStorage(ctx.device, w), bias: uploadStorage(ctx.device, b.packed), out,
          params: uniformBuffer(ctx, matmulParams({ n, k, ldo: n, noff: 0, flags: FLAG_BIAS | FLAG_ACCUMULATE, m: 0 })),
          step: stepBuffer(ctx, m),
        }, n, (t) => t);
        const got = await runAndRead(ctx, [d], m, out, m * n);
        const ref = matmulRef(x, dequantizeMatrix(format, w, n, k), b.values, m, n, k).map((v, i) => v + prior[i]);
        expect(got).toBeAllclose(ref, TOL);
      });
    }
  }

  it('q4_0 output differs from the unquantized product by the quantization error, not more', async () => {
    const [m, n, k] = [4, 16, 64];
    const r = rng(5);
    const x = randArray(r, m * k);
    const wf = randArray(r, n * k);
    const w = quantizeMatrix('q4_0', wf, n, k);
    const out = allocStorage(ctx.device, m * n * 4);
    const d = matmulQDispatch(ctx.device, 'q4_0', 'register', {
      x: uploadStorage(ctx.device, x), w: uploadStorage(ctx.device, w), bias: allocStorage(ctx.device, 16), out,
      params: uniformBuffer(ctx, matmulParams({ n, k, ldo: n, noff: 0, flags: 0, m: 0 })), step: stepBuffer(ctx, m),
    }, n, (t) => t);
    const got = await runAndRead(ctx, [d], m, out, m * n);
    const exact = matmulRef(x, wf, undefined, m, n, k);
    // per weight |err| <= d (one step, ~1/8 of the block's max |w| <= 1/8); the sum of 64 of them, |x| <= 1
    let maxErr = 0;
    for (let i = 0; i < m * n; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - exact[i]));
    expect(maxErr).toBeGreaterThan(1e-3); // it is quantized
    expect(maxErr).toBeLessThan(64 / 8);
  });

  for (const format of QUANT_FORMATS) {
    it(`${format}: a weight split in row chunks (each its own buffer) fills one output (noff, ldo)`, async () => {
      const [m, n, k] = [3, 20, 64];
      const r = rng(7);
      const x = randArray(r, m * k);
      const wf = randArray(r, n * k);
      const chunks = quantRowChunks(format, n, k, quantBytes(format, 8, k), 'w'); // a binding limit of 8 rows
      expect(chunks.map((c) => c.rows)).toEqual([8, 8, 4]);
      const out = allocStorage(ctx.device, m * n * 4);
      const gx = uploadStorage(ctx.device, x);
      const step = stepBuffer(ctx, m);
      const dummy = allocStorage(ctx.device, 16);
      const deq = new Float32Array(n * k);
      const ds = chunks.map(({ r0, rows }) => {
        const w = quantizeMatrix(format, wf.subarray(r0 * k, (r0 + rows) * k), rows, k);
        deq.set(dequantizeMatrix(format, w, rows, k), r0 * k);
        return matmulQDispatch(ctx.device, format, 'register', {
          x: gx, w: uploadStorage(ctx.device, w), bias: dummy, out,
          params: uniformBuffer(ctx, matmulParams({ n: rows, k, ldo: n, noff: r0, flags: 0, m: 0 })), step,
        }, rows, (t) => t);
      });
      expect(await runAndRead(ctx, ds, m, out, m * n)).toBeAllclose(matmulRef(x, deq, undefined, m, n, k), TOL);
    });
  }
});

describe('quantized linear dx = dout · W', () => {
  for (const format of QUANT_FORMATS) {
    it(`${format} generic: K = 13 (padded block), dout strided (ldd, noff, doff), accumulating`, async () => {
      const [m, n, k, ldd, noff, doff] = [5, 11, 13, 16, 3, 2];
      const r = rng(11);
      const dout = randArray(r, doff + m * ldd);
      const w = quantizeMatrix(format, randArray(r, n * k), n, k);
      const prior = randArray(r, m * k);
      const dx = uploadStorage(ctx.device, prior);
      const s = { m, n, k, ldd, noff, doff, accumulate: true };
      const d = linearDxQDispatch(ctx.device, format, { dout: uploadStorage(ctx.device, dout), w: uploadStorage(ctx.device, w), dx, params: uniformBuffer(ctx, linearDxParams(s)) }, m, k);
      expect(await runAndRead(ctx, [d], m, dx, m * k)).toBeAllclose(linearDxRef(dout, dequantizeMatrix(format, w, n, k), prior, s), TOL);
    });

    for (const [m, n, k] of [[7, 37, 72], [18, 20, 64], [3, 5, 40]] as const) {
      it(`${format} tiled: M=${m} (from the step) N=${n} K=${k}, chunks accumulating into one dx`, async () => {
        const r = rng(m * 100 + k);
        const dout = randArray(r, m * n);
        const wf = randArray(r, n * k);
        const dx = allocStorage(ctx.device, (m + 3) * k * 4); // sized for more rows than the step runs
        const gd = uploadStorage(ctx.device, dout);
        const step = stepBuffer(ctx, m);
        const cut = Math.floor(n / 2);
        const deq = new Float32Array(n * k);
        const ds = [[0, cut], [cut, n - cut]].map(([r0, rows], i) => {
          const w = quantizeMatrix(format, wf.subarray(r0 * k, (r0 + rows) * k), rows, k);
          deq.set(dequantizeMatrix(format, w, rows, k), r0 * k);
          const params = uniformBuffer(ctx, linearDxParams({ m: 0, n: rows, k, ldd: n, noff: r0, accumulate: i > 0 }));
          return linearDxQTiledDispatch(ctx.device, format, { dout: gd, w: uploadStorage(ctx.device, w), dx, params, step }, k, (t) => t);
        });
        const ref = linearDxRef(dout, deq, new Float32Array(m * k), { m, n, k, ldd: n });
        expect(await runAndRead(ctx, ds, m, dx, m * k)).toBeAllclose(ref, TOL);
      });
    }
  }

  it('tiled dx refuses K not a multiple of 8', () => {
    const b = allocStorage(ctx.device, 64);
    expect(() => linearDxQTiledDispatch(ctx.device, 'q4_0', { dout: b, w: b, dx: b, params: b, step: b }, 12, (t) => t)).toThrow(/K = 12/);
  });
});

describe('quantized embedding gather', () => {
  for (const format of QUANT_FORMATS) {
    it(`${format}: a table split in two row chunks, C = 72 (padded block), scaled`, async () => {
      const [v, c] = [10, 72];
      const tf = randArray(rng(21), v * c);
      const ids = [7, 0, 3, 9, 7];
      const out = allocStorage(ctx.device, ids.length * c * 4);
      const gids = uploadStorage(ctx.device, Uint32Array.from(ids));
      const step = stepBuffer(ctx, ids.length);
      const deq = new Float32Array(v * c);
      const ds = [[0, 6], [6, 4]].map(([r0, rows]) => {
        const w = quantizeMatrix(format, tf.subarray(r0 * c, (r0 + rows) * c), rows, c);
        deq.set(dequantizeMatrix(format, w, rows, c), r0 * c);
        return embeddingQDispatch(ctx.device, format, { ids: gids, table: uploadStorage(ctx.device, w), out, params: uniformBuffer(ctx, embeddingParams(c, r0, rows, 1.5)), step }, c);
      });
      expect(await runAndRead(ctx, ds, ids.length, out, ids.length * c)).toBeAllclose(embeddingRef(ids, deq, c, 1.5), { rtol: 1e-6, atol: 1e-7 });
    });
  }
});
