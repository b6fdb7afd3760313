// Saving adapters as IndexedDB records (src/data/adapter-store.ts) from the engine worker: a trained
// adapter when its run ends, an imported PEFT adapter when it loads. Shared by train-api and adapter-api.
import { putAdapter } from '../../src/data/adapter-store.ts';
import type { AdapterRecord } from '../../src/domain/adapter.ts';
import { type LoraAdapter, exportPeftAdapter, loraParamCount, loraRankLabel } from '../../src/engine/adapter/lora.ts';
import { adapterHash } from '../../src/engine/adapter/merge.ts';
import type { DistillSummary } from '../../src/distill/train.ts';

const placementOf = (a: LoraAdapter) => a.modules.map((m) => ({ layer: m.layer, target: m.target, r: m.r, alpha: m.alpha }));

/** Keeps a trained adapter with its settings, data reference, placement and final metrics. */
export async function saveTrainedAdapter(a: LoraAdapter, summary: DistillSummary, modelId: string, spec: Record<string, unknown>): Promise<AdapterRecord> {
  const sha256 = await adapterHash(a);
  const now = Date.now();
  const { poolId, selectionId, ...settings } = spec as { poolId?: string; selectionId?: string } & Record<string, unknown>;
  return putAdapter({
    sha256, name: `${summary.placement.mode === 'manual' ? 'LoRA' : `sparse (${summary.placement.mode})`} ${loraRankLabel(a)} · ${new Date(now).toISOString().slice(0, 16).replace('T', ' ')}`,
    createdAt: now, updatedAt: now, origin: 'trained', baseModel: modelId,
    source: { ...(poolId ? { poolId } : {}), ...(selectionId ? { selectionId } : {}) }, settings: JSON.parse(JSON.stringify(settings)) as Record<string, unknown>,
    placement: { mode: summary.placement.mode, report: summary.placement.report, modules: placementOf(a) },
    metrics: { steps: summary.steps, lossBefore: summary.lossBefore, lossAfter: summary.lossAfter, params: summary.params, baseParams: summary.baseParams, percentOfBase: summary.percentOfBase },
    files: exportPeftAdapter(a),
  });
}

/** Keeps an imported PEFT adapter (its files as given were parsed into `a`; stored re-exported, gates folded). */
export async function saveImportedAdapter(a: LoraAdapter, modelId: string, name: string, baseParams: number): Promise<AdapterRecord> {
  const sha256 = await adapterHash(a);
  const now = Date.now();
  const params = loraParamCount(a);
  return putAdapter({
    sha256, name, createdAt: now, updatedAt: now, origin: 'imported', baseModel: modelId,
    placement: { mode: 'imported', report: `${params.toLocaleString('en-US')} trainable = ${((100 * params) / Math.max(1, baseParams)).toFixed(3)}% of ${baseParams.toLocaleString('en-US')}`, modules: placementOf(a) },
    files: exportPeftAdapter(a),
  });
}
