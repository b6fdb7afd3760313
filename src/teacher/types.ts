// Shapes shared by the teacher clients, the job runner and the UI.

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

export interface ChatPrompt {
  system?: string;
  user: string;
}

/** One generated token with its log-prob and the top-k alternatives (for the KL term). */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface Completion {
  text: string;
  /** Reasoning the API returned separately (Anthropic thinking blocks, reasoning_content). */
  thinking?: string;
  logprobs?: TokenLogprob[];
  usage: Usage;
  /** 'stop' | 'length' | 'end_turn' | 'max_tokens' ... as the API said it. */
  finishReason: string;
  model: string;
}

/** What every client offers: one chat completion, cancellable. */
export interface TeacherClient {
  complete(prompt: ChatPrompt, signal?: AbortSignal): Promise<Completion>;
}

/** Options common to both clients. fetchImpl lets tests and workers pass their own fetch. */
export interface ClientOptions {
  apiKey: string;
  fetchImpl?: typeof fetch;
}
