// A model folder (or hub id) loaded onto the Node WebGPU device (npm `webgpu`): config, tokenizer,
// weights, the measured matmul variant, one decode session. Shared by the command-line tools.
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { measureMatmulVariants } from '../../src/engine/device/kernel-choice.ts';
import type { TextTokenizer } from '../../src/engine/generation/types.ts';
import { type Decoder, createDecoder } from '../../src/engine/model/decoder.ts';
import { nodeAccess } from '../../src/data/node-model.ts';
import type { WeightPrecision } from '../../src/engine/model/memory-quant.ts';
import { openModel } from '../../src/engine/model/sources.ts';
import { loadTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';

export interface NodeModel {
  ctx: GpuContext;
  decoder: Decoder;
  tokenizer: TextTokenizer;
  label: string;
  contextLength: number;
  eosTokenIds: readonly number[];
  matmul: string;
  dispose(): void;
}

export async function loadNodeModel(dirOrId: string, opts: { contextLength?: number; ctx?: GpuContext; precision?: WeightPrecision } = {}): Promise<NodeModel> {
  const ctx = opts.ctx ?? (await nodeGpuContext());
  const access = await nodeAccess(dirOrId);
  const opened = await openModel(access, { contextLength: opts.contextLength ?? 2048, limits: ctx.report.limits as never, precision: opts.precision });
  const tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig, source: access.label, extraEosIds: opened.eosTokenIds });
  const { best } = await measureMatmulVariants(ctx, 32, 128, 128);
  const decoder = await createDecoder(ctx, opened.config, opened.tensors(), undefined, { matmul: best });
  return {
    ctx, decoder, tokenizer, label: access.label, contextLength: opened.contextLength, eosTokenIds: opened.eosTokenIds, matmul: best,
    dispose: () => { decoder.dispose(); if (!opts.ctx) ctx.device.destroy(); },
  };
}
