// Evaluation runs and per-item results (stored in IndexedDB: evalRuns / evalItems), and the
// subset and score shapes they hold. Domain types: importable from every layer.

export interface EvalConfig {
  evalSet: string;
  subset: SubsetSpec;
  maxTokens: number;
  seed: number;
  temperature: number;
  topP: number;
  /** Samples per item (k of maj@k); 1 = pass@1 only. */
  samples: number;
  system?: string;
  /** The chat template's `enable_thinking` (Qwen3, SmolLM3); absent = the template's default. */
  thinking?: boolean;
  /** What generated: model name, adapter name, intervention settings (shown, compared). */
  model: string;
  /** Engine id of the model ("bundled:tiny", a hub id), for links into the Playground. */
  modelId?: string | null;
  adapter?: string | null;
  interventions?: Record<string, unknown> | null;
  /** Thinking budget (tokens) when budget forcing is on; runs differing only here form the curve. */
  budget?: number | null;
  /** Item keys of the resolved subset, fixed at start so a resume evaluates the same items. */
  itemKeys: string[];
}

export interface EvalSampleResult {
  prediction: string | null;
  correct: boolean;
  reason: string;
  tokens: number;
  stop: string;
  text: string;
  /** The thinking (inside <think>..</think>) and the reply after it, recorded apart; absent when
   *  the response has no thinking. The answer is read from `reply` only. */
  thinking?: string;
  reply?: string;
  /** Tokens of the thinking, when the generator counted them (tokens - thinkingTokens = reply). */
  thinkingTokens?: number;
}

/** One evaluated item (key [runId, itemKey]: storing it twice overwrites, never double counts). */
export interface EvalItemRecord {
  runId: string;
  itemKey: string;
  index: number;
  problem: string;
  reference: string;
  level?: string;
  subject?: string;
  /** Prediction/verdict of the first sample (pass@1), or of the majority when k > 1. */
  prediction: string | null;
  correct: boolean;
  reason: string;
  samples: EvalSampleResult[];
  majority: { prediction: string | null; votes: number; correct: boolean; reason: string };
  /** Generated tokens summed over samples, and wall time for the item. */
  tokens: number;
  ms: number;
  finishedAt: number;
}

export type EvalStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface EvalSummary {
  score: Score;
  byLevel: { key: string; score: Score }[];
  bySubject: { key: string; score: Score }[];
  done: number;
  total: number;
  badRows: string[];
  error?: string;
  elapsedMs: number;
}

export interface EvalRunRecord {
  id: string;
  createdAt: number;
  evalSet: string;
  model: string;
  status: EvalStatus;
  config: EvalConfig;
  summary?: EvalSummary;
}

export interface EvalProgress {
  runId: string;
  done: number;
  total: number;
  correct: number;
  /** Estimated ms left (null until one item finished). */
  etaMs: number | null;
  elapsedMs: number;
  lastItem?: { key: string; correct: boolean; reason: string };
  status: EvalStatus;
  /** Why the run failed, when status is 'failed'. */
  error?: string;
}

export type SubsetSpec =
  | { kind: 'all' }
  | { kind: 'random'; n: number; seed: number }
  | { kind: 'level'; levels: string[]; n?: number; seed?: number }
  | { kind: 'subject'; subjects: string[]; n?: number; seed?: number };

export interface Interval { low: number; high: number }

export interface Score {
  n: number;
  /** Mean over items of the fraction of correct samples (= accuracy when k = 1). */
  pass1: number;
  pass1Interval: Interval;
  /** Fraction of items whose majority answer is correct. */
  majK: number;
  majInterval: Interval;
  k: number;
  meanTokens: number;
  /** Unbiased pass@k and maj@k for k = 1, 2, 4, .. up to the fewest samples of an item (src/eval/estimators.ts). */
  atK?: { k: number; pass: number; maj: number }[];
}
