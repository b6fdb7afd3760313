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
  it('produces every row of the table, on both test splits', () => {
    const out = 'build/tiny-world/experiment-quick-test.json';
    const r = spawnSync('npx', ['tsx', 'scripts/experiment-tiny.ts', '--quick', '--out', out], { encoding: 'utf8', timeout: 590_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8')) as { rows: Array<{ name: string; eval: { n: number; accuracy: number }; hard: { n: number; accuracy: number } }>; multiGrid: Array<{ chosen: boolean }> };
    const names = res.rows.map((x) => x.name);
    for (const want of ['base', 'base + budget forcing',
      // selection, s1's way
      'adapter on random1k-flawed', 'adapter on diverse1k', 'adapter on longest1k', 'adapter on hardest1k', 'adapter on random1k', 'adapter on reason1k', 'adapter on reason1k-multi',
      'adapter on reason1k, plain CE', 'adapter on reason1k, strategy weight 0.5', 'adapter on reason1k, strategy weight 2', 'adapter on reason1k, strategy-first curriculum', 'adapter on reason1k, uniform placement',
      'reason1k + budget forcing', 'reason1k + self-consistency (maj@5)', 'reason1k + step verification', 'reason1k + strategy injection',
      // the reflective teacher and the interventions that act on it
      'adapter on reason1k, reflective teacher', 'reflective + Wait, check', 'reflective + check verification', 'reflective + self-consistency (maj@5)', 'reflective, check weight 2',
      // the test-time scaling curve
      'scaling: base, 0 Waits', 'scaling: base, 1 Wait', 'scaling: base, 2 Waits', 'scaling: base, 4 Waits',
      'scaling: adapter, 0 Waits', 'scaling: adapter, 1 Wait', 'scaling: adapter, 2 Waits', 'scaling: adapter, 4 Waits', 'scaling: adapter, 4 Waits, max 96 thinking tokens',
      'reason1k at 0.3% budget', 'reason1k at 3.0% budget']) {
      expect(names).toContain(want);
    }
    for (const row of res.rows) if (row.eval.n > 0) { expect(row.eval.accuracy).toBeGreaterThanOrEqual(0); expect(row.hard.n).toBeGreaterThan(0); }
    // the multi-criteria weights were chosen on the validation split: exactly one setting chosen
    expect(res.multiGrid.filter((g) => g.chosen)).toHaveLength(1);
    expect(r.stdout).toContain('held-out 4 problems (level-uniform) | hard split 4 (levels 4-5)');
  }, 600_000);
});
