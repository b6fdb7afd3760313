// AIME 2025 bundled beside AIME 2024: the file is the shared data's copy, with provenance, parsed
// without bad rows, and a decontamination target like every evaluation set (the bundled pool holds
// none of its problems; a pool holding one is caught).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVAL_SETS } from '../../../src/data/bundled.ts';
import { parseBenchmark } from '../../../src/eval/benchmarks.ts';
import { EvalIndex, evalItemsFromJsonl } from '../../../src/selection/eval-index.ts';
import { DEFAULT_SELECTION } from '../../../src/selection/select.ts';

const ROOT = resolve(__dirname, '../../..');
const read = (f: string) => readFileSync(resolve(ROOT, 'public/data', f), 'utf8');

describe('AIME 2025', () => {
  it('is bundled with provenance beside AIME 2024', () => {
    const ids = EVAL_SETS.map((s) => s.id);
    expect(ids.indexOf('aime25')).toBe(ids.indexOf('aime24') + 1);
    const meta = EVAL_SETS.find((s) => s.id === 'aime25')!;
    expect(meta.provenance).toMatch(/ReasonFlux.*@ 3d71a56/);
    expect(read('README.md')).toMatch(/\| aime25\.jsonl \| 30 \|/);
    const shared = resolve(ROOT, '../shared/data/aime25.jsonl');
    if (existsSync(shared)) expect(read('aime25.jsonl')).toBe(readFileSync(shared, 'utf8'));
    const b = parseBenchmark('aime25', read('aime25.jsonl'));
    expect(b.bad).toEqual([]);
    expect(b.items).toHaveLength(meta.rows);
    expect(b.items.every((i) => /^\d+$/.test(i.answer))).toBe(true); // AIME answers are integers 0..999
    expect(b.items.find((i) => i.problem.includes('\f') || i.problem.includes('\t'))).toBeUndefined();
  });

  it('is a decontamination target: the bundled pool holds none of it, a copied problem is caught', () => {
    const items = evalItemsFromJsonl('aime25', read('aime25.jsonl'));
    const index = new EvalIndex(items, DEFAULT_SELECTION.decontamN);
    const pool = read('gsm8k_train.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l).question as string);
    const hits = pool.filter((p) => index.check(p, DEFAULT_SELECTION.decontamThreshold));
    expect(hits).toEqual([]);
    const copied = `Here is a problem. ${items[3].problem}`;
    expect(index.check(copied, DEFAULT_SELECTION.decontamThreshold)).toMatchObject({ set: 'aime25', key: String(JSON.parse(read('aime25.jsonl').split('\n')[3]).id) });
  });
});
