// Record types for the one IndexedDB database ("reasonbridge", src/data/db.ts). Shared by the Data
// view, the data worker, evaluation, the playground and teacher jobs. Add optional fields freely;
// changing a key path or an index needs a new schema version (see db.ts).

/** Span of a trace's `reasoning` text (UTF-16 offsets, end exclusive). */
export interface Segment {
  kind: 'strategy' | 'tactic' | 'answer';
  start: number;
  end: number;
  /** Who placed it: teacher tags win over explicit markers, markers over the heuristic; 'user' = edited. */
  source: 'teacher' | 'marker' | 'heuristic' | 'user';
}

export interface TokenCounts {
  problem: number;
  reasoning: number;
  answer: number;
  /** 'estimate' (chars/4 heuristic) or the tokenizer that counted them. */
  method: string;
}

/** Teacher's top-k log-probabilities per reasoning token, when the teacher API returned them. */
export interface TeacherTopK {
  k: number;
  tokens: { token: string; logprob: number; top: { token: string; logprob: number }[] }[];
}

export interface Trace {
  /** `${poolId}:${seq}` */
  id: string;
  poolId: string;
  /** Order within the pool (import order, 0-based). */
  seq: number;
  problem: string;
  /** Teacher reasoning (thinking trajectory / worked solution). */
  reasoning: string;
  /** The trace's final answer (extracted or given). */
  answer: string;
  referenceAnswer?: string;
  domain: string;
  /** Dataset / file the trace came from. */
  source: string;
  teacher: string;
  tokenCounts: TokenCounts;
  teacherTopK?: TeacherTopK;
  segments?: Segment[];
  /** Stated difficulty level (MATH 1..5), if any. */
  level?: number;
  /** Everything else from the source row that is not mapped (kept for export). */
  meta: Record<string, unknown>;
}

export interface PoolSource {
  kind: 'bundled' | 'file' | 'huggingface' | 'teacher';
  /** File name, dataset id or teacher job id. */
  name: string;
  format?: string;
  provenance?: string;
}

export interface ImportIssue {
  /** 1-based line (JSONL) or array index + 1 (JSON) or row + 1 (Parquet); 0 = whole file. */
  line: number;
  field?: string;
  message: string;
}

export interface Pool {
  id: string;
  name: string;
  source: PoolSource;
  createdAt: number;
  counts: { traces: number; rejected: number };
  /** 'importing' while a worker writes it; a crashed import stays 'importing' and is offered for cleanup. */
  status: 'importing' | 'ready';
  /** First issues of the last import (capped), for the UI. */
  issues?: ImportIssue[];
}

export type DropReason =
  | 'no-answer'
  | 'wrong-answer'
  | 'image'
  | 'truncated'
  | 'repetitive'
  | 'too-short'
  | 'near-duplicate'
  | 'contaminated'
  | 'not-sampled';

export interface TraceDecision {
  kept: boolean;
  reason?: DropReason;
  /** Human-readable detail (e.g. "62% 8-gram overlap with math500 #test/algebra/1.json"). */
  detail?: string;
  difficulty: number;
  quality: number;
  length: number;
  domain: string;
  /** Rank within its domain by difficulty*length score (0 = hardest). */
  rank?: number;
}

export interface SelectionConfig {
  targetN: number;
  minReasoningChars: number;
  requireAnswer: boolean;
  /** Drop traces whose answer disagrees with the reference answer, where both exist. */
  requireCorrect: boolean;
  dropImageProblems: boolean;
  maxRepetition: number;
  /** Jaccard threshold of MinHash signatures over word shingles. */
  dedupThreshold: number;
  /** n for the decontamination n-grams (words, after normalisation). */
  decontamN: number;
  /** Fraction of a trace problem's n-grams found in one eval item that counts as contaminated. */
  decontamThreshold: number;
  /** Weights of difficulty and length in the sampling score. */
  difficultyWeight: number;
  lengthWeight: number;
  /** s1's within-domain weight base: weight = base^-rank. */
  rankBase: number;
}

export interface Selection {
  id: string;
  poolId: string;
  name: string;
  createdAt: number;
  config: SelectionConfig;
  seed: number;
  /** Kept trace ids in sampling order. */
  ids: string[];
  /** Per-trace scores and the reason kept/dropped, for every trace of the pool. */
  decisions: Record<string, TraceDecision>;
  counts: { pool: number; kept: number; dropped: Partial<Record<DropReason, number>> };
  /** 'student' when a loaded model's log-likelihood fed difficulty, else 'heuristic'. */
  difficultySource: 'student' | 'heuristic';
}

// ---- evaluation (evaluation helper owns the contents; typed helpers in src/data/eval-store.ts) ----
export interface EvalRun {
  id: string;
  createdAt: number;
  /** Bundled evaluation set id, e.g. 'math500'. */
  evalSet: string;
  model: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  config: Record<string, unknown>;
  summary?: Record<string, unknown>;
}

export interface EvalItem {
  runId: string;
  /** Stable key of the eval item within its set (e.g. MATH unique_id). */
  itemKey: string;
  [field: string]: unknown;
}

// ---- generation / intervention timelines (playground helper) ----
export interface GenRun {
  id: string;
  createdAt: number;
  seed: number;
  /** Event timeline; shape owned by the playground helper. */
  events: unknown[];
  [field: string]: unknown;
}

// ---- teacher trace jobs (teacher helper) ----
export interface TeacherJob {
  id: string;
  createdAt: number;
  status: string;
  /** Pool the job writes traces into. */
  poolId?: string;
  [field: string]: unknown;
}

export interface TeacherKey {
  /** Provider name, e.g. 'openai'. */
  provider: string;
  key: string;
  [field: string]: unknown;
}

export interface Setting {
  key: string;
  value: unknown;
}
