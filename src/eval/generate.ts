// The plain generation loop over a DecodeSession: chat prompt -> sampled tokens until EOS, the
// token budget or the context limit. Seeded: one uniform per token from the caller's RNG.
import type { ChatMessage, DecodeSession, TextTokenizer } from '../engine/generation/types.ts';

export const DEFAULT_SYSTEM_PROMPT = 'Please reason step by step, and put your final answer within \\boxed{}.';

/** The prompt alone fills the context: an item-level problem, recorded as a wrong answer. */
export class PromptTooLongError extends Error {
  constructor(readonly promptTokens: number, readonly maxLength: number) {
    super(`prompt of ${promptTokens} tokens does not fit the ${maxLength}-token context`);
    this.name = 'PromptTooLongError';
  }
}

export interface GenerateOptions {
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Uniform [0, 1) stream (seeded by the caller). */
  rng: () => number;
  system?: string;
  signal?: { readonly aborted: boolean };
}

export interface Generation {
  text: string;
  tokens: number;
  stop: 'eos' | 'length' | 'context' | 'cancelled';
}

export async function generatePlain(session: DecodeSession, tokenizer: TextTokenizer, problem: string, o: GenerateOptions): Promise<Generation> {
  const messages: ChatMessage[] = [];
  const system = o.system ?? DEFAULT_SYSTEM_PROMPT;
  if (system) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: problem });
  const prompt = tokenizer.applyChatTemplate(messages);
  if (prompt.length === 0) throw new Error('the chat template produced no tokens');
  if (prompt.length >= session.maxLength) throw new PromptTooLongError(prompt.length, session.maxLength);
  session.truncate(0);
  const eos = new Set(tokenizer.eosTokenIds);
  const out: number[] = [];
  const opts = () => ({ temperature: o.temperature, topP: o.topP, topK: 0, u: o.rng() });
  let next = await session.feed(prompt, opts());
  let stop: Generation['stop'] = 'length';
  for (;;) {
    if (o.signal?.aborted) { stop = 'cancelled'; break; }
    if (eos.has(next.id)) { stop = 'eos'; break; }
    out.push(next.id);
    if (out.length >= o.maxTokens) { stop = 'length'; break; }
    if (session.length + 1 >= session.maxLength) { stop = 'context'; break; }
    next = await session.feed([next.id], opts());
  }
  return { text: tokenizer.decode(out), tokens: out.length, stop };
}
