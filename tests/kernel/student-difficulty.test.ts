// Student difficulty on the real engine: the bundled tiny model on WebGPU in Node scores answers by
// teacher-forced NLL. The model's own greedy continuation is the most likely answer, so its NLL
// must be the smallest, and equal minus the mean of the greedy steps' log-probs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel } from './helpers.ts';
import { ANSWER_PREFIX, answerNll } from '../../src/selection/student-difficulty.ts';

let ctx: GpuContext;
let dec: Decoder;
let tok: HfTextTokenizer;

beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder: dec, tokenizer: tok } = await loadTinyModel(ctx));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

describe('student answer NLL', () => {
  it('the greedy continuation has the lowest NLL, equal to its mean greedy log-prob', async () => {
    const problem = 'What is 2 + 3?';
    const session = dec.newSession(256);
    try {
      const opts = { temperature: 0, topP: 1, topK: 8, u: 0 };
      session.truncate(0);
      let s = await session.feed([...tok.applyChatTemplate([{ role: 'user', content: problem }]), ...tok.encode(ANSWER_PREFIX)], opts);
      const greedy: number[] = [];
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        greedy.push(s.id);
        sum += s.logprob;
        s = await session.feed([s.id], opts);
      }
      const text = tok.decode(greedy);
      // The greedy text re-encodes to the same ids (so the NLL is over the same tokens).
      const ids = tok.encode(text.trim());
      const g = await answerNll(session, tok, problem, text);
      expect(g).toBeDefined();
      expect(ids).toEqual(greedy);
      expect(g!.nll).toBeCloseTo(-sum / greedy.length, 3);
      expect(g!.outside).toBe(0);
      for (const other of ['17', 'seven hundred', 'x']) {
        const o = await answerNll(session, tok, problem, other);
        expect(o!.nll).toBeGreaterThanOrEqual(g!.nll - 1e-4);
      }
      // Same input -> same score (the session is reset between calls).
      expect((await answerNll(session, tok, problem, text))!.nll).toBeCloseTo(g!.nll, 5);
    } finally {
      session.dispose();
    }
  });
});
