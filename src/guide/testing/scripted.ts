// A DecodeSession whose "model" is a deterministic function of the context, and a tiny tokenizer,
// so interventions can be tested exactly without a GPU. Not used by the app.
import type { BatchDecodeSession, BatchFeed, ChatMessage, DecodeSession, SampledToken, SamplingOptions, TextTokenizer } from '../../engine/generation/types.ts';
import { sampleFromLogits } from './sample-cpu.ts';
import { fnv1aWords } from '../../lib/hash.ts';

/** Greedy longest-match tokenizer over a fixed vocabulary: specials, words, then single characters. */
export class ScriptedTokenizer implements TextTokenizer {
  readonly pieces: string[];
  private readonly index = new Map<string, number>();
  private readonly maxLen: number;
  static readonly SPECIALS = ['<eos>', '<user>', '<assistant>', '<system>'];

  constructor(words: readonly string[] = []) {
    const chars = ['\n'];
    for (let c = 32; c < 127; c++) chars.push(String.fromCharCode(c));
    this.pieces = [...ScriptedTokenizer.SPECIALS];
    for (const p of [...words, ...chars]) if (!this.pieces.includes(p) && p.length > 0) this.pieces.push(p);
    this.pieces.forEach((p, i) => this.index.set(p, i));
    this.maxLen = Math.max(...this.pieces.map((p) => p.length));
  }

  get vocabSize(): number { return this.pieces.length; }
  get eosTokenIds(): readonly number[] { return [0]; }
  id(piece: string): number {
    const i = this.index.get(piece);
    if (i === undefined) throw new Error(`no piece ${JSON.stringify(piece)}`);
    return i;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let i = 0;
    while (i < text.length) {
      let found = -1;
      let len = Math.min(this.maxLen, text.length - i);
      for (; len > 0; len--) {
        const id = this.index.get(text.slice(i, i + len));
        if (id !== undefined) { found = id; break; }
      }
      if (found < 0) { found = this.index.get('?')!; len = 1; }
      out.push(found);
      i += len;
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => (id >= 0 && id < this.pieces.length && id >= ScriptedTokenizer.SPECIALS.length ? this.pieces[id] : '')).join('');
  }

  applyChatTemplate(messages: readonly ChatMessage[]): number[] {
    const out: number[] = [];
    for (const m of messages) out.push(this.id(`<${m.role}>`), ...this.encode(m.content));
    out.push(this.id('<assistant>'));
    return out;
  }
}

/** The scripted model: context ids -> logits over the vocabulary. */
export type ScriptedModel = (context: readonly number[]) => ArrayLike<number>;

export class ScriptedSession implements DecodeSession {
  private ctx: number[] = [];
  /** Every feed() call, for tests that check prefill vs decode and rewinds. */
  readonly calls: { fed: number; from: number }[] = [];

  constructor(private readonly model: ScriptedModel, readonly maxLength = 4096) {}

  get length(): number { return this.ctx.length; }

  async feed(ids: readonly number[], opts: SamplingOptions): Promise<SampledToken> {
    if (ids.length === 0) throw new Error('feed() needs at least one id');
    if (this.ctx.length + ids.length > this.maxLength) throw new Error(`context full (${this.maxLength})`);
    this.calls.push({ fed: ids.length, from: this.ctx.length });
    this.ctx.push(...ids);
    return sampleFromLogits(this.model(this.ctx), opts);
  }

  truncate(length: number): void {
    if (length < 0 || length > this.ctx.length) throw new Error(`truncate(${length}) outside 0..${this.ctx.length}`);
    this.ctx.length = length;
  }

  dispose(): void { this.ctx = []; }
}

/** The scripted model over `slots` sequences: each slot its own ScriptedSession. */
export class ScriptedBatchSession implements BatchDecodeSession {
  readonly sessions: ScriptedSession[];
  /** The slots of every feed() call (one forward pass each). */
  readonly steps: number[][] = [];

  constructor(model: ScriptedModel, readonly slots: number, readonly maxLength = 4096) {
    this.sessions = Array.from({ length: slots }, () => new ScriptedSession(model, maxLength));
  }

  length(slot: number): number { return this.sessions[slot].length; }

  async feed(items: readonly BatchFeed[]): Promise<SampledToken[]> {
    if (new Set(items.map((i) => i.slot)).size !== items.length) throw new Error('feed(): slots must be distinct');
    this.steps.push(items.map((i) => i.slot));
    const out: SampledToken[] = [];
    for (const it of items) out.push(await this.sessions[it.slot].feed(it.ids, it.opts));
    return out;
  }

  truncate(slot: number, length: number): void { this.sessions[slot].truncate(length); }

  dispose(): void { for (const s of this.sessions) s.dispose(); }
}

/**
 * Builds a model from a rule on the generated text (everything after the last <assistant>):
 * `next(text)` names the preferred next piece (or '<eos>') and a margin (logit gap over the rest;
 * large = confident, small = uncertain). Other tokens get small context-dependent noise so that
 * sampling at temperature > 0 picks different alternatives for different seeds.
 */
export function ruleModel(tok: ScriptedTokenizer, next: (text: string) => { piece: string; margin: number; alt?: string; altMargin?: number }): ScriptedModel {
  const assistant = tok.id('<assistant>');
  return (context) => {
    const start = context.lastIndexOf(assistant) + 1;
    const text = tok.decode(context.slice(start));
    const r = next(text);
    const logits = new Float32Array(tok.vocabSize);
    let h = fnv1aWords(context);
    for (let i = 0; i < logits.length; i++) {
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
      logits[i] = (h % 1000) / 1000 - 0.5; // noise in [-0.5, 0.5)
    }
    logits[tok.id(r.piece)] += r.margin;
    if (r.alt) logits[tok.id(r.alt)] += r.altMargin ?? r.margin;
    return logits;
  };
}

/** The next piece of `script` after `produced` characters (longest vocabulary match), or '<eos>'. */
export function continueScript(tok: ScriptedTokenizer, script: string, produced: number): string {
  if (produced >= script.length) return '<eos>';
  const ids = tok.encode(script.slice(produced, produced + 32));
  return tok.pieces[ids[0]];
}
