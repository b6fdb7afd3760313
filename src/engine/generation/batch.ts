// Batched generation over a BatchDecodeSession. One loop, decodeTogether(): each sequence is a task
// that runs its own loop and asks its lane for one token at a time with the whole context it wants
// (prompt + every token it keeps: sampled, forced, inserted; a rewind is a shorter context); a step
// is one session.feed() over the pending ask of every running task, so B sequences share each
// weight read. Up to `slots` tasks run at once; a finished task frees its slot and the next waiting
// one starts there, its prompt prefilled in the same step as the others' decode tokens (continuous
// batching). generateBatch() is the plain case: sample until EOS / maxTokens / context, each
// sequence with its own seeded uniform stream (one uniform per sampled token, the prompt's sample
// first, exactly as generate() draws them). The guided run (src/guide/engine.ts) drives its samples
// through the same lanes, interventions deciding each sequence's next context.
// Token ids in, token ids out; knows nothing of the GPU or of text.
import { SeededRng } from '../../lib/rng.ts';
import type { BatchDecodeSession, BatchFeed, DecodeSession, SampledToken, SamplingOptions } from './types.ts';
import type { StopReason } from './generate.ts';
import { contextFull } from './context-stop.ts';

/** A running sequence's handle on its slot. */
export interface BatchLane {
  readonly slot: number;
  /** Context length of the slot. */
  readonly maxLength: number;
  /** The token after `context` (the sequence's whole context so far), sampled with `opts`. Resolves
   *  at the next step, once every running sequence has asked or ended. The slot keeps the longest
   *  prefix of `context` it already holds (rewound with truncate) and is fed the rest; the last id
   *  is always fed. The sampled token is NOT appended: put it in the next context (or not). */
  next(context: readonly number[], opts: SamplingOptions): Promise<SampledToken>;
}

/** One sequence: its own loop over a lane; resolves with what it made. */
export type BatchTask<T> = (lane: BatchLane) => Promise<T>;

export interface DecodeTogetherResult<T> {
  /** Each task's result, in the order of the tasks. */
  results: T[];
  /** forward passes (session.feed() calls) */
  steps: number;
  /** tokens sampled, over all sequences */
  sampled: number;
}

interface Ask { context: readonly number[]; opts: SamplingOptions; resolve: (t: SampledToken) => void; reject: (e: unknown) => void }

/** Runs `tasks` with up to session.slots at a time (task order = start order), one slot each;
 *  each step feeds every running task's ask in one forward pass. A sequence starts in an empty slot
 *  (whatever was cached there before is dropped). Rejects with the first error of a task or a feed. */
export function decodeTogether<T>(session: BatchDecodeSession, tasks: readonly BatchTask<T>[]): Promise<DecodeTogetherResult<T>> {
  return new Promise((resolve, reject) => {
    const results: T[] = new Array(tasks.length);
    const held: number[][] = Array.from({ length: session.slots }, () => []); // ids cached per slot
    const running = new Set<number>(); // slots whose task has not ended
    const pending = new Map<number, Ask>(); // slot -> its task's ask
    let started = 0; let ended = 0; let steps = 0; let sampled = 0;
    let failed = false; let feeding = false; let starting = false;

    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      for (const a of pending.values()) a.reject(e);
      pending.clear();
      reject(e);
    };
    const lane = (slot: number): BatchLane => ({
      slot, maxLength: session.maxLength,
      next(context, opts) {
        return new Promise<SampledToken>((res, rej) => {
          if (failed) { rej(new Error('decodeTogether: the batch has failed')); return; }
          if (context.length === 0) { rej(new Error('decodeTogether: empty context')); return; }
          if (pending.has(slot)) { rej(new Error(`decodeTogether: slot ${slot} asked twice in one step`)); return; }
          pending.set(slot, { context, opts, resolve: res, reject: rej });
          step();
        });
      },
    });
    const start = (slot: number) => {
      const i = started++;
      held[slot] = [];
      running.add(slot);
      let p: Promise<T>;
      try { p = tasks[i](lane(slot)); } catch (e) { p = Promise.reject(e); }
      p.then((v) => {
        results[i] = v;
        running.delete(slot);
        ended++;
        if (failed) return;
        if (ended === tasks.length) { resolve({ results, steps, sampled }); return; }
        starting = true;
        if (started < tasks.length) start(slot);
        starting = false;
        step();
      }, fail);
    };
    /** Feeds once every running task has asked (a task busy elsewhere is waited for). */
    const step = () => {
      if (failed || feeding || starting || pending.size === 0 || pending.size < running.size) return;
      void feed();
    };
    const feed = async () => {
      feeding = true;
      const asks = [...pending.entries()].sort((a, b) => a[0] - b[0]);
      pending.clear();
      try {
        const items: BatchFeed[] = asks.map(([slot, a]) => {
          const h = held[slot];
          const ids = a.context;
          let common = 0;
          const lim = Math.min(h.length, ids.length - 1);
          while (common < lim && h[common] === ids[common]) common++;
          if (session.length(slot) > common) session.truncate(slot, common);
          h.length = common;
          const fresh = ids.slice(common);
          for (const id of fresh) h.push(id);
          return { slot, ids: fresh, opts: a.opts };
        });
        const outs = await session.feed(items);
        steps++;
        sampled += outs.length;
        feeding = false;
        asks.forEach(([, a], j) => a.resolve(outs[j]));
      } catch (e) {
        feeding = false;
        for (const [, a] of asks) a.reject(e);
        fail(e);
      }
    };

    if (tasks.length === 0) { resolve({ results, steps, sampled }); return; }
    starting = true;
    for (let slot = 0; slot < session.slots && started < tasks.length; slot++) start(slot);
    starting = false;
    step();
  });
}

