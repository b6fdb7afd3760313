// Self-consistency decoded as one batch (src/guide/engine.ts over decodeTogether, src/engine/
// generation/batch.ts) on the scripted model: the same timeline as one sample after another, with
// every intervention on; samples share forward passes; rewinds and insertions stay per sequence.
import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../src/guide/engine.ts';
import { decodeTogether, generateBatch, type BatchLane } from '../../../src/engine/generation/batch.ts';
import { ScriptedBatchSession } from '../../../src/guide/testing/scripted.ts';
import type { GuideSettings, Timeline } from '../../../src/domain/guide.ts';
import { rambleModel, session, settings, stepModel, tok, voteModel } from './scripted-fixtures.ts';

const rich = (n: number, over: Partial<GuideSettings['interventions']> = {}): GuideSettings => settings({
  seed: 21,
  sampling: { temperature: 0.7, topP: 0.95, topK: 3, maxNewTokens: 120 },
  interventions: {
    strategy: { source: 'typed', plan: 'add them' },
    budget: { minThinking: 60, maxThinking: 90, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 8 },
    verify: { threshold: 0.5, action: 'resample', maxResamples: 2, checkPhrase: '' },
    consistency: { n },
    ...over,
  },
});
const plain = (t: Timeline) => JSON.parse(JSON.stringify(t));

describe('self-consistency as one batch', () => {
  for (const [name, iv, kinds] of [
    ['strategy + budget forcing + step resampling', {}, ['strategy', 'extend', 'resample', 'restore']],
    ['step check phrase', { verify: { threshold: 0.5, action: 'check' as const, maxResamples: 0, checkPhrase: 'Let me check.' } }, ['strategy', 'extend', 'check']],
    ['no per-token intervention', { strategy: undefined, budget: undefined, verify: undefined }, []],
  ] as const) {
    it(`${name}: n = 5 in 5 slots and in 2 slots give the one-at-a-time timeline`, async () => {
      const st = rich(5, iv);
      const sess = session(stepModel());
      const one = await runGuided({ problem: 'p', reference: '5', settings: st }, { session: sess, tokenizer: tok });
      expect(one.samples).toHaveLength(5);
      expect(new Set(one.samples.map((s) => s.text)).size).toBeGreaterThan(1); // the seeds differ
      const seen = new Set(one.samples.flatMap((s) => s.events.map((e) => e.kind)));
      expect([...seen].filter((k) => k !== 'stop').sort()).toEqual([...kinds].sort()); // the interventions acted
      for (const slots of [5, 2]) {
        const b = new ScriptedBatchSession(stepModel(), slots);
        const t = await runGuided({ problem: 'p', reference: '5', settings: st }, { session: b, tokenizer: tok });
        expect(plain(t)).toEqual(plain(one)); // tokens, steps, events, branches, vote
        // the same asks, fewer forward passes: up to `slots` samples share each
        expect(b.steps.reduce((a, x) => a + x.length, 0)).toBe(sess.calls.length);
        expect(b.steps.length).toBeLessThan(sess.calls.length);
        expect(Math.max(...b.steps.map((x) => x.length))).toBe(slots);
      }
    });
  }

  it('the vote and the shown sample are those of the sequential run', async () => {
    const st = settings({ sampling: { temperature: 1, topP: 1, topK: 2, maxNewTokens: 40 }, interventions: { consistency: { n: 7 } } });
    const one = await runGuided({ problem: 'p', reference: '6', settings: st }, { session: session(voteModel()), tokenizer: tok });
    const b = new ScriptedBatchSession(voteModel(), 7);
    const t = await runGuided({ problem: 'p', reference: '6', settings: st }, { session: b, tokenizer: tok });
    expect(t.vote).toEqual(one.vote);
    expect(t.vote!.groups.length).toBeGreaterThan(1);
    expect([t.main, t.finalAnswer, t.correct]).toEqual([one.main, one.finalAnswer, one.correct]);
    expect(b.steps[0]).toEqual([0, 1, 2, 3, 4, 5, 6]); // every prompt prefilled in the first pass
  });

  it('answer trace after a batched run equals the sequential one', async () => {
    const st = rich(3);
    const one = await runGuided({ problem: 'p', settings: st, answerTrace: { target: '5' } }, { session: session(stepModel()), tokenizer: tok });
    const t = await runGuided({ problem: 'p', settings: st, answerTrace: { target: '5' } }, { session: new ScriptedBatchSession(stepModel(), 3), tokenizer: tok });
    expect(one.answerTrace!.points.length).toBeGreaterThan(0);
    expect(t.answerTrace).toEqual(one.answerTrace);
  });

  it('cancel: every running sample stops and is kept; samples not begun are not drawn', async () => {
    const signal = { aborted: false };
    const b = new ScriptedBatchSession(rambleModel(), 2);
    const t = await runGuided({ problem: 'p', settings: settings({ interventions: { consistency: { n: 5 } } }) }, {
      session: b, tokenizer: tok, signal, onProgress: (p) => { if (p.tokens >= 10) signal.aborted = true; },
    });
    expect(t.samples.map((s) => [s.index, s.stop])).toEqual([[0, 'cancelled'], [1, 'cancelled']]);
    expect(t.samples[0].tokens).toHaveLength(10);
  });
});

