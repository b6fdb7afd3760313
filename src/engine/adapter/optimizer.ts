// AdamW over a LoraTrainPass's trainable tensors, on the GPU (ops/adamw.ts): after pass.run(batch)
// leaves the gradients on the GPU, step() clips them by their global norm and updates A, B and
// gates in place (weight decay on A and B, none on the gates). One submit per step, no readback.
import type { GpuContext } from '../device/gpu-context.ts';
import { type AdamWConfig, adamwDispatch, adamwHyper, adamwShape, sumsqDispatch, sumsqParams } from '../ops/adamw.ts';
import { readF32 } from '../runtime/buffers.ts';
import { type Dispatch, encodeDispatches } from '../runtime/kernel.ts';
import { GpuAllocator } from '../runtime/tracker.ts';
import type { LoraTrainPass } from './train-pass.ts';

export class LoraAdamW {
  private readonly alloc: GpuAllocator;
  private readonly list: Dispatch[] = [];
  private readonly hyper: GPUBuffer;
  private readonly norms: GPUBuffer;
  private readonly count: number;
  private t = 0;

  constructor(private readonly ctx: GpuContext, pass: LoraTrainPass, readonly config: AdamWConfig) {
    if (!(config.lr > 0)) throw new Error(`AdamW: lr must be > 0, got ${config.lr}`);
    const { device } = ctx;
    const a = (this.alloc = new GpuAllocator(device));
    const tensors = pass.trainables();
    this.count = tensors.length;
    this.norms = a.storage('adamw.norms', tensors.length * 4);
    this.hyper = a.uniform('adamw.hyper', adamwHyper(config, 1, tensors.length));
    tensors.forEach((tn, i) => this.list.push(sumsqDispatch(device, { g: tn.grad, norms: this.norms, params: a.uniform('adamw.sumsq', sumsqParams(tn.n, i)) })));
    for (const tn of tensors) {
      const m = a.storage(`adamw.m.${tn.name}`, tn.n * 4); const v = a.storage(`adamw.v.${tn.name}`, tn.n * 4);
      this.list.push(adamwDispatch(device, { p: tn.param, g: tn.grad, m, v, norms: this.norms, hyper: this.hyper, shape: a.uniform('adamw.shape', adamwShape(tn.n, tn.decay)) }, tn.n));
    }
  }

  get steps(): number { return this.t; }

  /** One update from the gradients the pass left on the GPU. */
  step(): void {
    this.t++;
    const { device } = this.ctx;
    device.queue.writeBuffer(this.hyper, 0, adamwHyper(this.config, this.t, this.count));
    const enc = device.createCommandEncoder({ label: 'adamw' });
    encodeDispatches(enc, this.list, 1, 'adamw');
    device.queue.submit([enc.finish()]);
  }

  /** Global gradient norm (before clipping) of the last step. */
  async lastGradNorm(): Promise<number> {
    const n = await readF32(this.ctx.device, this.norms, this.count);
    return Math.sqrt(n.reduce((a, b) => a + b, 0));
  }

  dispose(): void { this.alloc.destroyAll(); }
}
