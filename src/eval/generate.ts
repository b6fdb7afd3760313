// The plain generation loop over a DecodeSession: chat prompt -> sampled tokens until EOS, the
// token budget or the context limit. Seeded: one uniform per token from the caller's RNG.
import { generateBatch } from '../engine/generation/batch.ts';
import { contextFull } from '../engine/generation/context-stop.ts';
import type { BatchDecodeSession, ChatMessage, DecodeSession, TextTokenizer } from '../engine/generation/types.ts';
import { promptThinking } from '../engine/tokenizer/thinking.ts';

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
  /** The chat template's `enable_thinking`; absent = the template's default. */
  thinking?: boolean;
  signal?: { readonly aborted: boolean };
}

export interface Generation {
  text: string;
  tokens: number;
  stop: 'eos' | 'length' | 'context' | 'cancelled';
  /** The prompt opened the thinking (R1-Distill's `<think>\n`): the text starts inside it. */
  thinkingOpen?: boolean;
}

/** The evaluation prompt: the system prompt (default: step by step, boxed) and the problem, through
 *  the chat template with its thinking switch. */
export function chatPrompt(tokenizer: TextTokenizer, problem: string, system: string | undefined, thinking?: boolean): number[] {
  const messages: ChatMessage[] = [];
  const sys = system ?? DEFAULT_SYSTEM_PROMPT;
  if (sys) messages.push({ role: 'system', content: sys });
  messages.push({ role: 'user', content: problem });
  const prompt = tokenizer.applyChatTemplate(messages, thinking === undefined ? {} : { thinking });
  if (prompt.length === 0) throw new Error('the chat template produced no tokens');
  return prompt;
}

/** Whether `prompt` leaves the reply inside an opened `<think>` (the tokenizer's markers). */
export function opensThinking(tokenizer: TextTokenizer, prompt: readonly number[]): boolean {
  return promptThinking(tokenizer.decode(prompt.slice(-8)), tokenizer.thinking) === 'open';
}

export async function generatePlain(session: DecodeSession, tokenizer: TextTokenizer, problem: string, o: GenerateOptions): Promise<Generation> {
  const prompt = chatPrompt(tokenizer, problem, o.system, o.thinking);
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
    if (contextFull(session.length, session.maxLength)) { stop = 'context'; break; }
    next = await session.feed([next.id], opts());
  }
  return { text: tokenizer.decode(out), tokens: out.length, stop, ...(opensThinking(tokenizer, prompt) ? { thinkingOpen: true } : {}) };
}

/** A batch session for `slots` sequences of `maxLength` tokens (the engine worker keeps one). */
export type OpenBatchSession = (slots: number, maxLength: number) => BatchDecodeSession;

/**
 * generatePlain for many problems at once: up to `slots` sequences decode together, each with its
 * own rng, and each result equals what generatePlain gives over a session of `contextLength`
 * tokens (same prompt, same stops: EOS, maxTokens, or the context's last slot). A prompt that does
 * not fit is returned as its PromptTooLongError.
 */
export async function generatePlainBatch(
  open: OpenBatchSession, tokenizer: TextTokenizer, requests: ReadonlyArray<{ problem: string } & GenerateOptions>,
  o: { slots: number; contextLength: number; signal?: { readonly aborted: boolean } },
): Promise<Array<Generation | PromptTooLongError>> {
  const out: Array<Generation | PromptTooLongError> = new Array(requests.length);
  const fit: number[] = [];
  const prompts = requests.map((r, i) => {
    const p = chatPrompt(tokenizer, r.problem, r.system, r.thinking);
    if (p.length >= o.contextLength) out[i] = new PromptTooLongError(p.length, o.contextLength);
    else fit.push(i);
    return p;
  });
  if (fit.length === 0) return out;
  // the same stop rule as generatePlain (contextFull): up to contextLength cached
  const limit = o.contextLength;
  const need = Math.min(limit, Math.max(...fit.map((i) => prompts[i].length + requests[i].maxTokens)));
  const session = open(Math.max(1, Math.min(o.slots, fit.length)), need);
  const r = await generateBatch(session, fit.map((i) => ({
    prompt: prompts[i], maxTokens: requests[i].maxTokens, temperature: requests[i].temperature, topP: requests[i].topP, topK: 0, rng: requests[i].rng,
  })), { eosTokenIds: tokenizer.eosTokenIds, maxLength: limit, signal: o.signal });
  fit.forEach((i, j) => {
    const s = r.sequences[j];
    out[i] = { text: tokenizer.decode(s.ids), tokens: s.ids.length, stop: s.stopReason, ...(opensThinking(tokenizer, prompts[i]) ? { thinkingOpen: true } : {}) };
  });
  return out;
}
