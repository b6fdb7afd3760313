// The engine's public surface: what the layers above it (features, storage, workers, app) may use.
// Everything else under src/engine is internal. Node-only helpers (model/node-source.ts) stay out of
// this entry so that browser bundles never pull node: modules; scripts and tests import them directly.

// devices
export { NoWebGpuError, requestGpuContext, type DeviceReport, type GpuContext } from './device/gpu-context.ts';
export { type DecodeVariant, type PrefillVariant, defaultDecodeVariant, measureMatmulVariants } from './device/kernel-choice.ts';
export { vectorAddSelfTest, type SelfTestResult } from './selftest.ts';
export { readBack } from './runtime/buffers.ts';

// models: configs, architectures, loading, memory
export type { Architecture, HostTensor, LoadProgress, ModelConfig } from './model/types.ts';
export { ModelConfigError, SUPPORTED_ARCHITECTURES, countParams, parseModelConfig } from './model/config.ts';
export { type ModelBlock, describeModel } from './model/block.ts';
export type { LayerSpec, LinearSpec, RopeSpec } from './model/arch.ts';
export { CachedCopyError, LoadCancelledError, ModelSourceError, openModel, type FileAccess, type ModelSource } from './model/sources.ts';
export { expectedTensors } from './model/weights.ts';
export { createDecoder, type Decoder } from './model/decoder.ts';
export { SUGGESTED_MODELS, deviceBudget, estimateGpuBytes, type MemoryBudget, type MemoryEstimate } from './model/memory.ts';
export { loadTokenizer, type HfTextTokenizer } from './tokenizer/hf-tokenizer.ts';
export { THINK_CLOSE, THINK_OPEN, promptThinking, type ChatTemplateOptions, type PromptThinking, type ThinkingFormat } from './tokenizer/thinking.ts';

// generation
export type { BatchDecodeSession, BatchFeed, ChatMessage, DecodeSession, SampledToken, SamplingOptions, TextTokenizer } from './generation/types.ts';
export { type CancelFlag, type GenerateRequest, type GenerateResult, type StreamedToken, generate } from './generation/generate.ts';
export { type BatchLane, asBatchSession, decodeTogether, generateBatch } from './generation/batch.ts';
export { contextFull } from './generation/context-stop.ts';

// adapters: LoRA, placement, training, merge, export
export { LORA_TARGETS, type LoraAdapter, type LoraModuleSpec, type LoraTarget, createLoraAdapter, exportPeftAdapter, loadPeftAdapter, loraParamCount, loraRankLabel, peftPlacementConfig } from './adapter/lora.ts';
export { type LossSegment, type TrainBatch, segmentBatch } from './adapter/batch.ts';
export { planPlacement } from './adapter/importance.ts';
export { type PlacementCandidate, type PlacementPlan, budgetReport } from './adapter/placement.ts';
export { DEFAULT_LOOP_SETTINGS, KIND_ANSWER, KIND_NONE, KIND_STRATEGY, KIND_TACTICS, type LoopHooks, type LoopSettings, type StepProgress, type TrainCheckpoint, type TrainSequence, trainLora } from './adapter/train-loop.ts';
export { DEFAULT_PLACEMENT, checkLoraSettings, type LoraTrainSettings } from './adapter/train-settings.ts';
export { adapterHash, applyAdapter, restoreBase } from './adapter/merge.ts';
export { exportGgufParts } from './adapter/gguf-export.ts';
