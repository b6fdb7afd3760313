// The evaluation runner on the bundled tiny model (models/tiny, random weights) on WebGPU in Node:
// a 20-item seeded MATH500 subset with a bad row in the file, a short token budget, stored in
// memory. The model's answers are noise; what is checked is the pipeline: every item generated,
// graded with a reason, stored once, resumable, reproducible from the seed.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import type { Decoder } from '../../src/engine/model/decoder.ts';
import type { HfTextTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { loadTinyModel } from './helpers.ts';
import { parseBenchmark, selectSubset } from '../../src/eval/benchmarks.ts';
import { generatePlain, generatePlainBatch } from '../../src/eval/generate.ts';
import { createRun, MemoryEvalStore, runEvaluation, type Generate, type GenerateBatch } from '../../src/eval/runner.ts';

let ctx: GpuContext;
let dec: Decoder;
let tok: HfTextTokenizer;

beforeAll(async () => {
  ctx = await nodeGpuContext();
  ({ decoder: dec, tokenizer: tok } = await loadTinyModel(ctx));
});
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

describe('evaluation runner on the tiny model (WebGPU)', () => {
  it('evaluates a 20-item subset, reports the bad row, resumes without double counting', async () => {
    const text = readFileSync('tests/fixtures/grading/math500_head60.jsonl', 'utf8') + '{"problem": "no answer here"}\n';
    const bench = parseBenchmark('math500', text);
    expect(bench.bad).toHaveLength(1);
    expect(bench.bad[0].error).toMatch(/line 61: field "answer"/);
    const items = selectSubset(bench.items, { kind: 'random', n: 20, seed: 3 });
    expect(items).toHaveLength(20);

    const session = dec.newSession(2048);
    const signal = { aborted: false };
    let generated = 0;
    const generate: Generate = async (p, o) => {
      const g = await generatePlain(session, tok, p, { ...o, signal });
      if (++generated === 7) signal.aborted = true;
      return g;
    };
    const store = new MemoryEvalStore();
    const cfg = { evalSet: 'math500', subset: { kind: 'random' as const, n: 20, seed: 3 }, maxTokens: 6, seed: 11, temperature: 1, topP: 1, samples: 1, model: 'tiny' };
    const run = await createRun(store, cfg, items, bench.bad.map((b) => b.error));
    const t0 = performance.now();
    const first = await runEvaluation(run.id, bench.items, { store, generate, signal });
    expect(first.status).toBe('cancelled');
    const partial = await store.listItems(run.id);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(20);

    signal.aborted = false;
    generated = 100;
    const second = await runEvaluation(run.id, bench.items, { store, generate });
    session.dispose();
    expect(second.status).toBe('done');
    const all = await store.listItems(run.id);
    expect(all.map((i) => i.itemKey).sort()).toEqual(items.map((i) => i.key).sort());
    expect(store.putCalls).toBe(20);
    for (const it of all) {
      expect(it.samples).toHaveLength(1);
      expect(it.tokens).toBe(it.samples[0].tokens); // generated tokens summed over the samples
      expect(it.tokens).toBeLessThanOrEqual(6);
      expect(it.reason).toMatch(/^(string|numeric|symbolic|elementwise|mismatch): /);
      expect(it.ms).toBeGreaterThanOrEqual(0);
      expect(it.ms).toBeLessThanOrEqual(performance.now() - t0 + 5); // within the time both runs took
    }
    expect(second.summary!.done).toBe(20);
    expect(second.summary!.badRows).toEqual([bench.bad[0].error]);
    expect(second.summary!.byLevel.reduce((a, g) => a + g.score.n, 0)).toBe(20);

    // Reproducible: the per-item seeds give the same text for an item evaluated again.
    const again = dec.newSession(2048);
    const probe = all[0];
    const item = bench.items.find((i) => i.key === probe.itemKey)!;
    const { SeededRng } = await import('../../src/lib/rng.ts');
    const { itemSeed, sampleSeed } = await import('../../src/lib/seed.ts');
    const rng = new SeededRng(sampleSeed(itemSeed(11, item.key), 0));
    const g = await generatePlain(again, tok, item.problem, { maxTokens: 6, temperature: 1, topP: 1, rng: () => rng.next() });
    again.dispose();
    expect(g.text).toBe(probe.samples[0].text);
  }, 300_000);

  it('batched runs (items and their k samples decoded together) store the same items as one-at-a-time runs, and resume', async () => {
    const bench = parseBenchmark('math500', readFileSync('tests/fixtures/grading/math500_head60.jsonl', 'utf8'));
    const items = selectSubset(bench.items, { kind: 'random', n: 5, seed: 5 });
    const cfg = { evalSet: 'math500', subset: { kind: 'random' as const, n: 5, seed: 5 }, maxTokens: 8, seed: 4, temperature: 0.8, topP: 0.95, samples: 2, model: 'tiny' };
    const session = dec.newSession(2048);
    const one = new MemoryEvalStore();
    const r1 = await createRun(one, cfg, items, []);
    await runEvaluation(r1.id, bench.items, { store: one, generate: (p, o) => generatePlain(session, tok, p, o) });
    session.dispose();

    const opened: number[] = [];
    let bs: ReturnType<Decoder['newBatchSession']> | undefined;
    const open = (slots: number, maxLength: number) => { opened.push(slots); bs?.dispose(); return (bs = dec.newBatchSession(slots, maxLength)); };
    const signal = { aborted: false };
    let calls = 0;
    const generateBatch: GenerateBatch = async (reqs) => {
      const out = await generatePlainBatch(open, tok, reqs, { slots: 6, contextLength: 2048, signal });
      if (++calls === 2) signal.aborted = true; // cancel once the second batch has decoded: it is not stored
      return out;
    };
    const batched = new MemoryEvalStore();
    const r2 = await createRun(batched, cfg, items, []);
    const first = await runEvaluation(r2.id, bench.items, { store: batched, generate: () => { throw new Error('unused'); }, generateBatch, batchSize: 3, signal });
    expect(first.status).toBe('cancelled');
    expect((await batched.listItems(r2.id)).length).toBe(3);
    signal.aborted = false;
    const second = await runEvaluation(r2.id, bench.items, { store: batched, generate: () => { throw new Error('unused'); }, generateBatch, batchSize: 3, signal });
    bs?.dispose();
    expect(second.status).toBe('done');
    expect(batched.putCalls).toBe(5);
    expect(opened[0]).toBe(6); // 3 items x 2 samples share one batch
    const key = (r: { itemKey: string }) => r.itemKey;
    const a = (await one.listItems(r1.id)).sort((x, y) => key(x).localeCompare(key(y)));
    const b = (await batched.listItems(r2.id)).sort((x, y) => key(x).localeCompare(key(y)));
    expect(b.map(key)).toEqual(a.map(key));
    expect(b.map((r) => r.samples.map((s) => [s.text, s.tokens, s.stop]))).toEqual(a.map((r) => r.samples.map((s) => [s.text, s.tokens, s.stop])));
    expect(b.map((r) => [r.prediction, r.correct, r.reason])).toEqual(a.map((r) => [r.prediction, r.correct, r.reason]));
    expect(new Set(b.flatMap((r) => r.samples.map((s) => s.text))).size).toBeGreaterThan(5); // sampled texts, not one repeated
  }, 300_000);
});
