// Guided inference on the real engine: the bundled tiny model (models/tiny) on WebGPU in Node,
// with its real tokenizer. Each policy runs end to end through DecodeSession (KV-cache rewinds
// included) and the same seed gives the same timeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel } from './helpers.ts';
import { runGuided } from '../../src/guide/engine.ts';
import type { GuideSettings, Timeline } from '../../src/domain/guide.ts';

let ctx: GpuContext;
let dec: Decoder;
let tok: HfTextTokenizer;
const PROBLEM = 'What is 2 + 3?';

beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder: dec, tokenizer: tok } = await loadTinyModel(ctx));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

const base = (over: Partial<GuideSettings> = {}): GuideSettings => ({
  seed: 5, sampling: { temperature: 1, topP: 1, topK: 3, maxNewTokens: 48 }, interventions: {}, ...over,
});

async function run(s: GuideSettings, extra: { answerTrace?: { target: string } } = {}): Promise<Timeline> {
  const session = dec.newSession(512);
  try {
    return await runGuided({ problem: PROBLEM, settings: s, ...extra }, { session, tokenizer: tok });
  } finally {
    session.dispose();
  }
}

describe('guided inference on the tiny model (WebGPU)', () => {
  it('records real log-probs, entropies and alternatives; same seed -> same timeline', async () => {
    const a = await run(base());
    const b = await run(base());
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const toks = a.samples[0].tokens;
    expect(toks.length).toBeGreaterThan(0);
    for (const t of toks) {
      expect(t.logprob!).toBeLessThanOrEqual(0);
      expect(t.entropy!).toBeGreaterThan(0);
      expect(t.entropy!).toBeLessThanOrEqual(Math.log(512) + 1e-3);
      expect(t.alternatives).toHaveLength(3);
      expect(t.alternatives[0].logprob).toBeGreaterThanOrEqual(t.alternatives[2].logprob);
    }
    const c = await run(base({ seed: 6 }));
    expect(c.samples[0].text).not.toBe(a.samples[0].text);
  });

  it('budget forcing: an end marker before the minimum is replaced by the extension (KV cache rewound)', async () => {
    // The random tiny model rarely emits EOS, so the end marker is a frequent piece of its own output.
    const probe = await run(base({ sampling: { temperature: 1, topP: 1, topK: 3, maxNewTokens: 40 } }));
    const piece = probe.samples[0].tokens.map((t) => t.text).find((t) => /\S/.test(t) && t.trim().length >= 1)!;
    const marker = piece.trim();
    const s = base({ interventions: { budget: { minThinking: 30, maxThinking: 40, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [marker], maxAnswerTokens: 4 } } });
    const t = await run(s);
    const sm = t.samples[0];
    const ext = sm.events.filter((e) => e.kind === 'extend');
    expect(ext.length).toBeGreaterThan(0);
    for (const e of ext) {
      expect(e.at).toBeLessThan(30);
      expect(e.discarded!.toLowerCase()).toContain(marker.toLowerCase());
      expect(sm.tokens[e.at].source).toBe('inserted');
    }
    expect(sm.text).toContain('Wait');
    const f = sm.events.find((e) => e.kind === 'force-answer')!;
    expect(f.at).toBe(40);
    expect(sm.text).toContain('Final Answer:');
    // Deterministic with rewinds too.
    expect(JSON.stringify(await run(s))).toBe(JSON.stringify(t));
  });

  it('step verification resamples low-confidence steps; self-consistency votes; strategy is injected', async () => {
    const s = base({
      sampling: { temperature: 1, topP: 1, topK: 3, maxNewTokens: 40 },
      interventions: {
        strategy: { source: 'typed', plan: 'add the two numbers' },
        verify: { threshold: 0.99, action: 'resample', maxResamples: 1, checkPhrase: '', maxStepTokens: 8 },
        consistency: { n: 3 },
      },
    });
    const t = await run(s);
    expect(t.samples).toHaveLength(3);
    for (const sm of t.samples) {
      expect(sm.events[0].kind).toBe('strategy');
      expect(sm.text.startsWith('Plan: add the two numbers')).toBe(true);
    }
    // A random model is never 99% confident: every step closed by the 8-token cap is resampled
    // once (a branch kept), then kept at its second attempt or the better first one restored.
    for (const sm of t.samples) {
      const rs = sm.events.filter((e) => e.kind === 'resample');
      expect(rs.length).toBeGreaterThan(0);
      for (const e of rs) {
        const b = sm.branches.find((x) => x.id === e.branchId)!;
        expect(b.tokens).toHaveLength(8);
        expect(b.confidence!.score).toBeLessThan(0.99);
      }
      const cut = sm.steps.filter((st) => st.end - st.start === 8 && st.confidence);
      expect(cut.length).toBeGreaterThan(0);
      for (const st of cut) expect(st.resamples).toBe(1);
    }
    expect(t.vote!.groups.reduce((a, g) => a + g.count, 0)).toBe(t.samples.filter((sm) => sm.answer).length);
    expect(JSON.stringify(await run(s))).toBe(JSON.stringify(t));
  });

  it('answer trace scores a target after each step', async () => {
    const t = await run(base({ sampling: { temperature: 0, topP: 1, topK: 3, maxNewTokens: 24 } }), { answerTrace: { target: '5' } });
    expect(t.answerTrace!.points.map((p) => p.tokenEnd)).toEqual(t.samples[0].steps.map((st) => st.end));
    for (const p of t.answerTrace!.points) expect(p.logprob).toBeLessThan(0);
  });
});
