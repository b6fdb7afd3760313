// The generation driver on the real tiny model and its real tokenizer (models/tiny): seeds, limits,
// cancel, end-of-sequence, chat template.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { generate, type GenerateDeps, type GenerateRequest } from '../../src/engine/generation/generate.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { createDecoder, type Decoder } from '../../src/engine/model/decoder.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import { loadTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';

let ctx: GpuContext;
let dec: Decoder;
let deps: GenerateDeps;

beforeAll(async () => {
  ctx = await nodeGpuContext();
  const config = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'));
  dec = await createDecoder(ctx, config, readSafetensors(chunked(readFileSync('models/tiny/model.safetensors'))));
  const tokenizer = await loadTokenizer({ tokenizerJson: readFileSync('models/tiny/tokenizer.json', 'utf8'), tokenizerConfig: readFileSync('models/tiny/tokenizer_config.json', 'utf8'), source: 'models/tiny' });
  deps = { tokenizer, newSession: (n) => dec.newSession(n), maxContext: 2048, eosTokenIds: config.eosTokenIds };
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

const base: GenerateRequest = { prompt: 'Natalia sold clips to 48 of her friends', maxTokens: 10, temperature: 0.8, topP: 0.95, topK: 3, seed: 5 };

describe('generate() on the tiny model', () => {
  it('streams maxTokens tokens whose text adds up to the result, with top-k and entropy', async () => {
    const seen: string[] = [];
    const r = await generate(deps, base, (t) => seen.push(t.text));
    expect(r.stopReason).toBe('length');
    expect(r.tokens).toHaveLength(10);
    // streamed pieces are a prefix of the final text (a split multi-byte character is held back)
    expect(r.text.startsWith(seen.join(''))).toBe(true);
    if (!r.text.endsWith('\uFFFD')) expect(seen.join('')).toBe(r.text);
    for (const t of r.tokens) {
      expect(t.alternatives).toHaveLength(3);
      expect(t.entropy).toBeGreaterThan(0);
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.logprob).toBeGreaterThanOrEqual(t.alternatives[2].logprob - 30);
    }
    expect(r.tokensPerSecond).toBeGreaterThan(0);
    expect(dec.gpuBytes).toBe(dec.weightBytes + 16); // the session was freed (weights + one dummy buffer remain)
  });

  it('the same seed gives the same tokens; another seed differs', async () => {
    const ids = async (seed: number) => (await generate(deps, { ...base, seed }, () => {})).tokens.map((t) => t.id);
    const a = await ids(5);
    expect(await ids(5)).toEqual(a);
    expect(await ids(6)).not.toEqual(a);
  });

  it('cancel stops mid-sequence', async () => {
    const flag = { cancelled: false };
    let n = 0;
    const r = await generate(deps, { ...base, maxTokens: 500 }, () => { if (++n === 3) flag.cancelled = true; }, flag);
    expect(r.stopReason).toBe('cancelled');
    expect(r.tokens).toHaveLength(3);
  });

  it('stops at an end-of-sequence id', async () => {
    const first = (await generate(deps, { ...base, temperature: 0, maxTokens: 1 }, () => {})).tokens[0].id;
    const r = await generate({ ...deps, eosTokenIds: [first] }, { ...base, temperature: 0, maxTokens: 5 }, () => {});
    expect(r.stopReason).toBe('eos');
    expect(r.tokens).toHaveLength(1);
    expect(r.text).toBe('');
  });

  it('chat messages go through the chat template', async () => {
    const r = await generate(deps, { ...base, prompt: undefined, messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }, () => {});
    expect(r.promptTokens).toBe(deps.tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }]).length);
    await expect(generate(deps, { ...base, prompt: '' }, () => {})).rejects.toThrow(/messages or a non-empty prompt/);
  });
});
