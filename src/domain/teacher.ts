// A teacher generation job as stored in IndexedDB (store `teacherJobs`; it never holds the key),
// the teacher configuration it carries, and a remembered key (store `teacherKeys`).

export type TeacherProvider = 'openai' | 'anthropic';

/** Which closed (or local) model answers, and how. The API key is never part of this object. */
export interface TeacherConfig {
  provider: TeacherProvider;
  /** OpenAI-compatible: e.g. https://api.openai.com/v1 (".../chat/completions" is appended).
   *  Anthropic: e.g. https://api.anthropic.com ("/v1/messages" is appended). */
  baseUrl: string;
  model: string;
  maxTokens: number;
  temperature?: number;
  /** OpenAI-compatible only: ask for this many top log-probs per token (0 = none). */
  topLogprobs?: number;
  /** Anthropic only: extended-thinking budget in tokens (0/undefined = off). */
  thinkingBudget?: number;
  /** Stream with server-sent events (default true). */
  stream?: boolean;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelPrice {
  /** Matched against the model id: exact, else the longest prefix wins. */
  model: string;
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface JobProblem {
  problem: string;
  /** Reference answer, when known: traces are graded against it. */
  reference?: string;
  domain?: string;
  level?: number;
  /** Where it came from (pool trace id or "pasted:<line>"). */
  origin: string;
}

export interface PromptTemplate {
  system: string;
  /** Must contain {{problem}}. */
  user: string;
}

export type JobStatus = 'created' | 'running' | 'paused' | 'cancelled' | 'done' | 'failed';

export interface JobErrorEntry {
  /** Unit = problemIndex * samples + sample (also the trace's seq in the pool). */
  seq: number;
  message: string;
  at: number;
  /** true: the unit was retried after this and may still succeed. */
  retry?: boolean;
}

export interface JobProgress {
  total: number;
  /** Units with a stored trace. */
  done: number;
  /** Of those, passed the quality gate. */
  passed: number;
  /** Units that failed for good in the last run (retried on resume). */
  failed: number;
  retries: number;
}

export interface TeacherJobRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  status: JobStatus;
  poolId: string;
  name: string;
  teacher: TeacherConfig;
  /** provider/model, written to every trace. */
  teacherName: string;
  template: PromptTemplate;
  problems: JobProblem[];
  samples: number;
  concurrency: number;
  prices: ModelPrice[];
  progress: JobProgress;
  usage: Usage;
  /** US$; null when the model has no price in the table. */
  cost: number | null;
  /** Latest errors, newest last, capped (MAX_JOB_ERRORS). Messages are key-free. */
  errors: JobErrorEntry[];
  /** Why the job stopped, when failed. */
  failure?: string;
}

/** A key remembered on this device (only after the user confirmed the warning in the Teacher panel). */
export interface TeacherKey {
  /** Slot: provider and API origin, e.g. "openai@https://openrouter.ai" (src/data/teacher-store.ts keySlot). */
  provider: string;
  /** Plain key: only in records of older versions (re-stored encrypted when read). */
  key?: string;
  /** Non-extractable AES-GCM key, IV and ciphertext of the API key (src/data/teacher-store.ts). */
  cryptoKey?: CryptoKey;
  iv?: Uint8Array;
  data?: ArrayBuffer;
  scheme?: 'aes-gcm-256';
  savedAt?: number;
}
