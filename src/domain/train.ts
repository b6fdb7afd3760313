// Training-run records: a checkpoint of the LoRA training loop (src/engine/adapter/train-loop.ts)
// and the IndexedDB row that keeps it across a reload (src/data/checkpoint-store.ts).

/** AdamW's step count and moments, per trainable tensor (f32, exact). */
export interface AdamWState { step: number; tensors: Array<{ name: string; m: Float32Array; v: Float32Array }> }

/** Everything a run needs to go on exactly where it stopped (structured-clonable, for IndexedDB). */
export interface TrainCheckpoint {
  version: 1;
  /** optimiser steps done */
  step: number;
  adapter: { modules: Array<{ path: string; A: Float32Array; B: Float32Array; gate: number }> };
  adam: AdamWState;
  /** shuffle RNG state, the current epoch's order and the position in it */
  rng: number;
  order: number[];
  cursor: number;
  epoch: number;
  losses: number[];
  valLosses: Array<{ step: number; loss: number }>;
  /** sequences and settings it belongs to (resume refuses another run's checkpoint) */
  fingerprint: string;
}

/** 'interrupted': the run stopped on an error (a lost device, a closed tab reads as 'running' or 'paused') */
export type TrainRunStatus = 'running' | 'paused' | 'interrupted' | 'cancelled' | 'done';

/** One run's latest checkpoint and what the worker needs to rebuild the run after a reload. */
export interface TrainCheckpointRecord {
  runId: string;
  createdAt: number;
  updatedAt: number;
  /** the student it trains (a model id as the Models view names it) */
  modelId: string;
  status: TrainRunStatus;
  /** the run's settings and data reference, as the worker received them (structured-clonable) */
  spec: Record<string, unknown>;
  checkpoint: TrainCheckpoint;
}