/** A DecodeSession as a batch session of one slot: tasks then run one after another. Disposing
 *  it leaves the session to its owner. */
export function singleSlot(s: DecodeSession): BatchDecodeSession {
  return {
    slots: 1,
    get maxLength() { return s.maxLength; },
    length: () => s.length,
    async feed(items) {
      if (items.length > 1 || (items.length === 1 && items[0].slot !== 0)) throw new Error('singleSlot: one sequence, in slot 0');
      return items.length ? [await s.feed(items[0].ids, items[0].opts)] : [];
    },
    truncate: (_slot, length) => s.truncate(length),
    dispose: () => {},
  };
}

/** The batch view of either kind of session (a DecodeSession is one slot). */
export function asBatchSession(s: DecodeSession | BatchDecodeSession): BatchDecodeSession {
  return 'slots' in s ? s : singleSlot(s);
}

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

export async function generateBatch(session: BatchDecodeSession, requests: readonly BatchRequest[], o: BatchGenerateOptions): Promise<BatchGenerateResult> {
  const maxLength = Math.min(o.maxLength ?? session.maxLength, session.maxLength);
  requests.forEach((r, i) => {
    if (!(r.maxTokens >= 1)) throw new Error(`generateBatch: request ${i}: maxTokens must be at least 1, got ${r.maxTokens}`);
    if (r.prompt.length === 0) throw new Error(`generateBatch: request ${i} has an empty prompt`);
    if (r.prompt.length > maxLength) throw new Error(`generateBatch: request ${i}: the prompt has ${r.prompt.length} tokens; the context is ${maxLength}`);
  });
  const eos = new Set(o.eosTokenIds);
  const seqs: BatchSequence[] = requests.map((r) => ({ ids: [], tokens: [], stopReason: 'cancelled', promptTokens: r.prompt.length }));
  const t0 = performance.now();
  const { steps, sampled } = await decodeTogether(session, requests.map((r, i) => async (lane: BatchLane) => {
    const seq = seqs[i];
    const rng = r.rng ?? (() => { const g = new SeededRng(r.seed ?? 0); return () => g.next(); })();
    const context = [...r.prompt];
    for (;;) {
      if (o.signal?.aborted) return; // live and waiting sequences keep stopReason 'cancelled'
      const tok = await lane.next(context, { temperature: r.temperature, topP: r.topP, topK: r.topK, u: rng(), ...(r.suppress?.length ? { suppress: r.suppress } : {}) });
      seq.tokens.push(tok);
      o.onToken?.(i, tok);
      if (eos.has(tok.id)) { seq.stopReason = 'eos'; return; }
      seq.ids.push(tok.id);
      if (seq.ids.length >= r.maxTokens) { seq.stopReason = 'length'; return; }
      if (contextFull(context.length, maxLength)) { seq.stopReason = 'context'; return; }
      context.push(tok.id);
    }
  }));
  const ms = performance.now() - t0;
  return { sequences: seqs, steps, ms, tokensPerSecond: ms > 0 ? sampled / (ms / 1000) : 0 };
}
