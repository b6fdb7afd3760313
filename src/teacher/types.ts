// Shapes shared by the teacher clients, the job runner and the UI (the stored job and its
// configuration are src/domain/teacher.ts).
import type { Usage } from '../domain/teacher.ts';

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
