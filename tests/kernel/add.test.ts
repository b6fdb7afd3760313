import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { addForward, addRef } from '../../src/engine/ops/add.ts';
import { allocStorage, readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { vectorAddSelfTest } from '../../src/engine/selftest.ts';
import { randArray, rng } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });

afterAll(() => ctx?.device.destroy());

describe('add kernel (Node, Dawn)', () => {
  it('reports a real adapter', () => {
    expect(ctx.report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(ctx.report.features.length).toBeGreaterThan(0);
  });

  for (const n of [1, 7, 256, 1000, 65537]) {
    it(`matches the CPU reference for N=${n}`, async () => {
      const r = rng(n);
      const a = randArray(r, n);
      const b = randArray(r, n);
      const [ga, gb, go] = [uploadStorage(ctx.device, a), uploadStorage(ctx.device, b), allocStorage(ctx.device, n * 4)];
      const enc = ctx.device.createCommandEncoder();
      addForward(ctx.device, enc, ga, gb, go, n);
      ctx.device.queue.submit([enc.finish()]);
      expect(await readF32(ctx.device, go, n)).toBeAllclose(addRef(a, b), { atol: 1e-6 });
    });
  }

  it('self-test used by the app passes', async () => {
    const r = await vectorAddSelfTest(ctx.device);
    expect(r.ok).toBe(true);
  });
});
