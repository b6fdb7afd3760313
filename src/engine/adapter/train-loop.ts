// The LoRA training loop over token ids and per-token loss weights (the engine never sees traces):
// mini-batches of `batchSize` sequences per optimiser step, packed into micro-batches of at most
// `microBatchTokens` rows (no padding: ops/attention-packed.ts), gradients accumulated over the
// micro-batches of a step; AdamW with linear warmup and cosine decay; a held-out validation loss
// every `evalEvery` steps; progress every step (loss by segment kind, lr, grad norm, tokens/s, GPU
// bytes); pause, resume, cancel; checkpoints every `checkpointEvery` steps (adapter, AdamW moments,
// step, RNG state, data cursor; also when a pause begins) from which a run continues exactly as if
// never interrupted. `weightsAt` lets a caller change the loss weights by step (a curriculum).
//   step loss = (1/B) · Σ_{seq in batch} Σ_t w_t · (CE_t + λ_KL · KL_t)   (each sequence's weights as given;
//   KL_t to the teacher's top-k where a sequence carries it, ops/kl-topk.ts)
import type { GpuContext } from '../device/gpu-context.ts';
import type { TrainCheckpoint } from '../../domain/train.ts';
import { FNV_OFFSET, fnv1aWords } from '../../lib/hash.ts';
import { SeededRng } from '../../lib/rng.ts';
import type { Decoder } from '../model/decoder.ts';
import { type LoraAdapter, createLoraAdapter, type LoraTarget } from './lora.ts';
import { LoraAdamW } from './optimizer.ts';
import { LoraTrainPass, type PackedBatch } from './train-pass.ts';

/** Segment kind codes of `TrainSequence.kinds`. */
export const KIND_NONE = 0; export const KIND_STRATEGY = 1; export const KIND_TACTICS = 2; export const KIND_ANSWER = 3;
export type LossKind = 'strategy' | 'tactics' | 'answer';
const KIND_NAMES: Record<number, LossKind> = { 1: 'strategy', 2: 'tactics', 3: 'answer' };

/** One training sequence: ids, the target predicted at each position (-1: none) and its weight. */
export interface TrainSequence {
  ids: readonly number[];
  targets: readonly number[];
  weights: readonly number[];
  /** segment kind of each position's target (KIND_*), for loss-by-kind progress */
  kinds?: ArrayLike<number>;
  /** the teacher's top-k at each position (T·k student ids, -1 = none, and log-probs; k = settings.kl.k) */
  teacher?: { ids: ArrayLike<number>; logprobs: ArrayLike<number> };
}

export interface LoopSettings {
  /** optimiser steps */
  steps: number;
  /** sequences per optimiser step */
  batchSize: number;
  /** rows per packed micro-batch (the pass's capacity; the longest sequence must fit) */
  microBatchTokens: number;
  lr: number;
  /** linear warmup from lr/warmup to lr over this many steps, then cosine decay to lr·minLrRatio */
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** validation loss every N steps (and after the last, or where a cancel stopped); 0 = never */
  evalEvery: number;
  /** checkpoint every N steps; 0 = never */
  checkpointEvery: number;
  /** shuffles the data order (and initialises A when the loop creates the adapter) */
  seed: number;
  /** adapter the loop creates when hooks.adapter is not given */
  lora: { r: number; alpha: number; targetModules: LoraTarget[] };
  /** keep only layer inputs, recompute per layer (default: by size, see train-pass.ts) */
  recompute?: boolean;
  /** KL to the teacher's top-k (k entries per position) for sequences that carry `teacher`, weight lambda·w_t */
  kl?: { k: number; lambda: number };
}

export const DEFAULT_LOOP_SETTINGS: LoopSettings = {
  steps: 100, batchSize: 8, microBatchTokens: 1024, lr: 1e-3, warmupSteps: 10, minLrRatio: 0.1, weightDecay: 0.01, maxGradNorm: 1,
  evalEvery: 25, checkpointEvery: 0, seed: 0, lora: { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] },
};

