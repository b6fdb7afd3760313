// Engine-worker module for LoRA adapters at inference: the adapters known in this session (the one
// trained in the Train view, one loaded from PEFT files), each named by its content hash
// (src/engine/adapter/merge.ts adapterHash, 64 hex digits), and the one selected for generation.
// Guided runs and evaluation name the adapter they need by hash and call withAdapter(), which
// merges it into the loaded decoder for the run and restores the base weights after.
import { deleteAdapter, getAdapter, listAdapters, renameAdapter } from '../../src/data/adapter-store.ts';
import type { AdapterRecord } from '../../src/domain/adapter.ts';
import { type LoraAdapter, loadPeftAdapter, loraRankLabel } from '../../src/engine/adapter/lora.ts';
import { adapterHash, applyAdapter, restoreBase } from '../../src/engine/adapter/merge.ts';
import { gpuContext } from './device-api.ts';
import { currentModel } from './model-api.ts';
import { trainedLora } from './train-api.ts';
import { saveImportedAdapter } from './adapter-records.ts';

export type AdapterChoice = 'none' | 'trained' | 'loaded';

export interface AdapterInfo { kind: 'trained' | 'loaded' | 'stored' | 'bundled'; sha256: string; label: string; r: number; targetModules: string[] }

export interface AdapterStatus {
  selected: AdapterChoice;
  trained?: AdapterInfo;
  loaded?: AdapterInfo;
  /** adapters kept in IndexedDB for the loaded model (trained or imported earlier, also before a reload) */
  stored: AdapterInfo[];
  /** adapters offered with the loaded model (the bundled student's committed ones): in memory, not stored */
  bundled: AdapterInfo[];
}

/** A stored adapter's row for the library (files left out). */
export type AdapterSummaryRow = Omit<AdapterRecord, 'files'> & { bytes: number };

let loaded: { adapter: LoraAdapter; info: AdapterInfo; modelId: string } | undefined;
let trainedCache: { adapter: LoraAdapter; info: AdapterInfo } | undefined;
let selected: AdapterChoice = 'none';
/** Offered adapters (offerAdapterFiles), by hash: kept for the page, never written to the library unless kept. */
const offered = new Map<string, { adapter: LoraAdapter; info: AdapterInfo; modelId: string }>();
const offeredFor = (m: ReturnType<typeof currentModel>) => (m ? [...offered.values()].filter((o) => o.modelId === m.id) : []);

async function trainedEntry(): Promise<{ adapter: LoraAdapter; info: AdapterInfo } | undefined> {
  const t = trainedLora();
  const m = currentModel();
  if (!t || !m || t.modelId !== m.id) return undefined;
  if (trainedCache?.adapter !== t.adapter) {
    const sha256 = await adapterHash(t.adapter);
    trainedCache = { adapter: t.adapter, info: { kind: 'trained', sha256, label: `trained in this session (${loraRankLabel(t.adapter)}, ${sha256.slice(0, 8)})`, r: t.adapter.r, targetModules: [...t.adapter.targetModules] } };
  }
  return trainedCache;
}

function loadedEntry(): typeof loaded {
  const m = currentModel();
  return loaded && m && loaded.modelId === m.id ? loaded : undefined;
}

/** Stored adapters parsed for the loaded model, by hash. */
const storedCache = new Map<string, LoraAdapter>();

function storedInfo(rec: AdapterRecord): AdapterInfo {
  const rs = rec.placement.modules.map((m) => m.r);
  const r = rs.length ? Math.max(...rs) : 0;
  const lo = rs.length ? Math.min(...rs) : 0;
  return { kind: 'stored', sha256: rec.sha256, label: `${rec.name} (r ${lo === r ? r : `${lo}-${r}`}, ${rec.sha256.slice(0, 8)})`, r, targetModules: [...new Set(rec.placement.modules.map((m) => m.target))] };
}

/** The adapter with content hash `sha256`, among those known for the loaded model (session or stored). */
export async function adapterBySha(sha256: string): Promise<LoraAdapter> {
  for (const e of [await trainedEntry(), loadedEntry(), ...offeredFor(currentModel())]) if (e && e.info.sha256 === sha256) return e.adapter;
  const m = currentModel();
  const cached = storedCache.get(sha256);
  if (cached && m) return cached;
  const rec = await getAdapter(sha256).catch(() => undefined);
  if (rec && m) {
    if (rec.baseModel !== m.id) throw new Error(`adapter "${rec.name}" was made for ${rec.baseModel}; the loaded model is ${m.id}`);
    const a = loadPeftAdapter(m.decoder.config, rec.files.adapterConfig, rec.files.safetensors, { config: `${rec.name}/adapter_config.json`, weights: `${rec.name}/adapter_model.safetensors` });
    storedCache.set(sha256, a);
    return a;
  }
  throw new Error(`adapter ${sha256.slice(0, 12)}… is not available: train it in the Train view or load its PEFT files (for the loaded model) first`);
}

