// The Reason1K selection: its configuration, per-trace decisions and the stored result.

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
