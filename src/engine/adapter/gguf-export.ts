// Export a model (optionally merged with a LoRA adapter) as GGUF parts: the one path behind
// `npm run export:gguf`, the Train view's Export GGUF action and the llama.cpp fixtures. The merge is
// the engine's own (adapter/merge.ts mergePacked: W + gate·(alpha/r)·B·A, rounded to f16), applied to
// host tensors on the CPU instead of GPU buffers.
import { mergePacked } from './merge.ts';
import { loraScaling, type LoraAdapter } from './lora.ts';
import { ggufFromHf, ggufParts, type GgufExportOptions, type HfModelFiles } from '../model/gguf-write.ts';
import type { HostTensor } from '../model/types.ts';

/** `tensors` with every adapted module's weight replaced by its merged f16 weight. */
export function mergeAdapterIntoHost(tensors: readonly HostTensor[], adapter: LoraAdapter): HostTensor[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const merged = new Map<string, HostTensor>();
  for (const m of adapter.modules) {
    const name = `${m.path}.weight`;
    const t = byName.get(name);
    if (!t) throw new Error(`adapter module ${m.path}: the model has no weight "${name}"`);
    if (t.shape[0] !== m.outFeatures || t.shape[1] !== m.inFeatures) {
      throw new Error(`adapter module ${m.path}: shape (${m.outFeatures}, ${m.inFeatures}) does not match the model's [${t.shape.join(', ')}]`);
    }
    const base = merged.get(name)?.packed ?? t.packed;
    merged.set(name, { ...t, packed: mergePacked(base, m.outFeatures, m.inFeatures, m.A, m.B, m.r, loraScaling(m) * m.gate) });
  }
  return tensors.map((t) => merged.get(t.name) ?? t);
}

/** The GGUF file as parts in order (write them one after another). */
export function exportGgufParts(
  files: HfModelFiles, tensors: readonly HostTensor[], adapter?: LoraAdapter, opts: GgufExportOptions = {},
): Uint8Array[] {
  const weights = adapter ? mergeAdapterIntoHost(tensors, adapter) : tensors;
  const { metadata, tensors: out } = ggufFromHf(files, weights, opts);
  if (adapter) metadata.push(['general.finetune', { type: 'string', value: `merged LoRA adapter (${adapter.modules.length} modules)` }]);
  return ggufParts(metadata, out);
}