/** Hash of the adapter chosen in the UI for plain generation, or null. */
export async function selectedAdapterSha(): Promise<string | null> {
  if (selected === 'trained') return (await trainedEntry())?.info.sha256 ?? null;
  if (selected === 'loaded') return loadedEntry()?.info.sha256 ?? null;
  return null;
}

/**
 * Runs `fn` with the adapter `sha256` merged into the loaded decoder (null: the base weights), then
 * restores the base weights. Callers run one thing at a time on the decoder.
 */
export async function withAdapter<T>(sha256: string | null | undefined, fn: () => Promise<T>): Promise<T> {
  const m = currentModel();
  if (!m) throw new Error('No model is loaded in the engine: load one in the Models view first.');
  const { device } = await gpuContext();
  if (!sha256) { restoreBase(device, m.decoder); return fn(); }
  await applyAdapter(device, m.decoder, await adapterBySha(sha256), sha256);
  try { return await fn(); } finally { restoreBase(device, m.decoder); }
}

export const adapterApi = {
  async adapterStatus(): Promise<AdapterStatus> {
    const t = await trainedEntry(); const l = loadedEntry(); const m = currentModel();
    const stored = m ? (await listAdapters(m.id).catch(() => [])).map(storedInfo) : [];
    return { selected, ...(t ? { trained: t.info } : {}), ...(l ? { loaded: l.info } : {}), stored, bundled: offeredFor(m).map((o) => o.info) };
  },
  /** Every stored adapter (any base model), newest first, without its files. */
  async listStoredAdapters(): Promise<AdapterSummaryRow[]> {
    return (await listAdapters()).map(({ files, ...rest }) => ({ ...rest, bytes: files.adapterConfig.length + files.safetensors.byteLength }));
  },
  async renameStoredAdapter(sha256: string, name: string): Promise<void> { await renameAdapter(sha256, name); },
  async deleteStoredAdapter(sha256: string): Promise<void> { storedCache.delete(sha256); await deleteAdapter(sha256); },
  /** The PEFT files of a stored adapter (download / export). */
  async storedAdapterFiles(sha256: string): Promise<{ name: string; adapterConfig: string; safetensors: Uint8Array }> {
    const rec = await getAdapter(sha256);
    if (!rec) throw new Error(`adapter ${sha256.slice(0, 12)}… is not stored`);
    return { name: rec.name, ...rec.files };
  },
  /** Chooses the adapter for plain generation. */
  async useAdapter(choice: AdapterChoice): Promise<AdapterStatus> {
    if (choice === 'trained' && !(await trainedEntry())) throw new Error('no adapter trained for the loaded model in this session');
    if (choice === 'loaded' && !loadedEntry()) throw new Error('no PEFT adapter loaded for the loaded model');
    selected = choice;
    return adapterApi.adapterStatus();
  },
  /** Loads a PEFT adapter (adapter_config.json text, adapter_model.safetensors bytes) for the loaded model. */
  async loadAdapterFiles(configJson: string, safetensors: Uint8Array, names?: { config: string; weights: string }): Promise<AdapterInfo> {
    const m = currentModel();
    if (!m) throw new Error('No model is loaded in the engine: load the adapter\'s base model in the Models view first.');
    const adapter = loadPeftAdapter(m.decoder.config, configJson, safetensors, names);
    const sha256 = await adapterHash(adapter);
    const info: AdapterInfo = { kind: 'loaded', sha256, label: `${names?.weights ?? 'PEFT file'} (${loraRankLabel(adapter)}, ${sha256.slice(0, 8)})`, r: adapter.r, targetModules: [...adapter.targetModules] };
    loaded = { adapter, info, modelId: m.id };
    await saveImportedAdapter(adapter, m.id, names?.weights ? `imported ${names.weights}` : 'imported PEFT adapter', m.info.params).catch(() => undefined);
    return info;
  },
  /** Offers a PEFT adapter for the loaded model without storing it (the bundled student's committed
   *  adapters: listed in adapterStatus().bundled for this page; keepAdapter stores one on request). */
  async offerAdapterFiles(configJson: string, safetensors: Uint8Array, label: string): Promise<AdapterInfo> {
    const m = currentModel();
    if (!m) throw new Error('No model is loaded in the engine: load the adapter\'s base model in the Models view first.');
    const adapter = loadPeftAdapter(m.decoder.config, configJson, safetensors, { config: `${label}/adapter_config.json`, weights: label });
    const sha256 = await adapterHash(adapter);
    const info: AdapterInfo = { kind: 'bundled', sha256, label, r: adapter.r, targetModules: [...adapter.targetModules] };
    offered.set(sha256, { adapter, info, modelId: m.id });
    return info;
  },
  /** Stores an offered adapter in the library (the user keeps it). */
  async keepAdapter(sha256: string): Promise<void> {
    const o = offered.get(sha256);
    const m = currentModel();
    if (!o || !m || o.modelId !== m.id) throw new Error(`adapter ${sha256.slice(0, 12)}… is not offered for the loaded model`);
    await saveImportedAdapter(o.adapter, m.id, o.info.label, m.info.params);
  },
};
