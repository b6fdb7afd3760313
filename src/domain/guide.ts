// Settings of a guided-inference run and the timeline it records. The timeline is plain JSON
// (stored in IndexedDB, exported to a file, compared across runs): no class instances, no functions.

export interface GuideSampling {
  temperature: number;
  topP: number;
  /** Alternatives recorded per token. */
  topK: number;
  /** Hard cap on generated tokens per sample (inserted tokens included). */
  maxNewTokens: number;
}

/** Budget forcing (s1): a minimum and a maximum thinking length, in generated tokens. */
export interface BudgetForcing {
  /** While thinking is shorter, an end marker (EOS, `endMarkers`, the answer phrase) is discarded and `extension` appended. 0 = off. */
  minThinking: number;
  /** When thinking reaches it, `answerPhrase` is forced. 0 = off. */
  maxThinking: number;
  extension: string;
  answerPhrase: string;
  /** Extra end-of-thinking strings, e.g. "</think>". */
  endMarkers: string[];
  /** Tokens allowed after the answer phrase before the run stops. */
  maxAnswerTokens: number;
  /** s1's test-time scaling: suppress the end of thinking this many times (whatever its length), appending `extension` each time; 0 or absent = off. */
  waits?: number;
  /** Inserted right after the extension, so the continuation is a check the student learned (the
   *  world's reflective traces: "Wait, check: ..."); absent = the extension alone. */
  cue?: string;
}

export interface StrategyInjection {
  /** Where the plan came from: typed by the user, or the nearest Reason1K trace (its id). */
  source: 'typed' | 'reason1k';
  traceId?: string;
  plan: string;
}

export type VerifyAction = 'resample' | 'check' | 'mark';

export interface StepVerification {
  /** Steps whose confidence score is below this are acted on. */
  threshold: number;
  action: VerifyAction;
  /** Resample attempts per step (action 'resample'). */
  maxResamples: number;
  /** Inserted after a low-confidence step (action 'check'). */
  checkPhrase: string;
  /** A step with no boundary is closed (and checked) after this many tokens; 0 or absent = never. */
  maxStepTokens?: number;
  /** In a greedy run (temperature 0) a resampled step is drawn at this temperature: greedy decoding
   *  would redraw the very same step. Sampled runs resample at their own temperature. Default 0.7. */
  resampleTemperature?: number;
  /** What decides a step: its confidence (default), or a check line ("Check: c - b = a") the model
   *  writes after it (or writes after an inserted "Check:") whose result must give the step back; a
   *  step the check disagrees with is resampled (up to maxResamples). */
  by?: 'confidence' | 'check';
}

export interface SelfConsistency {
  /** Number of samples; the answer is the majority vote. */
  n: number;
}

export interface Interventions {
  budget?: BudgetForcing;
  strategy?: StrategyInjection;
  verify?: StepVerification;
  consistency?: SelfConsistency;
}

export interface GuideSettings {
  seed: number;
  sampling: GuideSampling;
  interventions: Interventions;
  /** The chat template's `enable_thinking` (Qwen3, SmolLM3); absent = the template's default. */
  thinking?: boolean;
}

// ---- the timeline ----

export interface AltRecord { id: number; text: string; logprob: number }

export interface TokenRecord {
  id: number;
  text: string;
  /** 'model' = sampled; 'inserted' = written by an intervention (no log-prob of its own). */
  source: 'model' | 'inserted';
  logprob: number | null;
  entropy: number | null;
  alternatives: AltRecord[];
  phase: 'thinking' | 'answer';
}

export interface Confidence {
  meanLogprob: number;
  meanEntropy: number;
  /** In [0, 1]: sqrt(exp(meanLogprob) * (1 - meanEntropy / ln V)). */
  score: number;
  /** Model tokens the measurement covers. */
  tokens: number;
}

export interface StepRecord {
  index: number;
  /** Token indices into the sample's tokens, end exclusive. */
  start: number;
  end: number;
  text: string;
  confidence: Confidence | null;
  /** How many times this step was resampled before it was kept. */
  resamples: number;
  verdict: 'ok' | 'low' | 'unchecked';
}

export type EventKind =
  | 'strategy'        // plan inserted at the start
  | 'extend'          // budget forcing: end marker discarded, extension appended
  | 'force-answer'    // budget forcing: thinking hit the maximum, answer phrase forced
  | 'resample'        // step verification: low-confidence step discarded and regenerated
  | 'restore'         // step verification: after k resamples, the best attempt put back
  | 'check'           // step verification: check phrase inserted
  | 'mark'            // step verification: low-confidence step only marked
  | 'stop';           // why the sample ended

export interface InterventionEvent {
  kind: EventKind;
  /** Token index in the sample's final tokens where it happened (insertions start here). */
  at: number;
  inserted?: string;
  discarded?: string;
  /** The measurement that triggered it, e.g. { thinkingTokens: 12, markerLogprob: -0.3 }. */
  measurement: Record<string, number | string>;
  /** Branch holding discarded tokens, if any. */
  branchId?: string;
  note: string;
}

/** A discarded path: a resampled step attempt (parent = its sample). */
export interface BranchRecord {
  id: string;
  sample: number;
  kind: 'resample';
  /** Token index in the parent where the branch starts. */
  at: number;
  tokens: TokenRecord[];
  text: string;
  confidence: Confidence | null;
}

export interface SampleRecord {
  index: number;
  /** Derived seed of this sample's stream. */
  seed: number;
  tokens: TokenRecord[];
  steps: StepRecord[];
  events: InterventionEvent[];
  branches: BranchRecord[];
  text: string;
  answer: string | null;
  stop: 'eos' | 'max-tokens' | 'max-answer' | 'context-full' | 'cancelled';
  /** Grade against the reference, when there is one. */
  correct?: boolean;
}

export interface VoteTally {
  answer: string | null;
  groups: { answer: string; count: number; samples: number[] }[];
  /** How equivalence was decided, e.g. 'grader' or 'exact-trimmed'. */
  equivalence: string;
}

/** Per step end: log p(target answer | text up to the step end) under the model. */
export interface AnswerTrace {
  target: string;
  points: { step: number; tokenEnd: number; logprob: number; /** some target tokens fell outside top-k: value is an upper bound */ bounded: boolean }[];
}

export interface Timeline {
  version: 1;
  promptTokens: number;
  /** Where the chat template left the reply: 'open' inside its `<think>` (R1-Distill), 'closed' after
   *  an empty thinking (Qwen3, thinking off); absent: neither (the model opens its thinking itself). */
  promptThinking?: 'open' | 'closed';
  samples: SampleRecord[];
  /** Index of the sample shown as the main line (first one agreeing with the vote). */
  main: number;
  vote: VoteTally | null;
  finalAnswer: string | null;
  reference: string | null;
  correct: boolean | null;
  answerTrace?: AnswerTrace;
}

export interface GuideProgress {
  sample: number;
  samples: number;
  tokens: number;
  maxTokens: number;
  /** Text of the current sample so far (for live display). */
  text: string;
}
