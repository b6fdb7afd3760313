// Batched generation over a BatchDecodeSession: up to `slots` sequences decode together, each with
// its own seeded uniform stream (one uniform per sampled token, the prompt's sample first, exactly as
// generate() draws them), its own sampling options and its own stop. A finished sequence frees its
// slot and the next waiting request's prompt is prefilled in the same step as the others' decode
// tokens (continuous batching). Token ids in, token ids out; knows nothing of the GPU or of text.
import { SeededRng } from '../../lib/rng.ts';
import type { BatchDecodeSession, BatchFeed, SampledToken, SamplingOptions } from './types.ts';
import type { StopReason } from './generate.ts';

export interface BatchRequest {
  prompt: readonly number[];
  maxTokens: number;
  /** 0 = greedy */
  temperature: number;
  topP: number;
  /** Alternatives reported per token. */
  topK: number;
  /** The sequence's uniforms: a seed (SeededRng, as generate() uses) or the caller's stream. */
  seed?: number;
  rng?: () => number;
  /** Ids given zero probability at every step of this sequence. */
  suppress?: readonly number[];
}

export interface BatchGenerateOptions {
  /** Ids that end a sequence (the EOS sample is kept as its last token, as generate() does). */
  eosTokenIds: readonly number[];
  /** A sequence stops with 'context' when feeding its next token would pass this many cached
   *  tokens (default: the session's maxLength). */
  maxLength?: number;
  signal?: { readonly aborted: boolean };
  /** Called for every sampled token of request `index`. */
  onToken?: (index: number, token: SampledToken) => void;
}

export interface BatchSequence {
  /** Generated ids (EOS excluded). */
  ids: number[];
  /** Every sampled token with its log-prob, entropy and top-k (EOS included). */
  tokens: SampledToken[];
  stopReason: StopReason;
  promptTokens: number;
}

export interface BatchGenerateResult {
  sequences: BatchSequence[];
  /** forward passes (feed() calls) */
  steps: number;
  ms: number;
  /** sampled tokens over ms */
  tokensPerSecond: number;
}

interface Live { index: number; rng: () => number; next: SampledToken; seq: BatchSequence }

export async function generateBatch(session: BatchDecodeSession, requests: readonly BatchRequest[], o: BatchGenerateOptions): Promise<BatchGenerateResult> {
  const maxLength = Math.min(o.maxLength ?? session.maxLength, session.maxLength);
  requests.forEach((r, i) => {
    if (!(r.maxTokens >= 1)) throw new Error(`generateBatch: request ${i}: maxTokens must be at least 1, got ${r.maxTokens}`);
    if (r.prompt.length === 0) throw new Error(`generateBatch: request ${i} has an empty prompt`);
    if (r.prompt.length > maxLength) throw new Error(`generateBatch: request ${i}: the prompt has ${r.prompt.length} tokens; the context is ${maxLength}`);
  });
  const eos = new Set(o.eosTokenIds);
  const seqs: BatchSequence[] = requests.map((r) => ({ ids: [], tokens: [], stopReason: 'cancelled', promptTokens: r.prompt.length }));
  const rngs = requests.map((r) => { if (r.rng) return r.rng; const g = new SeededRng(r.seed ?? 0); return () => g.next(); });
  const opts = (i: number): SamplingOptions => {
    const r = requests[i];
    return { temperature: r.temperature, topP: r.topP, topK: r.topK, u: rngs[i](), ...(r.suppress?.length ? { suppress: r.suppress } : {}) };
  };
  const live = new Map<number, Live>(); // slot -> sequence
  let nextRequest = 0;
  let steps = 0;
  let sampled = 0;
  const t0 = performance.now();
  while (nextRequest < requests.length || live.size > 0) {
    if (o.signal?.aborted) break; // live and waiting sequences keep stopReason 'cancelled'
    const feeds: BatchFeed[] = [];
    const owners: number[] = [];
    for (const [slot, s] of live) { feeds.push({ slot, ids: [s.next.id], opts: opts(s.index) }); owners.push(s.index); }
    for (let slot = 0; slot < session.slots && nextRequest < requests.length; slot++) {
      if (live.has(slot)) continue;
      const i = nextRequest++;
      session.truncate(slot, 0);
      feeds.push({ slot, ids: requests[i].prompt, opts: opts(i) });
      owners.push(i);
      live.set(slot, { index: i, rng: rngs[i], next: undefined as unknown as SampledToken, seq: seqs[i] });
    }
    const outs = await session.feed(feeds);
    steps++;
    sampled += outs.length;
    feeds.forEach((f, j) => {
      const s = live.get(f.slot)!;
      const tok = outs[j];
      const r = requests[owners[j]];
      s.seq.tokens.push(tok);
      o.onToken?.(s.index, tok);
      let stop: StopReason | undefined;
      if (eos.has(tok.id)) stop = 'eos';
      else {
        s.seq.ids.push(tok.id);
        if (s.seq.ids.length >= r.maxTokens) stop = 'length';
        else if (session.length(f.slot) + 1 > maxLength) stop = 'context';
      }
      if (stop) { s.seq.stopReason = stop; live.delete(f.slot); } else s.next = tok;
    });
  }
  const ms = performance.now() - t0;
  return { sequences: seqs, steps, ms, tokensPerSecond: ms > 0 ? sampled / (ms / 1000) : 0 };
}
