// Self-consistency as one batch on the real engine: the bundled tiny model (models/tiny) on WebGPU
// in Node. For the same seeds, the n samples decoded together in a WebGpuBatchSession give the
// samples (token ids), the vote and the intervention records of the one-at-a-time run over a
// DecodeSession (and over a batch session of one slot), with and without budget forcing and step
// verification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { BatchDecodeSession, DecodeSession } from '../../src/engine/generation/types.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel } from './helpers.ts';
import { runGuided } from '../../src/guide/engine.ts';
import type { GuideSettings, InterventionEvent, Interventions, SampleRecord, Timeline } from '../../src/domain/guide.ts';

let ctx: GpuContext;
let dec: Decoder;
let tok: HfTextTokenizer;
const PROBLEM = 'What is 2 + 3?';
const N = 5;
const LEN = 512;

beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder: dec, tokenizer: tok } = await loadTinyModel(ctx));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

const settings = (interventions: Interventions): GuideSettings => ({
  seed: 9, sampling: { temperature: 1, topP: 1, topK: 3, maxNewTokens: 32 }, interventions: { ...interventions, consistency: { n: N } },
});

async function run(s: GuideSettings, session: DecodeSession | BatchDecodeSession): Promise<Timeline> {
  try {
    return await runGuided({ problem: PROBLEM, reference: '5', settings: s }, { session, tokenizer: tok });
  } finally {
    session.dispose();
  }
}

/** An event with its measurement's numbers apart (compared to a tolerance: float sums differ by batch shape). */
const shape = (e: InterventionEvent) => ({ ...e, measurement: Object.fromEntries(Object.entries(e.measurement).filter(([, v]) => typeof v !== 'number')) });
const numbers = (e: InterventionEvent) => Object.values(e.measurement).filter((v): v is number => typeof v === 'number');

function expectSameSample(b: SampleRecord, a: SampleRecord): void {
  expect(b.tokens.map((t) => [t.id, t.source, t.phase])).toEqual(a.tokens.map((t) => [t.id, t.source, t.phase]));
  expect([b.text, b.answer, b.stop, b.seed]).toEqual([a.text, a.answer, a.stop, a.seed]);
  expect(b.events.map(shape)).toEqual(a.events.map(shape));
  expect(b.events.flatMap(numbers)).toBeAllclose(a.events.flatMap(numbers), { atol: 2e-4, rtol: 1e-3 });
  expect(b.steps.map((s) => [s.start, s.end, s.verdict, s.resamples])).toEqual(a.steps.map((s) => [s.start, s.end, s.verdict, s.resamples]));
  expect(b.branches.map((x) => [x.id, x.at, x.tokens.map((t) => t.id)])).toEqual(a.branches.map((x) => [x.id, x.at, x.tokens.map((t) => t.id)]));
  const lp = (s: SampleRecord) => s.tokens.filter((t) => t.logprob !== null).map((t) => t.logprob!);
  expect(lp(b)).toBeAllclose(lp(a), { atol: 1e-4, rtol: 1e-4 });
}

describe(`self-consistency maj@${N} batched on the tiny model (WebGPU) equals one at a time`, () => {
  let marker = '';
  beforeAll(async () => {
    // The random tiny model rarely emits EOS: the end marker is a frequent piece of its own output.
    const probe = await run({ ...settings({}), interventions: {} }, dec.newSession(LEN));
    marker = probe.samples[0].tokens.map((t) => t.text.trim()).find((t) => t.length >= 1)!;
  });

  const cases: Array<[string, () => Interventions, string[]]> = [
    ['no intervention', () => ({}), []],
    ['budget forcing + step verification (resample) + strategy', () => ({
      strategy: { source: 'typed', plan: 'add the two numbers' },
      budget: { minThinking: 16, maxThinking: 24, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [marker], maxAnswerTokens: 4 },
      verify: { threshold: 0.99, action: 'resample', maxResamples: 1, checkPhrase: '', maxStepTokens: 6 },
    }), ['strategy', 'extend', 'force-answer', 'resample']],
  ];
  for (const [name, iv, kinds] of cases) {
    it(name, async () => {
      const s = settings(iv());
      const one = await run(s, dec.newSession(LEN));
      expect(one.samples).toHaveLength(N);
      expect(new Set(one.samples.map((x) => x.text)).size).toBeGreaterThan(1);
      const seen = new Set(one.samples.flatMap((x) => x.events.map((e) => e.kind)));
      for (const k of kinds) expect(seen).toContain(k);
      for (const session of [dec.newBatchSession(N, LEN), dec.newBatchSession(2, LEN), dec.newBatchSession(1, LEN)]) {
        const t = await run(s, session);
        expect(t.samples).toHaveLength(N);
        t.samples.forEach((x, i) => expectSameSample(x, one.samples[i]));
        expect(t.vote).toEqual(one.vote);
        expect([t.main, t.finalAnswer, t.correct]).toEqual([one.main, one.finalAnswer, one.correct]);
      }
    });
  }
});
