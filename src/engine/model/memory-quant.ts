// GPU bytes of a model's weights per base precision (f16, or quant.ts's Q8_0 / Q4_0 GPU layout), and
// of its KV cache per cache precision, from the config alone: the per-tensor accounting behind the
// memory table of issue 23 (weights f16 / q8 / q4; KV f32 / f16).
// Quantized: every linear weight (q, k, v, o, gate, up, down) and, unless told otherwise, the token
// embedding and an untied LM head. Kept in f16: norms and biases (1-D, tiny).
import { quantBytes, type QuantFormat } from './quant.ts';
import type { ModelConfig } from './types.ts';

export type WeightPrecision = 'f16' | QuantFormat;

export interface WeightBytes {
  precision: WeightPrecision;
  /** The 7 linear weights of every layer. */
  linearBytes: number;
  /** Token embedding plus the LM head when untied. */
  embeddingBytes: number;
  /** Norms and biases, f16. */
  smallBytes: number;
  totalBytes: number;
}

/** GPU bytes of one (rows, cols) weight: packed f16 (weights.ts uploadWeight) or the quantized layout. */
export function tensorBytes(precision: WeightPrecision, rows: number, cols: number): number {
  return precision === 'f16' ? Math.ceil((rows * cols) / 2) * 4 : quantBytes(precision, rows, cols);
}

/** Weight bytes of `cfg` at `precision`; `embeddings: 'f16'` keeps the embedding and LM head in f16. */
export function weightBytes(cfg: ModelConfig & { qkNorm?: boolean }, precision: WeightPrecision, opts: { embeddings?: 'f16' | 'base' } = {}): WeightBytes {
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: KV, headDim: D, vocabSize: V, numLayers: L } = cfg;
  const t = (rows: number, cols: number) => tensorBytes(precision, rows, cols);
  const layerLinear = t(H * D, C) + 2 * t(KV * D, C) + t(C, H * D) + 2 * t(F, C) + t(C, F);
  const ep: WeightPrecision = opts.embeddings === 'f16' ? 'f16' : precision;
  const embeddingBytes = tensorBytes(ep, V, C) * (cfg.tieWordEmbeddings ? 1 : 2);
  const half = (n: number) => Math.ceil(n / 2) * 4;
  let layerSmall = 2 * half(C) + (cfg.qkNorm ? 2 * half(D) : 0);
  if (cfg.attentionBias) layerSmall += half(H * D) + 2 * half(KV * D);
  if (cfg.mlpBias) layerSmall += 2 * half(F) + half(C);
  const smallBytes = L * layerSmall + half(C);
  const linearBytes = L * layerLinear;
  return { precision, linearBytes, embeddingBytes, smallBytes, totalBytes: linearBytes + embeddingBytes + smallBytes };
}

export type KvPrecision = 'f32' | 'f16';

/** K and V caches for `tokens` positions: 2 · layers · kvHeads · headDim · tokens · (4 or 2) bytes. */
export function kvCacheBytes(cfg: ModelConfig, tokens: number, precision: KvPrecision): number {
  return 2 * cfg.numLayers * cfg.numKvHeads * cfg.headDim * tokens * (precision === 'f32' ? 4 : 2);
}
