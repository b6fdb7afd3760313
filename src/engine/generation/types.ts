// The contract between the decoder (src/engine/model) and everything that drives generation:
// the plain generate loop, guided-inference interventions, evaluation. A scripted implementation
// (tests) and the WebGPU engine both implement DecodeSession.

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 = off. */
  topP: number;
  /** How many alternatives (top-k log-probs) to report for the step. Does not restrict sampling. */
  topK: number;
  /** Uniform random number in [0, 1) that picks the token; the caller owns the seeded RNG so that
   *  branches and replays are reproducible. Ignored when temperature = 0. */
  u: number;
  /** Token ids given zero probability at this step (e.g. an end-of-thinking marker under budget forcing). */
  suppress?: readonly number[];
}

export interface TokenAlternative { id: number; logprob: number }

export interface SampledToken {
  id: number;
  /** log p(id) under the model's distribution at temperature 1, before suppression. */
  logprob: number;
  /** Entropy (nats) of the temperature-1 distribution. */
  entropy: number;
  /** Top-k tokens by temperature-1 log-prob, best first. */
  alternatives: TokenAlternative[];
}

export interface DecodeSession {
  /** Tokens currently in the KV cache. */
  readonly length: number;
  /** Context length the cache was allocated for. */
  readonly maxLength: number;
  /** Appends `ids` to the context (prefill for many, decode for one) and samples the next token
   *  from the distribution at the last position. The sampled token is NOT appended: pass it to the
   *  next feed() call (or discard it to branch). */
  feed(ids: readonly number[], opts: SamplingOptions): Promise<SampledToken>;
  /** Forgets cached tokens beyond `length` so generation can branch (resample a step). */
  truncate(length: number): void;
  dispose(): void;
}

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

/** A model's thinking markers and its template's switch (built by src/engine/tokenizer/thinking.ts). */
export interface ThinkingFormat {
  open: string;
  close: string;
  /** The marker's id when it is one token of the vocabulary (Qwen3 `</think>` = 151668), else null
   *  (then it is matched in the decoded text). */
  openId: number | null;
  closeId: number | null;
  /** The chat template reads `enable_thinking` and renders differently with it: the switch is offered. */
  switchable: boolean;
  /** What the template does when `enable_thinking` is not given (Qwen3: thinking on). */
  defaultOn: boolean;
}

/** Options of a chat-template render. */
export interface ChatTemplateOptions {
  /** `enable_thinking` handed to the template; absent = the template's own default. */
  thinking?: boolean;
}

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Applies the model's chat template, ending with the assistant generation prompt (`options.thinking`:
   *  the template's `enable_thinking`, where it reads one). */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): number[];
  /** Thinking markers and switch (src/engine/tokenizer/thinking.ts); absent: the text markers only. */
  readonly thinking?: ThinkingFormat;
  readonly eosTokenIds: readonly number[];
  readonly vocabSize: number;
}

/** One sequence's input to a batched step: tokens to append to slot `slot`, and how to sample after them. */
export interface BatchFeed { slot: number; ids: readonly number[]; opts: SamplingOptions }

/** A KV cache of `slots` sequences decoded together: each feed() runs one forward pass over every
 *  listed slot's new tokens (prompts of any length and single decode tokens mixed), so B sequences
 *  share each weight read, and samples each slot's next token with its own options. */
export interface BatchDecodeSession {
  readonly slots: number;
  /** Context length of each slot. */
  readonly maxLength: number;
  /** Tokens currently cached for `slot`. */
  length(slot: number): number;
  /** Results in the order of `items` (slots distinct). The sampled tokens are NOT appended. */
  feed(items: readonly BatchFeed[]): Promise<SampledToken[]>;
  truncate(slot: number, length: number): void;
  dispose(): void;
}
