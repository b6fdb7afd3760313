// The WebGPU decoder against golden logits of the bundled tiny model computed by an independent
// PyTorch implementation of Hugging Face's Qwen2 forward pass (scripts/golden-tiny.py, fixture
// committed): guards the conventions (rotate-half RoPE, repeat_kv, biases, tied head) that the
// CPU reference could share a misunderstanding of.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { createDecoder, type Decoder } from '../../src/engine/model/decoder.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';

const FIXTURE = 'tests/kernel/fixtures/tiny-golden.json';
interface Golden { source: string; prompt: number[]; logits_rows: Record<string, number[]>; argmax: number[]; logsumexp: number[]; greedy_prompt: number[]; greedy: number[] }

let ctx: GpuContext;
let dec: Decoder;
const golden = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Golden;

beforeAll(async () => {
  ctx = await nodeGpuContext();
  const config = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'));
  dec = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

describe(`tiny model vs PyTorch golden (${existsSync(FIXTURE) ? golden.source : 'missing'})`, () => {
  it('logits over the 32-token prompt: full rows, argmax and log-sum-exp at every position', async () => {
    const V = dec.config.vocabSize;
    const s = dec.newSession(64);
    const got = await s.logits(golden.prompt);
    s.dispose();
    for (const [row, want] of Object.entries(golden.logits_rows)) {
      expect(got.subarray(Number(row) * V, (Number(row) + 1) * V)).toBeAllclose(want, { atol: 2e-4, rtol: 1e-4 });
    }
    const argmax: number[] = [];
    const lse: number[] = [];
    for (let r = 0; r < golden.prompt.length; r++) {
      const row = got.subarray(r * V, (r + 1) * V);
      let b = 0;
      for (let j = 1; j < V; j++) if (row[j] > row[b]) b = j;
      argmax.push(b);
      const m = row[b];
      lse.push(m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)));
    }
    expect(argmax).toEqual(golden.argmax);
    expect(lse).toBeAllclose(golden.logsumexp, { atol: 2e-4, rtol: 1e-5 });
  });

  it('greedy decode with the KV cache reproduces the golden greedy tokens', async () => {
    const s = dec.newSession(32);
    const o = { temperature: 0, topP: 1, topK: 0, u: 0 };
    const out: number[] = [];
    let t = await s.feed(golden.greedy_prompt, o);
    for (let i = 0; i < golden.greedy.length; i++) {
      out.push(t.id);
      if (i + 1 < golden.greedy.length) t = await s.feed([t.id], o);
    }
    s.dispose();
    expect(out).toEqual(golden.greedy);
  });
});
