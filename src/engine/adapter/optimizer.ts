// AdamW over a LoraTrainPass's trainable tensors, on the GPU (ops/adamw.ts): after pass.run(batch)
// leaves the gradients on the GPU, step() clips them by their global norm and updates A, B and
// gates in place (weight decay on A and B, none on the gates). One submit per step, no readback.
// The learning rate may change per step (schedule); exportState/importState read back and restore
// the moments and step count exactly (checkpoints).
import type { AdamWState } from '../../domain/train.ts';
import type { GpuContext } from '../device/gpu-context.ts';
import { type AdamWConfig, adamwDispatch, adamwHyper, adamwShape, sumsqDispatch, sumsqParams } from '../ops/adamw.ts';
import { readF32 } from '../runtime/buffers.ts';
import { type Dispatch, encodeDispatches } from '../runtime/kernel.ts';
import { GpuAllocator } from '../runtime/tracker.ts';
import type { LoraTrainPass } from './train-pass.ts';

export type { AdamWState } from '../../domain/train.ts';

export class LoraAdamW {
  private readonly alloc: GpuAllocator;
  private readonly list: Dispatch[] = [];
  private readonly hyper: GPUBuffer;
  private readonly norms: GPUBuffer;
  private readonly count: number;
  private readonly moments: Array<{ name: string; m: GPUBuffer; v: GPUBuffer; n: number }> = [];
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
      this.moments.push({ name: tn.name, m, v, n: tn.n });
      this.list.push(adamwDispatch(device, { p: tn.param, g: tn.grad, m, v, norms: this.norms, hyper: this.hyper, shape: a.uniform('adamw.shape', adamwShape(tn.n, tn.decay)) }, tn.n));
    }
  }

  get steps(): number { return this.t; }

  /** One update from the gradients the pass left on the GPU, at learning rate `lr` (default config.lr). */
  step(lr = this.config.lr): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`AdamW: lr must be a finite number >= 0, got ${lr}`);
    this.t++;
    const { device } = this.ctx;
    device.queue.writeBuffer(this.hyper, 0, adamwHyper({ ...this.config, lr }, this.t, this.count));
    const enc = device.createCommandEncoder({ label: 'adamw' });
    encodeDispatches(enc, this.list, 1, 'adamw');
    device.queue.submit([enc.finish()]);
  }

  /** Global gradient norm (before clipping) of the last step. */
  async lastGradNorm(): Promise<number> {
    const n = await readF32(this.ctx.device, this.norms, this.count);
    return Math.sqrt(n.reduce((a, b) => a + b, 0));
  }

  /** Step count and both moments of every tensor, read back (f32, exact). */
  async exportState(): Promise<AdamWState> {
    const { device } = this.ctx;
    const tensors: AdamWState['tensors'] = [];
    for (const mo of this.moments) tensors.push({ name: mo.name, m: await readF32(device, mo.m, mo.n), v: await readF32(device, mo.v, mo.n) });
    return { step: this.t, tensors };
  }

  /** Restores a state exported from an optimiser over the same tensors. */
  importState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0) throw new Error(`AdamW state: step must be an integer >= 0, got ${s.step}`);
    if (s.tensors.length !== this.moments.length) throw new Error(`AdamW state has ${s.tensors.length} tensors, this adapter ${this.moments.length}`);
    s.tensors.forEach((tn, i) => {
      const mo = this.moments[i];
      if (tn.name !== mo.name || tn.m.length !== mo.n || tn.v.length !== mo.n) throw new Error(`AdamW state: tensor ${i} is "${tn.name}" (${tn.m.length}), expected "${mo.name}" (${mo.n})`);
      this.ctx.device.queue.writeBuffer(mo.m, 0, Float32Array.from(tn.m));
      this.ctx.device.queue.writeBuffer(mo.v, 0, Float32Array.from(tn.v));
    });
    this.t = s.step;
  }

  get gpuBytes(): number { return this.alloc.liveBytes; }

  dispose(): void { this.alloc.destroyAll(); }
}
