// AdamW with global grad-norm clipping on the GPU (ops/adamw.ts, adapter/optimizer.ts): the kernels
// vs the float64 reference step, and a few LoRA training steps on a fixed batch of models/tiny lower
// the loss; the trained adapter read back gives the same loss through the CPU reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalLmBatch } from '../../src/engine/adapter/batch.ts';
import { createLoraAdapter, exportPeftAdapter, loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { LoraAdamW } from '../../src/engine/adapter/optimizer.ts';
import { loraLogits, loraLossAndGrads } from '../../src/engine/adapter/reference.ts';
import { LoraTrainPass } from '../../src/engine/adapter/train-pass.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import type { ModelConfig } from '../../src/engine/model/types.ts';
import { type AdamWConfig, type AdamWTensorRef, adamwDispatch, adamwHyper, adamwShape, adamwStepRef, sumsqDispatch, sumsqParams } from '../../src/engine/ops/adamw.ts';
import { readF32, uploadStorage } from '../../src/engine/runtime/buffers.ts';
import { encodeDispatches } from '../../src/engine/runtime/kernel.ts';
import { loadTinyModel, randArray, rng, uniformBuffer } from './helpers.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());

describe('AdamW kernels vs float64 reference', () => {
  for (const maxGradNorm of [0.5, 0]) {
    it(`3 steps, two tensors (decay / no decay), clip ${maxGradNorm || 'off'}`, async () => {
      const r = rng(41);
      const cfg: AdamWConfig = { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, maxGradNorm };
      const sizes = [300, 17];
      const p0 = sizes.map((n) => randArray(r, n)); const grads = [0, 1, 2].map(() => sizes.map((n) => randArray(r, n, 0.3)));
      const dev = ctx.device;
      const P = p0.map((p) => uploadStorage(dev, p)); const G = sizes.map((n) => uploadStorage(dev, new Float32Array(n)));
      const M = sizes.map((n) => uploadStorage(dev, new Float32Array(n))); const V = sizes.map((n) => uploadStorage(dev, new Float32Array(n)));
      const norms = uploadStorage(dev, new Float32Array(2));
      const hyper = uniformBuffer(ctx, adamwHyper(cfg, 1, 2));
      const list = [
        ...sizes.map((n, i) => sumsqDispatch(dev, { g: G[i], norms, params: uniformBuffer(ctx, sumsqParams(n, i)) })),
        ...sizes.map((n, i) => adamwDispatch(dev, { p: P[i], g: G[i], m: M[i], v: V[i], norms, hyper, shape: uniformBuffer(ctx, adamwShape(n, i === 0)) }, n)),
      ];
      const ref: AdamWTensorRef[] = sizes.map((n, i) => ({ p: Float64Array.from(p0[i]), g: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n), decay: i === 0 }));
      for (let step = 1; step <= 3; step++) {
        sizes.forEach((_, i) => { dev.queue.writeBuffer(G[i], 0, grads[step - 1][i]); ref[i].g = grads[step - 1][i]; });
        dev.queue.writeBuffer(hyper, 0, adamwHyper(cfg, step, 2));
        const enc = dev.createCommandEncoder(); encodeDispatches(enc, list, 1); dev.queue.submit([enc.finish()]);
        const norm = adamwStepRef(ref, cfg, step);
        if (maxGradNorm) expect(norm).toBeGreaterThan(maxGradNorm); // clipping is active
        for (let i = 0; i < sizes.length; i++) {
          expect(await readF32(dev, P[i], sizes[i]), `step ${step} tensor ${i}`).toBeAllclose(ref[i].p, { atol: 2e-6, rtol: 1e-5 });
        }
      }
    });
  }
});

describe('LoRA training steps on the GPU (tiny model)', () => {
  let decoder: Decoder; let config: ModelConfig; let model: ReferenceModel;
  beforeAll(async () => {
    ({ decoder, config } = await loadTinyModel(ctx));
    const ts = await readTinyTensors();
    model = new ReferenceModel(config, ts);
  });
  afterAll(() => decoder?.dispose());

  it('8 AdamW steps on a fixed batch lower the loss; the read-back adapter reproduces it on the CPU and through PEFT export', async () => {
    const ids = [12, 83, 154, 225, 296, 367, 438, 509, 71, 142, 213, 284];
    const batch = causalLmBatch(ids);
    const a = createLoraAdapter(config, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'] }, rng(5));
    const pass = new LoraTrainPass(ctx, decoder, a, ids.length);
    const opt = new LoraAdamW(ctx, pass, { lr: 1e-2, maxGradNorm: 1, weightDecay: 0.01 });
    try {
      const losses: number[] = [];
      for (let i = 0; i < 8; i++) {
        losses.push((await pass.run(batch, { readGrads: false })).loss);
        opt.step();
      }
      const final = (await pass.run(batch, { readGrads: false })).loss;
      console.log(`[adapter-optim] losses ${[...losses, final].map((l) => l.toFixed(4)).join(' ')}; last grad norm ${(await opt.lastGradNorm()).toFixed(3)}`);
      expect(losses[0]).toBeCloseTo(loraLossAndGrads(model, createLoraAdapter(config, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'] }, rng(5)), batch).loss, 4);
      for (let i = 1; i < losses.length; i++) expect(losses[i], `step ${i}`).toBeLessThan(losses[i - 1]);
      expect(final).toBeLessThan(losses[0] - 1);
      const trained = await pass.readAdapter();
      expect(trained.modules.some((m) => m.gate !== 1)).toBe(true); // gates learn too
      expect(Math.abs(loraLossAndGrads(model, trained, batch).loss - final)).toBeLessThan(1e-4 * final);
      const ex = exportPeftAdapter(trained);
      const back = loadPeftAdapter(config, ex.adapterConfig, ex.safetensors);
      expect(loraLogits(model, back, ids)).toBeAllclose(loraLogits(model, trained, ids), { atol: 1e-4, rtol: 1e-5 });
    } finally {
      opt.dispose(); pass.dispose();
    }
  });
});
