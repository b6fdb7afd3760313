// Traces and the pools that hold them (stored in IndexedDB by src/data/; see db.ts). Domain types:
// importable from every layer. Add optional fields freely; changing a key path or an index needs
// a new schema version (src/data/db.ts).

/** Span of a trace's `reasoning` text (UTF-16 offsets, end exclusive). */
export interface Segment {
  /** 'check': a line that verifies or corrects a step ("Check: 42 - 30 = 12", "Wait, ..."), inside the tactics */
  kind: 'strategy' | 'tactic' | 'check' | 'answer';
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
  kind: 'bundled' | 'file' | 'huggingface' | 'teacher' | 'world';
  /** File name, dataset id or teacher job id. */
  name: string;
  format?: string;
  provenance?: string;
  /** Files: name, size and a hash of the first and last bytes, so an interrupted import of the same file can continue. */
  fingerprint?: string;
  /** The shape (or field mapping) the import used, so a continued import reads rows the same way. */
  shape?: string;
  mapping?: Record<string, string>;
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