describe('decodeTogether', () => {
  it('feeds each slot only what it lacks: a rewind truncates, an insertion is fed with the next step', async () => {
    const b = new ScriptedBatchSession(rambleModel(), 2);
    const p = tok.applyChatTemplate([{ role: 'user', content: 'p' }]);
    const o = { temperature: 0, topP: 1, topK: 0, u: 0 };
    const r = await decodeTogether(b, [
      async (lane) => {
        const a = await lane.next(p, o); // prefill
        const c = [...p, a.id];
        await lane.next(c, o); // one decode token
        await lane.next([...c, ...tok.encode('xy')], o); // forced tokens fed together
        await lane.next([...p, 5], o); // rewind to the prompt, one new token
        return lane.slot;
      },
      async (lane) => { await lane.next(p, o); return lane.slot; },
    ]);
    expect(r.results).toEqual([0, 1]);
    expect(b.steps).toEqual([[0, 1], [0], [0], [0]]);
    expect(r.steps).toBe(4);
    expect(r.sampled).toBe(5);
    expect(b.sessions[0].calls).toEqual([{ fed: p.length, from: 0 }, { fed: 1, from: p.length }, { fed: 2, from: p.length + 1 }, { fed: 1, from: p.length }]);
    expect(b.sessions[1].calls).toEqual([{ fed: p.length, from: 0 }]);
  });

  it('a task that fails rejects the run and unblocks the others', async () => {
    const b = new ScriptedBatchSession(rambleModel(), 3);
    const p = tok.encode('hi');
    const o = { temperature: 0, topP: 1, topK: 0, u: 0 };
    let unwound = 0;
    const loop = async (lane: BatchLane) => {
      try { for (;;) await lane.next(p, o); } finally { unwound++; }
    };
    await expect(decodeTogether(b, [loop, async (lane) => { await lane.next(p, o); throw new Error('boom'); }, loop])).rejects.toThrow('boom');
    await Promise.resolve();
    expect(unwound).toBe(2);
  });

  it('generateBatch: continuous batching over fewer slots than requests gives each sequence its own result', async () => {
    const reqs = [3, 8, 5, 2].map((maxTokens, i) => ({ prompt: tok.encode(`q${i}`), maxTokens, temperature: 0.7, topP: 1, topK: 0, seed: 40 + i }));
    const wide = await generateBatch(new ScriptedBatchSession(rambleModel(), 4), reqs, { eosTokenIds: tok.eosTokenIds });
    const narrow = new ScriptedBatchSession(rambleModel(), 2);
    const r = await generateBatch(narrow, reqs, { eosTokenIds: tok.eosTokenIds });
    expect(r.sequences).toEqual(wide.sequences);
    expect(r.sequences.map((s) => [s.stopReason, s.ids.length])).toEqual([['length', 3], ['length', 8], ['length', 5], ['length', 2]]);
    // request 2 takes slot 0 the step after request 0's 3 tokens, request 3 after request 2's 5
    expect(narrow.steps).toEqual([...Array(8).fill([0, 1]), [0], [0]]);
    expect(r.steps).toBe(10);
  });
});
