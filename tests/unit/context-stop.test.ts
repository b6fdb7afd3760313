// The single-session stop rule (src/engine/generation/context-stop.ts), pinned on every loop that
// uses it: a cache of M tokens holding a prompt of P generates M - P + 1 tokens and stops with
// 'context' (the last one sampled from the full cache, never fed), without ever overflowing the
// cache. Each loop here runs on a scripted session that throws on overflow.
import { describe, expect, it } from 'vitest';
import { contextFull } from '../../src/engine/generation/context-stop.ts';
import { generate } from '../../src/engine/generation/generate.ts';
import { generateBatch, singleSlot } from '../../src/engine/generation/batch.ts';
import { generatePlain, generatePlainBatch } from '../../src/eval/generate.ts';
import { CharTokenizer, ScriptedSession } from './eval/scripted-session.ts';

const tok = new CharTokenizer();
const long = () => 'y'.repeat(500); // never ends on its own: only the context stops it
const opts = { temperature: 0, topP: 1, rng: () => 0.5, system: '' };

describe('the single-session stop rule', () => {
  it('a token fits while cached + 1 <= maxLength', () => {
    expect(contextFull(3, 5)).toBe(false);
    expect(contextFull(4, 5)).toBe(false);
    expect(contextFull(5, 5)).toBe(true);
  });

  it('generate, generateBatch, generatePlain and generatePlainBatch all stop at M - P + 1 tokens', async () => {
    const P = tok.applyChatTemplate([{ role: 'user', content: 'q' }]).length;
    const M = P + 6;
    const want = M - P + 1;

    const g = await generate({ tokenizer: tok, maxContext: M, newSession: (n) => new ScriptedSession(long, n) },
      { messages: [{ role: 'user', content: 'q' }], maxTokens: 100, temperature: 0, topP: 1, topK: 0, seed: 1 }, () => {});
    expect([g.tokens.length, g.stopReason]).toEqual([want, 'context']);

    const prompt = tok.applyChatTemplate([{ role: 'user', content: 'q' }]);
    const b = await generateBatch(singleSlot(new ScriptedSession(long, M)), [{ prompt, maxTokens: 100, temperature: 0, topP: 1, topK: 0, seed: 1 }], { eosTokenIds: [0] });
    expect([b.sequences[0].ids.length, b.sequences[0].stopReason]).toEqual([want, 'context']);

    const p = await generatePlain(new ScriptedSession(long, M), tok, 'q', { ...opts, maxTokens: 100 });
    expect([p.tokens, p.stop]).toEqual([want, 'context']);

    const [pb] = await generatePlainBatch((_slots, n) => singleSlot(new ScriptedSession(long, n)), tok, [{ problem: 'q', ...opts, maxTokens: 100 }], { slots: 1, contextLength: M });
    expect(pb).toEqual(p);

    // maxTokens reached first: 'length', the same count everywhere
    const short = await generatePlain(new ScriptedSession(long, M), tok, 'q', { ...opts, maxTokens: want - 1 });
    expect([short.tokens, short.stop]).toEqual([want - 1, 'length']);
  });
});