/** Learning rate of optimiser step `step` (1-based): linear warmup, then cosine to lr·minLrRatio. */
export function scheduledLr(s: Pick<LoopSettings, 'lr' | 'warmupSteps' | 'minLrRatio' | 'steps'>, step: number): number {
  if (step <= s.warmupSteps) return (s.lr * step) / Math.max(1, s.warmupSteps);
  const span = Math.max(1, s.steps - s.warmupSteps);
  const p = Math.min(1, (step - s.warmupSteps) / span);
  return s.lr * (s.minLrRatio + (1 - s.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

export interface StepProgress {
  step: number;
  steps: number;
  /** step loss (weighted, mean over the batch's sequences) */
  loss: number;
  /** mean token CE per segment kind in this step (NaN where the batch has none) */
  lossByKind: Record<LossKind, number>;
  lr: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** rows (tokens) of this step, and per second of wall time */
  tokens: number;
  tokensPerSec: number;
  microBatches: number;
  msPerStep: number;
  epoch: number;
  /** live GPU bytes of the model, the pass and the optimiser */
  gpuBytes: number;
}

export type { TrainCheckpoint } from '../../domain/train.ts';

export interface LoopHooks {
  onProgress?: (p: StepProgress) => void;
  onEval?: (e: { step: number; loss: number }) => void;
  /** awaited: the loop waits for the checkpoint to be stored */
  onCheckpoint?: (c: TrainCheckpoint) => void | Promise<void>;
  /** polled between micro-batches */
  isCancelled?: () => boolean;
  /** while true the loop waits (between steps); a pause that begins stores a checkpoint first */
  isPaused?: () => boolean;
  /** validation loss before the first step too (valLosses[0].step = 0; not when resuming: it is in the checkpoint) */
  validateAtStart?: boolean;
  /** loss weights of sequence i at optimiser step `step` instead of its own (same length; e.g. a curriculum) */
  weightsAt?: (step: number, i: number) => readonly number[];
  /** held-out sequences for the validation loss */
  validation?: readonly TrainSequence[];
  /** the adapter to train (e.g. a sparse placement); default a fresh one from settings.lora */
  adapter?: LoraAdapter;
  resumeFrom?: TrainCheckpoint;
  baseModel?: string;
}

export interface LoopSummary {
  steps: number;
  cancelled: boolean;
  sequences: number;
  /** trainable A and B parameters */
  params: number;
  losses: number[];
  valLosses: Array<{ step: number; loss: number }>;
  tokens: number;
  tokensPerSec: number;
  msPerStep: number;
  /** the step the run resumed after (0: from the start) */
  resumedAt: number;
  peakGpuBytes: number;
  recompute: boolean;
}

export function checkLoopSettings(s: LoopSettings): void {
  const int = (v: number, lo: number, f: string) => { if (!Number.isInteger(v) || v < lo) throw new Error(`training setting "${f}" must be an integer >= ${lo}, got ${v}`); };
  int(s.steps, 1, 'steps'); int(s.batchSize, 1, 'batchSize'); int(s.microBatchTokens, 2, 'microBatchTokens');
  int(s.warmupSteps, 0, 'warmupSteps'); int(s.evalEvery, 0, 'evalEvery'); int(s.checkpointEvery, 0, 'checkpointEvery');
  if (!(s.lr > 0 && s.lr < 1)) throw new Error(`training setting "lr" must be in (0, 1), got ${s.lr}`);
  if (!(s.minLrRatio >= 0 && s.minLrRatio <= 1)) throw new Error(`training setting "minLrRatio" must be in [0, 1], got ${s.minLrRatio}`);
  if (!(s.weightDecay >= 0)) throw new Error(`training setting "weightDecay" must be >= 0, got ${s.weightDecay}`);
  if (!(s.maxGradNorm >= 0)) throw new Error(`training setting "maxGradNorm" must be >= 0 (0 = no clipping), got ${s.maxGradNorm}`);
}

function checkSequences(seqs: readonly TrainSequence[], cap: number, V: number, what: string, k?: number): void {
  seqs.forEach((q, i) => {
    const n = q.ids.length;
    if (n < 1) throw new Error(`${what} ${i}: no tokens`);
    if (n > cap) throw new Error(`${what} ${i} has ${n} tokens, more than microBatchTokens ${cap} (raise it or truncate the sequence)`);
    if (q.targets.length !== n || q.weights.length !== n) throw new Error(`${what} ${i}: ids (${n}), targets (${q.targets.length}) and weights (${q.weights.length}) must have one entry per position`);
    for (const y of q.targets) if (!(Number.isInteger(y) && y >= -1 && y < V)) throw new Error(`${what} ${i}: target ${y} outside -1..${V - 1}`);
    if (q.teacher && (!k || q.teacher.ids.length !== n * k || q.teacher.logprobs.length !== n * k)) throw new Error(`${what} ${i}: teacher top-k needs settings.kl and ${n}·${k ?? 'k'} ids and log-probs, got ${q.teacher.ids.length}`);
  });
}

/** Packs sequences (indices into seqs) into micro-batches of at most cap rows, first-fit decreasing. */
export function packMicroBatches(lens: readonly number[], idx: readonly number[], cap: number): number[][] {
  const sorted = [...idx].sort((a, b) => lens[b] - lens[a] || a - b);
  const bins: Array<{ used: number; items: number[] }> = [];
  for (const i of sorted) {
    const bin = bins.find((b) => b.used + lens[i] <= cap);
    if (bin) { bin.used += lens[i]; bin.items.push(i); } else bins.push({ used: lens[i], items: [i] });
  }
  return bins.map((b) => b.items);
}

function packed(seqs: readonly TrainSequence[], items: readonly number[], scale: number, kl: LoopSettings['kl'], weightsOf: (i: number) => readonly number[] = (i) => seqs[i].weights): PackedBatch & { kinds: number[] } {
  const b: PackedBatch & { kinds: number[]; lengths: number[] } = { ids: [], targets: [], weights: [], lengths: [], kinds: [] };
  const tk = kl && items.some((i) => seqs[i].teacher) ? { k: kl.k, ids: [] as number[], logprobs: [] as number[], weights: [] as number[] } : undefined;
  for (const i of items) {
    const q = seqs[i];
    const w = weightsOf(i);
    if (w.length !== q.ids.length) throw new Error(`weights of sequence ${i} at this step have ${w.length} entries, the sequence ${q.ids.length} tokens`);
    b.ids.push(...q.ids); b.targets.push(...q.targets); b.weights.push(...w.map((x) => x * scale));
    b.lengths.push(q.ids.length);
    for (let t = 0; t < q.ids.length; t++) b.kinds.push(q.kinds ? q.kinds[t] : KIND_NONE);
    if (tk && kl) {
      const T = q.ids.length;
      for (let t = 0; t < T; t++) {
        let any = false;
        for (let k = 0; k < kl.k; k++) {
          const id = q.teacher ? q.teacher.ids[t * kl.k + k] : -1;
          tk.ids.push(id); tk.logprobs.push(q.teacher && id >= 0 ? q.teacher.logprobs[t * kl.k + k] : 0);
          if (id >= 0) any = true;
        }
        tk.weights.push(any ? kl.lambda * w[t] * scale : 0);
      }
    }
  }
  if (tk) b.teacher = tk;
  return b;
}

/** A cheap fingerprint of the data and the settings that shape the trajectory: FNV-1a over each
 *  sequence's length and ids (the same value the loop's checkpoints have always stored). */
function runFingerprint(seqs: readonly TrainSequence[], s: LoopSettings): string {
  let h = FNV_OFFSET;
  for (const q of seqs) h = fnv1aWords(q.ids, fnv1aWords([q.ids.length], h));
  return `${seqs.length}:${h.toString(16)}:${JSON.stringify([s.steps, s.batchSize, s.microBatchTokens, s.lr, s.warmupSteps, s.minLrRatio, s.weightDecay, s.maxGradNorm, s.seed, ...(s.kl ? [s.kl] : [])])}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Trains `adapter` (or a fresh one) on `sequences`; returns the trained adapter (read back) and a summary. */
export async function trainLora(ctx: GpuContext, decoder: Decoder, sequences: readonly TrainSequence[], s: LoopSettings, hooks: LoopHooks = {}): Promise<{ adapter: LoraAdapter; summary: LoopSummary }> {
  checkLoopSettings(s);
  const c = decoder.config;
  if (sequences.length === 0) throw new Error('no training sequences: the dataset is empty');
  if (s.microBatchTokens > c.maxPositionEmbeddings * 64) throw new Error(`microBatchTokens ${s.microBatchTokens} is too large`);
  checkSequences(sequences, Math.min(s.microBatchTokens, c.maxPositionEmbeddings), c.vocabSize, 'training sequence', s.kl?.k);
  const val = hooks.validation ?? [];
  checkSequences(val, Math.min(s.microBatchTokens, c.maxPositionEmbeddings), c.vocabSize, 'validation sequence', s.kl?.k);
  const fp = runFingerprint(sequences, s);
  const ck = hooks.resumeFrom;
  if (ck && ck.fingerprint !== fp) throw new Error('this checkpoint belongs to another run (different sequences or settings): start a new run instead');

  const rng = new SeededRng(s.seed);
  const adapter = hooks.adapter ?? createLoraAdapter(c, { ...s.lora, baseModel: hooks.baseModel }, () => rng.next());
  const lens = sequences.map((q) => q.ids.length);
  const cap = Math.min(s.microBatchTokens, Math.max(...lens, ...val.map((q) => q.ids.length)) * s.batchSize);
  const useKl = s.kl && [...sequences, ...val].some((q) => q.teacher) ? s.kl : undefined;
  const pass = new LoraTrainPass(ctx, decoder, adapter, cap, { recompute: s.recompute, klTopK: useKl?.k });
  let opt: LoraAdamW | undefined;
  try {
    opt = new LoraAdamW(ctx, pass, { lr: s.lr, maxGradNorm: s.maxGradNorm, weightDecay: s.weightDecay });
    let order: number[] = []; let cursor = 0; let epoch = 0; let startStep = 1;
    const losses: number[] = []; const valLosses: Array<{ step: number; loss: number }> = [];
    if (ck) {
      if (ck.adapter.modules.length !== adapter.modules.length) throw new Error(`checkpoint has ${ck.adapter.modules.length} adapter modules, the run ${adapter.modules.length}`);
      ck.adapter.modules.forEach((m, i) => {
        const am = adapter.modules[i];
        if (m.path !== am.path || m.A.length !== am.A.length || m.B.length !== am.B.length) throw new Error(`checkpoint module ${i} (${m.path}) does not match the adapter's ${am.path}`);
        am.A.set(m.A); am.B.set(m.B); am.gate = m.gate;
      });
      pass.uploadAdapter(adapter);
      opt.importState(ck.adam);
      rng.restore(ck.rng); order = [...ck.order]; cursor = ck.cursor; epoch = ck.epoch;
      losses.push(...ck.losses); valLosses.push(...ck.valLosses);
      startStep = ck.step + 1;
    }
    const nextIndex = (): number => {
      if (cursor >= order.length) { // a fresh seeded shuffle per epoch (Fisher-Yates)
        order = sequences.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
        cursor = 0; epoch++;
      }
      return order[cursor++];
    };
    const gpuBytes = () => decoder.gpuBytes + pass.gpuBytes + (opt?.gpuBytes ?? 0);
    let peak = gpuBytes();
    const validate = async (step: number) => {
      if (!val.length) return;
      let sum = 0;
      for (const mb of packMicroBatches(val.map((q) => q.ids.length), val.map((_, i) => i), cap)) sum += (await pass.forwardLoss(packed(val, mb, 1, useKl))).loss;
      const loss = sum / val.length;
      valLosses.push({ step, loss });
      hooks.onEval?.({ step, loss });
    };

    if (!ck && hooks.validateAtStart) await validate(0);
    let cancelled = false; let tokens = 0; let busyMs = 0; let stepsRun = 0;
    for (let step = startStep; step <= s.steps && !cancelled; step++) {
      while (hooks.isPaused?.() && !hooks.isCancelled?.()) await sleep(50);
      if (hooks.isCancelled?.()) { cancelled = true; break; }
      const t0 = performance.now();
      const items = Array.from({ length: s.batchSize }, nextIndex);
      const mbs = packMicroBatches(lens, items, cap);
      let loss = 0; let rows = 0;
      const kindSum = [0, 0, 0, 0]; const kindN = [0, 0, 0, 0];
      for (let i = 0; i < mbs.length; i++) {
        const b = packed(sequences, mbs[i], 1 / s.batchSize, useKl, hooks.weightsAt ? (j) => hooks.weightsAt!(step, j) : undefined);
        const r = await pass.run(b, { readGrads: false, accumulate: i > 0 });
        loss += r.loss; rows += b.ids.length;
        for (let t = 0; t < b.ids.length; t++) {
          const k = b.kinds[t]; const w = b.weights[t];
          if (k > 0 && w > 0) { kindSum[k] += r.rowLosses[t] / w; kindN[k]++; }
        }
      }
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step}: loss is ${loss} (lower lr)`);
      const lr = scheduledLr(s, step);
      opt.step(lr);
      const gradNorm = await opt.lastGradNorm();
      const ms = performance.now() - t0;
      busyMs += ms; tokens += rows; stepsRun++;
      losses.push(loss);
      peak = Math.max(peak, gpuBytes());
      const lossByKind = { strategy: NaN, tactics: NaN, answer: NaN } as Record<LossKind, number>;
      for (const k of [1, 2, 3]) if (kindN[k]) lossByKind[KIND_NAMES[k]] = kindSum[k] / kindN[k];
      hooks.onProgress?.({ step, steps: s.steps, loss, lossByKind, lr, gradNorm, tokens: rows, tokensPerSec: rows / (ms / 1000), microBatches: mbs.length, msPerStep: ms, epoch, gpuBytes: gpuBytes() });
      if (s.evalEvery > 0 && (step % s.evalEvery === 0 || step === s.steps)) await validate(step);
      const due = s.checkpointEvery > 0 && (step % s.checkpointEvery === 0 || step === s.steps);
      if (hooks.onCheckpoint && (due || (hooks.isPaused?.() && !hooks.isCancelled?.()))) {
        const a = await pass.readAdapter();
        await hooks.onCheckpoint({
          version: 1, step,
          adapter: { modules: a.modules.map((m) => ({ path: m.path, A: Float32Array.from(m.A), B: Float32Array.from(m.B), gate: m.gate })) },
          adam: await opt.exportState(), rng: rng.save(), order: [...order], cursor, epoch,
          losses: [...losses], valLosses: valLosses.map((v) => ({ ...v })), fingerprint: fp,
        });
      }
    }
    // a cancelled run's validation loss where it stopped (the adapter it returns)
    if (cancelled && losses.length && valLosses.at(-1)?.step !== losses.length) await validate(losses.length);
    const trained = await pass.readAdapter();
    const summary: LoopSummary = {
      steps: losses.length, cancelled, sequences: sequences.length, params: trained.modules.reduce((n, m) => n + m.A.length + m.B.length, 0),
      losses, valLosses, tokens, tokensPerSec: busyMs > 0 ? tokens / (busyMs / 1000) : 0, msPerStep: stepsRun ? busyMs / stepsRun : 0,
      resumedAt: startStep - 1, peakGpuBytes: peak, recompute: pass.recompute,
    };
    return { adapter: trained, summary };
  } finally {
    opt?.dispose();
    pass.dispose();
  }
}
