// An evaluation run with an adapter on the tiny model (WebGPU in Node), as the engine worker runs it
// (workers/engine/eval-api.ts + adapter-api.ts): the run's config records the adapter's content hash,
// the adapter is merged for the run (answers differ from a base run with the same seeds) and the base
// weights are back afterwards (a base run again gives the first base run's texts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoraAdapter } from '../../src/engine/adapter/lora.ts';
import { activeAdapter, adapterHash, applyAdapter, restoreBase } from '../../src/engine/adapter/merge.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { parseBenchmark, selectSubset } from '../../src/eval/benchmarks.ts';
import { generatePlain } from '../../src/eval/generate.ts';
import { createRun, MemoryEvalStore, runEvaluation, type Generate } from '../../src/eval/runner.ts';
import { loadTinyModel, rng } from './helpers.ts';

let ctx: GpuContext;
let dec: Decoder;
let tok: HfTextTokenizer;
beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder: dec, tokenizer: tok } = await loadTinyModel(ctx));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

describe('evaluation with an adapter', () => {
  it('records the adapter hash in the run config and evaluates with the merged weights', async () => {
    const bench = parseBenchmark('math500', readFileSync('tests/fixtures/grading/math500_head60.jsonl', 'utf8'));
    const items = selectSubset(bench.items, { kind: 'random', n: 3, seed: 5 });
    const a = createLoraAdapter(dec.config, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'up_proj', 'down_proj'] }, rng(3));
    const r = rng(4);
    for (const m of a.modules) for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.1;
    const sha = await adapterHash(a);
    const store = new MemoryEvalStore();
    const session = dec.newSession(1024);
    const generate: Generate = (p, o) => generatePlain(session, tok, p, o);
    const cfg = { evalSet: 'math500', subset: { kind: 'random' as const, n: 3, seed: 5 }, maxTokens: 12, seed: 11, temperature: 1, topP: 1, samples: 1, model: 'tiny' };

    // what eval-api does: the run names the adapter by hash; merged for the run, base restored after
    const texts = async (adapter: string | null): Promise<string[]> => {
      const run = await createRun(store, { ...cfg, adapter }, items, []);
      if (adapter) await applyAdapter(ctx.device, dec, a, adapter);
      try { expect((await runEvaluation(run.id, bench.items, { store, generate })).status).toBe('done'); } finally { restoreBase(ctx.device, dec); }
      expect((await store.getRun(run.id))!.config.adapter).toBe(adapter);
      const stored = await store.listItems(run.id);
      return items.map((i) => stored.find((s) => s.itemKey === i.key)!.samples[0].text);
    };
    const base = await texts(null);
    const adapted = await texts(sha);
    expect(activeAdapter(dec)).toBeNull();
    const baseAgain = await texts(null);
    session.dispose();
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(baseAgain).toEqual(base);
    expect(adapted).not.toEqual(base);
  }, 120_000);
});
