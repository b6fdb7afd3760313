// The plain generation loop over a DecodeSession: encode (prompt or chat), prefill, then one token
// a step with a seeded uniform per step; streams each token with its text delta, top-k and entropy.
// Runs in the engine worker and in Node (scripts/generate.ts); knows nothing of the GPU.
import { SeededRng } from '../../lib/rng.ts';
import type { ChatMessage, DecodeSession, SampledToken, TextTokenizer } from './types.ts';
import { contextFull } from './context-stop.ts';

export interface GenerateRequest {
  messages?: ChatMessage[];
  prompt?: string;
  maxTokens: number;
  /** 0 = greedy */
  temperature: number;
  topP: number;
  /** Alternatives reported per token (top-k log-probs). */
  topK: number;
  seed: number;
  /** Stop at the tokenizer's / config's end-of-sequence ids (default true). */
  stopAtEos?: boolean;
}

export interface StreamedToken extends SampledToken {
  /** Text this token adds (may be empty while a multi-byte character is incomplete). */
  text: string;
  /** Alternatives with their text pieces. */
  alternativeTexts?: string[];
}

export type StopReason = 'eos' | 'length' | 'cancelled' | 'context';

export interface GenerateResult {
  tokens: StreamedToken[];
  text: string;
  stopReason: StopReason;
  promptTokens: number;
  prefillMs: number;
  decodeMs: number;
  /** Decode speed: generated tokens after the first over the time spent producing them. */
  tokensPerSecond: number;
  prefillTokensPerSecond: number;
}

export interface GenerateDeps {
  tokenizer: TextTokenizer;
  /** Opens a session able to hold `maxLength` tokens. */
  newSession(maxLength: number): DecodeSession;
  /** Longest context the model accepts. */
  maxContext: number;
  /** End-of-sequence ids beyond the tokenizer's (config.json). */
  eosTokenIds?: readonly number[];
}

export interface CancelFlag { cancelled: boolean }

/** Encodes the request's input: chat messages through the chat template, or a raw prompt. */
export function encodeRequest(tokenizer: TextTokenizer, req: Pick<GenerateRequest, 'messages' | 'prompt'>): number[] {
  if (req.messages && req.messages.length) return tokenizer.applyChatTemplate(req.messages);
  if (req.prompt !== undefined && req.prompt !== '') return tokenizer.encode(req.prompt);
  throw new Error('generate: give either messages or a non-empty prompt');
}

export async function generate(deps: GenerateDeps, req: GenerateRequest, onToken: (t: StreamedToken) => void, cancel: CancelFlag = { cancelled: false }): Promise<GenerateResult> {
  const { tokenizer } = deps;
  if (!(req.maxTokens >= 1)) throw new Error(`generate: maxTokens must be at least 1, got ${req.maxTokens}`);
  const prompt = encodeRequest(tokenizer, req);
  if (prompt.length >= deps.maxContext) throw new Error(`generate: the prompt has ${prompt.length} tokens; the model's context is ${deps.maxContext}`);
  const maxLength = Math.min(deps.maxContext, prompt.length + req.maxTokens);
  const eos = new Set([...(req.stopAtEos === false ? [] : [...tokenizer.eosTokenIds, ...(deps.eosTokenIds ?? [])])]);
  const rng = new SeededRng(req.seed);
  const session = deps.newSession(maxLength);
  const tokens: StreamedToken[] = [];
  const ids: number[] = [];
  let emitted = '';
  let stopReason: StopReason = 'length';
  const opts = () => ({ temperature: req.temperature, topP: req.topP, topK: req.topK, u: rng.next() });
  const pieces = (alts: SampledToken['alternatives']) => alts.map((a) => tokenizer.decode([a.id]));
  const t0 = performance.now();
  let prefillMs = 0;
  try {
    let next = await session.feed(prompt, opts());
    prefillMs = performance.now() - t0;
    for (;;) {
      if (eos.has(next.id)) {
        const st: StreamedToken = { ...next, text: '', alternativeTexts: pieces(next.alternatives) };
        tokens.push(st);
        onToken(st);
        stopReason = 'eos';
        break;
      }
      ids.push(next.id);
      // Emit the new text only once it decodes cleanly (no dangling U+FFFD of a split character).
      const full = tokenizer.decode(ids);
      let text = '';
      if (full.startsWith(emitted) && !full.endsWith('\uFFFD')) { text = full.slice(emitted.length); emitted = full; }
      const st: StreamedToken = { ...next, text, alternativeTexts: pieces(next.alternatives) };
      tokens.push(st);
      onToken(st);
      if (cancel.cancelled) { stopReason = 'cancelled'; break; }
      if (tokens.length >= req.maxTokens) { stopReason = 'length'; break; }
      if (contextFull(session.length, session.maxLength)) { stopReason = 'context'; break; }
      next = await session.feed([next.id], opts());
    }
  } finally {
    session.dispose();
  }
  const total = performance.now() - t0;
  const decodeMs = total - prefillMs;
  const decoded = Math.max(0, tokens.length - 1);
  return {
    tokens, text: tokenizer.decode(ids), stopReason, promptTokens: prompt.length, prefillMs, decodeMs,
    tokensPerSecond: decoded > 0 ? decoded / (decodeMs / 1000) : 0,
    prefillTokensPerSecond: prefillMs > 0 ? prompt.length / (prefillMs / 1000) : 0,
  };
}
