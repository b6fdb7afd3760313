// The committed tiny-world student and its Reason1K adapter (models/tiny-world/) load in the engine
// and reach the model card's accuracy on its fixed 100-problem subset (card.json, written by
// `npm run card:tiny-world`) within 3 points; and `npm run experiment:tiny -- --quick` produces
// every row of the effect table (never asserting the size of an effect).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { CARD_N, CARD_SEED } from '../../src/world/card.ts';
import { evaluateNode, loadBench } from '../../scripts/lib/node-eval.ts';
import { type NodeModel, loadNodeModel } from '../../scripts/lib/node-model.ts';

const DIR = 'models/tiny-world';
const card = JSON.parse(readFileSync(join(DIR, 'card.json'), 'utf8')) as { subset: { n: number; seed: number }; base: { accuracy: number }; adapter: { accuracy: number } | null };
let m: NodeModel;
beforeAll(async () => { m = await loadNodeModel(DIR, { contextLength: 512 }); });
afterAll(() => m?.dispose());

describe('the committed tiny-world student', () => {
  it('the card describes the fixed subset the test uses', () => {
    expect(card.subset).toEqual({ n: CARD_N, seed: CARD_SEED });
  });
  it('the base reaches the card accuracy on the fixed 100 (within 3 points)', async () => {
    const bench = loadBench('tiny-world');
    const base = await evaluateNode(m, bench, { n: CARD_N, seed: CARD_SEED });
    expect(base.items.length).toBe(CARD_N);
    expect(Math.abs(base.run.summary!.score.pass1 - card.base.accuracy)).toBeLessThanOrEqual(0.03);
    // The committed Reason1K adapter is checked the same way once a full experiment has written it
    // (models/tiny-world/adapters/reason1k/ and card.adapter); this session's run did not finish one.
    if (card.adapter) {
      const ad = join(DIR, 'adapters/reason1k');
      const adapter = loadPeftAdapter(m.decoder.config, readFileSync(join(ad, 'adapter_config.json'), 'utf8'), new Uint8Array(readFileSync(join(ad, 'adapter_model.safetensors'))));
      const withAdapter = await evaluateNode(m, bench, { n: CARD_N, seed: CARD_SEED, adapter: { adapter, name: 'reason1k' } });
      expect(Math.abs(withAdapter.run.summary!.score.pass1 - card.adapter.accuracy)).toBeLessThanOrEqual(0.03);
    }
  }, 600_000);
});

describe('npm run experiment:tiny -- --quick', () => {
  it('produces every row of the table', () => {
    const out = 'build/tiny-world/experiment-quick-test.json';
    const r = spawnSync('npx', ['tsx', 'scripts/experiment-tiny.ts', '--quick', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8')) as { rows: Array<{ name: string; line: string; eval: { n: number; accuracy: number; correct: number; verdicts: string } }> };
    const names = res.rows.map((x) => x.name);
    for (const want of ['base', 'base + budget forcing', 'adapter on reason1k', 'adapter on random1k', 'adapter on random1k-flawed', 'adapter on reason1k, plain CE',
      'reason1k + budget forcing', 'reason1k + self-consistency (maj@5)', 'reason1k + step verification', 'adapter on reason1k, uniform placement', 'reason1k at 0.3% budget', 'reason1k at 3.0% budget']) {
      expect(names).toContain(want);
    }
    // What the quick mode promises of each row: evaluated on the requested 12 items (only a budget
    // row too small to place rank 1 anywhere may be n/a), a correct count that is the number of its items
    // judged correct (so within [0, n]), and the accuracy that count gives.
    for (const row of res.rows) {
      if (row.line === 'n/a') { expect(row.name, 'only a budget-curve row may be n/a').toMatch(/% budget$/); continue; }
      expect(row.eval.n, row.name).toBe(12);
      expect(row.eval.verdicts, row.name).toMatch(/^[01]{12}$/);
      expect(row.eval.correct, row.name).toBe([...row.eval.verdicts].filter((v) => v === '1').length);
      expect(row.eval.accuracy, row.name).toBeCloseTo(row.eval.correct / row.eval.n, 9);
    }
    expect(r.stdout).toContain('held-out 12 problems');
  }, 320_000);
});
