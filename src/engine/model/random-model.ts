// Seeded random weights for a decoder config: the bundled tiny model (scripts/make-tiny-model.ts)
// and the benchmark's full-size random models. Same seed, same config -> identical tensors.
import { SeededRng } from '../../lib/rng.ts';
import { packF32AsF16 } from './f16.ts';
import type { HostTensor, ModelConfig } from './types.ts';
import { expectedTensors } from './weights.ts';

export interface RandomModelOptions {
  seed: number;
  /** Std of linear weights; default 1/sqrt(fan_in). */
  std?: number;
  /** Std of the embedding table; default 1. */
  embedStd?: number;
  /** Fill large tensors by tiling a 64 Ki-value random block (fast for benchmark-size models). */
  tiled?: boolean;
}

/** Yields every tensor the decoder expects (biases where the config has them). */
export function* randomModelTensors(config: ModelConfig, o: RandomModelOptions): Generator<HostTensor> {
  const rng = new SeededRng(o.seed);
  let block: Float32Array | undefined;
  for (const s of expectedTensors(config)) {
    if (s.optional) continue; // q/k/v biases are required (not optional) when the config has them
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isNorm = s.name.endsWith('norm.weight');
    const isBias = s.name.endsWith('.bias');
    const isEmbed = s.name === 'model.embed_tokens.weight' || s.name === 'lm_head.weight';
    const std = isEmbed ? (o.embedStd ?? 1) : isBias ? 0.1 : (o.std ?? 1 / Math.sqrt(s.shape[s.shape.length - 1]));
    const sample = () => (isNorm ? 1 + 0.1 * rng.normal() : std * rng.normal());
    let packed: Uint32Array;
    if (o.tiled && n > 1 << 16) {
      block ??= Float32Array.from({ length: 1 << 16 }, () => rng.normal());
      packed = new Uint32Array(Math.ceil(n / 2));
      const scaled = packF32AsF16(block.map((v) => std * v));
      for (let i = 0; i < packed.length; i += scaled.length) packed.set(scaled.subarray(0, Math.min(scaled.length, packed.length - i)), i);
    } else {
      packed = packF32AsF16(Float32Array.from({ length: n }, sample));
    }
    yield { name: s.name, shape: s.shape, packed };
  }
}
