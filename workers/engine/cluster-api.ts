// Engine-worker module for "Export for a cluster" (src/share/cluster-export.ts): the run's traces
// (pool or selection, as training reads them), the placement (explicit modules, or every layer of the
// target modules at rank r) on the loaded model's shapes, and the files as a zip.
import { zipSync, strToU8 } from 'fflate';
import { createLoraAdapter } from '../../src/engine/adapter/lora.ts';
import { clusterExportFiles } from '../../src/share/cluster-export.ts';
import { traceTokens } from '../../src/share/trace-cuts.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { currentModel } from './model-api.ts';
import { type TrainSpec, tracesForSpec } from './train-api.ts';

export const clusterApi = {
  /** Token length (trace-cuts.ts traceTokens) of each trace a run over `spec` trains on: the Train view's count of the traces T cuts. */
  async traceLengths(spec: TrainSpec): Promise<number[]> {
    return (await tracesForSpec(spec)).slice(0, spec.maxExamples).map((t) => traceTokens(t));
  },
  /** The cluster export of `spec` for the Hugging Face student `hfModel`, as zip bytes. */
  async clusterExport(spec: TrainSpec, hfModel: string, epochs = 3): Promise<Uint8Array> {
    const model = currentModel();
    if (!model) throw new Error('no model loaded: the placement is sized on the loaded student (load it in Models / Device)');
    const traces = await tracesForSpec({ ...spec, maxExamples: Math.max(spec.maxExamples, 1_000_000) });
    const init = spec.modules?.length ? { r: spec.rank, alpha: spec.alpha, modules: spec.modules } : { r: spec.rank, alpha: spec.alpha, targetModules: spec.targetModules };
    const adapter = createLoraAdapter(model.decoder.config, init, mulberry32(0));
    const files = clusterExportFiles({ traces, adapter, baseModel: hfModel, loss: spec.loss, lr: 1e-4, epochs, maxLength: Math.max(spec.seqLen, 1024), placedOn: model.id });
    return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [`reasonbridge-cluster/${k}`, strToU8(v)])));
  },
};
