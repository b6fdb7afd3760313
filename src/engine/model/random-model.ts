// Seeded random weights for a decoder config: the bundled tiny model (scripts/make-tiny-model.ts)
// and the benchmark's full-size random models. Same seed, same config -> identical tensors.
import { SeededRng } from '../../lib/rng.ts';
import { packF32AsF16 } from './f16.ts';
import type { HostTensor, ModelConfig } from './types.ts';
import { describeModel } from './block.ts';

export interface RandomModelOptions {
  seed: number;
  /** Std of linear weights; default 1/sqrt(fan_in). */
  std?: number;
  /** Std of the embedding table; default 1. */
  embedStd?: number;
  /** Fill large tensors by tiling a 64 Ki-value random block (fast for benchmark-size models). */
  tiled?: boolean;
  /** Uniform values of the same std instead of normal ones (every value drawn, ~5x faster than
   *  normal: kernel tests at real model dims, where tiling would repeat rows). */
  uniform?: boolean;
}

/** Yields every tensor the decoder expects (biases where the config has them). */
export function* randomModelTensors(config: ModelConfig, o: RandomModelOptions): Generator<HostTensor> {
  const rng = new SeededRng(o.seed);
  let tile: Float32Array | undefined;
  const block = describeModel(config);
  for (const s of block.tensors) {
    if (s.optional) continue; // q/k/v biases are required (not optional) when the config has them
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isNorm = s.name.endsWith('norm.weight');
    const isBias = s.name.endsWith('.bias');
    const isEmbed = s.name === block.embed || s.name === block.head;
    const std = isEmbed ? (o.embedStd ?? 1) : isBias ? 0.1 : (o.std ?? 1 / Math.sqrt(s.shape[s.shape.length - 1]));
    // norms near 1 (stored as w of (1 + w) where the family does so)
    const normBase = 1 - block.normOffset;
    const draw = o.uniform ? () => Math.sqrt(3) * (2 * rng.next() - 1) : () => rng.normal();
    const sample = () => (isNorm ? normBase + 0.1 * draw() : std * draw());
    let packed: Uint32Array;
    if (o.tiled && n > 1 << 16) {
      tile ??= Float32Array.from({ length: 1 << 16 }, () => rng.normal());
      packed = new Uint32Array(Math.ceil(n / 2));
      const scaled = packF32AsF16(tile.map((v) => std * v));
      for (let i = 0; i < packed.length; i += scaled.length) packed.set(scaled.subarray(0, Math.min(scaled.length, packed.length - i)), i);
    } else {
      packed = packF32AsF16(Float32Array.from({ length: n }, sample));
    }
    yield { name: s.name, shape: s.shape, packed };
  }
}
