// The interface every intervention implements. The sample loop (src/guide/engine.ts) owns tokens,
// steps and phases; an intervention is a policy created per sample from the run's settings, with
// hooks the loop calls at fixed points. Each hook returns the events it caused (recorded on the
// timeline); an empty list means "did nothing", and the loop carries on with its default.
import type { BranchRecord, Confidence, GuideSettings, InterventionEvent, StepRecord, TokenRecord } from '../../domain/guide.ts';
import type { PromptThinking, ThinkingFormat } from '../../engine/tokenizer/thinking.ts';

/** What a policy may read and do to the sample being generated. */
export interface SampleControl {
  readonly index: number;
  readonly settings: GuideSettings;
  readonly phase: 'thinking' | 'answer';
  readonly tokens: readonly TokenRecord[];
  /** Discarded step attempts of this sample. */
  readonly branches: BranchRecord[];
  /** Start of the open step. */
  stepStart: number;
  /** The model's thinking markers (ids where they are single tokens: src/engine/tokenizer/thinking.ts). */
  readonly format: ThinkingFormat;
  /** Where the chat template left the reply: 'open' = inside its `<think>` (R1-Distill). */
  readonly promptThinking: PromptThinking;
  /** Inside an opened `<think>` now: the template's, or one the model wrote and has not closed. */
  thinkingOpen(): boolean;
  text(from?: number, to?: number): string;
  /** Appends `text` as inserted tokens (its own step, never resampled). */
  insert(text: string): { at: number; ids: number[] };
  /** Drops tokens (and the events and steps) after token index k. */
  rewind(k: number): void;
  appendTokens(tokens: readonly TokenRecord[]): void;
  pushStep(start: number, end: number, confidence: Confidence | null, resamples: number, verdict: StepRecord['verdict']): void;
  /** Inserts the answer phrase and enters the answer phase; returns the 'force-answer' event. */
  forceAnswer(measurement: Record<string, number | string>, note: string): InterventionEvent;
  /** Switches the sampling stream to the one named by `keys` under this sample's seed. */
  reseed(...keys: (string | number)[]): void;
  /** Draws the open step at this temperature instead of the run's, until the step is recorded. */
  setStepTemperature(t: number): void;
}

/** The model tried to end its thinking: EOS, an end marker or the answer phrase. */
export interface ThinkingEnd {
  /** Token index where the end begins (= tokens.length for EOS, which is never appended). */
  at: number;
  /** The marker, or '<eos>'. */
  marker: string;
  /** Thinking tokens generated before the ending token. */
  thinkingTokens: number;
  /** Log-prob of the EOS token (EOS only). */
  logprob?: number;
}

/** A thinking step [start, end) that has closed. */
export interface StepEnd {
  start: number;
  end: number;
  confidence: Confidence | null;
  /** false when the step is closed by an insertion or the end of the sample: record a verdict, do not act. */
  canAct: boolean;
}

export interface Intervention {
  /** A step with no boundary is closed after this many tokens (0 or absent: never). */
  readonly maxStepTokens?: number;
  /** Before the first token. */
  start?(s: SampleControl): InterventionEvent[];
  /** Before each draw in the thinking phase; events = it acted, and the loop re-checks its limits. */
  token?(s: SampleControl): InterventionEvent[];
  /** The model ended its thinking; events = the end is suppressed (the policy removed it). */
  endOfThinking?(s: SampleControl, end: ThinkingEnd): InterventionEvent[];
  /** A step closed. null: not this policy's (the loop records it 'unchecked'); a list: the policy recorded or replaced the step. */
  step?(s: SampleControl, step: StepEnd): InterventionEvent[] | null;
}

/** Builds an intervention for one sample, or null when the settings leave it off. */
export type InterventionFactory = (settings: GuideSettings) => Intervention | null;

export function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** The measurement of a confidence against a threshold, as events record it. */
export function measure(c: Confidence, threshold: number, extra: Record<string, number | string> = {}): Record<string, number | string> {
  return { score: round(c.score), threshold, meanLogprob: round(c.meanLogprob), meanEntropy: round(c.meanEntropy), ...extra };
}
