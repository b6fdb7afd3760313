// Adapter records: a trained or imported LoRA adapter kept in IndexedDB (src/data/adapter-store.ts)
// so that it survives a reload and is offered in the Playground and Evaluate Adapter selects.

/** One (layer, module) of the placement with its rank and alpha (PEFT rank_pattern / alpha_pattern). */
export interface AdapterPlacementModule { layer: number; target: string; r: number; alpha: number }

export interface AdapterRecord {
  /** content hash: SHA-256 of the PEFT config + safetensors bytes (src/engine/adapter/merge.ts adapterHash) */
  sha256: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  origin: 'trained' | 'imported';
  /** the student it was made for (model id as the Models view names it) */
  baseModel: string;
  /** the data it was trained on (pool or Reason1K selection), when trained here */
  source?: { poolId?: string; selectionId?: string };
  /** the training settings as given (structured-clonable) */
  settings?: Record<string, unknown>;
  placement: { mode: string; report: string; modules: AdapterPlacementModule[] };
  metrics?: { steps: number; lossBefore: number; lossAfter: number; params: number; baseParams: number; percentOfBase: number };
  /** the PEFT files (gates folded into B): the adapter itself */
  files: { adapterConfig: string; safetensors: Uint8Array };
}
